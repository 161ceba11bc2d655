// safe_file_name: the only thing between a sender's file name and a path in the
// archive. Whatever the input, the result is one plain, non-hidden name of at
// most 180 bytes, without control characters, unique in its folder.
#include "workflow/ports/archive.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

namespace ppo::workflow {
namespace {

std::string safe(std::string_view name) {
    std::set<std::string> used;
    return safe_file_name(name, used);
}

void expect_sane(const std::string& out) {
    EXPECT_FALSE(out.empty());
    EXPECT_LE(out.size(), 180u) << out;
    EXPECT_NE(out.front(), '.') << out;
    EXPECT_NE(out, "..");
    for (unsigned char c : out) {
        EXPECT_NE(c, '/') << out;
        EXPECT_NE(c, '\\') << out;
        EXPECT_GE(c, 0x20) << out;
        EXPECT_NE(c, 0x7f) << out;
    }
}

TEST(SafeFileName, KeepsAnOrdinaryName) {
    EXPECT_EQ(safe("PPO 2022.pdf"), "PPO 2022.pdf");
    EXPECT_EQ(safe("PPO Lycée — été.pdf"), "PPO Lycée — été.pdf");
}

TEST(SafeFileName, DropsEveryFolderPart) {
    EXPECT_EQ(safe("../../etc/passwd"), "passwd");
    EXPECT_EQ(safe("/abs/path.pdf"), "path.pdf");
    EXPECT_EQ(safe("..\\..\\windows\\ppo.pdf"), "ppo.pdf");
    EXPECT_EQ(safe("C:\\Users\\x\\PPO.pdf"), "PPO.pdf");
    EXPECT_EQ(safe("dir/"), "document");
}

TEST(SafeFileName, DotNamesAndHiddenFilesBecomePlain) {
    EXPECT_EQ(safe(".."), "document");
    EXPECT_EQ(safe("."), "document");
    EXPECT_EQ(safe(""), "document");
    EXPECT_EQ(safe("   "), "document");
    EXPECT_EQ(safe(".hidden.pdf"), "hidden.pdf");
    EXPECT_EQ(safe("../.bashrc"), "bashrc");
    expect_sane(safe(". . .pdf"));
}

TEST(SafeFileName, NulAndControlCharactersAreRemoved) {
    EXPECT_EQ(safe(std::string("evil\0name.pdf", 13)), "evilname.pdf");
    EXPECT_EQ(safe("ctl\x01\x1b\x7f\r\nname.pdf"), "ctlname.pdf");
    EXPECT_EQ(safe(std::string("\0\0\0", 3)), "document");
    EXPECT_EQ(safe("a:b*c?d\"e<f>g|h.pdf"), "a_b_c_d_e_f_g_h.pdf");
}

TEST(SafeFileName, LongNamesAreCutOnACharacterBoundaryKeepingTheExtension) {
    std::string name;
    for (int i = 0; i < 150; ++i) name += "é";  // 300 bytes
    name += ".pdf";
    const std::string out = safe(name);
    expect_sane(out);
    EXPECT_TRUE(out.ends_with(".pdf")) << out;
    EXPECT_EQ((out.size() - 4) % 2, 0u) << "cut inside a character";
    EXPECT_EQ(out.size(), 180u);  // 88 "é" + ".pdf"
    // Without an extension too.
    expect_sane(safe(std::string(300, 'x')));
}

TEST(SafeFileName, SameNameTwiceGetsANumber) {
    std::set<std::string> used;
    EXPECT_EQ(safe_file_name("PPO.pdf", used), "PPO.pdf");
    EXPECT_EQ(safe_file_name("PPO.pdf", used), "PPO (2).pdf");
    EXPECT_EQ(safe_file_name("PPO.pdf", used), "PPO (3).pdf");
    EXPECT_EQ(safe_file_name("../PPO.pdf", used), "PPO (4).pdf");
    EXPECT_EQ(safe_file_name("", used), "document");
    EXPECT_EQ(safe_file_name("", used), "document (2)");
}

TEST(SafeFileName, NumberedLongNamesStayWithinTheLimit) {
    const std::string name = std::string(300, 'y') + ".pdf";
    std::set<std::string> used;
    std::set<std::string> seen;
    for (int i = 0; i < 12; ++i) {
        const std::string out = safe_file_name(name, used);
        expect_sane(out);
        EXPECT_TRUE(out.ends_with(".pdf")) << out;
        EXPECT_TRUE(seen.insert(out).second) << "returned twice: " << out;
    }
}

TEST(SafeFileName, TenThousandSameNamesStayUniqueAndQuick) {
    // A hostile message may carry max_parts (10,000) parts of the same name:
    // numbering them must not be quadratic (it took tens of seconds).
    std::set<std::string> used;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10000; ++i) safe_file_name("PPO.pdf", used);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(used.size(), 10000u);
    EXPECT_TRUE(used.count("PPO (99).pdf"));
    EXPECT_TRUE(used.count("PPO (100).pdf"));
    EXPECT_TRUE(used.count("PPO (10000).pdf"));
    EXPECT_LT(elapsed, std::chrono::seconds(15));
}

TEST(SafeFileName, InvalidUtf8NeverLeavesAnEmptyOrHiddenName) {
    // 200 continuation bytes: no character boundary to cut on.
    const std::string name = std::string(200, '\x80') + ".pdf";
    const std::string out = safe(name);
    expect_sane(out);
    EXPECT_TRUE(out.ends_with(".pdf")) << out;
}

}  // namespace
}  // namespace ppo::workflow
