#include "workflow/mail/templates.h"

#include "parsers/text/error.h"
#include "workflow/status/views.h"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace ppo::workflow {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kLycee = {"lycee_nom", "uai", "commune", "campagne", "date_limite", "adresse_depot"};

// The templates are rendered by kainjow mustache (as the web pages and the
// digest are) with the semantics they always had, which differ from
// mustache's in three points:
//   - no HTML escaping: a value goes into the mail as it is;
//   - a section is kept when its value is non-empty and not "0" (mustache
//     keeps any string): each section tag {{#x}} is rendered as {{#x?}}, and
//     "x?" is the value's truth;
//   - a line holding a section tag keeps its line end (mustache drops a
//     "standalone" tag's line): each section tag is preceded by an unescaped
//     marker {{&__keep}}, a \x01 byte, so that no such line is ever blank to
//     mustache; the markers are taken out of the result. A \x01 of the text
//     or of a value is written \x01\x02 on the way in and given back.
constexpr char kMarker = '\x01';
constexpr char kMarkerEscape = '\x02';

std::string escape_markers(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        out += c;
        if (c == kMarker) out += kMarkerEscape;
    }
    return out;
}

std::string remove_markers(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != kMarker) out += s[i];
        else if (i + 1 < s.size() && s[i + 1] == kMarkerEscape) out += s[i++];
    }
    return out;
}

struct Tag {
    char kind;            // '#', '^', '/' or 0 (a value)
    std::string name;
    std::size_t begin;    // offset of "{{"
    std::size_t end;      // offset past "}}"
};

std::size_t line_of(const std::string& text, std::size_t offset) {
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Every {{...}} of `text`, in order; what lies between is text. Only
// {{name}}, {{#name}}, {{^name}} and {{/name}} exist: any other tag of
// mustache ({{! }}, {{> }}, {{{ }}}, {{& }}, {{= =}}, spaces) is an unknown
// placeholder to validate().
std::vector<Tag> tags_of(const std::string& text, const std::string& name) {
    std::vector<Tag> out;
    for (std::size_t pos = text.find("{{"); pos != std::string::npos; pos = text.find("{{", pos)) {
        const auto close = text.find("}}", pos);
        if (close == std::string::npos)
            throw config_error("template " + name + ", line " + std::to_string(line_of(text, pos)) + ": '{{' without '}}'");
        std::string inner = text.substr(pos + 2, close - pos - 2);
        if (inner.empty())
            throw config_error("template " + name + ", line " + std::to_string(line_of(text, pos)) + ": empty placeholder {{}}");
        const char kind = (inner[0] == '#' || inner[0] == '^' || inner[0] == '/') ? inner[0] : 0;
        out.push_back({kind, kind ? inner.substr(1) : inner, pos, close + 2});
        pos = close + 2;
    }
    return out;
}

void validate(const std::string& name, const std::string& text, const std::set<std::string>& allowed) {
    std::vector<const Tag*> open;
    const auto tags = tags_of(text, name);
    const auto at = [&](const Tag& t) { return "template " + name + ", line " + std::to_string(line_of(text, t.begin)) + ": "; };
    for (const auto& tag : tags) {
        if (!allowed.count(tag.name)) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            throw config_error(at(tag) + "unknown placeholder {{" + std::string(tag.kind ? 1 : 0, tag.kind) + tag.name +
                               "}} (known: " + list + ")");
        }
        if (tag.kind == '#' || tag.kind == '^') open.push_back(&tag);
        if (tag.kind != '/') continue;
        if (open.empty() || open.back()->name != tag.name)
            throw config_error(at(tag) + "{{/" + tag.name + "}} does not close an open section");
        open.pop_back();
    }
    if (!open.empty()) throw config_error(at(*open.back()) + "section {{#" + open.back()->name + "}} is never closed");
    if (text.find("Subject:") != 0) throw config_error("template " + name + ", line 1: must start with a 'Subject:' line");
}

// The text kainjow renders (see kMarker above); `text` is valid.
std::string for_mustache(const std::string& text, const std::string& name) {
    std::string out;
    std::size_t pos = 0;
    for (const auto& tag : tags_of(text, name)) {
        out += escape_markers(text.substr(pos, tag.begin - pos));
        if (tag.kind) out += "{{&__keep}}{{" + std::string(1, tag.kind) + tag.name + "?}}";
        else out += text.substr(tag.begin, tag.end - tag.begin);
        pos = tag.end;
    }
    return out + escape_markers(text.substr(pos));
}

bool truthy(const std::string& value) { return !value.empty() && value != "0"; }
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
        t.texts_[name] = for_mustache(it->second, name);
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
    for (const auto& [name, text] : texts) t.texts_[name] = for_mustache(text, name);
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
    kainjow::mustache::mustache tmpl(it->second);
    tmpl.set_custom_escape(escape_markers);
    kainjow::mustache::data data;
    data.set("__keep", std::string(1, kMarker));
    for (const auto& [key, value] : values) {
        data.set(key, value);
        data.set(key + "?", kainjow::mustache::data(truthy(value)));
    }
    const std::string rendered = tmpl.render(data);
    if (!tmpl.is_valid()) throw config_error("template " + name + ": " + tmpl.error_message());
    const std::string out = remove_markers(rendered);
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
