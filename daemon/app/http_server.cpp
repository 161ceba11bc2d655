#include "daemon/app/http_server.h"

#include "parsers/text/error.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/ThreadPool.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

namespace ppo::daemon {

namespace {

using Poco::Net::HTTPResponse;
using steady = std::chrono::steady_clock;

struct Reply {
    HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK;
    std::string type = "text/plain; charset=utf-8";
    std::string body;
    bool allow_header = false;
};

// The answer to one parsed request: no I/O.
Reply answer(const Poco::Net::HTTPRequest& request, const Metrics& metrics, const std::function<Health()>& health) {
    std::string path = request.getURI();
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    const auto& method = request.getMethod();
    if (method != Poco::Net::HTTPRequest::HTTP_GET && method != Poco::Net::HTTPRequest::HTTP_HEAD)
        return {HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "method not allowed\n", true};
    if (path == "/healthz") {
        auto h = health();
        return {h.healthy ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "application/json",
                h.json() + "\n", false};
    }
    if (path == "/metrics")
        return {HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", metrics.render_prometheus(), false};
    return {HTTPResponse::HTTP_NOT_FOUND, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n", false};
}

// One connection, one request, one deadline for reading all of it.
class Connection final : public Poco::Net::TCPServerConnection {
public:
    Connection(const Poco::Net::StreamSocket& socket, const Metrics& metrics, const std::function<Health()>& health,
               const HttpLimits& limits, const std::atomic<bool>& stopping)
        : TCPServerConnection(socket), metrics_(metrics), health_(health), limits_(limits), stopping_(stopping),
          deadline_(steady::now() + limits.request_deadline) {}

    void run() override {
        try {
            serve();
        } catch (const Poco::Exception& e) {
            // The client went away, or never finished: nothing to answer.
            spdlog::debug("http: {}: {}", peer(), e.displayText());
        } catch (const std::exception& e) {
            spdlog::warn("http: {}: {}", peer(), e.what());
        }
    }

private:
    void serve() {
        std::string head;
        char buf[2048];
        for (;;) {
            if (head.find("\r\n\r\n") != std::string::npos || head.find("\n\n") != std::string::npos) break;
            if (head.size() > limits_.max_request_bytes) {
                reply({HTTPResponse::HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "text/plain; charset=utf-8",
                       "request header too large\n", false}, false);
                return;
            }
            const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline_ - steady::now());
            if (left.count() <= 0 || stopping_) {
                spdlog::debug("http: {}: no complete request within {} ms: 408", peer(), limits_.request_deadline.count());
                reply({HTTPResponse::HTTP_REQUEST_TIMEOUT, "text/plain; charset=utf-8", "request timeout\n", false}, false);
                return;
            }
            // Short waits, so that a stop does not wait for the deadline.
            const auto slice = std::min<std::int64_t>(left.count(), 200'000);
            if (!socket().poll(Poco::Timespan(slice), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR))
                continue;
            const int n = socket().receiveBytes(buf, sizeof buf);
            if (n <= 0) return;   // closed by the client
            head.append(buf, static_cast<std::size_t>(n));
        }
        Poco::Net::HTTPRequest request;
        try {
            std::istringstream in(head);
            request.read(in);
        } catch (const Poco::Exception&) {
            reply({HTTPResponse::HTTP_BAD_REQUEST, "text/plain; charset=utf-8", "bad request\n", false}, false);
            return;
        }
        reply(answer(request, metrics_, health_), request.getMethod() == Poco::Net::HTTPRequest::HTTP_HEAD);
    }

    void reply(const Reply& r, bool head) {
        // With its reason phrase (setStatus() alone would keep the default
        // "OK"), as RFC 9110 spells it: Poco 1.11 still says "Request Time-out".
        const std::string reason =
            r.status == HTTPResponse::HTTP_REQUEST_TIMEOUT ? "Request Timeout" : HTTPResponse::getReasonForStatus(r.status);
        HTTPResponse response(Poco::Net::HTTPMessage::HTTP_1_1, r.status, reason);
        response.setContentType(r.type);
        response.setContentLength(static_cast<std::streamsize>(r.body.size()));
        response.set("Cache-Control", "no-store");
        response.set("Connection", "close");
        if (r.allow_header) response.set("Allow", "GET, HEAD");
        std::ostringstream out;
        response.write(out);
        if (!head) out << r.body;
        const std::string bytes = out.str();
        // The answer is small; a client that does not read it gets a second.
        socket().setSendTimeout(Poco::Timespan(1, 0));
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const int n = socket().sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
            if (n <= 0) return;
            sent += static_cast<std::size_t>(n);
        }
        // Lingering close: what the client still sends is read and dropped
        // for a moment, so that closing does not reset the connection (and
        // lose the answer) while its bytes are unread.
        socket().shutdownSend();
        const auto linger_end = steady::now() + std::chrono::milliseconds(500);
        char sink[1024];
        while (steady::now() < linger_end &&
               socket().poll(Poco::Timespan(100'000), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR))
            if (socket().receiveBytes(sink, sizeof sink) <= 0) break;
    }

    std::string peer() {
        try {
            return socket().peerAddress().toString();
        } catch (const Poco::Exception&) {
            return "(gone)";
        }
    }

    const Metrics& metrics_;
    const std::function<Health()>& health_;
    const HttpLimits& limits_;
    const std::atomic<bool>& stopping_;
    const steady::time_point deadline_;
};

class Factory final : public Poco::Net::TCPServerConnectionFactory {
public:
    Factory(const Metrics& metrics, std::function<Health()> health, HttpLimits limits, const std::atomic<bool>& stopping)
        : metrics_(metrics), health_(std::move(health)), limits_(limits), stopping_(stopping) {}
    Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
        return new Connection(socket, metrics_, health_, limits_, stopping_);
    }

private:
    const Metrics& metrics_;
    std::function<Health()> health_;
    HttpLimits limits_;
    const std::atomic<bool>& stopping_;
};

}  // namespace

HttpServer::HttpServer(const std::string& listen, const Metrics& metrics, std::function<Health()> health,
                       HttpLimits limits) {
    Poco::Net::ServerSocket socket;
    try {
        Poco::Net::SocketAddress address(listen);
        socket.bind(address, true, false);   // SO_REUSEADDR, not SO_REUSEPORT
        socket.listen(std::max(16, limits.queued));
    } catch (const Poco::Exception& e) {
        throw config_error("[http] listen = " + listen + ": cannot listen: " + e.displayText());
    }
    const auto bound = socket.address();
    if (!bound.host().isLoopback())
        spdlog::warn("[http] listen = {}: /healthz and /metrics are reachable beyond this machine{}, without "
                     "authentication; 127.0.0.1:PORT keeps them local",
                     listen, bound.host().isWildcard() ? " (every interface)" : "");
    auto params = new Poco::Net::TCPServerParams;
    params->setMaxThreads(limits.threads);
    params->setMaxQueued(limits.queued);
    params->setThreadIdleTime(Poco::Timespan(10, 0));
    pool_ = std::make_unique<Poco::ThreadPool>("ppo-http", 1, limits.threads);
    server_ = std::make_unique<Poco::Net::TCPServer>(new Factory(metrics, std::move(health), limits, stopping_), *pool_,
                                                     socket, params);
    server_->start();
}

HttpServer::~HttpServer() {
    stopping_ = true;
    if (server_) server_->stop();
    server_.reset();
    if (pool_) pool_->joinAll();
}

int HttpServer::port() const { return server_->port(); }

}  // namespace ppo::daemon
