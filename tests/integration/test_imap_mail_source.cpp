// ImapMailSource (libetpan) against a real, throwaway Dovecot (tests/bench).
#include "bench/dovecot_server.h"
#include "daemon/imap/imap_mail_source.h"
#include "parsers/text/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using ppo::Error;
using ppo::ErrorKind;
using ppo::daemon::ImapMailSource;
using ppo::daemon::ImapSettings;
using ppo::testbench::DovecotOptions;
using ppo::testbench::DovecotServer;
using ppo::workflow::Folder;
using Clock = std::chrono::steady_clock;

ImapSettings settings_for(const DovecotServer& server) {
    ImapSettings s;
    s.host = "127.0.0.1";
    s.port = server.port();
    s.user = server.user();
    s.password = server.password();
    s.timeout_seconds = 10;
    s.poll_interval_seconds = 60;
    return s;
}

std::string message(const std::string& message_id_header, const std::string& subject, const std::string& body) {
    std::string m = "From: Lycee Test <ce.0750001a@ac-paris.fr>\r\n"
                    "To: ppo@example.org\r\n"
                    "Subject: " + subject + "\r\n"
                    "Date: Mon, 2 Sep 2024 10:00:00 +0200\r\n";
    if (!message_id_header.empty()) m += message_id_header + "\r\n";
    m += "MIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=ISO-8859-1\r\n"
         "Content-Transfer-Encoding: 8bit\r\n"
         "\r\n" + body;
    return m;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

template <typename F>
ErrorKind kind_of_error(F&& f, std::string* what = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (what) *what = e.what();
        return e.kind();
    }
    ADD_FAILURE() << "no ppo::Error thrown";
    return ErrorKind::config;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A loopback TCP relay in front of Dovecot whose connections can be cut, to
// test a connection that dies under an open session.
class TcpCutter {
public:
    explicit TcpCutter(int upstream_port) : upstream_(upstream_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_, 16) != 0)
            throw std::runtime_error("TcpCutter: cannot listen");
        socklen_t len = sizeof addr;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }
    ~TcpCutter() {
        stopping_ = true;
        ::shutdown(listener_, SHUT_RDWR);
        acceptor_.join();
        ::close(listener_);
        cut();
        std::vector<std::thread> pumps;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            pumps.swap(pumps_);
        }
        for (auto& t : pumps) t.join();
    }
    TcpCutter(const TcpCutter&) = delete;
    TcpCutter& operator=(const TcpCutter&) = delete;

    int port() const { return port_; }

    // Closes every relayed connection (both sides see a reset/EOF).
    void cut() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (int fd : live_) ::shutdown(fd, SHUT_RDWR);
    }

