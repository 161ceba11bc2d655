#include "workflow/status/views.h"
#include "parsers/text/strings.h"

#include "parsers/text/error.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace ppo::workflow {

namespace fs = std::filesystem;
using Mustache = kainjow::mustache::mustache;

namespace {

using text::trim;

const std::vector<std::string> kPages = {"layout", "login", "error", "dashboard", "lycees", "lycee", "triage", "outbox"};

bool is_html(const std::string& file) { return file.size() > 5 && file.ends_with(".html"); }

// A context whose partials are the templates' own, never the data's: a
// value named like a partial cannot stand in for it.
class ViewContext final : public kainjow::mustache::basic_context<std::string> {
public:
    ViewContext(const ViewData* data, const std::map<std::string, ViewData>& partials, const ViewData* content)
        : partials_(partials), content_(content) {
        push(data);
    }
    void push(const ViewData* data) override { items_.insert(items_.begin(), data); }
    void pop() override { items_.erase(items_.begin()); }

    const ViewData* get(const std::string& name) const override {
        if (name == ".") return items_.front();
        if (name.find('.') == std::string::npos) {
            for (const auto* item : items_)
                if (const auto* v = item->get(name)) return v;
            return nullptr;
        }
        const auto names = kainjow::mustache::split<std::string>(name, '.');
        for (const auto* item : items_) {
            const ViewData* v = item;
            for (const auto& n : names) {
                v = v->get(n);
                if (!v) break;
            }
            if (v) return v;
        }
        return nullptr;
    }

