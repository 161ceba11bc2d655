// The command line as an administrator meets it: check-config, directory
// import (twice, renamed, removed, bad rows), status in its three forms, exit codes.
#include "bench/harness.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ppo::testbench;

namespace {

const std::string kData = PPO_TEST_DATA_DIR;

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

RunResult import(Harness& h, const std::string& annuaire) {
    return h.ppo({"directory", "import", "--annuaire", annuaire, "--routing", kData + "/routing-sample.csv"});
}

Harness::Options no_import() {
    Harness::Options o;
    o.import_directory = false;
    return o;
}

}  // namespace

TEST(Cli, CheckConfigNamesTheFileAndKeyOfABadLine) {
    Harness h(no_import());
    EXPECT_EQ(h.ppo({"check-config"}).exit_code, 0);
    struct Case {
        std::string key, value, expected;
    };
    for (const auto& c : std::vector<Case>{{"imap.poll_intervall", "5", "[imap] poll_intervall: unknown key"},
                                           {"smtp.url", "smtp//bad", "[smtp] url: no scheme"},
                                           {"campaign.deadline", "2022-13-01", "[campaign] deadline: expected a date"}}) {
        h.write_config({{c.key, c.value}});
        auto r = h.ppo({"check-config"});
        EXPECT_EQ(r.exit_code, 2) << c.key;
        EXPECT_NE(r.err.find(h.config_path()), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
    }
    h.write_config({});
    EXPECT_EQ(h.ppo({"check-config"}).exit_code, 0);
    // A missing file is a configuration error too.
    auto r = run_command({PPO_BINARY, "-c", h.dir() + "/nope.conf", "status"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("nope.conf"), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwoAndHelpExitsZero) {
    Harness h(no_import());
    EXPECT_EQ(h.ppo({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(h.ppo({"status", "--xml"}).exit_code, 2);
    EXPECT_EQ(h.ppo({"poll"}).exit_code, 2);
    EXPECT_EQ(h.ppo({"directory", "import"}).exit_code, 2);
    EXPECT_EQ(h.ppo({"status"}, "not-a-date").exit_code, 2);
    auto help = run_command({PPO_BINARY, "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("triage list"), std::string::npos);
    EXPECT_NE(help.out.find("outbox list"), std::string::npos);
    EXPECT_NE(help.out.find("ack resend"), std::string::npos);
    EXPECT_NE(help.out.find("export files"), std::string::npos);
    for (std::string cmd : {"run", "poll", "tick", "directory", "status", "triage", "outbox", "ack", "export", "check-config"}) {
        auto r = run_command({PPO_BINARY, cmd, "--help"});
        EXPECT_EQ(r.exit_code, 0) << cmd;
        EXPECT_NE(r.out.find("Usage: ppo-intake"), std::string::npos) << cmd;
    }
}

TEST(Cli, ImportTwiceChangesNothingRenamedIsUpdatedRemovedIsClosed) {
    Harness h(no_import());
    auto first = import(h, kData + "/annuaire-hdf-sample.csv");
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.out.find("140 lycées kept"), std::string::npos) << first.out;
    EXPECT_NE(first.out.find("140 new"), std::string::npos) << first.out;
    EXPECT_NE(first.out.find("9 lycée without voie générale or technologique (LP)"), std::string::npos) << first.out;
    EXPECT_NE(first.out.find("8 not a lycée (Collège)"), std::string::npos) << first.out;
    auto before = h.ppo({"status", "--json"}).out;

    auto second = import(h, kData + "/annuaire-hdf-sample.csv");
    EXPECT_NE(second.out.find("0 new, 0 updated, 140 unchanged, 0 closed"), std::string::npos) << second.out;
    EXPECT_EQ(h.ppo({"status", "--json"}).out, before);

    // A BOM, lower-case headers, a renamed lycée and one removed row.
    std::string text = read(kData + "/annuaire-hdf-sample.csv");
    auto nl = text.find('\n');
    for (std::size_t i = 0; i < nl; ++i) text[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    auto name = text.find("Lycée général et technologique Camille Claudel");
    ASSERT_NE(name, std::string::npos);
    text.replace(name, std::string("Lycée général et technologique Camille Claudel").size(), "Lycée Camille-Claudel");
    auto ribot = text.find("0597091M;");
    auto line_end = text.find('\n', ribot);
    text.erase(ribot, line_end - ribot + 1);
    write(h.dir() + "/annuaire2.csv", "\xEF\xBB\xBF" + text);
    auto third = import(h, h.dir() + "/annuaire2.csv");
    ASSERT_EQ(third.exit_code, 0) << third.err;
    EXPECT_NE(third.out.find("0 new, 1 updated, 138 unchanged, 1 closed"), std::string::npos) << third.out;
    EXPECT_EQ(h.lycee("0596082R")->getValue<std::string>("name"), "Lycée Camille-Claudel");
    EXPECT_EQ(h.lycee("0597091M"), nullptr) << "a closed lycée is no longer expected";
    EXPECT_EQ(h.status()->getArray("lycees")->size(), 139u);
}

TEST(Cli, WrongCheckLetterIsReportedWithItsLineAndNothingIsImported) {
    Harness h(no_import());
    std::string text = read(kData + "/annuaire-hdf-sample.csv");
    auto pos = text.find("0596082R");
    text[pos + 7] = 'Z';
    write(h.dir() + "/bad.csv", text);
    auto r = import(h, h.dir() + "/bad.csv");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.err.find(h.dir() + "/bad.csv: line 4, column Identifiant_de_l_etablissement: UAI 0596082Z has a wrong "
                         "check letter (expected 0596082R)"),
              std::string::npos) << r.err;
    EXPECT_EQ(h.status()->getArray("lycees")->size(), 0u);
    auto skipped = h.ppo({"directory", "import", "--annuaire", h.dir() + "/bad.csv", "--skip-invalid"});
    ASSERT_EQ(skipped.exit_code, 0) << skipped.err;
    EXPECT_NE(skipped.out.find("139 lycées kept"), std::string::npos) << skipped.out;
}

TEST(Cli, StatusFormats) {
    Harness h;
    auto table = h.ppo({"status"});
    ASSERT_EQ(table.exit_code, 0);
    EXPECT_NE(table.out.find("140 lycées expected: 0 received, 0 late, 140 missing"), std::string::npos) << table.out;

    auto csv = h.ppo({"status", "--csv"}).out;
    ASSERT_GE(csv.size(), 3u);
    EXPECT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 141);
    EXPECT_NE(csv.find("uai;nom;commune;"), std::string::npos);
    EXPECT_NE(csv.find("\r\n"), std::string::npos);
    // States in French for the spreadsheet; JSON keeps its values (below).
    std::size_t manquant = 0;
    for (auto p = csv.find(";manquant;"); p != std::string::npos; p = csv.find(";manquant;", p + 1)) ++manquant;
    EXPECT_EQ(manquant, 140u);
    EXPECT_EQ(csv.find(";missing;"), std::string::npos);

    auto st = h.status();
    auto campaign = st->getObject("campaign");
    EXPECT_EQ(campaign->getValue<std::string>("name"), "PPO 2021-2022");
    EXPECT_EQ(campaign->getValue<std::string>("deadline"), "2022-03-25");
    auto l = h.lycee("0596082R");
    for (std::string key : {"uai", "name", "commune", "academie", "bassin", "ien_io", "state"})
        EXPECT_TRUE(l->has(key)) << key;
    EXPECT_EQ(l->getValue<std::string>("commune"), "Douai");
    EXPECT_EQ(l->getValue<std::string>("academie"), "09");
    EXPECT_EQ(l->getValue<std::string>("bassin"), "095912");
    EXPECT_EQ(l->getValue<std::string>("ien_io"), "ien-io.douai@ac-lille.fr");
    EXPECT_EQ(l->getValue<std::string>("state"), "missing");
    EXPECT_EQ(l->getArray("submissions")->size(), 0u);
    EXPECT_EQ(l->getArray("reminders_sent")->size(), 0u);
    EXPECT_EQ(st->getArray("unidentified")->size(), 0u);
}
