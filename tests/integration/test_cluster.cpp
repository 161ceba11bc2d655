// Several processes on one database (issue: "PostgreSQL as a first-class
// backend, two instances for availability"): two `tick`s at the same instant,
// a second daemon on a SQLite database, and a standby taking over from a
// leader killed in the middle of a burst (PostgreSQL only).
#include "bench/harness.h"

#include <Poco/DigestEngine.h>
#include <Poco/JSON/Array.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/SHA2Engine.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

using namespace ppo::testbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

const std::string kLycee = "ce.0596082r@ac-lille.fr";

std::string http_body(int port, const std::string& path) {
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(2, 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::string body;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
        return body;
    } catch (const Poco::Exception&) {
        return "";
    }
}

// "leader", "standby" or "" (no answer) from /healthz.
std::string role_of(int port) {
    const auto body = http_body(port, "/healthz");
    if (body.find("\"role\":\"leader\"") != std::string::npos) return "leader";
    if (body.find("\"role\":\"standby\"") != std::string::npos) return "standby";
    return "";
}

bool wait_role(int port, const std::string& role, std::chrono::milliseconds timeout) {
    const auto end = steady::now() + timeout;
    while (steady::now() < end) {
        if (role_of(port) == role) return true;
        std::this_thread::sleep_for(50ms);
    }
    return false;
}

std::string sha256(const std::string& data) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(data);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

}  // namespace

TEST(Cluster, TwoTicksAtTheSameInstantSendEachReminderOnce) {
    Harness h;
    const std::string j21 = "2022-03-04T09:00:00+01:00";
    RunResult a, b;
    // Both at once: the same reminders due, the same dedupe keys.
    std::thread ta([&] { a = h.ppo({"tick"}, j21); });
    std::thread tb([&] { b = h.ppo({"tick"}, j21); });
    ta.join();
    tb.join();
    EXPECT_EQ(a.exit_code, 0) << a.err;
    EXPECT_EQ(b.exit_code, 0) << b.err;
    EXPECT_EQ(a.err.find("duplicate key"), std::string::npos) << a.err;
    EXPECT_EQ(b.err.find("duplicate key"), std::string::npos) << b.err;
    // One of them may have left the sending to the other: a third tick (the
    // leader's next pass, in production) sends whatever is left, nothing twice.
    auto c = h.ppo({"tick"}, j21);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    auto mails = h.smtp().wait_for(140, 60s);
    std::this_thread::sleep_for(1s);
    mails = h.smtp().messages();
    std::map<std::string, int> per_recipient;
    for (const auto& m : mails)
        for (const auto& r : m.rcpt_to) ++per_recipient[r];
    EXPECT_EQ(mails.size(), 140u) << "one reminder per lycée (140 in the sample directory)";
    for (const auto& [rcpt, n] : per_recipient) EXPECT_EQ(n, 1) << rcpt << " reminded " << n << " times";
}

TEST(Cluster, ASecondDaemonOnTheSameSqliteDatabaseRefusesToStart) {
    PPO_SQLITE_ONLY("two daemons on one SQLite database are refused; on PostgreSQL the second is a standby");
    Harness h;
    DaemonProcess first(h.config_path(), h.dir() + "/first.log");
    first.start();
    const auto end = steady::now() + 20s;
    while (steady::now() < end && first.log().find("ppo-intake running") == std::string::npos)
        std::this_thread::sleep_for(50ms);
    ASSERT_NE(first.log().find("ppo-intake running"), std::string::npos) << first.log();
    auto second = h.ppo({"run"});
    EXPECT_EQ(second.exit_code, 1) << second.err;
    EXPECT_NE(second.err.find("another ppo-intake daemon"), std::string::npos) << second.err;
    EXPECT_NE(second.err.find("already runs on the SQLite database " + h.dir() + "/ppo.db"), std::string::npos)
        << second.err;
    EXPECT_TRUE(first.alive()) << "the first daemon goes on";
    // Beside it, poll --once does nothing and says why; not an error.
    auto poll = h.ppo({"poll", "--once"});
    EXPECT_EQ(poll.exit_code, 0) << poll.err;
    EXPECT_NE(poll.err.find("is taking the mail"), std::string::npos) << poll.err;
    EXPECT_EQ(first.terminate(), 0);
}

