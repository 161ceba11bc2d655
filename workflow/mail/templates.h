// Mail templates that administrators edit (etc/templates/*.txt, installed in
// /etc/ppo-intake/templates). A template starts with header lines
// ("Subject: ..."), then a blank line, then the body. Placeholders:
//   {{name}}              replaced by the value (UTF-8, as is)
//   {{#name}}...{{/name}} kept when the value is non-empty and not "0"
//   {{^name}}...{{/name}} kept when it is empty or "0"
// Rendered by kainjow mustache, the web pages' and the digest's engine, with
// these semantics kept (no HTML escaping; "0" is false; a line holding only a
// section tag keeps its line end): templates.cpp says how.
// Loading checks every template for unbalanced sections and unknown names
// (any other mustache tag is one), so a broken edit is refused by check-config
// and SIGHUP, naming the file and line, instead of a broken mail.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

namespace ppo::workflow {

class ViewTemplates;

using TemplateValues = std::map<std::string, std::string>;

struct RenderedTemplate {
    std::string subject;
    std::string body;
};

class Templates {
public:
    // Reads every required template from `dir`, and the web pages' and the
    // digest's (workflow/status/views.h); throws ppo::Error(config) naming the file
    // and the problem.
    static Templates load(const std::string& dir);
    // For tests: the mail templates given as text (no views).
    static Templates from_texts(const std::map<std::string, std::string>& texts);

    // The web pages' and the digest's templates; ppo::Error(config) when they
    // were not loaded (from_texts).
    const ViewTemplates& views() const;

    RenderedTemplate render(const std::string& name, const TemplateValues& values) const;
    bool has(const std::string& name) const { return texts_.count(name) > 0; }

    // Template name -> the placeholders it may use.
    static const std::map<std::string, std::set<std::string>>& known();

private:
    std::map<std::string, std::string> texts_;
    std::shared_ptr<const ViewTemplates> views_;
};

// Default folder: $PPO_TEMPLATES_DIR, /etc/ppo-intake/templates if present, else
// the source tree's etc/templates.
std::string default_templates_dir(const std::string& source_dir, const std::string& config_file);

}  // namespace ppo::workflow