private:
    void accept_loop() {
        for (;;) {
            int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) {
                if (stopping_) return;
                continue;
            }
            int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in addr{};
            addr.sin_family = AF_INET;
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            addr.sin_port = htons(static_cast<std::uint16_t>(upstream_));
            if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                ::close(server);
                ::close(client);
                continue;
            }
            std::lock_guard<std::mutex> lock(mutex_);
            live_.push_back(client);
            live_.push_back(server);
            pumps_.emplace_back([this, client, server] { pump(client, server); });
        }
    }

    void pump(int a, int b) {
        char buf[65536];
        pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        for (;;) {
            if (::poll(fds, 2, 200) < 0) break;
            bool done = false;
            for (int i = 0; i < 2 && !done; ++i) {
                if (fds[i].revents == 0) continue;
                const ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
                if (n <= 0) {
                    done = true;
                    break;
                }
                for (ssize_t off = 0; off < n;) {
                    const ssize_t w = ::send(fds[1 - i].fd, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
                    if (w <= 0) {
                        done = true;
                        break;
                    }
                    off += w;
                }
            }
            if (done) break;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        ::shutdown(a, SHUT_RDWR);
        ::shutdown(b, SHUT_RDWR);
        live_.erase(std::remove_if(live_.begin(), live_.end(), [&](int fd) { return fd == a || fd == b; }),
                    live_.end());
        ::close(a);
        ::close(b);
    }

    int upstream_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<int> live_;
    std::vector<std::thread> pumps_;
};

TEST(ImapMailSource, OpenCreatesTheThreeFoldersWithTheServerDelimiterAndReturnsUidvalidity) {
    DovecotServer server;
    ImapSettings s = settings_for(server);
    s.processed_folder = "PPO/Traités";   // non-ASCII: modified UTF-7 on the wire
    ImapMailSource source(s);
    const std::uint32_t uidvalidity = source.open();
    EXPECT_NE(uidvalidity, 0u);

    const auto boxes = server.mailboxes();
    EXPECT_TRUE(contains(boxes, "PPO")) << server.log();
    EXPECT_TRUE(contains(boxes, "PPO.Trait&AOk-s"));
    EXPECT_TRUE(contains(boxes, "PPO.A-trier"));
    EXPECT_TRUE(contains(boxes, "PPO.Ignores"));
    EXPECT_FALSE(contains(boxes, "PPO/A-trier"));

    // Idempotent: the folders exist now; a second session reports the same UIDVALIDITY.
    ImapMailSource again(s);
    EXPECT_EQ(again.open(), uidvalidity);
    // open() on a live session keeps it.
    EXPECT_EQ(source.open(), uidvalidity);
    source.close();
    again.close();
}

TEST(ImapMailSource, ListAfterZeroAndAfterTheLastUid) {
    DovecotServer server;
    ImapMailSource source(settings_for(server));
    source.open();
    EXPECT_TRUE(source.list(0).empty());   // empty mailbox: no error, no message

    const std::string m1 = message("Message-ID: <one@lycee.example>", "un", "Bonjour\r\n");
    const std::string m2 = message("Message-ID:\r\n  <folded.two@lycee.example>  ", "deux", "Salut\r\n");
    const std::string m3 = message("", "trois (sans Message-ID)", "Coucou\r\n");
    const std::uint32_t u1 = server.append(m1);
    const std::uint32_t u2 = server.append(m2);
    const std::uint32_t u3 = server.append(m3);

    const auto all = source.list(0);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].uid, u1);
    EXPECT_EQ(all[1].uid, u2);
    EXPECT_EQ(all[2].uid, u3);
    EXPECT_EQ(all[0].size, m1.size());
    EXPECT_EQ(all[1].size, m2.size());
    EXPECT_EQ(all[2].size, m3.size());
    // The listing reads nothing of the messages themselves (issue 21).
    for (const auto& m : all) EXPECT_EQ(m.message_id, "") << m.uid;

    // `N:*` returns the last message even when N is past it: filtered out.
    EXPECT_TRUE(source.list(u3).empty());
    EXPECT_TRUE(source.list(u3 + 100).empty());
    const auto tail = source.list(u1);
    ASSERT_EQ(tail.size(), 2u);
    EXPECT_EQ(tail[0].uid, u2);
    EXPECT_EQ(tail[1].uid, u3);
    source.close();
}

TEST(ImapMailSource, FetchReturnsByteIdenticalRawMessages) {
    DovecotServer server;
    ImapMailSource source(settings_for(server));
    source.open();

    // 8-bit body (ISO-8859-1 bytes, not UTF-8) and a ~5 MB message.
    const std::string eight_bit =
        message("Message-ID: <8bit@lycee.example>", "8 bits", "\xC9l\xE8ve \xE0 l'\xE9tude, co\xFBt: 10\x80\r\n");
    std::string big_body;
    big_body.reserve(5u << 20);
    for (int line = 0; big_body.size() < (5u << 20); ++line)
        big_body += "ligne " + std::to_string(line) + " : " + std::string(60, static_cast<char>('a' + line % 26)) + "\r\n";
    const std::string big = message("Message-ID: <big@lycee.example>", "gros", big_body);
    const std::string small = message("Message-ID: <small@lycee.example>", "petit", "ok\r\n");

    const std::uint32_t u1 = server.append(eight_bit);
    const std::uint32_t u2 = server.append(big);
    const std::uint32_t u3 = server.append(small);

    const auto fetched = source.fetch({u3, u1, u2, u2, 4242});   // unsorted, duplicate, vanished UID
    ASSERT_EQ(fetched.size(), 3u);
    EXPECT_EQ(fetched[0].uid, u1);
    EXPECT_EQ(fetched[1].uid, u2);
    EXPECT_EQ(fetched[2].uid, u3);
    EXPECT_TRUE(fetched[0].raw == eight_bit);
    // INTERNALDATE is the arrival at the server: just now.
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& f : fetched) EXPECT_NEAR(static_cast<double>(f.internal_date), static_cast<double>(now_s), 120.0);
    EXPECT_EQ(fetched[1].raw.size(), big.size());
    EXPECT_TRUE(fetched[1].raw == big);
    EXPECT_TRUE(fetched[2].raw == small);

    EXPECT_TRUE(source.fetch({}).empty());
    EXPECT_TRUE(source.fetch({9999}).empty());
    // Still all there (fetching never moves or deletes).
    EXPECT_EQ(server.count("INBOX"), 3u);
    source.close();
}

