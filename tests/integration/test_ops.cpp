// Operations: the systemd unit (verify, security exposure), the sd_notify
// protocol (READY, STATUS, WATCHDOG), signals (SIGTERM, SIGHUP with a broken
// then a fixed configuration), and the HTTP endpoint (/healthz, /metrics)
// against the real binary, a throwaway Dovecot and the SMTP capture.
#include "bench/harness.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

using namespace ppo::testbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using steady = std::chrono::steady_clock;

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string find_program(const std::string& name) {
    for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin", "/sbin"}) {
        std::string p = std::string(dir) + "/" + name;
        if (access(p.c_str(), X_OK) == 0) return p;
    }
    return "";
}

// The NOTIFY_SOCKET side of sd_notify(3): a datagram socket in a folder, read
// all the time by a thread (as systemd does: sd_notify blocks once the
// socket's small queue is full).
class NotifySocket {
public:
    struct Datagram {
        steady::time_point at;
        std::string text;
    };

    explicit NotifySocket(const std::string& path) : path_(path) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        unlink(path.c_str());
        if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("notify socket " + path + ": " + std::strerror(errno));
        reader_ = std::thread([this] {
            char buf[4096];
            while (!stop_) {
                pollfd p{fd_, POLLIN, 0};
                if (poll(&p, 1, 50) <= 0) continue;
                ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
                if (n <= 0) continue;
                std::lock_guard lock(mutex_);
                received_.push_back({steady::now(), std::string(buf, static_cast<std::size_t>(n))});
            }
        });
    }
    ~NotifySocket() {
        stop_ = true;
        reader_.join();
        close(fd_);
        unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }

    // Waits for a datagram containing `wanted`, after those already matched.
    bool wait_for(const std::string& wanted, std::chrono::milliseconds timeout) {
        const auto deadline = steady::now() + timeout;
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                for (std::size_t i = checked_; i < received_.size(); ++i)
                    if (received_[i].text.find(wanted) != std::string::npos) {
                        checked_ = i + 1;
                        return true;
                    }
            }
            if (steady::now() >= deadline) return false;
            std::this_thread::sleep_for(20ms);
        }
    }
    std::vector<Datagram> received() const {
        std::lock_guard lock(mutex_);
        return received_;
    }
    std::string all() const {
        std::string s;
        for (const auto& d : received()) s += "[" + d.text + "] ";
        return s;
    }

private:
    std::string path_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<Datagram> received_;
    std::size_t checked_ = 0;
    std::thread reader_;
};

// `ppo-intake -c CONFIG run` in the background, its stderr in a file.
class Daemon {
public:
    Daemon(Harness& h, const std::map<std::string, std::string>& env = {}) : log_(h.dir() + "/daemon.log") {
        SpawnOptions o;
        o.log_path = log_;
        o.unset_env = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM"};
        o.set_env = env;
        o.path_lookup = false;
        pid_ = spawn_process({PPO_BINARY, "-c", h.config_path(), "run"}, o);
    }
    ~Daemon() {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    std::string log() const { return read_text(log_); }
    void signal(int sig) { kill(pid_, sig); }
    bool wait_log(const std::string& wanted, std::chrono::milliseconds timeout, std::size_t after = 0) {
        const auto deadline = steady::now() + timeout;
        while (steady::now() < deadline) {
            auto l = log();
            if (l.find(wanted, after) != std::string::npos) return true;
            if (!running()) return false;
            std::this_thread::sleep_for(100ms);
        }
        return false;
    }
    bool running() {
        if (exited_) return false;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            exited_ = true;
            status_ = status;
            return false;
        }
        return true;
    }
    // The exit status, or -1 if still running after `timeout`.
    int wait_exit(std::chrono::milliseconds timeout) {
        const auto deadline = steady::now() + timeout;
        while (running()) {
            if (steady::now() >= deadline) return -1;
            std::this_thread::sleep_for(20ms);
        }
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
    }

private:
    std::string log_;
    pid_t pid_ = -1;
    bool exited_ = false;
    int status_ = 0;
};

// A TCP forwarder on 127.0.0.1 in front of the Dovecot fixture. Stopping
// Dovecot leaves the imap process of a session already open alive, so "the
// IMAP server went away" is made by cutting the forwarder: every connection
// closed, new ones refused.
class TcpProxy {
public:
    explicit TcpProxy(int target_port) : target_port_(target_port) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_fd_, 8) != 0)
            throw std::runtime_error("proxy: cannot listen");
        socklen_t len = sizeof a;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~TcpProxy() { cut(); }
    int port() const { return port_; }
    void cut() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }

private:
    void run() {
        std::vector<std::pair<int, int>> pairs;
        auto drop = [&](std::size_t i) {
            close(pairs[i].first);
            close(pairs[i].second);
            pairs.erase(pairs.begin() + static_cast<long>(i));
        };
        char buf[65536];
        while (!stop_) {
            std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
            for (const auto& [a, b] : pairs) {
                fds.push_back({a, POLLIN, 0});
                fds.push_back({b, POLLIN, 0});
            }
            if (poll(fds.data(), fds.size(), 50) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                sockaddr_in t{};
                t.sin_family = AF_INET;
                t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                t.sin_port = htons(static_cast<std::uint16_t>(target_port_));
                if (client >= 0 && connect(server, reinterpret_cast<sockaddr*>(&t), sizeof t) == 0) {
                    pairs.emplace_back(client, server);
                } else {
                    if (client >= 0) close(client);
                    close(server);
                }
                continue;   // the pollfd list changed
            }
            bool dropped = false;   // the pollfd list no longer matches: poll again
            for (std::size_t i = 0; i < pairs.size() && !dropped; ++i) {
                for (int side = 0; side < 2 && !dropped; ++side) {
                    const auto& pfd = fds[1 + 2 * i + static_cast<std::size_t>(side)];
                    if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR))) continue;
                    int from = side == 0 ? pairs[i].first : pairs[i].second;
                    int to = side == 0 ? pairs[i].second : pairs[i].first;
                    ssize_t n = read(from, buf, sizeof buf);
                    bool ok = n > 0;
                    for (ssize_t off = 0; ok && off < n;) {
                        ssize_t w = send(to, buf + off, static_cast<std::size_t>(n - off), MSG_NOSIGNAL);
                        if (w <= 0) ok = false;
                        else off += w;
                    }
                    if (!ok) {
                        drop(i);
                        dropped = true;
                    }
                }
            }
        }
        for (auto& [a, b] : pairs) {
            close(a);
            close(b);
        }
        close(listen_fd_);
    }

    int target_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

struct HttpReply {
    int status = -1;   // -1: no connection
    std::string body;
    std::string content_type;
};

HttpReply http_get(int port, const std::string& path) {
    HttpReply r;
    try {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(5, 0));
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        std::istream& in = session.receiveResponse(response);
        Poco::StreamCopier::copyToString(in, r.body);
        r.status = static_cast<int>(response.getStatus());
        r.content_type = response.getContentType();
    } catch (const Poco::Exception&) {
    }
    return r;
}

// The value of one sample line of a Prometheus exposition, -1 if absent.
double sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

TestMail ppo_mail(const std::string& tag, const std::string& from = "ce.0596082r@ac-lille.fr") {
    TestMail m;
    m.from = from;
    m.subject = "PPO";
    m.files = {{"PPO " + tag + ".pdf", "application/pdf", sample_pdf(tag), ""}};
    return m;
}

std::size_t count_to(const std::vector<CapturedMail>& mails, const std::string& rcpt) {
    std::size_t n = 0;
    for (const auto& m : mails)
        if (std::find(m.rcpt_to.begin(), m.rcpt_to.end(), rcpt) != m.rcpt_to.end()) ++n;
    return n;
}

const std::string kUnit = std::string(PPO_SOURCE_DIR) + "/systemd/ppo-intake.service";

}  // namespace

// --- the unit ---------------------------------------------------------------

TEST(Ops, UnitPassesSystemdAnalyzeVerify) {
    const auto analyze = find_program("systemd-analyze");
    if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed";
    Harness::Options o;
    o.import_directory = false;
    Harness h(o);
    // verify wants ExecStart= to exist and Documentation= to resolve: a copy of
    // the unit naming the built binary, and MANPATH pointing at doc/.
    auto unit = read_text(kUnit);
    const std::string exec = "ExecStart=/usr/bin/ppo-intake ";
    ASSERT_NE(unit.find(exec), std::string::npos);
    unit.replace(unit.find(exec), exec.size(), std::string("ExecStart=") + PPO_BINARY + " ");
    fs::create_directories(h.dir() + "/unit");
    std::ofstream(h.dir() + "/unit/ppo-intake.service") << unit;
    fs::create_directories(h.dir() + "/man/man8");
    fs::create_directories(h.dir() + "/man/man5");
    fs::copy_file(std::string(PPO_SOURCE_DIR) + "/doc/ppo-intake.8", h.dir() + "/man/man8/ppo-intake.8");
    fs::copy_file(std::string(PPO_SOURCE_DIR) + "/doc/ppo-intake.conf.5", h.dir() + "/man/man5/ppo-intake.conf.5");
    auto r = run_command({"/usr/bin/env", "MANPATH=" + h.dir() + "/man", analyze, "verify",
                          h.dir() + "/unit/ppo-intake.service"},
                         60);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.err.find("ppo-intake.service"), std::string::npos) << r.err;
}

