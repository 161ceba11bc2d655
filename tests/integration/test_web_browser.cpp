// The web interface (issue 13) in a real browser: the daemon (`run`) with its
// [web] listener, two users (the DRAIO and the IEN-IO of bassin 095912 Douai),
// submissions from lycées of three bassins and two académies, two messages in
// triage; then tests/browser/web_ui.py drives headless Chromium through
// chromedriver (Selenium) against it and compares what the pages show with
// `status --json`. Its screenshots (dashboard, a lycée, triage; 1280 and 390 px
// wide) go to the build tree's screenshots/ folder.
// Built as ppo_browser_tests (ctest labels integration;browser): scripts/test.sh
// leaves it out of the sanitizer run.
//
// Lycées used (tests/data/annuaire-hdf-sample.csv):
//   0596082R  Camille Claudel, Douai (bassin 095912): two versions
//   0597091M  Alexandre Ribot, Armentières (bassin 095914 Lille)
//   0626769W  Lycée privé Jeanne d'Arc, Saint-Omer (bassin 096212), from its private address
//   0029922Z  Ronsard, Laon (académie d'Amiens, bassin 200211): after the deadline (late)
//   0595391P  Ronsard, Douai (bassin 095912): the message in triage is assigned to it from the page
#include "bench/harness.h"
#include "bench/smtp_capture.h"
#include "bench/web_client.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

using namespace ppo::testbench;
using namespace std::chrono_literals;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";   // before the deadline
const std::string kAfter = "2022-03-28T10:00:00+02:00";    // after it
const std::string kDaemonNow = "2022-03-28T11:00:00+02:00";
const std::string kAssignUai = "0595391P";
const std::string kAssignMail = "ce.0595391p@ac-lille.fr";
const std::string kIenBassin = "095912";

TestMail ppo_mail(const std::string& from, const std::string& file, const std::string& tag) {
    TestMail m;
    m.from = from;
    m.subject = "PPO 2022";
    m.files = {{file, "application/pdf", sample_pdf(tag, 4000), ""}};
    return m;
}

// The id of the message in triage sent by `from`, 0 if none.
std::int64_t triage_id(Harness& h, const std::string& from) {
    auto un = h.status()->getArray("unidentified");
    for (unsigned i = 0; i < un->size(); ++i) {
        auto m = un->getObject(i);
        if (m->getValue<std::string>("from").find(from) != std::string::npos) return m->getValue<std::int64_t>("id");
    }
    return 0;
}

bool is_ack_of(const CapturedMail& m, const std::string& rcpt, std::int64_t id) {
    return std::find(m.rcpt_to.begin(), m.rcpt_to.end(), rcpt) != m.rcpt_to.end() &&
           header_of(m.data, "X-PPO-Submission") == std::to_string(id);
}

}  // namespace