// Listed bigger than `stream_above`, a message is fetched a piece at a time
// (BODY.PEEK[]<offset.chunk>) into an unlinked file and handed over mapped:
// the same bytes, whether it ends inside a piece or exactly on a piece's end
// (then the last answer is empty); smaller ones still come in memory.
TEST(ImapMailSource, BigMessagesComeInPiecesThroughAMappedFile) {
    DovecotServer server;
    ImapSettings s = settings_for(server);
    s.stream_above = 10000;
    s.stream_chunk = 64 * 1024;
    char tmpl[] = "/tmp/ppo-spool-XXXXXX";
    s.spool_dir = ::mkdtemp(tmpl);
    ImapMailSource source(s);
    source.open();

    std::string body;
    for (int line = 0; body.size() < 700000; ++line)
        body += "ligne " + std::to_string(line) + " : " + std::string(60, static_cast<char>('a' + line % 26)) + "\r\n";
    const std::string big = message("Message-ID: <big@lycee.example>", "gros", body);
    std::string exact = message("Message-ID: <exact@lycee.example>", "exact", "");
    exact += std::string(2 * s.stream_chunk - exact.size() - 2, 'x') + "\r\n";   // two whole pieces
    ASSERT_EQ(exact.size(), 2u * s.stream_chunk);
    const std::string small = message("Message-ID: <small@lycee.example>", "petit", "ok\r\n");
    const std::uint32_t u1 = server.append(big);
    const std::uint32_t u2 = server.append(exact);
    const std::uint32_t u3 = server.append(small);

    ASSERT_EQ(source.list(0).size(), 3u);   // the sizes that decide
    const auto fetched = source.fetch({u3, u2, u1});
    ASSERT_EQ(fetched.size(), 3u);
    EXPECT_EQ(fetched[0].uid, u1);
    ASSERT_TRUE(fetched[0].mapped);
    EXPECT_TRUE(fetched[0].raw.empty());
    EXPECT_EQ(fetched[0].bytes().size(), big.size());
    EXPECT_TRUE(fetched[0].bytes() == big);
    ASSERT_TRUE(fetched[1].mapped);
    EXPECT_TRUE(fetched[1].bytes() == exact);
    EXPECT_FALSE(fetched[2].mapped);
    EXPECT_TRUE(fetched[2].raw == small);
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& f : fetched) EXPECT_NEAR(static_cast<double>(f.internal_date), static_cast<double>(now_s), 120.0);
    // Released pages come back from the file: the bytes are the same after.
    fetched[0].mapped->release(fetched[0].bytes().data(), fetched[0].bytes().data() + big.size());
    EXPECT_TRUE(fetched[0].bytes() == big);
    // Nothing visible in the spool folder (unlinked from the start).
    EXPECT_TRUE(std::filesystem::is_empty(s.spool_dir));
    source.close();
    std::filesystem::remove_all(s.spool_dir);
}

void check_move(bool enable_move) {
    DovecotOptions options;
    options.enable_move = enable_move;
    DovecotServer server(options);
    ImapMailSource source(settings_for(server));
    source.open();
    EXPECT_EQ(source.move_supported(), enable_move) << server.capabilities();

    std::vector<std::uint32_t> uids;
    for (int i = 0; i < 5; ++i)
        uids.push_back(server.append(message("Message-ID: <m" + std::to_string(i) + "@x>", "m", "corps\r\n")));

    source.move({uids[0], uids[2]}, Folder::processed);
    source.move({uids[3]}, Folder::triage);
    source.move({uids[4]}, Folder::ignored);
    source.move({}, Folder::ignored);   // no-op

    EXPECT_EQ(server.count("INBOX"), 1u);
    EXPECT_EQ(server.count("PPO.Traites"), 2u);
    EXPECT_EQ(server.count("PPO.A-trier"), 1u);
    EXPECT_EQ(server.count("PPO.Ignores"), 1u);

    const auto left = source.list(0);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].uid, uids[1]);

    const auto processed = server.messages("PPO.Traites");
    ASSERT_EQ(processed.size(), 2u);
    EXPECT_NE(processed[0].find("<m0@x>"), std::string::npos);
    EXPECT_NE(processed[1].find("<m2@x>"), std::string::npos);
    source.close();
}

