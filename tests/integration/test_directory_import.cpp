// directory import as an administrator meets it when the file is wrong:
// directory data that would be syntax elsewhere (a ',' or CR LF in a Mail, a
// bassin code "../../../x"), a bad check letter, an Excel re-save in
// Windows-1252, a cut file, an export that would close many lycées.
// Every refusal exits 2, names file, line and column, and changes nothing.
#include "bench/harness.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <fstream>

using namespace ppo::testbench;

namespace {

const std::string kData = PPO_TEST_DATA_DIR;
const std::string kSample = kData + "/annuaire-hdf-sample.csv";
const std::string kRouting = kData + "/routing-sample.csv";

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

Harness::Options no_import() {
    Harness::Options o;
    o.import_directory = false;
    return o;
}

RunResult import(Harness& h, const std::string& annuaire, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"directory", "import", "--annuaire", annuaire, "--routing", kRouting};
    args.insert(args.end(), extra.begin(), extra.end());
    return h.ppo(args);
}

// The sample with field `column` (0-based) of the row of `uai` replaced.
std::string with_field(std::string text, const std::string& uai, int column, const std::string& value) {
    auto start = text.find("\n" + uai + ";") + 1;
    auto end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    std::size_t b = 0;
    for (int i = 0; i < column; ++i) b = line.find(';', b) + 1;
    line.replace(b, line.find(';', b) - b, value);
    return text.replace(start, end - start, line);
}

std::string line_of(const std::string& text, const std::string& uai) {
    return std::to_string(std::count(text.begin(), text.begin() + static_cast<long>(text.find("\n" + uai + ";")), '\n') + 2);
}

std::size_t expected(Harness& h) { return h.status()->getArray("lycees")->size(); }

}  // namespace