TEST(WebBrowser, DraioAndIenIoThroughChromium) {
    for (const char* tool : {"/usr/bin/chromium", "/usr/bin/chromedriver"})
        ASSERT_TRUE(std::filesystem::exists(tool)) << tool << " missing: scripts/setup.sh installs chromium chromium-driver";

    Harness h;
    const int port = free_port();
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    h.write_config({{"web.listen", "127.0.0.1:" + std::to_string(port)},
                    {"web.users_file", h.dir() + "/users"},
                    {"web.base_url", base}});

    const std::string draio_password = "Campagne PPO 2022, DRAIO!";
    const std::string ien_password = "ien-douai-\xC3\xA9t\xC3\xA9-2022";   // UTF-8 in a password
    auto r = add_web_user(h.config_path(), "draio", draio_password, "draio");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    r = add_web_user(h.config_path(), "ien.douai", ien_password, "ien-io", {kIenBassin});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find(ien_password), std::string::npos) << "the password is never echoed";
    EXPECT_EQ(r.err.find(ien_password), std::string::npos) << "the password is never echoed";

    // Before the deadline: three lycées of three bassins, one twice, and two
    // messages nobody can attribute (a parent's, a stranger's).
    h.deliver(ppo_mail("ce.0596082r@ac-lille.fr", "PPO Claudel v1.pdf", "claudel-1"));
    h.deliver(ppo_mail("ce.0596082r@ac-lille.fr", "PPO Claudel v2.pdf", "claudel-2"));
    h.deliver(ppo_mail("ce.0597091m@ac-lille.fr", "PPO Ribot.pdf", "ribot"));
    h.deliver(ppo_mail("Direction <direction.jeanne-darc@orange.fr>", "PPO Jeanne d'Arc.pdf", "jeanne"));
    TestMail parent = ppo_mail("Parent <parent.eleve@gmail.com>", "scan.pdf", "orphan");
    parent.subject = "Document";
    h.deliver(parent);
    TestMail stranger = ppo_mail("inconnu@example.org", "document.pdf", "stranger");
    stranger.subject = "Question sur le PPO";
    h.deliver(stranger);
    r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // After it: a lycée of the académie d'Amiens, late.
    h.deliver(ppo_mail("ce.0029922z@ac-amiens.fr", "PPO Ronsard Laon.pdf", "laon"));
    r = h.ppo({"poll", "--once"}, kAfter);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    const auto triage = triage_id(h, "parent.eleve@gmail.com");
    ASSERT_NE(triage, 0) << "the parent's message is in triage";
    ASSERT_NE(triage_id(h, "inconnu@example.org"), 0) << "the stranger's message is in triage";
    ASSERT_EQ(h.lycee("0029922Z")->getValue<std::string>("state"), "late");
    ASSERT_EQ(h.lycee(kAssignUai)->getValue<std::string>("state"), "missing");
    for (const auto& m : h.smtp().messages()) ASSERT_FALSE(is_ack_of(m, kAssignMail, triage));

    // The daemon lives in the campaign (three days after the deadline), so
    // that the dashboard's chart of arrivals spans the campaign's weeks; at
    // that instant it sends the J+1 reminders to the lycées still missing.
    PpoProcess daemon(h.config_path(), {"--now", kDaemonNow, "run"}, h.dir() + "/daemon.log");
    daemon.start();
    ASSERT_TRUE(wait_for_http(port, "/login", 30s, [&] { return daemon.alive(); }))
        << "the daemon does not answer on " << base << "/login\n"
        << tail(daemon.log());

    const std::string shots = PPO_SCREENSHOT_DIR;
    std::filesystem::create_directories(shots);
    std::cout << "screenshots: " << shots << std::endl;
    ::setenv("PPO_WEB_DRAIO_PASSWORD", draio_password.c_str(), 1);
    ::setenv("PPO_WEB_IEN_PASSWORD", ien_password.c_str(), 1);
    r = run_command({"/usr/bin/python3", std::string(PPO_SOURCE_DIR) + "/tests/browser/web_ui.py",
                     "--base-url", base, "--binary", PPO_BINARY, "--config", h.config_path(),
                     "--draio-login", "draio", "--ien-login", "ien.douai", "--ien-bassin", kIenBassin,
                     "--triage-id", std::to_string(triage), "--assign-uai", kAssignUai, "--lycee-uai", "0596082R",
                     "--out", shots},
                    420);
    ::unsetenv("PPO_WEB_DRAIO_PASSWORD");
    ::unsetenv("PPO_WEB_IEN_PASSWORD");
    std::cout << r.out << std::flush;
    ASSERT_EQ(r.exit_code, 0) << "web_ui.py failed (its checks above; " << shots << "/failure.png)\n"
                              << tail(r.err, 4000) << "\ndaemon log:\n"
                              << tail(daemon.log());

    // The assignment from the page credited the lycée (web_ui.py checked
    // status --json); the daemon's outbox worker sends its acknowledgement.
    bool acknowledged = false;
    for (auto end = std::chrono::steady_clock::now() + 30s; !acknowledged && std::chrono::steady_clock::now() < end;) {
        for (const auto& m : h.smtp().messages()) acknowledged = acknowledged || is_ack_of(m, kAssignMail, triage);
        if (!acknowledged) std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(acknowledged) << "no acknowledgement of submission " << triage << " to " << kAssignMail << "\n"
                              << tail(daemon.log());
    EXPECT_EQ(daemon.terminate(), 0) << tail(daemon.log());
    auto subs = h.lycee(kAssignUai)->getArray("submissions");
    ASSERT_EQ(subs->size(), 1u);
    EXPECT_TRUE(subs->getObject(0)->getValue<bool>("acknowledged"));

    // No password in the daemon's log.
    const auto log = daemon.log();
    EXPECT_EQ(log.find(draio_password), std::string::npos) << "a password is in the log";
    EXPECT_EQ(log.find(ien_password), std::string::npos) << "a password is in the log";
}