TEST(ImapMailSource, MoveWithMoveExtension) { check_move(true); }

TEST(ImapMailSource, MoveWithoutMoveUsesCopyStoreExpunge) { check_move(false); }

TEST(ImapMailSource, IdleWakesUpWhenAMessageArrives) {
    DovecotServer server;
    ImapMailSource source(settings_for(server));
    source.open();
    ASSERT_TRUE(source.idle_supported());

    std::atomic<Clock::time_point::rep> appended_at{0};
    std::thread appender([&] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        server.append(message("Message-ID: <idle@x>", "idle", "nouveau\r\n"));
        appended_at = Clock::now().time_since_epoch().count();
    });
    const auto start = Clock::now();
    source.wait(std::chrono::seconds(30));
    const auto returned = Clock::now();
    appender.join();

    const Clock::time_point append_time{Clock::duration(appended_at.load())};
    EXPECT_LT(std::chrono::duration<double>(returned - start).count(), 5.0);
    EXPECT_LT(std::chrono::duration<double>(returned - append_time).count(), 2.0);
    const auto listed = source.list(0);
    ASSERT_EQ(listed.size(), 1u);
    source.close();
}

TEST(ImapMailSource, InterruptWakesWaitWithIdle) {
    DovecotServer server;
    ImapMailSource source(settings_for(server));
    source.open();
    ASSERT_TRUE(source.idle_supported());
    std::thread waker([&] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        source.interrupt();
    });
    const auto start = Clock::now();
    source.wait(std::chrono::seconds(30));
    waker.join();
    EXPECT_LT(seconds_since(start), 3.0);
    // The session is still usable after IDLE was ended by an interrupt.
    EXPECT_TRUE(source.list(0).empty());

    // An interrupt that arrives before wait() is not lost.
    source.interrupt();
    const auto again = Clock::now();
    source.wait(std::chrono::seconds(30));
    EXPECT_LT(seconds_since(again), 1.0);
    source.close();
}

TEST(ImapMailSource, WithoutIdleWaitSleepsThePollIntervalAndInterruptWakesIt) {
    DovecotOptions options;
    options.enable_idle = false;
    DovecotServer server(options);
    ImapSettings s = settings_for(server);
    s.poll_interval_seconds = 1;
    ImapMailSource source(s);
    source.open();
    EXPECT_FALSE(source.idle_supported()) << server.capabilities();

    auto start = Clock::now();
    source.wait(std::chrono::seconds(30));
    EXPECT_GE(seconds_since(start), 0.9);
    EXPECT_LT(seconds_since(start), 3.0);

    s.poll_interval_seconds = 60;
    ImapMailSource slow(s);
    slow.open();
    std::thread waker([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        slow.interrupt();
    });
    start = Clock::now();
    slow.wait(std::chrono::seconds(30));
    waker.join();
    EXPECT_LT(seconds_since(start), 3.0);
    source.close();
    slow.close();
}

TEST(ImapMailSource, ServerStoppedGivesTransientErrorsAndReopenWorksAfterRestart) {
    DovecotServer server;
    ImapMailSource source(settings_for(server));
    const std::uint32_t uidvalidity = source.open();
    const std::uint32_t uid = server.append(message("Message-ID: <before@x>", "avant", "x\r\n"));
    source.close();

    // Dovecot's imap processes may outlive the master: sessions opened before
    // stop() can go on working (the dropped-connection case is covered through
    // TcpCutter below); new connections are refused.
    server.stop();
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.open(); }, &what), ErrorKind::transient);
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos) << what;
    EXPECT_EQ(what.find(server.password()), std::string::npos) << what;
    EXPECT_EQ(kind_of_error([&] { source.list(0); }), ErrorKind::transient);   // not connected
    EXPECT_EQ(kind_of_error([&] { source.open(); }), ErrorKind::transient);    // open() may be retried

    server.start();
    EXPECT_EQ(source.open(), uidvalidity);
    const auto listed = source.list(0);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].uid, uid);
    EXPECT_EQ(source.fetch({uid}).size(), 1u);
    source.close();
}