TEST(Cluster, AStandbyTakesOverFromAKilledLeaderAndEveryMessageIsRecordedOnce) {
    if (!postgres_wanted()) GTEST_SKIP() << "PostgreSQL only: several daemons need PostgreSQL (run with PPO_TEST_DATABASE=postgresql)";
    const int port_a = free_port(), port_b = free_port();
    Harness::Options options;
    options.extra_config = {{"http.listen", "127.0.0.1:" + std::to_string(port_a)},
                            {"smtp.max_per_recipient_per_hour", "1000"},
                            {"imap.poll_interval", "2"},
                            // Two or three messages per batch: the leader is
                            // killed between batches, with mail still to take.
                            {"intake.batch_size", "64K"},
                            {"cluster.lease", "6"}};
    Harness h(options);
    // The second instance: the same configuration but its HTTP port.
    const std::string config_b = h.dir() + "/b.conf";
    {
        std::string text = read_file(h.config_path());
        const std::string from = "127.0.0.1:" + std::to_string(port_a);
        text.replace(text.find(from), from.size(), "127.0.0.1:" + std::to_string(port_b));
        std::ofstream(config_b) << text;
    }
    const std::string now = "2022-03-01T10:00:00+01:00";
    DaemonProcess a(h.config_path(), h.dir() + "/a.log", now);
    DaemonProcess b(config_b, h.dir() + "/b.log", now);
    a.start();
    ASSERT_TRUE(wait_role(port_a, "leader", 30s)) << a.log();
    b.start();
    ASSERT_TRUE(wait_role(port_b, "standby", 30s)) << b.log();
    EXPECT_EQ(role_of(port_a), "leader") << "exactly one leader";
    EXPECT_NE(http_body(port_b, "/metrics").find("ppo_leader 0"), std::string::npos);
    EXPECT_NE(http_body(port_a, "/metrics").find("ppo_leader 1"), std::string::npos);

    // The burst spans the kill: 20 messages, the leader killed as soon as its
    // first mail is out (the rest of its work in the database and the inbox),
    // then 20 more while the standby takes over.
    constexpr int kMessages = 40;
    std::set<std::string> expected_sha;
    auto deliver = [&](int i) {
        TestMail m;
        m.subject = "PPO envoi " + std::to_string(i);
        const std::string pdf = sample_pdf("burst-" + std::to_string(i), 20000);
        expected_sha.insert(sha256(pdf));
        m.files = {{"ppo-" + std::to_string(i) + ".pdf", "application/pdf", pdf, ""}};
        h.deliver(m);
    };
    for (int i = 0; i < kMessages / 2; ++i) deliver(i);
    for (auto end = steady::now() + 60s; steady::now() < end && h.smtp().messages().empty();)
        std::this_thread::sleep_for(10ms);
    a.kill9();
    const auto killed = steady::now();
    const auto mails_at_kill = h.smtp().messages().size();
    // The takeover, measured while the second half of the burst arrives.
    std::atomic<long long> takeover_ms{-1};
    std::thread watch([&] {
        if (wait_role(port_b, "leader", 30s))
            takeover_ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - killed).count();
    });
    for (int i = kMessages / 2; i < kMessages; ++i) deliver(i);
    watch.join();
    ASSERT_GE(takeover_ms.load(), 0) << b.log();
    const auto takeover = std::chrono::milliseconds(takeover_ms.load());
    std::printf("[ takeover ] the standby was leader %lld ms after the SIGKILL of the leader (lease 6 s)\n",
                static_cast<long long>(takeover.count()));
    EXPECT_LT(takeover, 6s);

    // The new leader finishes: every message recorded once, every ack sent.
    auto end = steady::now() + 120s;
    Poco::JSON::Array::Ptr submissions;
    bool all_acknowledged = false;
    while (steady::now() < end) {
        auto l = h.lycee("0596082R", now);
        submissions = l ? l->getArray("submissions") : nullptr;
        all_acknowledged = submissions && submissions->size() >= static_cast<std::size_t>(kMessages);
        for (std::size_t i = 0; all_acknowledged && i < submissions->size(); ++i)
            all_acknowledged = submissions->getObject(static_cast<unsigned>(i))->getValue<bool>("acknowledged");
        if (all_acknowledged) break;
        std::this_thread::sleep_for(500ms);
    }
    ASSERT_TRUE(submissions) << b.log();
    EXPECT_EQ(submissions->size(), static_cast<std::size_t>(kMessages)) << "each message recorded once";
    EXPECT_TRUE(all_acknowledged) << b.log();
    std::set<std::string> recorded_sha;
    for (std::size_t i = 0; i < submissions->size(); ++i) {
        auto files = submissions->getObject(static_cast<unsigned>(i))->getArray("files");
        ASSERT_EQ(files->size(), 1u);
        recorded_sha.insert(files->getObject(0)->getValue<std::string>("sha256"));
    }
    EXPECT_EQ(recorded_sha, expected_sha);
    // The files on disk are whole (written by a temporary file and rename).
    std::set<std::string> on_disk;
    for (const auto& e : fs::recursive_directory_iterator(h.dir() + "/archive"))
        if (e.is_regular_file()) on_disk.insert(sha256(read_file(e.path().string())));
    for (const auto& s : expected_sha) EXPECT_TRUE(on_disk.count(s)) << "archived file " << s << " missing or damaged";
    auto dups = h.status(now)->getArray("duplicates");
    EXPECT_EQ(dups->size(), 0u);

    std::this_thread::sleep_for(2s);   // what is still in flight
    const auto acks = count_rcpt(h.smtp().messages(), kLycee);
    EXPECT_GE(acks, static_cast<std::size_t>(kMessages));
    EXPECT_LE(acks, static_cast<std::size_t>(kMessages) + 1) << "at most one duplicate for the one kill";
    std::printf("[ takeover ] leader killed with %zu mail(s) out; in the end %zu acknowledgement(s) for %d messages\n",
                mails_at_kill, acks, kMessages);
    EXPECT_EQ(b.terminate(), 0) << b.log();
}
