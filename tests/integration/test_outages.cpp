// Outages: the real `ppo-intake run` in the background (poll_interval 2 s)
// while the IMAP server, the SMTP server, the database or the archive disk
// fails for a while. The daemon must stay up, say what is wrong in its log,
// leave the message where it is, and catch up once the fault is gone:
// exactly one submission, one acknowledgement, an empty inbox.
//
// Lycées (tests/data/annuaire-hdf-sample.csv):
//   0596082R  LGT Camille Claudel, Douai      ce.0596082r@ac-lille.fr -> ien-io.douai@ac-lille.fr
//   0597091M  LGT Alexandre Ribot, Armentières ce.0597091m@ac-lille.fr -> ien-io.lille@ac-lille.fr
#include "bench/harness.h"

#include "daemon/store/database.h"
#include "daemon/store/file_archive.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

using namespace ppo::testbench;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";  // the daemon's clock starts here
// Later than any retry the daemon scheduled (its clock runs from kBefore), before any reminder.
const std::string kLater = "2022-03-01T12:00:00+01:00";

const std::string kClaudel = "0596082R";
const std::string kClaudelMail = "ce.0596082r@ac-lille.fr";
const std::string kRibot = "0597091M";
const std::string kRibotMail = "ce.0597091m@ac-lille.fr";



Harness::Options options() {
    Harness::Options o;
    o.extra_config = {{"imap.poll_interval", "2"}, {"imap.timeout", "10"}, {"smtp.timeout", "10"}};
    return o;
}

// Polls `pred` every 200 ms until it holds or `timeout` passes; fails at once
// if the daemon dies meanwhile.
bool wait_until(DaemonProcess& d, const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (pred()) return true;
        if (!d.alive()) {
            ADD_FAILURE() << "the daemon died\n" << tail(d.log());
            return false;
        }
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(200ms);
    }
}

// Stays alive for `duration` (checked every 200 ms).
bool stays_alive(DaemonProcess& d, std::chrono::milliseconds duration) {
    auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) {
        if (!d.alive()) {
            ADD_FAILURE() << "the daemon died\n" << tail(d.log());
            return false;
        }
        std::this_thread::sleep_for(200ms);
    }
    return true;
}

TestMail submission_mail(const std::string& from, const std::string& tag, std::size_t pad = 0) {
    TestMail m;
    m.from = from;
    m.subject = "PPO";
    m.files = {{"PPO " + tag + ".pdf", "application/pdf", sample_pdf(tag, pad), ""}};
    return m;
}

// Mails of one kind ("auto-replied" acks, "auto-generated" forwards) to `rcpt`.
std::size_t count_mails(Harness& h, const std::string& rcpt, const std::string& auto_submitted) {
    std::size_t n = 0;
    for (const auto& m : h.smtp().messages())
        if (std::find(m.rcpt_to.begin(), m.rcpt_to.end(), rcpt) != m.rcpt_to.end() &&
            header_of(m.data, "Auto-Submitted") == auto_submitted)
            ++n;
    return n;
}

Poco::JSON::Array::Ptr submissions_of(Harness& h, const std::string& uai) {
    auto l = h.lycee(uai, kBefore);
    if (!l) throw std::runtime_error(uai + " not in status --json");
    return l->getArray("submissions");
}

// The end state every test expects for one lycée: exactly one submission,
// acknowledged and forwarded, one ack and one forward delivered.
void expect_handled_once(Harness& h, const std::string& uai, const std::string& mail, const std::string& ien_io) {
    auto subs = submissions_of(h, uai);
    ASSERT_EQ(subs->size(), 1u) << uai;
    EXPECT_TRUE(subs->getObject(0)->getValue<bool>("acknowledged")) << uai;
    EXPECT_TRUE(subs->getObject(0)->getValue<bool>("forwarded")) << uai;
    EXPECT_EQ(count_mails(h, mail, "auto-replied"), 1u) << uai;
    EXPECT_EQ(count_mails(h, ien_io, "auto-generated"), 1u) << uai;
}

// Ends (SIGKILL, by pid) the imap processes of this test's own Dovecot
// instance, named "dovecot-ppo-test-<port>/imap" by the fixture's config.
int drop_imap_sessions(int port) {
    const std::string title = "dovecot-ppo-test-" + std::to_string(port) + "/imap";
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string pid_text = e.path().filename().string();
        if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline = read_file(e.path().string() + "/cmdline");
        cmdline = cmdline.substr(0, cmdline.find('\0'));
        if (cmdline != title && cmdline.rfind(title + " ", 0) != 0) continue;
        if (::kill(static_cast<pid_t>(std::stol(pid_text)), SIGKILL) == 0) ++n;
    }
    return n;
}

bool log_has(DaemonProcess& d, const std::string& what) { return d.log().find(what) != std::string::npos; }

}  // namespace