TEST(ImapMailSource, DroppedConnectionGivesTransientErrorAndOpenReconnects) {
    DovecotServer server;
    TcpCutter cutter(server.port());
    ImapSettings s = settings_for(server);
    s.port = cutter.port();
    ImapMailSource source(s);
    const std::uint32_t uidvalidity = source.open();
    const std::uint32_t uid = server.append(message("Message-ID: <drop@x>", "coupure", "x\r\n"));
    ASSERT_EQ(source.list(0).size(), 1u);

    cutter.cut();
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.list(0); }, &what), ErrorKind::transient);
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(cutter.port())), std::string::npos) << what;
    EXPECT_NE(what.find("before list"), std::string::npos) << what;   // the NOOP that starts a listing

    // open() notices the dead session and reconnects transparently.
    EXPECT_EQ(source.open(), uidvalidity);
    EXPECT_EQ(source.fetch({uid}).size(), 1u);

    // A connection dropped under a fetch: it reconnects and goes on.
    const std::uint32_t uid2 = server.append(message("Message-ID: <drop2@x>", "coupure 2", "y\r\n"));
    ASSERT_EQ(source.list(0).size(), 2u);
    cutter.cut();
    const auto both = source.fetch({uid, uid2});
    ASSERT_EQ(both.size(), 2u);
    EXPECT_EQ(both[0].uid, uid);
    EXPECT_EQ(both[1].uid, uid2);

    // A connection dropped while idle: open() (NOOP fails) reconnects as well.
    cutter.cut();
    EXPECT_EQ(source.open(), uidvalidity);
    EXPECT_EQ(source.list(0).size(), 2u);
    source.close();
}

TEST(ImapMailSource, ConnectionDroppedDuringIdleGivesTransientError) {
    DovecotServer server;
    TcpCutter cutter(server.port());
    ImapSettings s = settings_for(server);
    s.port = cutter.port();
    ImapMailSource source(s);
    source.open();
    ASSERT_TRUE(source.idle_supported());
    std::thread cutting([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        cutter.cut();
    });
    const auto start = Clock::now();
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.wait(std::chrono::seconds(20)); }, &what), ErrorKind::transient);
    cutting.join();
    EXPECT_LT(seconds_since(start), 5.0);
    EXPECT_NE(what.find("IDLE"), std::string::npos) << what;
    source.open();   // reconnects
    source.close();
}

TEST(ImapMailSource, WrongPasswordIsPermanentAndDoesNotLeakThePassword) {
    DovecotServer server;
    ImapSettings s = settings_for(server);
    s.password = "not-the-password-xyz";
    ImapMailSource source(s);
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.open(); }, &what), ErrorKind::permanent);
    EXPECT_EQ(what.find("not-the-password-xyz"), std::string::npos) << what;
    EXPECT_NE(what.find(server.user()), std::string::npos) << what;
}

TEST(ImapMailSource, MissingMailboxIsAConfigurationErrorNamingTheKey) {
    DovecotServer server;
    ImapSettings s = settings_for(server);
    s.mailbox = "Nulle/Part";
    ImapMailSource source(s);
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.open(); }, &what), ErrorKind::config);
    EXPECT_NE(what.find("Nulle.Part"), std::string::npos) << what;
    EXPECT_NE(what.find("change [imap] mailbox"), std::string::npos) << what;
    EXPECT_NE(what.find("server said:"), std::string::npos) << what;
}

// --- Issue 21: servers as they ship --------------------------------------------

// The Courier-migration layout: personal folders under "INBOX.", and neither
// MOVE nor UIDPLUS.
DovecotOptions courier_like() {
    DovecotOptions o;
    o.namespace_prefix = "INBOX.";
    o.namespace_separator = '.';
    o.enable_move = false;
    o.enable_uidplus = false;
    return o;
}