TEST(DirectoryImportCli, BadRowsRefuseTheWholeImportOrAreSkippedOnRequest) {
    Harness h(no_import());
    const std::string sample = read_file(kSample);
    struct Case {
        std::string name;
        int column;
        std::string value, column_name, reason;
    };
    const std::vector<Case> cases{
        {"comma", 21, "ce.0596082r@ac-lille.fr,evil@example.org", "Mail", "character ',' is not allowed"},
        {"crlf", 21, "\"ce.0596082r@ac-lille.fr\r\n\tRCPT TO:<evil@example.org>\"", "Mail", "control character 0x0D"},
        {"bassin", 70, "../../../x", "code_bassin_formation", "'../../../x' is not a bassin code"},
        {"letter", 0, "0596082Z", "Identifiant_de_l_etablissement", "wrong check letter (expected 0596082R)"},
    };
    for (const auto& c : cases) {
        const std::string text = with_field(sample, "0596082R", c.column, c.value);
        const std::string path = h.dir() + "/bad-" + c.name + ".csv";
        write(path, text);
        auto r = import(h, path);
        EXPECT_EQ(r.exit_code, 2) << c.name << "\n" << r.out << r.err;
        const std::string where = path + ": line " + line_of(text, c.value == "0596082Z" ? "0596082Z" : "0596082R") +
                                  ", column " + c.column_name;
        EXPECT_NE(r.err.find(where), std::string::npos) << c.name << "\n" << r.err;
        EXPECT_NE(r.err.find(c.reason), std::string::npos) << c.name << "\n" << r.err;
        EXPECT_NE(r.err.find("nothing imported"), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("--skip-invalid"), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("\r\n\tRCPT"), std::string::npos) << "the raw value is not echoed";
        EXPECT_EQ(expected(h), 0u) << c.name << ": something was imported";
    }

    // The same files with --skip-invalid: the good rows are imported, the bad one is a warning.
    for (const auto& c : cases) {
        auto r = import(h, h.dir() + "/bad-" + c.name + ".csv", {"--skip-invalid"});
        ASSERT_EQ(r.exit_code, 0) << c.name << "\n" << r.out << r.err;
        EXPECT_NE(r.out.find("139 lycées kept"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("Invalid rows skipped (1, --skip-invalid)"), std::string::npos) << r.out;
        EXPECT_NE(r.err.find("row skipped: --skip-invalid"), std::string::npos) << r.err;
    }
    EXPECT_EQ(expected(h), 139u);
    EXPECT_EQ(h.lycee("0596082R"), nullptr) << "never imported with a bad row";
    for (const auto& uai : {"0626769W", "0597091M"}) EXPECT_NE(h.lycee(uai), nullptr) << uai;

    // Once the lycée is known, a bad row of it skipped leaves it as it is: not closed.
    ASSERT_EQ(import(h, kSample).exit_code, 0);
    auto r = import(h, h.dir() + "/bad-comma.csv", {"--skip-invalid"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("0 new, 0 updated, 139 unchanged, 0 closed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 lycée(s) of these rows left as they are"), std::string::npos) << r.out;
    EXPECT_NE(h.lycee("0596082R"), nullptr);
    EXPECT_EQ(h.lycee("0596082R")->getValue<std::string>("state"), "missing");

    // A routing row with CR LF in the IEN-IO mail refuses the import too.
    std::string routing = read_file(kRouting);
    routing.replace(routing.find("ien-io.douai@ac-lille.fr"), 24, "\"ien-io.douai@ac-lille.fr\r\nDATA\"");
    write(h.dir() + "/routing-bad.csv", routing);
    auto rr = h.ppo({"directory", "import", "--annuaire", kSample, "--routing", h.dir() + "/routing-bad.csv"});
    EXPECT_EQ(rr.exit_code, 2);
    EXPECT_NE(rr.err.find(h.dir() + "/routing-bad.csv: line 3, column ien_io_mail (bassin 095912)"), std::string::npos)
        << rr.err;
    EXPECT_EQ(h.lycee("0596082R")->getValue<std::string>("ien_io"), "ien-io.douai@ac-lille.fr");
}

TEST(DirectoryImportCli, Windows1252IsConvertedTruncatedAndUtf16AreRefused) {
    Harness h(no_import());
    auto cp = import(h, kData + "/annuaire-hdf-sample-cp1252.csv");
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    EXPECT_NE(cp.out.find("(Windows-1252, converted to UTF-8)"), std::string::npos) << cp.out;
    EXPECT_NE(cp.err.find("Windows-1252 detected, converted to UTF-8"), std::string::npos) << cp.err;
    EXPECT_NE(cp.out.find("140 lycées kept"), std::string::npos) << cp.out;
    EXPECT_EQ(h.lycee("0596082R")->getValue<std::string>("name"), "Lycée général et technologique Camille Claudel");
    // The UTF-8 original finds exactly the same lycées, names and all.
    auto utf8 = import(h, kSample);
    ASSERT_EQ(utf8.exit_code, 0) << utf8.err;
    EXPECT_NE(utf8.out.find("0 new, 0 updated, 140 unchanged, 0 closed"), std::string::npos) << utf8.out;
    const auto before = h.ppo({"status", "--json"}).out;

    const std::string sample = read_file(kSample);
    write(h.dir() + "/cut.csv", sample.substr(0, sample.size() - 300));
    auto cut = import(h, h.dir() + "/cut.csv");
    EXPECT_EQ(cut.exit_code, 2);
    EXPECT_NE(cut.err.find(h.dir() + "/cut.csv: line 169: the last row has"), std::string::npos) << cut.err;
    EXPECT_NE(cut.err.find("truncated"), std::string::npos) << cut.err;

    std::string utf16 = "\xFF\xFE";
    for (char c : sample.substr(0, 2000)) utf16 += std::string{c, '\0'};
    write(h.dir() + "/utf16.csv", utf16);
    auto u = import(h, h.dir() + "/utf16.csv");
    EXPECT_EQ(u.exit_code, 2);
    EXPECT_NE(u.err.find("UTF-16"), std::string::npos) << u.err;
    EXPECT_EQ(h.ppo({"status", "--json"}).out, before);
}

TEST(DirectoryImportCli, ClosingMoreThanTenPercentNeedsForceAndDryRunWritesNothing) {
    Harness h(no_import());
    // A dry run on an empty directory: everything would be new, nothing is written.
    auto dry = import(h, kSample, {"--dry-run"});
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    EXPECT_NE(dry.out.find("Dry run, nothing written. The import would make 140 new, 0 updated, 0 unchanged, 0 closed"),
              std::string::npos) << dry.out;
    EXPECT_NE(dry.out.find("  + 0596082R Lycée général et technologique Camille Claudel (Douai)"), std::string::npos);
    EXPECT_NE(dry.out.find("  bassin 095912: new, 'BASSIN DOUAI', IEN-IO ien-io.douai@ac-lille.fr"), std::string::npos)
        << dry.out;
    EXPECT_EQ(expected(h), 0u);
    ASSERT_EQ(import(h, kSample).exit_code, 0);
    const auto before = h.ppo({"status", "--json"}).out;

    // An export without 20 of the 140 LGTs (14 %): refused, then forced.
    std::string text = read_file(kSample);
    int removed = 0;
    for (std::size_t pos = text.find('\n') + 1; removed < 20;) {
        auto end = text.find('\n', pos) + 1;
        const std::string row = text.substr(pos, end - pos);
        if (row.find("LYCEE D ENSEIGNEMENT GENERAL ET TECHNOLOGIQUE;") != std::string::npos && row.rfind("0596082R;", 0) != 0) {
            text.erase(pos, end - pos);
            ++removed;
        } else {
            pos = end;
        }
    }
    const std::string old_name = "Lycée général et technologique Camille Claudel";
    text.replace(text.find(old_name), old_name.size(), "Lycée Camille-Claudel");
    write(h.dir() + "/short.csv", text);
    auto refused = import(h, h.dir() + "/short.csv");
    EXPECT_EQ(refused.exit_code, 2) << refused.out;
    EXPECT_NE(refused.err.find("would close 20 of the 140 open lycées (more than 10 %)"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
    EXPECT_EQ(h.ppo({"status", "--json"}).out, before);

    auto preview = import(h, h.dir() + "/short.csv", {"--dry-run"});
    ASSERT_EQ(preview.exit_code, 0) << preview.err;
    EXPECT_NE(preview.out.find("0 new, 1 updated, 119 unchanged, 20 closed (of 140 open)"), std::string::npos) << preview.out;
    EXPECT_NE(preview.out.find("  ~ 0596082R Lycée Camille-Claudel: name 'Lycée général et technologique Camille Claudel' -> "
                               "'Lycée Camille-Claudel'"),
              std::string::npos) << preview.out;
    std::size_t closed_lines = 0;
    for (auto p = preview.out.find("\n  - "); p != std::string::npos; p = preview.out.find("\n  - ", p + 1)) ++closed_lines;
    EXPECT_EQ(closed_lines, 20u) << preview.out;
    EXPECT_NE(preview.out.find("refused without --force"), std::string::npos) << preview.out;
    EXPECT_EQ(h.ppo({"status", "--json"}).out, before) << "a dry run writes nothing";

    auto forced = import(h, h.dir() + "/short.csv", {"--force"});
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_NE(forced.out.find("0 new, 1 updated, 119 unchanged, 20 closed"), std::string::npos) << forced.out;
    EXPECT_EQ(expected(h), 120u);
    EXPECT_EQ(h.lycee("0596082R")->getValue<std::string>("name"), "Lycée Camille-Claudel");
}