TEST(Outage, ImapServerRestartedMidRun) {
    Harness h(options());
    DaemonProcess d(h.config_path(), h.dir() + "/daemon.log", kBefore);
    d.start();
    h.deliver(submission_mail(kClaudelMail, "imap-1"));
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 2; }, 30s)) << tail(d.log());

    h.imap().stop();
    // stop() ends the Dovecot master only; the imap process serving the
    // daemon's session outlives it (reparented to init) and keeps the session
    // working. A real restart drops the sessions: end them too.
    const int dropped = drop_imap_sessions(h.imap().port());
    std::cout << "[outage] IMAP: server stopped, " << dropped << " open session(s) dropped" << std::endl;
    ASSERT_TRUE(stays_alive(d, 5s));
    EXPECT_TRUE(wait_until(d, [&] { return log_has(d, " error ") && log_has(d, "IMAP"); }, 10s))
        << "no IMAP error logged\n" << tail(d.log());

    h.imap().start();
    const auto restarted = std::chrono::steady_clock::now();
    h.deliver(submission_mail(kRibotMail, "imap-2"));
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 4; }, 40s))
        << "the message after the restart was not handled\n" << tail(d.log());
    std::cout << "[outage] IMAP: new message handled "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - restarted).count()
              << " ms after the server came back" << std::endl;

    ASSERT_TRUE(stays_alive(d, 2s));
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    EXPECT_EQ(h.imap().count("PPO.Traites"), 2u);
    expect_handled_once(h, kClaudel, kClaudelMail, "ien-io.douai@ac-lille.fr");
    expect_handled_once(h, kRibot, kRibotMail, "ien-io.lille@ac-lille.fr");
    EXPECT_EQ(h.smtp().messages().size(), 4u);
    EXPECT_EQ(d.terminate(), 0) << tail(d.log());
}

TEST(Outage, SmtpDownThenBackAndTemporaryRefusal) {
    Harness h(options());
    h.smtp().stop();
    DaemonProcess d(h.config_path(), h.dir() + "/daemon.log", kBefore);
    d.start();
    h.deliver(submission_mail(kClaudelMail, "smtp-1"));

    // Recorded and filed although nothing can be sent.
    ASSERT_TRUE(wait_until(d, [&] { return h.imap().count("INBOX") == 0 && submissions_of(h, kClaudel)->size() == 1; }, 30s))
        << tail(d.log());
    ASSERT_TRUE(wait_until(d, [&] { return log_has(d, "deferred"); }, 10s)) << tail(d.log());
    ASSERT_TRUE(stays_alive(d, 3s));
    {
        auto s = submissions_of(h, kClaudel)->getObject(0);
        EXPECT_FALSE(s->getValue<bool>("acknowledged"));
        EXPECT_FALSE(s->getValue<bool>("forwarded"));
    }

    // Back up. The daemon retries after retry_delay_seconds (60 s at least, no
    // config knob): `tick` with a later clock makes the retry due now.
    h.smtp().start();
    auto r = h.ppo({"tick"}, kLater);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 2; }, 15s)) << r.err << tail(d.log());
    expect_handled_once(h, kClaudel, kClaudelMail, "ien-io.douai@ac-lille.fr");

    // 451 on the next RCPT TO: one mail deferred, the other sent by the daemon.
    h.smtp().set_fail_temporarily(1);
    h.deliver(submission_mail(kRibotMail, "smtp-2"));
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 3; }, 30s)) << tail(d.log());
    ASSERT_TRUE(stays_alive(d, 3s));
    EXPECT_EQ(h.smtp().messages().size(), 3u) << "the refused mail must wait for its retry";
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    {
        auto s = submissions_of(h, kRibot);
        ASSERT_EQ(s->size(), 1u);
        EXPECT_NE(s->getObject(0)->getValue<bool>("acknowledged"), s->getObject(0)->getValue<bool>("forwarded"));
    }
    r = h.ppo({"tick"}, "2022-03-01T13:00:00+01:00");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 4; }, 15s)) << tail(d.log());
    ASSERT_TRUE(stays_alive(d, 3s));

    expect_handled_once(h, kClaudel, kClaudelMail, "ien-io.douai@ac-lille.fr");
    expect_handled_once(h, kRibot, kRibotMail, "ien-io.lille@ac-lille.fr");
    EXPECT_EQ(h.smtp().messages().size(), 4u);
    EXPECT_EQ(h.imap().count("PPO.Traites"), 2u);
    EXPECT_EQ(d.terminate(), 0) << tail(d.log());
}

