// The intake on other IMAP servers, as Debian ships them (issue 21): Cyrus
// IMAP with `altnamespace: no` (Debian's default: personal folders under
// "INBOX.") and with `altnamespace: yes`, and Courier IMAP (its only layout,
// "INBOX."), each unpacked from its Debian package (tests/bench/cyrus_server.h,
// tests/bench/courier_server.h). The real binary with the shipped folder names
// (etc/ppo-intake.conf): poll --once takes two submissions, one message for
// triage and one auto-reply to ignore; every message is taken exactly once
// (status --json, the messages table, the acknowledgements), the three
// folders are made under the server's personal namespace (listed over IMAP),
// a second poll does nothing; then `run` takes a mail appended while it idles
// (IDLE: poll_interval is far longer than the wait). One server start per
// server: the whole story is one test.
//
// Lycées (tests/data/annuaire-hdf-sample.csv):
//   0596082R  LGT Camille Claudel, Douai (ce.0596082r@ac-lille.fr)
//   0597091M  LGT Alexandre Ribot, Armentières
//   0626769W  Lycée privé Jeanne d'Arc, Saint-Omer (direction.jeanne-darc@orange.fr)
#include "bench/courier_server.h"
#include "bench/cyrus_server.h"
#include "bench/harness.h"

#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace ppo::testbench;
using namespace Poco::Data::Keywords;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";   // before the campaign's deadline

// A key's value in the shipped etc/ppo-intake.conf ("processed_folder" -> "PPO/Traites").
std::string shipped_value(const std::string& section, const std::string& key) {
    std::ifstream in(std::string(PPO_SOURCE_DIR) + "/etc/ppo-intake.conf");
    std::string line, current;
    while (std::getline(in, line)) {
        auto trim = [](std::string s) {
            s.erase(0, s.find_first_not_of(" \t"));
            s.erase(s.find_last_not_of(" \t\r") + 1);
            return s;
        };
        line = trim(line.substr(0, line.find(';')));
        if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
            current = line.substr(1, line.size() - 2);
            continue;
        }
        auto eq = line.find('=');
        if (current == section && eq != std::string::npos && trim(line.substr(0, eq)) == key) return trim(line.substr(eq + 1));
    }
    throw std::runtime_error("etc/ppo-intake.conf: no " + section + "." + key);
}

// As a mail transport delivers it: CRLF line ends (Cyrus refuses a bare LF).
std::string crlf(const std::string& raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) out += '\r';
        out += raw[i];
    }
    return out;
}

// "PPO/Traites" on a server whose personal namespace is ("INBOX." ".").
std::string full_name(const std::string& configured, const std::string& prefix, char delimiter) {
    std::string name = configured;
    std::replace(name.begin(), name.end(), '/', delimiter);
    return prefix + name;
}

// The binary against `server`: a configuration, a database (SQLite in dir(),
// or PostgreSQL when the run is), an SMTP capture, the sample directory.
class Intake {
public:
    explicit Intake(ImapTestServer& server) {
        char tmpl[] = "/tmp/ppo-it-servers-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        config_ = dir_ + "/ppo-intake.conf";
        std::string database = "sqlite://" + dir_ + "/ppo.db";
        if (postgres_wanted()) {
            pg_database_ = PostgresServer::shared().create_database();
            database = PostgresServer::shared().url(pg_database_);
        }
        std::ofstream out(config_);
        out << "[imap]\nurl = " << server.url() << "\nuser = " << server.user() << "\npassword = " << server.password()
            << "\npoll_interval = 600\ntimeout = 20\n";
        // The STARTTLS a server offers as shipped is taken, and its certificate verified.
        if (!server.cert_file().empty()) out << "ca_file = " << server.cert_file() << "\n";
        // The shipped folder names, written out so that the test says what it runs with.
        for (const char* key : {"mailbox", "processed_folder", "triage_folder", "ignored_folder"})
            out << key << " = " << shipped_value("imap", key) << "\n";
        out << "[smtp]\nurl = " << smtp_.url() << "\ntimeout = 20\n"
            << "[database]\nurl = " << database << "\n"
            << "[storage]\narchive_dir = " << dir_ << "/archive\n"
            << "[digest]\nto =\n"
            << "[http]\nlisten =\n";
        out.close();
        auto r = ppo({"directory", "import", "--annuaire", std::string(PPO_TEST_DATA_DIR) + "/annuaire-hdf-sample.csv",
                      "--routing", std::string(PPO_TEST_DATA_DIR) + "/routing-sample.csv"});
        if (r.exit_code != 0) throw std::runtime_error("directory import failed: " + r.err);
    }
    ~Intake() {
        if (!pg_database_.empty() && !std::getenv("PPO_KEEP_TEST_DIRS")) {
            try {
                PostgresServer::shared().drop_database(pg_database_);
            } catch (const std::exception&) {
            }
        }
        if (!std::getenv("PPO_KEEP_TEST_DIRS")) {
            std::error_code ec;
            std::filesystem::remove_all(dir_, ec);
        }
    }
    Intake(const Intake&) = delete;
    Intake& operator=(const Intake&) = delete;

