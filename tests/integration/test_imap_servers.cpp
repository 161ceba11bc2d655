// Issue 21: the intake (the real binary) on IMAP servers as they ship, against
// a real Dovecot and SMTP capture: personal folders under "INBOX." without
// MOVE or UIDPLUS (the Courier-migration layout), a folder name the server
// refuses (a configuration error: poll --once exits 2, the daemon says it once,
// /healthz is not ready, a reload with a corrected name recovers), and a
// message the server cannot read (the others are taken exactly once).
#include "bench/harness.h"
#include "bench/web_client.h"


#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include <signal.h>
#include <sys/stat.h>

using namespace ppo::testbench;
using namespace std::chrono_literals;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";   // before the deadline, no reminder due

TestMail ppo_mail(const std::string& from, const std::string& tag) {
    TestMail m;
    m.from = from;
    m.files = {{"PPO " + tag + ".pdf", "application/pdf", sample_pdf(tag), ""}};
    return m;
}

TestMail unknown_mail() {
    TestMail m;
    m.from = "someone@gmail.com";
    m.subject = "document";
    m.body = "Bonjour";
    m.files = {{"scan.pdf", "application/pdf", sample_pdf("unknown"), ""}};
    return m;
}

TestMail auto_reply() {
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.subject = "Absence";
    m.headers = {{"Auto-Submitted", "auto-replied"}};
    return m;
}

Harness::Options courier_like() {
    Harness::Options o;
    o.imap.namespace_prefix = "INBOX.";
    o.imap.namespace_separator = '.';
    o.imap.enable_move = false;
    o.imap.enable_uidplus = false;
    return o;
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size())) ++n;
    return n;
}

// One GET on its own connection (status -1 when nothing answers).
WebReply http_get(int port, const std::string& path) { return WebClient(port, 5s).get(path); }

// Polls `pred` every 200 ms until it holds or `limit` passes.
template <typename Pred>
bool eventually(Pred pred, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return pred();
}

TEST(ImapServers, IntakeOnDovecotWithAnInboxPrefixAndNeitherMoveNorUidplus) {
    Harness h(courier_like());
    const std::string caps = h.imap().capabilities();
    ASSERT_EQ(caps.find(" MOVE"), std::string::npos) << caps;
    ASSERT_EQ(caps.find("UIDPLUS"), std::string::npos) << caps;
    h.deliver(ppo_mail("ce.0596082r@ac-lille.fr", "claudel"));
    h.deliver(ppo_mail("ce.0597091m@ac-lille.fr", "second"));
    h.deliver(unknown_mail());
    h.deliver(auto_reply());

    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The resolved names, said once.
    EXPECT_EQ(count_of(r.err, "personal namespace \"INBOX.\""), 1u) << r.err;
    EXPECT_NE(r.err.find("\"PPO/Traites\" -> \"INBOX.PPO.Traites\""), std::string::npos) << r.err;

    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    EXPECT_EQ(h.imap().count("INBOX.PPO.Traites"), 2u) << h.imap().log();
    EXPECT_EQ(h.imap().count("INBOX.PPO.A-trier"), 1u);
    EXPECT_EQ(h.imap().count("INBOX.PPO.Ignores"), 1u);
    for (const auto& box : h.imap().mailboxes()) EXPECT_TRUE(box == "INBOX" || box.rfind("INBOX.", 0) == 0) << box;

    auto status = h.status(kBefore);
    EXPECT_EQ(status->getArray("unidentified")->size(), 1u);
    EXPECT_EQ(status->getArray("quarantined")->size(), 0u);
    const auto mails = h.smtp().wait_for(4, 20s);
    EXPECT_EQ(count_rcpt(mails, "ce.0596082r@ac-lille.fr"), 1u);   // the ack, not one for the auto-reply
    EXPECT_EQ(count_rcpt(mails, "ce.0597091m@ac-lille.fr"), 1u);

    // A second pass does nothing.
    const std::size_t sent = h.smtp().messages().size();
    r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(h.imap().count("INBOX.PPO.Traites"), 2u);
    EXPECT_EQ(h.imap().count("INBOX.PPO.A-trier"), 1u);
    EXPECT_EQ(h.imap().count("INBOX.PPO.Ignores"), 1u);
    EXPECT_EQ(h.smtp().messages().size(), sent);
    EXPECT_EQ(h.status(kBefore)->getArray("unidentified")->size(), 1u);
}