TEST(Outage, DatabaseLockedForEightSeconds) {
    PPO_SQLITE_ONLY("holds SQLite's file lock (BEGIN EXCLUSIVE) to make the daemon's writes fail with SQLITE_BUSY");
    Harness h(options());
    DaemonProcess d(h.config_path(), h.dir() + "/daemon.log", kBefore);
    d.start();
    h.deliver(submission_mail(kClaudelMail, "db-1"));
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 2; }, 30s)) << tail(d.log());

    {
        ppo::workflow::DatabaseConfig dc;
        dc.backend = "sqlite";
        dc.connection = h.dir() + "/ppo.db";
        ppo::daemon::Database db(dc);
        db.exec("BEGIN EXCLUSIVE");
        h.deliver(submission_mail(kRibotMail, "db-2"));
        ASSERT_TRUE(stays_alive(d, 8s));
        EXPECT_EQ(h.imap().count("INBOX"), 1u) << "the message must wait in the inbox";
        EXPECT_EQ(h.smtp().messages().size(), 2u);
        db.exec("COMMIT");
    }
    const auto released = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 4 && h.imap().count("INBOX") == 0; }, 40s))
        << tail(d.log());
    std::cout << "[outage] database: message handled "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - released).count()
              << " ms after the lock was released" << std::endl;

    // The busy timeout (5 s) runs out while the lock is held; the error may
    // reach the log just after the release.
    EXPECT_TRUE(log_has(d, " error ") && (log_has(d, "locked") || log_has(d, "busy")))
        << "no busy/locked error logged\n" << tail(d.log());
    ASSERT_TRUE(stays_alive(d, 2s));
    expect_handled_once(h, kClaudel, kClaudelMail, "ien-io.douai@ac-lille.fr");
    expect_handled_once(h, kRibot, kRibotMail, "ien-io.lille@ac-lille.fr");
    EXPECT_EQ(h.imap().count("PPO.Traites"), 2u);
    EXPECT_EQ(d.terminate(), 0) << tail(d.log());
}

TEST(Outage, ArchiveDiskFullThenFreed) {
    Harness h(options());
    const std::string archive = h.dir() + "/archive";
    fs::create_directories(archive);
    // A 64 KiB tmpfs over the archive: a full disk. Without mount rights, a
    // plain file where the archive folder should be.
    struct Fault {
        std::string path;
        bool mounted = false;
        bool active = false;
        void clear() {
            if (!active) return;
            if (mounted) {
                if (run_command({"/bin/umount", path}).exit_code != 0) run_command({"/bin/umount", "-l", path});
            } else {
                fs::remove(path);
                fs::create_directories(path);
            }
            active = false;
        }
        ~Fault() { clear(); }
    } fault{archive};
    fault.mounted = run_command({"/bin/mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", archive}).exit_code == 0;
    if (!fault.mounted) {
        fs::remove_all(archive);
        std::ofstream(archive) << "not a folder\n";
    }
    fault.active = true;
    std::cout << "[outage] archive fault: " << (fault.mounted ? "64 KiB tmpfs (disk full)" : "a file instead of the folder")
              << std::endl;

    DaemonProcess d(h.config_path(), h.dir() + "/daemon.log", kBefore);
    d.start();
    const TestMail m = submission_mail(kClaudelMail, "disk-full", 200000);
    const std::string pdf = m.files[0].data;
    h.deliver(m);
    ASSERT_TRUE(wait_until(d, [&] { return log_has(d, " error ") && log_has(d, "archive:"); }, 20s)) << "no archive error logged\n" << tail(d.log());
    ASSERT_TRUE(stays_alive(d, 4s));
    EXPECT_EQ(h.imap().count("INBOX"), 1u) << "the message must wait in the inbox";
    EXPECT_EQ(submissions_of(h, kClaudel)->size(), 0u);
    EXPECT_TRUE(h.smtp().messages().empty());

    fault.clear();
    const auto freed = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until(d, [&] { return h.smtp().messages().size() >= 2 && h.imap().count("INBOX") == 0; }, 60s))
        << tail(d.log());
    std::cout << "[outage] archive: message handled "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - freed).count()
              << " ms after the disk was freed" << std::endl;

    ASSERT_TRUE(stays_alive(d, 2s));
    expect_handled_once(h, kClaudel, kClaudelMail, "ien-io.douai@ac-lille.fr");
    auto sub = submissions_of(h, kClaudel)->getObject(0);
    auto file = sub->getArray("files")->getObject(0);
    EXPECT_EQ(file->getValue<std::string>("sha256"), ppo::daemon::sha256_hex(pdf));
    // The archived bytes themselves.
    std::size_t found = 0;
    for (const auto& e : fs::recursive_directory_iterator(archive)) {
        if (!e.is_regular_file() || e.path().filename() != "PPO disk-full.pdf") continue;
        ++found;
        EXPECT_EQ(read_file(e.path().string()), pdf) << e.path();
    }
    EXPECT_EQ(found, 1u);
    EXPECT_EQ(h.imap().count("PPO.Traites"), 1u);
    EXPECT_EQ(d.terminate(), 0) << tail(d.log());
}
