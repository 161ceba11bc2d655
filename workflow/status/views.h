// The templates of the web pages and of the digest (mustache, kainjow), which
// administrators edit like the mail templates:
//   <templates>/web/layout.html     every page: header with the navigation, {{>content}}, footer
//   <templates>/web/<page>.html     login, error, dashboard, lycees, lycee, triage, outbox
//   <templates>/web/_<name>.html    partials, {{>name}} (figures, groups, attention, chart)
//   <templates>/digest.html         the digest's HTML part (shares the partials)
//   <templates>/digest.txt          the digest's text part
// {{name}} is escaped for HTML in .html templates; unescaped output ({{{x}}},
// {{&x}}) and delimiter changes are refused there, so that no edit can let a
// stranger's text (a subject, a file name) become markup. Every template is
// parsed when loaded, and every {{>partial}} must exist: a broken edit is
// refused with its file name (check-config, SIGHUP, the web server's start).
#pragma once

#include <kainjow/mustache.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ppo::workflow {

using ViewData = kainjow::mustache::data;
using ViewList = kainjow::mustache::list;
using ViewObject = kainjow::mustache::object;

class ViewTemplates {
public:
    // Reads and checks every template under `dir` (see above); throws
    // ppo::Error(config) naming the file and the problem.
    static ViewTemplates load(const std::string& dir);
    // For tests: file name relative to the templates folder ("web/layout.html",
    // "digest.txt") -> text. The same checks as load().
    static ViewTemplates from_texts(const std::map<std::string, std::string>& texts);

    // web/<page>.html inside web/layout.html ({{>content}}), HTML-escaped.
    std::string render_page(const std::string& page, const ViewData& data) const;
    // One template by its file name ("digest.html": HTML-escaped, its <style>
    // rules then inlined into style attributes for mail readers; "digest.txt":
    // text, nothing escaped).
    std::string render(const std::string& file, const ViewData& data) const;

    // The files every installation must have.
    static const std::vector<std::string>& required();

private:
    std::map<std::string, std::string> texts_;      // "web/dashboard.html" -> text
    std::map<std::string, ViewData> partials_;      // "figures" -> its text (web/_figures.html)
};

// Copies the simple rules of the <style> elements of `html` (".class",
// "tag", "tag.class" selectors, lists of them; @-rules left out) into the
// style attribute of each element they match, the element's own style last,
// and removes the <style> elements: mail readers drop style sheets.
std::string inline_css(const std::string& html);

// Small helpers for view models: kainjow takes a `const char*` for a bool.
inline ViewData view_text(const std::string& s) { return ViewData(s); }
inline ViewData view_number(std::int64_t n) { return ViewData(std::to_string(n)); }
inline ViewData view_bool(bool b) { return ViewData(b); }

}  // namespace ppo::workflow
