// The web and digest templates (workflow/status/views.h): checked when loaded (a
// broken one refused with its file name), rendered with partials, HTML
// escaped, and the digest's style sheet inlined for mail readers.
#include "workflow/status/views.h"

#include "parsers/text/error.h"
#include "workflow/mail/templates.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ppo::workflow {
namespace {

std::map<std::string, std::string> minimal() {
    std::map<std::string, std::string> t;
    for (const auto& f : ViewTemplates::required()) t[f] = "x";
    t["web/layout.html"] = "<main>{{>content}}</main>";
    return t;
}

TEST(ViewTemplates, TheShippedOnesLoad) {
    EXPECT_NO_THROW(ViewTemplates::load(PPO_SOURCE_DIR "/etc/templates"));
    EXPECT_NO_THROW(Templates::load(PPO_SOURCE_DIR "/etc/templates").views());
}

TEST(ViewTemplates, RenderEscapesAndUsesPartials) {
    auto t = minimal();
    t["web/dashboard.html"] = "<p>{{name}}</p>{{>figure}}";
    t["web/_figure.html"] = "<b data-x=\"{{name}}\">{{count}}</b>";
    t["digest.txt"] = "{{name}}";
    auto v = ViewTemplates::from_texts(t);
    ViewData d;
    d.set("name", view_text("<script>\"x\" & 'y'"));
    d.set("count", view_number(3));
    EXPECT_EQ(v.render_page("dashboard", d),
              "<main><p>&lt;script&gt;&quot;x&quot; &amp; &apos;y&apos;</p><b data-x=\"&lt;script&gt;&quot;x&quot; &amp; "
              "&apos;y&apos;\">3</b></main>");
    EXPECT_EQ(v.render("digest.txt", d), "<script>\"x\" & 'y'");   // text: as is
    // A value named like a partial does not stand in for it.
    d.set("figure", view_text("{{count}}"));
    EXPECT_NE(v.render_page("dashboard", d).find("<b data-x="), std::string::npos);
}

TEST(ViewTemplates, BrokenOnesAreRefusedWithTheirName) {
    auto expect_refused = [](std::map<std::string, std::string> t, const std::string& what) {
        try {
            ViewTemplates::from_texts(t);
            ADD_FAILURE() << "accepted: " << what;
        } catch (const ppo::Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::config);
            EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
        }
    };
    auto t = minimal();
    t["web/triage.html"] = "{{#messages}}<p>";
    expect_refused(t, "web/triage.html");
    t = minimal();
    t["web/lycee.html"] = "{{{name}}}";
    expect_refused(t, "web/lycee.html: '{{{' is not allowed");
    t = minimal();
    t["web/lycee.html"] = "{{& name}}";
    expect_refused(t, "web/lycee.html: '{{&' is not allowed");
    t = minimal();
    t["web/lycee.html"] = "{{=<% %>=}}<%name%>";
    expect_refused(t, "web/lycee.html: '{{=' is not allowed");
    t = minimal();
    t["digest.html"] = "{{>nowhere}}";
    expect_refused(t, "digest.html: unknown partial {{>nowhere}}");
    t = minimal();
    t.erase("web/outbox.html");
    expect_refused(t, "web/outbox.html is missing");
}

TEST(ViewTemplates, LoadNamesTheFileInItsFolder) {
    std::string tmpl = (fs::temp_directory_path() / "ppo-views-XXXXXX").string();
    const fs::path dir = ::mkdtemp(tmpl.data());
    fs::copy(PPO_SOURCE_DIR "/etc/templates", dir, fs::copy_options::recursive);
    std::ofstream(dir / "web" / "_groups.html") << "{{#rows}}<tr>";
    try {
        ViewTemplates::load(dir.string());
        ADD_FAILURE() << "a broken partial was accepted";
    } catch (const ppo::Error& e) {
        EXPECT_NE(std::string(e.what()).find((dir / "web" / "_groups.html").string()), std::string::npos) << e.what();
    }
    // check-config and SIGHUP load them with the mail templates.
    EXPECT_THROW(Templates::load(dir.string()), ppo::Error);
    fs::remove_all(dir);
}

TEST(InlineCss, SimpleRulesBecomeStyleAttributes) {
    const std::string html =
        "<html><head><style>\n/* a comment */ td { padding: 4px } .num { text-align : right; }\n"
        "td.num { color: red } p, .x { margin: 0 } div p { color: blue } @media (max-width: 600px) { td { padding: 0 } }"
        "</style></head><body><table><tr><td class=\"num big\" style=\"width:10%\">1</td><td>2</td></tr></table>"
        "<p>a</p><span class=\"x\">b</span><br/></body></html>";
    const auto out = inline_css(html);
    EXPECT_EQ(out.find("<style"), std::string::npos);
    EXPECT_NE(out.find("<td class=\"num big\" style=\"padding:4px;text-align:right;color:red;width:10%\">1</td>"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("<td style=\"padding:4px\">2</td>"), std::string::npos) << out;
    EXPECT_NE(out.find("<p style=\"margin:0\">a</p>"), std::string::npos) << out;   // "div p" is not simple: left out
    EXPECT_NE(out.find("<span class=\"x\" style=\"margin:0\">b</span>"), std::string::npos) << out;
    EXPECT_NE(out.find("<br/>"), std::string::npos) << out;
    EXPECT_EQ(inline_css("<p>no style</p>"), "<p>no style</p>");
}

}  // namespace
}  // namespace ppo::workflow