    const ViewData* get_partial(const std::string& name) const override {
        if (name == "content") return content_;
        auto it = partials_.find(name);
        return it == partials_.end() ? nullptr : &it->second;
    }

private:
    std::vector<const ViewData*> items_;
    const std::map<std::string, ViewData>& partials_;
    const ViewData* content_;
};

std::string identity(const std::string& s) { return s; }

// The partials a template names ({{>name}}, {{> name}}).
std::set<std::string> partials_named(const std::string& text) {
    static const std::regex re(R"(\{\{\s*>\s*([A-Za-z0-9_-]+)\s*\}\})");
    std::set<std::string> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
        out.insert((*it)[1].str());
    return out;
}

void check(const std::string& file, const std::string& text, const std::set<std::string>& partials) {
    Mustache tmpl(text);
    if (!tmpl.is_valid()) throw config_error("template " + file + ": " + tmpl.error_message());
    if (is_html(file)) {
        for (const char* raw : {"{{{", "{{&", "{{ &", "{{="})
            if (text.find(raw) != std::string::npos)
                throw config_error("template " + file + ": '" + raw +
                                   "' is not allowed in an HTML template (every value is escaped; no delimiter change)");
    }
    for (const auto& p : partials_named(text)) {
        if (p == "content" && file == "web/layout.html") continue;
        if (!partials.count(p))
            throw config_error("template " + file + ": unknown partial {{>" + p + "}} (no web/_" + p + ".html)");
    }
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw config_error("cannot read the template " + p.string());
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::string render_with(const std::string& file, const std::string& text, const ViewData& data,
                        const std::map<std::string, ViewData>& partials, const ViewData* content) {
    Mustache tmpl(text);
    if (!is_html(file)) tmpl.set_custom_escape(identity);
    ViewContext ctx(&data, partials, content);
    std::string out = tmpl.render(ctx);
    if (!tmpl.is_valid()) throw config_error("template " + file + ": " + tmpl.error_message());
    return out;
}

}  // namespace

const std::vector<std::string>& ViewTemplates::required() {
    static const std::vector<std::string> files = [] {
        std::vector<std::string> f;
        for (const auto& p : kPages) f.push_back("web/" + p + ".html");
        f.push_back("digest.html");
        f.push_back("digest.txt");
        return f;
    }();
    return files;
}

ViewTemplates ViewTemplates::from_texts(const std::map<std::string, std::string>& texts) {
    ViewTemplates t;
    std::set<std::string> partial_names;
    for (const auto& [file, text] : texts) {
        const auto name = fs::path(file).filename().string();
        if (file.starts_with("web/_") && is_html(file)) {
            const auto partial = name.substr(1, name.size() - 1 - 5);
            partial_names.insert(partial);
            t.partials_[partial] = ViewData(text);
        }
        t.texts_[file] = text;
    }
    for (const auto& f : required())
        if (!t.texts_.count(f)) throw config_error("template " + f + " is missing");
    for (const auto& [file, text] : t.texts_) check(file, text, partial_names);
    return t;
}

ViewTemplates ViewTemplates::load(const std::string& dir) {
    std::map<std::string, std::string> texts;
    std::error_code ec;
    const fs::path web = fs::path(dir) / "web";
    if (fs::is_directory(web, ec)) {
        for (const auto& entry : fs::directory_iterator(web, ec)) {
            const auto name = entry.path().filename().string();
            if (entry.is_regular_file() && is_html(name)) texts["web/" + name] = read_file(entry.path());
        }
    }
    for (const char* f : {"digest.html", "digest.txt"}) {
        const fs::path p = fs::path(dir) / f;
        if (fs::exists(p, ec)) texts[f] = read_file(p);
    }
    try {
        return from_texts(texts);
    } catch (const ppo::Error& e) {
        // Name the file as the administrator knows it: with its folder.
        std::string what = e.what();
        if (what.starts_with("template ")) what = (fs::path(dir) / what.substr(9)).string();
        throw config_error(what);
    }
}

std::string ViewTemplates::render_page(const std::string& page, const ViewData& data) const {
    const std::string file = "web/" + page + ".html";
    auto it = texts_.find(file);
    if (it == texts_.end()) throw config_error("no template " + file);
    const ViewData content(it->second);
    return render_with(file, texts_.at("web/layout.html"), data, partials_, &content);
}

std::string ViewTemplates::render(const std::string& file, const ViewData& data) const {
    auto it = texts_.find(file);
    if (it == texts_.end()) throw config_error("no template " + file);
    auto out = render_with(file, it->second, data, partials_, nullptr);
    if (file == "digest.html") out = inline_css(out);
    return out;
}

// ---- CSS inlining for mail readers ----

namespace {

struct CssRule {
    std::string tag;     // "" for any
    std::string cls;     // "" for none
    std::string decls;   // "color:#003a80;padding:4px"
};

// "color: red; padding : 4px;" -> "color:red;padding:4px"
std::string compact_decls(const std::string& body) {
    std::string out;
    std::stringstream in(body);
    std::string decl;
    while (std::getline(in, decl, ';')) {
        auto colon = decl.find(':');
        if (colon == std::string::npos) continue;
        std::string name(trim(decl.substr(0, colon)));
        std::string value(trim(decl.substr(colon + 1)));
        if (name.empty() || value.empty()) continue;
        out += (out.empty() ? "" : ";") + name + ":" + value;
    }
    return out;
}

std::vector<CssRule> parse_rules(std::string css) {
    // Comments out.
    for (auto p = css.find("/*"); p != std::string::npos; p = css.find("/*", p)) {
        auto e = css.find("*/", p + 2);
        css.erase(p, e == std::string::npos ? std::string::npos : e + 2 - p);
    }
    std::vector<CssRule> rules;
    std::size_t pos = 0;
    while (pos < css.size()) {
        auto open = css.find('{', pos);
        if (open == std::string::npos) break;
        std::string selectors(trim(css.substr(pos, open - pos)));
        if (selectors.starts_with("@")) {
            // An @-rule block (media query): skipped with what it holds.
            int depth = 0;
            std::size_t i = open;
            for (; i < css.size(); ++i) {
                if (css[i] == '{') ++depth;
                else if (css[i] == '}' && --depth == 0) break;
            }
            pos = i + 1;
            continue;
        }
        auto close = css.find('}', open);
        if (close == std::string::npos) break;
        const std::string decls = compact_decls(css.substr(open + 1, close - open - 1));
        std::stringstream list(selectors);
        std::string sel;
        while (std::getline(list, sel, ',')) {
            sel = trim(sel);
            static const std::regex simple(R"(^([a-z][a-z0-9]*)?(?:\.([A-Za-z0-9_-]+))?$)");
            std::smatch m;
            if (sel.empty() || !std::regex_match(sel, m, simple)) continue;   // not simple: left out
            rules.push_back({m[1].str(), m[2].str(), decls});
        }
        pos = close + 1;
    }
    return rules;
}

}  // namespace

std::string inline_css(const std::string& html) {
    std::string css, body;
    std::size_t pos = 0;
    for (;;) {
        auto open = html.find("<style", pos);
        if (open == std::string::npos) break;
        auto start = html.find('>', open);
        auto end = html.find("</style>", open);
        if (start == std::string::npos || end == std::string::npos) break;
        body.append(html, pos, open - pos);
        css += html.substr(start + 1, end - start - 1);
        pos = end + 8;
        if (pos < html.size() && html[pos] == '\n') ++pos;
    }
    body.append(html, pos, std::string::npos);
    const auto rules = parse_rules(css);
    if (rules.empty()) return body;

    static const std::regex tag_re(R"(<([a-zA-Z][a-zA-Z0-9]*)((?:\s[^<>]*)?)>)");
    static const std::regex class_re(R"re(\sclass="([^"]*)")re");
    static const std::regex style_re(R"re(\sstyle="([^"]*)")re");
    std::string out;
    out.reserve(body.size() * 2);
    auto last = body.cbegin();
    for (auto it = std::sregex_iterator(body.begin(), body.end(), tag_re); it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        out.append(last, m[0].first);
        last = m[0].second;
        std::string tag = m[1].str();
        std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string attrs = m[2].str();
        std::set<std::string> classes;
        std::smatch cm;
        if (std::regex_search(attrs, cm, class_re)) {
            std::stringstream cs(cm[1].str());
            std::string c;
            while (cs >> c) classes.insert(c);
        }
        std::string style;
        for (const auto& r : rules)
            if ((r.tag.empty() || r.tag == tag) && (r.cls.empty() || classes.count(r.cls)) && (!r.tag.empty() || !r.cls.empty()))
                style += (style.empty() ? "" : ";") + r.decls;
        if (style.empty()) {
            out += m[0].str();
            continue;
        }
        std::smatch sm;
        if (std::regex_search(attrs, sm, style_re)) {
            const std::string own = sm[1].str();
            attrs = sm.prefix().str() + " style=\"" + style + (own.empty() ? "" : ";" + own) + "\"" + sm.suffix().str();
        } else {
            // Before a self-closing slash, if any.
            if (!attrs.empty() && attrs.back() == '/') attrs.insert(attrs.size() - 1, " style=\"" + style + "\" ");
            else attrs += " style=\"" + style + "\"";
        }
        out += "<" + m[1].str() + attrs + ">";
    }
    out.append(last, body.cend());
    return out;
}

}  // namespace ppo::workflow