TEST(ImapMailSource, FoldersAreRelativeToThePersonalNamespace) {
    DovecotServer server(courier_like());
    const std::string caps = server.capabilities();
    ASSERT_EQ(caps.find(" MOVE"), std::string::npos) << caps;
    ASSERT_EQ(caps.find("UIDPLUS"), std::string::npos) << caps;
    ImapSettings s = settings_for(server);
    s.ignored_folder = "INBOX/Ignores";        // INBOX first: taken as it is
    s.triage_folder = "INBOX.PPO.A-trier";     // already with the prefix: as it is
    ImapMailSource source(s);
    const std::uint32_t uidvalidity = source.open();
    EXPECT_NE(uidvalidity, 0u);
    EXPECT_FALSE(source.move_supported());
    EXPECT_FALSE(source.uidplus_supported());
    const auto& info = source.session_info();
    EXPECT_TRUE(info.has_namespace);
    EXPECT_EQ(info.personal_prefix, "INBOX.");
    EXPECT_EQ(info.delimiter, '.');
    EXPECT_EQ(info.mailbox, "INBOX");
    EXPECT_EQ(info.folders[0], "INBOX.PPO.Traites");
    EXPECT_EQ(info.folders[1], "INBOX.PPO.A-trier");
    EXPECT_EQ(info.folders[2], "INBOX.Ignores");
    const auto boxes = server.mailboxes();
    EXPECT_TRUE(contains(boxes, "INBOX.PPO.Traites")) << server.log();
    EXPECT_TRUE(contains(boxes, "INBOX.PPO.A-trier"));
    EXPECT_TRUE(contains(boxes, "INBOX.Ignores"));

    const std::uint32_t u1 = server.append(message("Message-ID: <ns1@x>", "un", "1\r\n"));
    const std::uint32_t u2 = server.append(message("Message-ID: <ns2@x>", "deux", "2\r\n"));
    ASSERT_EQ(source.list(0).size(), 2u);
    ASSERT_EQ(source.fetch({u1, u2}).size(), 2u);
    source.move({u1}, Folder::processed);   // COPY + \Deleted + EXPUNGE
    source.move({u2}, Folder::ignored);
    EXPECT_EQ(server.count("INBOX"), 0u);
    EXPECT_EQ(server.count("INBOX.PPO.Traites"), 1u);
    EXPECT_EQ(server.count("INBOX.Ignores"), 1u);

    // A second session finds the folders: nothing created.
    ImapMailSource again(s);
    EXPECT_EQ(again.open(), uidvalidity);
    EXPECT_TRUE(again.session_info().created.empty());
    again.close();
    source.close();
}

TEST(ImapMailSource, IdleWakesUpOnAnInboxPrefixServer) {
    DovecotServer server(courier_like());
    ImapSettings s = settings_for(server);
    s.poll_interval_seconds = 120;
    ImapMailSource source(s);
    source.open();
    ASSERT_TRUE(source.idle_supported());
    std::thread appender([&] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        server.append(message("Message-ID: <idle-ns@x>", "idle", "nouveau\r\n"));
    });
    const auto start = Clock::now();
    source.wait(std::chrono::seconds(120));
    appender.join();
    // Woken by the server (EXISTS), not by the end of the wait.
    EXPECT_LT(seconds_since(start), 100.0);
    EXPECT_EQ(source.list(0).size(), 1u);
    source.close();
}

TEST(ImapMailSource, AFolderTheServerRefusesIsAConfigurationErrorNamingTheKey) {
    DovecotServer server;
    ImapSettings s = settings_for(server);
    s.triage_folder = "PPO/" + std::string(300, 'x');   // Dovecot: [CANNOT] Mailbox name too long
    ImapMailSource source(s);
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.open(); }, &what), ErrorKind::config);
    EXPECT_NE(what.find("CREATE"), std::string::npos) << what;
    EXPECT_NE(what.find("change [imap] triage_folder"), std::string::npos) << what;
    EXPECT_NE(what.find("server said:"), std::string::npos) << what;
    EXPECT_NE(what.find("too long"), std::string::npos) << what;
    // Lasting: the same again, not an outage.
    EXPECT_EQ(kind_of_error([&] { source.open(); }), ErrorKind::config);
}

