#include "workflow/mail/templates.h"

#include "parsers/text/error.h"
#include "workflow/status/views.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace ppo::workflow {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kLycee = {"lycee_nom", "uai", "commune", "campagne", "date_limite", "adresse_depot"};

struct Token {
    enum Kind { text, var, open, open_inverted, close } kind;
    std::string value;
};

std::vector<Token> tokenize(const std::string& t, const std::string& name) {
    std::vector<Token> out;
    std::size_t pos = 0;
    while (pos < t.size()) {
        auto open = t.find("{{", pos);
        if (open == std::string::npos) {
            out.push_back({Token::text, t.substr(pos)});
            break;
        }
        if (open > pos) out.push_back({Token::text, t.substr(pos, open - pos)});
        auto close = t.find("}}", open);
        if (close == std::string::npos) throw config_error("template " + name + ": '{{' without '}}'");
        std::string inner = t.substr(open + 2, close - open - 2);
        if (inner.empty()) throw config_error("template " + name + ": empty placeholder {{}}");
        if (inner[0] == '#') out.push_back({Token::open, inner.substr(1)});
        else if (inner[0] == '^') out.push_back({Token::open_inverted, inner.substr(1)});
        else if (inner[0] == '/') out.push_back({Token::close, inner.substr(1)});
        else out.push_back({Token::var, inner});
        pos = close + 2;
    }
    return out;
}

void validate(const std::string& name, const std::string& text, const std::set<std::string>& allowed) {
    std::vector<std::string> stack;
    for (const auto& tok : tokenize(text, name)) {
        if (tok.kind == Token::text) continue;
        if (!allowed.count(tok.value)) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            throw config_error("template " + name + ": unknown placeholder {{" + tok.value + "}} (known: " + list + ")");
        }
        if (tok.kind == Token::open || tok.kind == Token::open_inverted) stack.push_back(tok.value);
        if (tok.kind == Token::close) {
            if (stack.empty() || stack.back() != tok.value)
                throw config_error("template " + name + ": {{/" + tok.value + "}} does not close an open section");
            stack.pop_back();
        }
    }
    if (!stack.empty()) throw config_error("template " + name + ": section {{#" + stack.back() + "}} is never closed");
    if (text.find("Subject:") != 0) throw config_error("template " + name + ": must start with a 'Subject:' line");
}

bool truthy(const TemplateValues& v, const std::string& key) {
    auto it = v.find(key);
    return it != v.end() && !it->second.empty() && it->second != "0";
}

}  // namespace

const std::map<std::string, std::set<std::string>>& Templates::known() {
    static const std::map<std::string, std::set<std::string>> names = [] {
        auto with = [](std::set<std::string> extra) {
            extra.insert(kLycee.begin(), kLycee.end());
            return extra;
        };
        return std::map<std::string, std::set<std::string>>{
            {"ack", with({"numero", "version", "date_reception", "fichiers", "en_retard", "nouvelle_version",
                          "remarques_documents"})},
            {"forward", with({"numero", "version", "date_reception", "fichiers", "en_retard", "expediteur", "bassin",
                              "ien_io_nom", "remarques_documents", "controles_documents"})},
            {"link", with({"date_reception", "objet", "liens"})},
            {"reminder", with({"jours_restants", "delai", "echeance"})},
            {"reminder_late", with({"jours_retard", "delai", "echeance"})},
        };
    }();
    return names;
}

Templates Templates::from_texts(const std::map<std::string, std::string>& texts) {
    Templates t;
    for (const auto& [name, allowed] : known()) {
        auto it = texts.find(name);
        if (it == texts.end()) throw config_error("template " + name + " is missing");
        validate(name, it->second, allowed);
        t.texts_[name] = it->second;
    }
    return t;
}

Templates Templates::load(const std::string& dir) {
    std::map<std::string, std::string> texts;
    for (const auto& [name, _] : known()) {
        fs::path p = fs::path(dir) / (name + ".txt");
        std::ifstream in(p, std::ios::binary);
        if (!in) throw config_error("cannot read the mail template " + p.string());
        std::stringstream buf;
        buf << in.rdbuf();
        texts[name] = buf.str();
        try {
            validate(name, texts[name], known().at(name));
        } catch (const ppo::Error& e) {
            throw config_error(p.string() + ": " + e.what());
        }
    }
    Templates t;
    t.texts_ = std::move(texts);
    t.views_ = std::make_shared<const ViewTemplates>(ViewTemplates::load(dir));
    return t;
}

const ViewTemplates& Templates::views() const {
    if (!views_) throw config_error("the web and digest templates are not loaded");
    return *views_;
}

RenderedTemplate Templates::render(const std::string& name, const TemplateValues& values) const {
    auto it = texts_.find(name);
    if (it == texts_.end()) throw config_error("no template named " + name);
    std::string out;
    std::vector<bool> emit{true};
    for (const auto& tok : tokenize(it->second, name)) {
        switch (tok.kind) {
            case Token::text:
                if (emit.back()) out += tok.value;
                break;
            case Token::var:
                if (emit.back()) {
                    auto v = values.find(tok.value);
                    if (v != values.end()) out += v->second;
                }
                break;
            case Token::open: emit.push_back(emit.back() && truthy(values, tok.value)); break;
            case Token::open_inverted: emit.push_back(emit.back() && !truthy(values, tok.value)); break;
            case Token::close: if (emit.size() > 1) emit.pop_back(); break;
        }
    }
    RenderedTemplate r;
    auto blank = out.find("\n\n");
    std::string head = out.substr(0, blank);
    r.body = blank == std::string::npos ? "" : out.substr(blank + 2);
    std::istringstream lines(head);
    std::string line;
    while (std::getline(lines, line))
        if (line.rfind("Subject:", 0) == 0) {
            r.subject = line.substr(8);
            r.subject.erase(0, r.subject.find_first_not_of(' '));
        }
    return r;
}

std::string default_templates_dir(const std::string& source_dir, const std::string& config_file) {
    if (const char* env = std::getenv("PPO_TEMPLATES_DIR"); env && *env) return env;
    std::error_code ec;
    fs::path beside = fs::path(config_file).parent_path() / "templates";
    if (!config_file.empty() && fs::exists(beside / "ack.txt", ec)) return beside.string();
    if (fs::exists("/etc/ppo-intake/templates/ack.txt", ec)) return "/etc/ppo-intake/templates";
    return (fs::path(source_dir) / "etc" / "templates").string();
}

}  // namespace ppo::workflow
