// The mail templates' renderings pinned byte for byte (issue 22: one template
// engine): every shipped template (etc/templates) and an edited copy of each
// (tests/golden/templates/edited: sections reordered, nested and inverted,
// section tags alone on indented lines, CRLF line ends, a placeholder used as
// its own section), rendered with five sets of values (all set, all empty,
// all "0", and two mixes), compared with the renderings the templates' former
// engine made (tests/golden/templates/*.rendered, captured before the change).
// PPO_UPDATE_GOLDEN=1 rewrites them (and fails, so an update is never a pass).
#include "parsers/text/error.h"
#include "workflow/mail/templates.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <sstream>
#include <string>

using namespace ppo::workflow;

namespace {

const std::string kGolden = std::string(PPO_SOURCE_DIR) + "/tests/golden/templates/";

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Value `i` of set `k`: text with what an HTML escaper would change, lines,
// and "0" / "" where a section must be dropped.
std::string value(const std::string& name, std::size_t i, int k) {
    const std::string full = name + " <b>&amp;</b> \"l'été\"\n- ligne 2 {{uai}}";
    switch (k) {
        case 0: return full;
        case 1: return "";
        case 2: return "0";
        case 3: return i % 2 ? full : "";
        default: return i % 3 == 0 ? "0" : i % 3 == 1 ? full : "";
    }
}

std::string renderings(const Templates& t) {
    std::string out;
    for (const auto& [name, allowed] : Templates::known())
        for (int k = 0; k < 5; ++k) {
            TemplateValues v;
            std::size_t i = 0;
            for (const auto& p : allowed) v[p] = value(p, i++, k);
            const auto r = t.render(name, v);
            out += "=== " + name + " set " + std::to_string(k) + "\nSubject: [" + r.subject + "]\n[" + r.body + "]\n";
        }
    return out;
}

void expect_golden(const std::string& file, const std::string& actual) {
    const std::string path = kGolden + file;
    if (const char* u = std::getenv("PPO_UPDATE_GOLDEN"); u && std::string(u) == "1") {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
        ADD_FAILURE() << path << " rewritten (PPO_UPDATE_GOLDEN=1): check it, commit it, run again";
        return;
    }
    const std::string expected = read_all(path);
    ASSERT_FALSE(expected.empty()) << path << " is missing";
    std::size_t at = 0;
    while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) ++at;
    EXPECT_EQ(expected, actual) << file << " differs at byte " << at;
}

}  // namespace

TEST(TemplateGolden, ShippedTemplatesRenderAsBefore) {
    expect_golden("shipped.rendered", renderings(Templates::load(std::string(PPO_SOURCE_DIR) + "/etc/templates")));
}

TEST(TemplateGolden, EditedTemplatesRenderAsBefore) {
    std::map<std::string, std::string> texts;
    for (const auto& [name, _] : Templates::known()) texts[name] = read_all(kGolden + "edited/" + name + ".txt");
    expect_golden("edited.rendered", renderings(Templates::from_texts(texts)));
}

// check-config and SIGHUP refuse a broken template, naming its file and line.
TEST(TemplateGolden, ABrokenTemplateIsRefusedWithItsFileAndLine) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("ppo-templates-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::copy(std::string(PPO_SOURCE_DIR) + "/etc/templates", dir, fs::copy_options::recursive);
    const std::string ack = (dir / "ack.txt").string();
    const std::string good = read_all(ack);
    const struct {
        std::string text;
        std::string message;
    } broken[] = {
        {"Subject: x\n\nligne 3\n{{inconnu}}\n", ack + ": template ack, line 4: unknown placeholder {{inconnu}}"},
        {"Subject: x\n\n{{#en_retard}}\nnever closed\n", ack + ": template ack, line 3: section {{#en_retard}} is never closed"},
        {"Subject: x\n\n\n\n{{/en_retard}}\n", ack + ": template ack, line 5: {{/en_retard}} does not close an open section"},
        {"Subject: x\n\n{{uai\n", ack + ": template ack, line 3: '{{' without '}}'"},
        {"Subject: x\n{{! a mustache comment }}\n", ack + ": template ack, line 2: unknown placeholder {{! a mustache comment }}"},
        {"Subject: x\n{{{uai}}}\n", ack + ": template ack, line 2: unknown placeholder {{{uai}}"},
        {"no subject\n", ack + ": template ack, line 1: must start with a 'Subject:' line"},
    };
    for (const auto& b : broken) {
        std::ofstream(ack, std::ios::binary | std::ios::trunc) << b.text;
        try {
            Templates::load(dir.string());
            ADD_FAILURE() << "accepted: " << b.text;
        } catch (const ppo::Error& e) {
            EXPECT_EQ(std::string(e.what()).substr(0, b.message.size()), b.message) << e.what();
        }
    }
    std::ofstream(ack, std::ios::binary | std::ios::trunc) << good;
    EXPECT_NO_THROW(Templates::load(dir.string()));
    fs::remove_all(dir);
}