TEST(ImapMailSource, AMessageTheServerCannotReadStopsNeitherTheListingNorTheOthers) {
    DovecotServer server;
    ImapMailSource source(settings_for(server));
    source.open();
    const std::uint32_t u1 = server.append(message("Message-ID: <r1@x>", "un", "lisible-1\r\n"));
    const std::uint32_t u2 = server.append(message("Message-ID: <r2@x>", "deux", "illisible-2\r\n"));
    const std::uint32_t u3 = server.append(message("Message-ID: <r3@x>", "trois", "lisible-3\r\n"));
    const std::string bad = server.maildir_file_with("illisible-2");
    ASSERT_FALSE(bad.empty());
    // Dovecot cannot open it: it answers the FETCH of its contents with BYE.
    ASSERT_EQ(::chmod(bad.c_str(), 0), 0);

    const auto listed = source.list(0);
    ASSERT_EQ(listed.size(), 3u);
    EXPECT_EQ(listed[1].uid, u2);
    EXPECT_GT(listed[1].size, 0u);

    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.fetch({u1, u2, u3}); }, &what), ErrorKind::permanent);
    EXPECT_NE(what.find("uid(s) " + std::to_string(u2)), std::string::npos) << what;
    EXPECT_EQ(kind_of_error([&] { source.fetch({u2}); }, &what), ErrorKind::permanent);
    EXPECT_NE(what.find("cannot hand over uid " + std::to_string(u2)), std::string::npos) << what;
    const auto one = source.fetch({u1});
    ASSERT_EQ(one.size(), 1u);
    EXPECT_NE(one[0].bytes().find("lisible-1"), std::string_view::npos);
    const auto three = source.fetch({u3});
    ASSERT_EQ(three.size(), 1u);
    EXPECT_NE(three[0].bytes().find("lisible-3"), std::string_view::npos);
    // The session the caller goes on with works; the unreadable one stays where it is.
    source.move({u1, u2, u3}, Folder::processed);
    EXPECT_EQ(server.count("PPO.Traites"), 2u);
    EXPECT_EQ(server.count("INBOX"), 1u);
    source.close();
}

TEST(ImapMailSource, ConnectionRefusedIsTransient) {
    int port = 0;
    {
        DovecotServer server;
        port = server.port();
    }   // stopped and gone: nothing listens there now
    ImapSettings s;
    s.host = "127.0.0.1";
    s.port = port;
    s.user = "ppo";
    s.password = "whatever";
    s.timeout_seconds = 5;
    ImapMailSource source(s);
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.open(); }, &what), ErrorKind::transient);
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << what;
    EXPECT_EQ(kind_of_error([&] { source.list(0); }), ErrorKind::transient);
}

TEST(ImapMailSource, TlsRequiredWithoutStarttlsIsRefusedBeforeLogin) {
    DovecotServer server;   // no TLS
    ImapSettings s = settings_for(server);
    s.tls_required = true;   // no loopback exemption
    ImapMailSource source(s);
    std::string what;
    EXPECT_EQ(kind_of_error([&] { source.open(); }, &what), ErrorKind::config);
    EXPECT_NE(what.find("STARTTLS"), std::string::npos) << what;
}

TEST(ImapMailSource, StarttlsAndImapsWork) {
    DovecotOptions options;
    options.tls = true;
    DovecotServer server(options);
    const std::string raw = message("Message-ID: <tls@x>", "tls", "chiffr\xE9\r\n");
    const std::uint32_t uid = server.append(raw);

    ImapSettings s = settings_for(server);
    s.tls_required = true;
    s.ca_file = server.cert_file();   // the self-signed certificate as the trust anchor
    ImapMailSource starttls(s);
    const std::uint32_t uidvalidity = starttls.open();
    const auto fetched = starttls.fetch({uid});
    ASSERT_EQ(fetched.size(), 1u);
    EXPECT_TRUE(fetched[0].raw == raw);
    starttls.close();

    ASSERT_NE(server.imaps_port(), 0);
    s.port = server.imaps_port();
    s.implicit_tls = true;
    s.tls_required = false;
    ImapMailSource imaps(s);
    EXPECT_EQ(imaps.open(), uidvalidity);
    const auto listed = imaps.list(0);
    ASSERT_EQ(listed.size(), 1u);
    imaps.move({uid}, Folder::triage);
    EXPECT_EQ(server.count("PPO.A-trier"), 1u);
    imaps.close();
}

}  // namespace
