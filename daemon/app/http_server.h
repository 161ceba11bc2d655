// The daemon's small HTTP endpoint ([http] listen, loopback by default):
//   GET /healthz  200 or 503 with {"imap_session":"up","last_poll_age_seconds":N,"outbox_pending":N}
//                 (plus "config_error":"..." while the IMAP server refuses the configuration: 503, not ready)
//   GET /metrics  Prometheus text format 0.0.4
// One request per connection (HTTP/1.1 with "Connection: close"), status
// lines with their reason phrase ("404 Not Found"). Served by a few threads of
// its own (Poco::Net::TCPServer) with a queue before them; each connection has
// one deadline for its whole request, so a client sending a byte a second holds
// a thread for request_deadline at most, then gets 408 and is closed: slow
// clients cannot keep /healthz from the others. A listen address beyond
// loopback is logged as a warning (the endpoint has no authentication).
// Stopped by the destructor.
#pragma once

#include "daemon/app/metrics.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace Poco {
class ThreadPool;
}
namespace Poco::Net {
class TCPServer;
}

namespace ppo::daemon {

struct HttpLimits {
    int threads = 4;                                       // connections served at once
    int queued = 64;                                       // accepted, waiting for a thread (beyond: closed)
    std::chrono::milliseconds request_deadline{5000};      // from a thread taking the connection to the last header line
    std::size_t max_request_bytes = 8192;                  // request line and headers (beyond: 431)
};

class HttpServer {
public:
    // Listens on "HOST:PORT" ("[::1]:PORT" for IPv6). Throws ppo::Error(config)
    // when the address cannot be bound.
    HttpServer(const std::string& listen, const Metrics& metrics, std::function<Health()> health,
               HttpLimits limits = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    int port() const;   // the bound port (useful with port 0)

private:
    std::atomic<bool> stopping_{false};   // cuts the requests being read short
    std::unique_ptr<Poco::ThreadPool> pool_;
    std::unique_ptr<Poco::Net::TCPServer> server_;
};

}  // namespace ppo::daemon