TEST(ImapServers, PollOnceExitsTwoNamingTheRefusedFolderItsKeyAndTheServersWords) {
    Harness::Options o;
    o.extra_config["imap.triage_folder"] = "PPO/" + std::string(300, 'x');   // Dovecot: Mailbox name too long
    Harness h(o);
    h.deliver(ppo_mail("ce.0596082r@ac-lille.fr", "refus"));
    auto r = h.ppo({"poll", "--once"}, kBefore);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("change [imap] triage_folder"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("too long"), std::string::npos) << r.err;   // the server's words
    EXPECT_EQ(h.imap().count("INBOX"), 1u);   // nothing taken, nothing lost
}

TEST(ImapServers, TheDaemonSaysARefusedFolderOnceIsNotReadyAndRecoversOnReload) {
    Harness h;
    const int port = free_port();
    const std::string bad = "PPO/" + std::string(300, 'x');
    h.write_config({{"http.listen", "127.0.0.1:" + std::to_string(port)}, {"imap.triage_folder", bad}});
    h.deliver(ppo_mail("ce.0596082r@ac-lille.fr", "reload"));
    DaemonProcess d(h.config_path(), h.dir() + "/daemon.log", kBefore);
    d.start();

    WebReply health;
    ASSERT_TRUE(eventually([&] {
        health = http_get(port, "/healthz");
        return health.status == 503 && health.body.find("\"config_error\"") != std::string::npos;
    }, 30s)) << health.status << " " << health.body << "\n" << tail(d.log());
    EXPECT_NE(health.body.find("change [imap] triage_folder"), std::string::npos) << health.body;
    auto metrics = http_get(port, "/metrics");
    EXPECT_NE(metrics.body.find("ppo_imap_config_errors_total 1\n"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("ppo_imap_config_error 1\n"), std::string::npos) << metrics.body;

    // A reload that changes nothing: checked again at once, not said again.
    ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
    ASSERT_TRUE(eventually([&] { return count_of(d.log(), "configuration, templates and directory reloaded") == 1; }, 20s))
        << tail(d.log());
    ASSERT_TRUE(eventually([&] { return count_of(d.log(), "CREATE \"PPO.xxx") >= 1; }, 10s)) << tail(d.log());
    std::this_thread::sleep_for(2s);   // room for a second round (there must be none said)
    EXPECT_EQ(count_of(d.log(), "configuration error: "), 1u) << tail(d.log());
    EXPECT_EQ(h.imap().count("INBOX"), 1u);
    metrics = http_get(port, "/metrics");
    EXPECT_NE(metrics.body.find("ppo_imap_config_errors_total 1\n"), std::string::npos) << metrics.body;

    // The corrected name, reloaded: the mail is taken, ready again.
    h.write_config({{"http.listen", "127.0.0.1:" + std::to_string(port)}, {"imap.triage_folder", "PPO/A-trier"}});
    ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
    ASSERT_TRUE(eventually([&] { return h.imap().count("PPO.Traites") == 1; }, 30s)) << tail(d.log());
    ASSERT_TRUE(eventually([&] { return http_get(port, "/healthz").status == 200; }, 20s)) << tail(d.log());
    EXPECT_EQ(http_get(port, "/healthz").body.find("config_error"), std::string::npos);
    metrics = http_get(port, "/metrics");
    EXPECT_NE(metrics.body.find("ppo_imap_config_error 0\n"), std::string::npos) << metrics.body;
    EXPECT_EQ(d.terminate(), 0) << tail(d.log());
}

TEST(ImapServers, AMessageTheServerCannotReadIsQuarantinedAndTheOthersAreTakenOnce) {
    Harness h;
    auto a = ppo_mail("ce.0596082r@ac-lille.fr", "lisible-a");
    auto bad = ppo_mail("ce.0597091m@ac-lille.fr", "illisible");
    bad.body = "marqueur-illisible";
    auto c = ppo_mail("ce.0628566z@ac-lille.fr", "lisible-c");
    h.deliver(a);
    const auto bad_uid = h.deliver(bad);
    h.deliver(c);
    const std::string file = h.imap().maildir_file_with("marqueur-illisible");
    ASSERT_FALSE(file.empty());
    ASSERT_EQ(::chmod(file.c_str(), 0), 0);   // Dovecot answers its FETCH with BYE, each time

    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto status = h.status(kBefore);
    auto quarantined = status->getArray("quarantined");
    ASSERT_EQ(quarantined->size(), 1u) << r.err;
    const std::string reason = quarantined->getObject(0)->getValue<std::string>("reason");
    EXPECT_NE(reason.find("cannot hand over uid " + std::to_string(bad_uid)), std::string::npos) << reason;
    EXPECT_NE(reason.find("it stays in the mailbox"), std::string::npos) << reason;
    EXPECT_EQ(h.imap().count("PPO.Traites"), 2u) << r.err;
    EXPECT_EQ(h.imap().count("INBOX"), 1u);          // quarantined where it is
    EXPECT_EQ(h.imap().count("PPO.A-trier"), 0u);
    const auto mails = h.smtp().wait_for(4, 20s);
    EXPECT_EQ(count_rcpt(mails, "ce.0596082r@ac-lille.fr"), 1u);
    EXPECT_EQ(count_rcpt(mails, "ce.0628566z@ac-lille.fr"), 1u);
    EXPECT_EQ(count_rcpt(mails, "ce.0597091m@ac-lille.fr"), 0u);

    // Not asked for again: a second pass does nothing.
    const std::size_t sent = h.smtp().messages().size();
    r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("going on one message at a time"), std::string::npos) << r.err;
    EXPECT_EQ(h.status(kBefore)->getArray("quarantined")->size(), 1u);
    EXPECT_EQ(h.imap().count("PPO.Traites"), 2u);
    EXPECT_EQ(h.imap().count("INBOX"), 1u);
    EXPECT_EQ(h.smtp().messages().size(), sent);
}