    const std::string& dir() const { return dir_; }
    const std::string& config_path() const { return config_; }
    SmtpCapture& smtp() { return smtp_; }

    RunResult ppo(const std::vector<std::string>& args, const std::string& now = kBefore) {
        std::vector<std::string> argv = {PPO_BINARY, "-c", config_, "--now", now};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv);
    }
    Poco::JSON::Object::Ptr status() {
        auto r = ppo({"status", "--json"});
        if (r.exit_code != 0) throw std::runtime_error("status --json failed: " + r.err);
        Poco::JSON::Parser parser;
        return parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
    }
    // The submissions of one lycée in status --json.
    std::size_t submissions(const std::string& uai) {
        auto lycees = status()->getArray("lycees");
        for (unsigned i = 0; i < lycees->size(); ++i) {
            auto l = lycees->getObject(i);
            if (l->getValue<std::string>("uai") == uai) return l->getArray("submissions")->size();
        }
        throw std::runtime_error("status --json: no lycée " + uai);
    }
    // The messages table: how many rows, how many distinct Message-IDs, per outcome.
    struct Rows {
        std::size_t total = 0, distinct = 0, submission = 0, unidentified = 0, ignored = 0, other = 0;
    };
    Rows rows() {
        Poco::Data::Session s = database_session(dir_);
        std::vector<std::string> ids, outcomes;
        s << "SELECT COALESCE(message_id, ''), outcome FROM messages", into(ids), into(outcomes), now;
        Rows r;
        r.total = ids.size();
        std::sort(ids.begin(), ids.end());
        r.distinct = static_cast<std::size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
        for (const auto& o : outcomes) {
            if (o == "submission") ++r.submission;
            else if (o == "unidentified") ++r.unidentified;
            else if (o == "ignored") ++r.ignored;
            else ++r.other;
        }
        return r;
    }

private:
    SmtpCapture smtp_;
    std::string dir_;
    std::string config_;
    std::string pg_database_;
};

std::size_t mails_to(const std::vector<CapturedMail>& all, const std::string& rcpt) {
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const CapturedMail& m) {
        return std::find(m.rcpt_to.begin(), m.rcpt_to.end(), rcpt) != m.rcpt_to.end();
    }));
}

struct ServerCase {
    std::string label;
    std::function<std::unique_ptr<ImapTestServer>()> start;
    std::string prefix;      // the personal namespace, as the server ships
    char delimiter;
    bool needs_root;
};

void PrintTo(const ServerCase& c, std::ostream* os) { *os << c.label; }

class OtherImapServer : public ::testing::TestWithParam<ServerCase> {};

