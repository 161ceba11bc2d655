// The web interface's HTTP(S) server ([web] listen), on Poco::Net::HTTPServer.
// Everything about who is asking happens here, before a WebHandler
// (daemon/web/web_types.h) sees a request:
//
// - Users: [web] users_file (daemon/web/web_users.h), read again when it changes.
// - Sessions: in memory (a restart logs everyone out), a random 32-byte id in
//   the cookie ppo_session (HttpOnly, SameSite=Strict, Path=/, Secure over
//   HTTPS: our own TLS, or base_url = https://...), kept by its BLAKE2b hash;
//   a new id at each login (no fixation); ended after [web] session_timeout
//   seconds without a request, by POST /logout, or when the user is removed.
// - CSRF: every POST must carry the field `csrf`: the session's token, or,
//   for POST /login, the token of the cookie ppo_login that GET /login set
//   (double submit). Missing or wrong: 403. Compared in constant time.
// - Logins: POST /login (login, password, csrf) -> 303 to /, or the form
//   again with "Identifiant ou mot de passe incorrect.". Failures are counted
//   in memory per login and per client address; past the limit (5 per login,
//   20 per address, within 15 minutes) the answer is 429 with Retry-After,
//   before any password is checked.
// - Without a session: GET/HEAD of a page -> 303 /login; /api/... -> 401
//   (JSON); any other POST -> 403 (the session expired: log in again).
// - Requests: GET, HEAD (a GET without its body; the handler sees "GET") and
//   POST (application/x-www-form-urlencoded, at most 64 KiB: 413 beyond);
//   other methods 405. The path is percent-decoded; NUL or another control
//   character, an encoded '/', a "." or ".." segment or invalid UTF-8 in the
//   path or a parameter: 400.
// - Answers: WebResponse.location -> 303; download_name -> Content-Disposition
//   attachment (RFC 6266, filename*=UTF-8''...); file_path -> the file
//   streamed from disk. Every answer carries Content-Security-Policy,
//   X-Content-Type-Options, Referrer-Policy and Cache-Control: no-store.
// - A handler that throws: 500 (logged), never a crash. One info line per
//   request: method, path (no query), status, user, milliseconds; never a
//   password, cookie or token.
// - Behind a reverse proxy on the same machine: a request from a loopback
//   address with X-Forwarded-For is counted (rate limits, logs) under the
//   last address of that header, the one the proxy added.
//
// A few threads (4) with a queue (64); each read or write has a 10 s timeout;
// one request per connection. Stopped (connections in progress cut) by the
// destructor.
#pragma once

#include "daemon/web/web_types.h"
#include "workflow/config/config.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace ppo::daemon {

struct Context;

struct WebLimits {
    int threads = 4;
    int queued = 64;
    std::chrono::seconds io_timeout{10};
    std::size_t max_body_bytes = 64 * 1024;
    int failures_per_login = 5;                 // failed logins allowed per login within failure_window
    int failures_per_address = 20;              // ... per client address (a school's NAT: several people)
    std::chrono::seconds failure_window{15 * 60};
    std::size_t max_sessions = 10000;           // beyond: the oldest idle session goes
};

class WebServer {
public:
    // Listens on config.listen ("HOST:PORT", port 0 for any), HTTPS when
    // tls_cert/tls_key are set. Throws ppo::Error(config), naming the key,
    // when the address cannot be bound or the certificate or key not loaded.
    WebServer(const workflow::WebConfig& config, web::WebHandler& handler, WebLimits limits = {});
    ~WebServer();
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    int port() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// The pages behind the server (daemon/web/web_app.h's WebApp, once merged; until
// then a placeholder: daemon/web/web_handler_factory.cpp). Called once per
// WebServer; the handler is called from the server's threads at once.
std::unique_ptr<web::WebHandler> make_web_handler(Context& ctx);

// The interface as `run` and `web` start it: the handler and its server,
// stopped in that order's reverse. nullptr when [web] listen is empty.
// Throws like WebServer.
class WebInterface {
public:
    explicit WebInterface(Context& ctx);
    ~WebInterface();
    int port() const { return server_->port(); }
    // Called on a request's thread after an action queued mails (WebApp).
    void set_on_mail_queued(std::function<void()> callback);

private:
    std::unique_ptr<web::WebHandler> handler_;
    std::unique_ptr<WebServer> server_;
};
std::unique_ptr<WebInterface> start_web_interface(Context& ctx);

// `ppo-intake web`: serves the interface (and, on [http] listen, /healthz
// and /metrics) until SIGTERM or SIGINT, without taking mail or sending.
int cmd_web(Context& ctx);

}  // namespace ppo::daemon