TEST(Ops, UnitSecurityExposureIsAtMostTwo) {
    const auto analyze = find_program("systemd-analyze");
    if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed";
    auto r = run_command({analyze, "security", "--offline=yes", "--no-pager", kUnit}, 60);
    std::smatch m;
    const std::string all = r.out + r.err;
    ASSERT_TRUE(std::regex_search(all, m, std::regex(R"(Overall exposure level for ppo-intake\.service: ([0-9]+\.[0-9]+))")))
        << all;
    const double level = std::stod(m[1]);
    EXPECT_LE(level, 2.0) << all;
    std::cout << "[ info ] systemd-analyze security: overall exposure level " << m[1] << "\n";
}

TEST(Ops, UnitHasTheRequiredSettings) {
    auto unit = read_text(kUnit);
    for (const char* line :
         {"Type=notify", "WatchdogSec=120s", "Restart=on-failure", "User=ppo-intake", "Group=ppo-intake",
          "StateDirectory=ppo-intake", "ConfigurationDirectory=ppo-intake",
          "LoadCredential=imap-password:/etc/ppo-intake/imap.secret",
          "LoadCredential=smtp-password:/etc/ppo-intake/smtp.secret", "ExecReload=/bin/kill -HUP $MAINPID",
          "ExecStart=/usr/bin/ppo-intake -c /etc/ppo-intake/ppo-intake.conf run", "ProtectSystem=strict",
          "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "NoNewPrivileges=yes",
          "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
          "SystemCallArchitectures=native", "CapabilityBoundingSet=\n", "PrivateUsers=yes", "UMask=0027"})
        EXPECT_NE(unit.find(std::string("\n") + line), std::string::npos) << line;
    // The shipped configuration's paths are the unit's StateDirectory.
    auto conf = read_text(std::string(PPO_SOURCE_DIR) + "/etc/ppo-intake.conf");
    EXPECT_NE(conf.find("url = sqlite:///var/lib/ppo-intake/ppo.db"), std::string::npos);
    EXPECT_NE(conf.find("archive_dir = /var/lib/ppo-intake/archive"), std::string::npos);
}

// --- sd_notify ----------------------------------------------------------------

TEST(Ops, NotifiesReadyStatusAndWatchdog) {
    Harness h;
    NotifySocket sock(h.dir() + "/notify.sock");
    Daemon d(h, {{"NOTIFY_SOCKET", sock.path()}, {"WATCHDOG_USEC", "2000000"}});
    ASSERT_TRUE(sock.wait_for("READY=1", 20s)) << sock.all() << d.log();
    ASSERT_TRUE(sock.wait_for("STATUS=Waiting for new mail", 20s)) << sock.all() << d.log();
    // With WatchdogSec=2s the loop must ping well within 2 s: watch for 5 s.
    const auto since = steady::now();
    std::this_thread::sleep_for(5s);
    std::vector<steady::time_point> pings;
    for (const auto& g : sock.received())
        if (g.at >= since - 2s && g.text.find("WATCHDOG=1") != std::string::npos) pings.push_back(g.at);
    ASSERT_GE(pings.size(), 4u) << sock.all();
    auto max_gap = 0ms;
    for (std::size_t i = 1; i < pings.size(); ++i)
        max_gap = std::max(max_gap, std::chrono::duration_cast<std::chrono::milliseconds>(pings[i] - pings[i - 1]));
    EXPECT_LT(max_gap, 1900ms) << "the watchdog would fire; " << sock.all();
    std::cout << "[ info ] longest gap between WATCHDOG=1: " << max_gap.count() << " ms\n";

    // READY=1 comes once, STATUS lines carry text.
    std::size_t ready = 0;
    for (const auto& g : sock.received()) ready += g.text.find("READY=1") != std::string::npos;
    EXPECT_EQ(ready, 1u) << sock.all();

    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
    EXPECT_TRUE(sock.wait_for("STOPPING=1", 1s)) << sock.all();
}