TEST_P(OtherImapServer, TakesEveryMessageOnceInFoldersOfThePersonalNamespaceAndIdles) {
    const ServerCase& c = GetParam();
    if (c.needs_root && ::geteuid() != 0) GTEST_SKIP() << c.label << " needs root (a mount namespace of its own)";
    if (c.needs_root && run_command({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/true"}).exit_code != 0)
        GTEST_SKIP() << c.label << ": this machine refuses a mount namespace (unshare --mount), which the fixture needs";
    std::unique_ptr<ImapTestServer> server = c.start();
    SCOPED_TRACE(server->name());

    // The layout as shipped, and IDLE offered.
    const std::string ns = server->namespaces();
    ASSERT_EQ(ns.rfind("((\"" + c.prefix + "\" \"" + std::string(1, c.delimiter) + "\")", 0), 0u) << ns;
    ASSERT_NE((" " + server->capabilities() + " ").find(" IDLE "), std::string::npos) << server->capabilities();

    const std::string processed = full_name(shipped_value("imap", "processed_folder"), c.prefix, c.delimiter);
    const std::string triage = full_name(shipped_value("imap", "triage_folder"), c.prefix, c.delimiter);
    const std::string ignored = full_name(shipped_value("imap", "ignored_folder"), c.prefix, c.delimiter);

    Intake intake(*server);

    // Two submissions, one message for triage (no document), one auto-reply.
    TestMail claudel;
    claudel.from = "ce.0596082r@ac-lille.fr";
    claudel.subject = "PPO";
    claudel.files = {{"PPO 2022.pdf", "application/pdf", sample_pdf("claudel"), ""}};
    server->append(crlf(build_test_mail(claudel)));
    TestMail ribot;
    ribot.from = "Marie Dupont <marie.dupont@ac-lille.fr>";
    ribot.subject = "PPO lycée Ribot 0597091M";
    ribot.files = {{"ppo.pdf", "application/pdf", sample_pdf("ribot"), ""}};
    server->append(crlf(build_test_mail(ribot)));
    TestMail question;
    question.from = "ce.0596082r@ac-lille.fr";
    question.subject = "Question sur le PPO";
    server->append(crlf(build_test_mail(question)));
    TestMail ooo;
    ooo.from = "ce.0597091m@ac-lille.fr";
    ooo.subject = "Absence du bureau";
    ooo.headers = {{"Auto-Submitted", "auto-replied"}};
    server->append(crlf(build_test_mail(ooo)));
    ASSERT_EQ(server->count("INBOX"), 4u);

    auto r = intake.ppo({"poll", "--once"});
    ASSERT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << tail(server->log());

    // Each message filed once, in folders of the personal namespace.
    EXPECT_EQ(server->count("INBOX"), 0u);
    EXPECT_EQ(server->count(processed), 2u) << processed;
    EXPECT_EQ(server->count(triage), 1u) << triage;
    EXPECT_EQ(server->count(ignored), 1u) << ignored;
    const auto names = server->mailboxes();
    std::string listed;
    for (const auto& n : names) listed += " [" + n + "]";
    for (const auto& want : {processed, triage, ignored})
        EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want << " not in LIST:" << listed;
    for (const auto& n : names) {
        if (n.find("PPO") != std::string::npos) {
            EXPECT_EQ(n.rfind(c.prefix, 0), 0u) << n << " outside " << c.prefix;
        }
    }

    EXPECT_EQ(intake.submissions("0596082R"), 1u);
    EXPECT_EQ(intake.submissions("0597091M"), 1u);
    auto st = intake.status();
    EXPECT_EQ(st->getArray("unidentified")->size(), 1u);
    EXPECT_EQ(st->getArray("quarantined")->size(), 0u);
    EXPECT_EQ(st->getArray("duplicates")->size(), 0u);
    auto rows = intake.rows();
    EXPECT_EQ(rows.total, 4u);
    EXPECT_EQ(rows.distinct, 4u);
    EXPECT_EQ(rows.submission, 2u);
    EXPECT_EQ(rows.unidentified, 1u);
    EXPECT_EQ(rows.ignored, 1u);
    EXPECT_EQ(rows.other, 0u);
    // Two acknowledgements and two forwards to the IEN-IO; nothing to the auto-reply.
    auto mails = intake.smtp().wait_for(4);
    EXPECT_EQ(mails.size(), 4u);
    EXPECT_EQ(mails_to(mails, "ce.0596082r@ac-lille.fr"), 1u);
    EXPECT_EQ(mails_to(mails, "ce.0597091m@ac-lille.fr"), 1u);

    // A second poll does nothing.
    r = intake.ppo({"poll", "--once"});
    ASSERT_EQ(r.exit_code, 0) << r.err << "\nserver log:\n" << tail(server->log());
    rows = intake.rows();
    EXPECT_EQ(rows.total, 4u);
    EXPECT_EQ(server->count(processed), 2u);
    EXPECT_EQ(server->count(triage), 1u);
    EXPECT_EQ(server->count(ignored), 1u);
    EXPECT_EQ(intake.submissions("0596082R"), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(intake.smtp().messages().size(), 4u);

    // `run` idles; a mail appended meanwhile is taken long before the next
    // poll_interval (600 s) could: IDLE woke it.
    DaemonProcess daemon(intake.config_path(), intake.dir() + "/daemon.log", kBefore);
    daemon.start();
    std::this_thread::sleep_for(std::chrono::seconds(2));   // its first pass done, idling
    TestMail jeanne;
    jeanne.from = "Direction <Direction.Jeanne-Darc@orange.fr>";
    jeanne.subject = "Notre PPO";
    jeanne.files = {{"PPO.pdf", "application/pdf", sample_pdf("jeanne"), ""}};
    server->append(crlf(build_test_mail(jeanne)));
    std::size_t taken = 0;
    const auto appended = std::chrono::steady_clock::now();
    for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
         taken == 0 && std::chrono::steady_clock::now() < end;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        taken = intake.submissions("0626769W");
    }
    // Said, not asserted (no timing assertion): how long IDLE took.
    std::cout << "[          ] " << server->name() << ": taken "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - appended).count()
              << " ms after the APPEND\n";
    const bool alive = daemon.alive();
    const int exit_code = daemon.terminate();
    EXPECT_TRUE(alive) << tail(daemon.log());
    ASSERT_EQ(taken, 1u) << "not taken while idling; daemon log:\n"
                         << tail(daemon.log()) << "\nserver log:\n" << tail(server->log());
    EXPECT_EQ(exit_code, 0) << tail(daemon.log());
    EXPECT_EQ(server->count("INBOX"), 0u);
    EXPECT_EQ(server->count(processed), 3u);
    rows = intake.rows();
    EXPECT_EQ(rows.total, 5u);
    EXPECT_EQ(rows.distinct, 5u);
}

INSTANTIATE_TEST_SUITE_P(
    DebianServers, OtherImapServer,
    ::testing::Values(
        ServerCase{"CyrusAltnamespaceNo", [] { return std::unique_ptr<ImapTestServer>(new CyrusServer()); }, "INBOX.", '.',
                   false},
        ServerCase{"CyrusAltnamespaceYes",
                   [] {
                       CyrusOptions o;
                       o.altnamespace = true;
                       return std::unique_ptr<ImapTestServer>(new CyrusServer(o));
                   },
                   "", '.', false},
        ServerCase{"Courier", [] { return std::unique_ptr<ImapTestServer>(new CourierServer()); }, "INBOX.", '.', true}),
    [](const ::testing::TestParamInfo<ServerCase>& param) { return param.param.label; });

}  // namespace
