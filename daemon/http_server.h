// The daemon's small HTTP endpoint ([http] listen, loopback by default):
//   GET /healthz  200 or 503 with {"imap_session":"up","last_poll_age_seconds":N,"outbox_pending":N}
//   GET /metrics  Prometheus text format 0.0.4
// Poco::Net::HTTPServer with its own (two) threads; stopped by the destructor.
#pragma once

#include "daemon/metrics.h"

#include <functional>
#include <memory>
#include <string>

namespace Poco::Net {
class HTTPServer;
}

namespace ppo::daemon {

class HttpServer {
public:
    // Listens on "HOST:PORT" ("[::1]:PORT" for IPv6). Throws ppo::Error(config)
    // when the address cannot be bound.
    HttpServer(const std::string& listen, const Metrics& metrics, std::function<Health()> health);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    int port() const;   // the bound port (useful with port 0)

private:
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace ppo::daemon
