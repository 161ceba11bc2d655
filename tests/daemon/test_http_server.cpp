// daemon/app/http_server: status lines with their reason phrase, and slow clients
// (a byte now and then, never the end of the request) that neither stall
// /healthz for the others nor hold a thread beyond the request deadline.
// Raw sockets on loopback, so the bytes on the wire are what is checked.
#include "daemon/app/http_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using ppo::daemon::Health;
using ppo::daemon::HttpLimits;
using ppo::daemon::HttpServer;
using ppo::daemon::Metrics;

int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (fd >= 0) ::close(fd);
        return -1;
    }
    return fd;
}

// Everything the server sends until it closes, or until `timeout`.
std::string read_all(int fd, std::chrono::milliseconds timeout) {
    std::string s;
    const auto deadline = steady::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
        if (left <= 0) return s;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return s;
        s.append(buf, static_cast<std::size_t>(n));
    }
}

// One request, the whole answer ("" when nothing came within `timeout`).
std::string exchange(int port, const std::string& request, std::chrono::milliseconds timeout = 3000ms) {
    int fd = connect_to(port);
    if (fd < 0) return "";
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    auto reply = read_all(fd, timeout);
    ::close(fd);
    return reply;
}

std::string status_line(const std::string& reply) { return reply.substr(0, reply.find("\r\n")); }

struct Server {
    explicit Server(HttpLimits limits = {}, bool healthy = true)
        : http("127.0.0.1:0", metrics, [healthy] {
              Health h;
              h.healthy = healthy;
              return h;
          }, limits) {}
    Metrics metrics;
    HttpServer http;
};

TEST(HttpServer, StatusLinesCarryTheirReasonPhrase) {
    Server up;
    const int port = up.http.port();
    EXPECT_EQ(status_line(exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")), "HTTP/1.1 200 OK");
    EXPECT_EQ(status_line(exchange(port, "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")), "HTTP/1.1 404 Not Found");
    auto post = exchange(port, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(status_line(post), "HTTP/1.1 405 Method Not Allowed");
    EXPECT_NE(post.find("Allow: GET, HEAD"), std::string::npos) << post;
    EXPECT_EQ(status_line(exchange(port, "NONSENSE\r\n\r\n")), "HTTP/1.1 400 Bad Request");
    auto metrics = exchange(port, "GET /metrics HTTP/1.0\r\n\r\n");
    EXPECT_EQ(status_line(metrics), "HTTP/1.1 200 OK");
    EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << metrics;
    auto head = exchange(port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_line(head), "HTTP/1.1 200 OK");
    EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "") << "HEAD has no body";

    Server down(HttpLimits{}, false);
    auto reply = exchange(down.http.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_line(reply), "HTTP/1.1 503 Service Unavailable");
    EXPECT_NE(reply.find("\"imap_session\""), std::string::npos) << reply;
}

TEST(HttpServer, TwoSlowClientsDoNotStallHealthzForOthers) {
    Server s;   // the daemon's limits
    const int port = s.http.port();
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nUser-Agent: a-very-slow-client\r\n\r\n";

    // Two clients connect and trickle their request a byte every 300 ms: it
    // would take them 20 s to finish.
    std::atomic<bool> stop{false};
    auto slow = [&] {
        struct Outcome {
            std::chrono::milliseconds held{0};
            std::string reply;
        } out;
        const auto start = steady::now();
        int fd = connect_to(port);
        if (fd < 0) return out;
        for (char c : request) {
            if (stop || ::send(fd, &c, 1, MSG_NOSIGNAL) != 1) break;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 300) > 0) break;   // the server answered (or closed)
        }
        out.reply = read_all(fd, 2000ms);
        out.held = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
        ::close(fd);
        return out;
    };
    auto slow1 = std::async(std::launch::async, slow);
    auto slow2 = std::async(std::launch::async, slow);
    std::this_thread::sleep_for(700ms);   // both are well into their request

    // A third client asks for /healthz: answered at once.
    for (int i = 0; i < 3; ++i) {
        const auto t0 = steady::now();
        auto reply = exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3000ms);
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
        EXPECT_EQ(status_line(reply), "HTTP/1.1 200 OK") << "request " << i;
        EXPECT_LT(took.count(), 1000) << "/healthz took " << took.count() << " ms behind two slow clients";
    }

    // The slow ones are cut at the deadline (5 s from their accept), with a 408.
    auto o1 = slow1.get();
    auto o2 = slow2.get();
    stop = true;
    for (const auto& o : {o1, o2}) {
        EXPECT_EQ(status_line(o.reply), "HTTP/1.1 408 Request Timeout");
        EXPECT_GE(o.held.count(), 4500);
        EXPECT_LT(o.held.count(), 7000) << "a slow client held its connection " << o.held.count() << " ms";
    }
}

TEST(HttpServer, MoreSlowClientsThanThreadsWaitAtMostTheDeadline) {
    // Every thread taken by a slow client: the next request waits in the
    // queue until the first deadline frees one, not for the slow clients.
    HttpLimits limits;
    limits.threads = 2;
    limits.request_deadline = 1500ms;
    Server s(limits);
    const int port = s.http.port();
    int a = connect_to(port), b = connect_to(port);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    (void)::send(a, "GET /he", 7, MSG_NOSIGNAL);
    (void)::send(b, "GET /me", 7, MSG_NOSIGNAL);
    std::this_thread::sleep_for(200ms);
    const auto t0 = steady::now();
    auto reply = exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 5000ms);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
    EXPECT_EQ(status_line(reply), "HTTP/1.1 200 OK");
    EXPECT_LT(took, 2500) << "waited " << took << " ms";
    EXPECT_EQ(status_line(read_all(a, 1000ms)), "HTTP/1.1 408 Request Timeout");
    ::close(a);
    ::close(b);
}

}  // namespace