// --- check-config --connect ------------------------------------------------------

TEST(Preflight, EverythingReachableOnAnInboxPrefixServerExitsZeroAndSendsNothing) {
    Harness h(courier_like());
    h.write_config({{"digest.to", "draio@region-academique-hauts-de-france.fr"}});
    auto r = h.ppo({"check-config", "--connect"});
    RecordProperty("checklist", r.out);   // in --gtest_output=xml, for the record
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OK    IMAP namespace: personal namespace \"INBOX.\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("hierarchy delimiter '.'"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("logged in as ppo, not encrypted (loopback"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OK    IMAP [imap] processed_folder: \"PPO/Traites\" is \"INBOX.PPO.Traites\" on the server, "
                         "created now"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("OK    IMAP IDLE: advertised"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OK    IMAP MOVE: not advertised: COPY, \\Deleted, then EXPUNGE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OK    SMTP MAIL FROM/RCPT TO:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("<draio@region-academique-hauts-de-france.fr> ([digest] to, the DRAIO) accepted: 250"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("OK    database"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OK    archive"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("checks passed"), std::string::npos) << r.out;
    // The folders exist now (the daemon would have made them), no mail went out.
    const auto boxes = h.imap().mailboxes();
    EXPECT_NE(std::find(boxes.begin(), boxes.end(), "INBOX.PPO.A-trier"), boxes.end());
    EXPECT_TRUE(h.smtp().messages().empty());
    // A second run finds them.
    r = h.ppo({"check-config", "--connect"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("\"INBOX.PPO.Traites\" on the server, exists"), std::string::npos) << r.out;
    // Plain check-config connects to nothing: the same with the IMAP server gone.
    h.imap().stop();
    EXPECT_EQ(h.ppo({"check-config"}).exit_code, 0);
    r = h.ppo({"check-config", "--connect"});
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("FAIL  IMAP imap://127.0.0.1:"), std::string::npos) << r.out;
}

TEST(Preflight, ARefusedFolderExitsTwoNamingTheFolderAndItsKey) {
    Harness h;
    const std::string bad = "PPO/" + std::string(300, 'x');
    h.write_config({{"imap.triage_folder", bad}});
    auto r = h.ppo({"check-config", "--connect"});
    RecordProperty("checklist", r.out);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.out.find("FAIL  IMAP imap://"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[imap] triage_folder = \"" + bad + "\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("change [imap] triage_folder"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("too long"), std::string::npos) << r.out;
    // The other checks still ran.
    EXPECT_NE(r.out.find("OK    SMTP"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("OK    database"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 of "), std::string::npos) << r.out;
}

}  // namespace