TEST(Ops, NoReadyBeforeTheMailboxOpens) {
    Harness h;
    h.imap().stop();
    NotifySocket sock(h.dir() + "/notify.sock");
    Daemon d(h, {{"NOTIFY_SOCKET", sock.path()}});
    ASSERT_TRUE(sock.wait_for("STATUS=Error", 20s)) << sock.all() << d.log();
    EXPECT_EQ(sock.all().find("READY=1"), std::string::npos) << sock.all();
    h.imap().start();
    // The backoff is 1 s, then 2 s...
    EXPECT_TRUE(sock.wait_for("READY=1", 20s)) << sock.all() << d.log();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
}

// --- signals ------------------------------------------------------------------

TEST(Ops, SigtermDuringIdleExitsZeroWithinSeconds) {
    Harness h;
    h.write_config({{"imap.poll_interval", "600"}});
    NotifySocket sock(h.dir() + "/notify.sock");
    Daemon d(h, {{"NOTIFY_SOCKET", sock.path()}});
    ASSERT_TRUE(sock.wait_for("STATUS=Waiting for new mail", 20s)) << sock.all() << d.log();
    std::this_thread::sleep_for(500ms);   // well into IDLE
    const auto start = steady::now();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
    EXPECT_LT(steady::now() - start, 5s);
    EXPECT_NE(d.log().find("ppo-intake stopped"), std::string::npos) << d.log();
}

TEST(Ops, SigtermWhileTheImapServerIsDownExitsZero) {
    Harness h;
    h.imap().stop();
    Daemon d(h);
    ASSERT_TRUE(d.wait_log("retrying in", 20s)) << d.log();
    const auto start = steady::now();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
    EXPECT_LT(steady::now() - start, 5s);
}

TEST(Ops, SighupWithABrokenConfigIsRefusedAndTheDaemonGoesOn) {
    Harness h;
    NotifySocket sock(h.dir() + "/notify.sock");
    Daemon d(h, {{"NOTIFY_SOCKET", sock.path()}});
    ASSERT_TRUE(sock.wait_for("STATUS=Waiting for new mail", 20s)) << sock.all() << d.log();

    // Break the file: an unknown key.
    std::ofstream(h.config_path(), std::ios::app) << "\n[intake]\nno_such_key = 1\n";
    auto mark = d.log().size();
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_log("reload refused", 10s, mark)) << d.log();
    EXPECT_NE(d.log().find("no_such_key", mark), std::string::npos) << d.log();
    EXPECT_TRUE(d.running());

    // Still at work, with the old configuration: acknowledged and forwarded.
    h.deliver(ppo_mail("after-broken-reload"));
    auto mails = h.smtp().wait_for(2, 15s);
    EXPECT_EQ(count_to(mails, "ce.0596082r@ac-lille.fr"), 1u) << d.log();
    EXPECT_EQ(count_to(mails, "ien-io.douai@ac-lille.fr"), 1u) << d.log();

    // Fixed, and changed: no more acknowledgements. The reload applies it.
    h.write_config({{"intake.acknowledge", "false"}});
    mark = d.log().size();
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_log("reloaded", 10s, mark)) << d.log();
    EXPECT_EQ(d.log().find("reload refused", mark), std::string::npos) << d.log();
    EXPECT_TRUE(sock.wait_for("RELOADING=1", 5s)) << sock.all();

    h.deliver(ppo_mail("after-good-reload", "ce.0597091m@ac-lille.fr"));
    mails = h.smtp().wait_for(3, 15s);
    EXPECT_EQ(count_to(mails, "ien-io.lille@ac-lille.fr"), 1u) << d.log();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(count_to(h.smtp().messages(), "ce.0597091m@ac-lille.fr"), 0u) << "acknowledge = false was not applied";

    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
}

TEST(Ops, OneLogLinePerMessageWithItsKeys) {
    Harness h;
    Daemon d(h, {{"JOURNAL_STREAM", "8:12345"}});
    ASSERT_TRUE(d.wait_log("ppo-intake running", 20s)) << d.log();
    auto uid = h.deliver(ppo_mail("log-line"));
    ASSERT_TRUE(d.wait_log("UAI 0596082R", 15s)) << d.log();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
    // Journal format: a syslog priority prefix, no timestamp.
    std::istringstream in(d.log());
    std::string line, found;
    while (std::getline(in, line))
        if (line.find(": submission ") != std::string::npos && line.find("UAI 0596082R") != std::string::npos) found = line;
    EXPECT_EQ(found.rfind("<6>uid " + std::to_string(uid) + ": submission ", 0), 0u) << found;
    EXPECT_NE(found.find("from ce.0596082r@ac-lille.fr"), std::string::npos) << found;
}

// --- HTTP -----------------------------------------------------------------------

TEST(Ops, HealthzAndMetricsOverHttp) {
    Harness h;
    TcpProxy proxy(h.imap().port());
    const int port = free_port();
    h.write_config({{"http.listen", "127.0.0.1:" + std::to_string(port)},
                    {"imap.url", "imap://127.0.0.1:" + std::to_string(proxy.port())},
                    {"imap.poll_interval", "2"}});
    NotifySocket sock(h.dir() + "/notify.sock");
    Daemon d(h, {{"NOTIFY_SOCKET", sock.path()}});
    ASSERT_TRUE(sock.wait_for("STATUS=Waiting for new mail", 20s)) << sock.all() << d.log();

    auto health = http_get(port, "/healthz");
    EXPECT_EQ(health.status, 200) << health.body << d.log();
    EXPECT_EQ(health.content_type, "application/json");
    EXPECT_NE(health.body.find("\"imap_session\":\"up\""), std::string::npos) << health.body;
    EXPECT_NE(health.body.find("\"outbox_pending\":0"), std::string::npos) << health.body;
    EXPECT_EQ(http_get(port, "/nothing-here").status, 404);

    h.deliver(ppo_mail("metrics"));
    ASSERT_EQ(h.smtp().wait_for(2, 15s).size(), 2u) << d.log();
    HttpReply metrics;
    const auto deadline = steady::now() + 10s;
    do {
        metrics = http_get(port, "/metrics");
        if (sample(metrics.body, "ppo_mails_sent_total{kind=\"forward\"}") == 1 &&
            sample(metrics.body, "ppo_mails_sent_total{kind=\"ack\"}") == 1)
            break;
        std::this_thread::sleep_for(200ms);
    } while (steady::now() < deadline);
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.content_type.find("text/plain; version=0.0.4"), std::string::npos) << metrics.content_type;
    const auto& m = metrics.body;
    EXPECT_EQ(sample(m, "ppo_messages_handled_total{outcome=\"submission\"}"), 1) << m;
    EXPECT_EQ(sample(m, "ppo_messages_handled_total{outcome=\"unidentified\"}"), 0) << m;
    EXPECT_EQ(sample(m, "ppo_mails_sent_total{kind=\"ack\"}"), 1) << m;
    EXPECT_EQ(sample(m, "ppo_mails_sent_total{kind=\"forward\"}"), 1) << m;
    EXPECT_EQ(sample(m, "ppo_send_failures_total{kind=\"ack\"}"), 0) << m;
    EXPECT_EQ(sample(m, "ppo_ack_latency_seconds_count"), 1) << m;
    EXPECT_EQ(sample(m, "ppo_ack_latency_seconds_bucket{le=\"+Inf\"}"), 1) << m;
    EXPECT_EQ(sample(m, "ppo_ack_latency_seconds_bucket{le=\"60\"}"), 1) << m;   // handled within seconds
    EXPECT_EQ(sample(m, "ppo_outbox_pending"), 0) << m;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_NEAR(sample(m, "ppo_last_successful_poll_timestamp_seconds"), static_cast<double>(now), 30) << m;
    EXPECT_NE(m.find("# TYPE ppo_ack_latency_seconds histogram"), std::string::npos) << m;

    // The IMAP server goes away: unhealthy within seconds.
    h.imap().stop();
    proxy.cut();
    HttpReply down;
    const auto deadline2 = steady::now() + 20s;
    do {
        down = http_get(port, "/healthz");
        if (down.status == 503) break;
        std::this_thread::sleep_for(200ms);
    } while (steady::now() < deadline2);
    EXPECT_EQ(down.status, 503) << down.body << d.log();
    EXPECT_NE(down.body.find("\"imap_session\":\"down\""), std::string::npos) << down.body;

    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
    EXPECT_EQ(http_get(port, "/healthz").status, -1);   // closed with the daemon
}

TEST(Ops, BusyHttpPortIsLoggedAndTheIntakeRunsOn) {
    Harness h;
    // Hold a port with a listening socket.
    int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(listen(holder, 1), 0);
    socklen_t len = sizeof a;
    getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len);
    const int port = ntohs(a.sin_port);
    h.write_config({{"http.listen", "127.0.0.1:" + std::to_string(port)}});
    Daemon d(h);
    ASSERT_TRUE(d.wait_log("running without /healthz and /metrics", 20s)) << d.log();
    h.deliver(ppo_mail("busy-port"));
    EXPECT_EQ(h.smtp().wait_for(2, 15s).size(), 2u) << d.log();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_exit(5s), 0) << d.log();
    close(holder);
}
