#include "daemon/web/web_server.h"

#include "daemon/web/web_users.h"
#include "parsers/text/error.h"
#include "parsers/mime/mime_util.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <unistd.h>
#include <unordered_map>

namespace ppo::daemon {

namespace {

using steady = std::chrono::steady_clock;
using web::Params;

const char* const kSessionCookie = "ppo_session";
const char* const kLoginCookie = "ppo_login";
const char* const kCsp =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";
const char* const kLoginFailed = "Identifiant ou mot de passe incorrect.";
const char* const kBadToken =
    "Le jeton de sécurité du formulaire manque ou n'est plus valable. Rechargez la page et recommencez.";

// ---------------------------------------------------------------- tokens

std::string to_hex(const unsigned char* bytes, std::size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes, n);
    out.pop_back();
    return out;
}

// 32 random bytes, hex: session ids and CSRF tokens.
std::string random_token() {
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    return to_hex(b, sizeof b);
}

bool token_shaped(const std::string& t) {
    return t.size() == 64 && std::all_of(t.begin(), t.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

// Constant time for equal lengths (the lengths are public: always 64).
bool same_token(const std::string& expected, const std::string& given) {
    return !expected.empty() && expected.size() == given.size() &&
           sodium_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

// Sessions are kept under a hash of their id: a lookup's timing, or a memory
// dump, gives no usable id.
std::string session_key(const std::string& id) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(id.data()), id.size(), nullptr, 0);
    return to_hex(h, sizeof h);
}

// ---------------------------------------------------------------- parsing

// Percent-decoding (Poco::URI); false on a broken escape. Poco turns '+' into
// a space only after a '?', so a form's '+' is replaced here (a '+' typed in a
// form arrives as %2B).
bool percent_decode(std::string_view in, bool plus_is_space, std::string& out) {
    out.clear();
    std::string text(in);
    if (plus_is_space) std::replace(text.begin(), text.end(), '+', ' ');
    try {
        Poco::URI::decode(text, out, false);
    } catch (const Poco::SyntaxException&) {
        return false;
    }
    return true;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

// The path of a request target, decoded; false for what no page has: an
// encoded '/', a control character (NUL included), a backslash, a "." or
// ".." segment, invalid UTF-8.
bool decode_path(std::string_view raw, std::string& path) {
    if (raw.empty() || raw.front() != '/') return false;
    for (std::size_t i = 0; i + 2 < raw.size(); ++i)
        if (raw[i] == '%' && raw[i + 1] == '2' && (raw[i + 2] == 'f' || raw[i + 2] == 'F')) return false;
    if (!percent_decode(raw, false, path)) return false;
    if (has_control(path) || path.find('\\') != std::string::npos) return false;
    if (!parsers::mime_detail::is_valid_utf8(path)) return false;
    std::size_t start = 1;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const auto segment = std::string_view(path).substr(start, end - start);
        if (segment == "." || segment == "..") return false;
        start = end + 1;
    }
    return true;
}

// application/x-www-form-urlencoded (a query or a POST body); false when an
// escape is broken, a name or value is not UTF-8 or holds a NUL, or there
// are more than 1000 parameters.
bool parse_params(std::string_view s, Params& out) {
    std::size_t start = 0;
    while (start <= s.size() && !s.empty()) {
        auto end = s.find('&', start);
        if (end == std::string_view::npos) end = s.size();
        const auto item = s.substr(start, end - start);
        if (!item.empty()) {
            if (out.size() >= 1000) return false;
            const auto eq = item.find('=');
            std::string name, value;
            if (!percent_decode(item.substr(0, eq), true, name)) return false;
            if (eq != std::string_view::npos && !percent_decode(item.substr(eq + 1), true, value)) return false;
            for (const auto* v : {&name, &value})
                if (v->find('\0') != std::string::npos || !parsers::mime_detail::is_valid_utf8(*v)) return false;
            out.emplace_back(std::move(name), std::move(value));
        }
        start = end + 1;
    }
    return true;
}

// For the log: no control character (a path is a stranger's text), not too long.
std::string loggable(std::string_view s) {
    std::string out;
    for (unsigned char c : s.substr(0, 200)) out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
    return s.size() > 200 ? out + "..." : out;
}

// Content-Disposition for a download (RFC 6266 with RFC 8187's filename*): an
// ASCII fallback for old clients, and the UTF-8 name percent-encoded.
std::string content_disposition(const std::string& name) {
    std::string fallback, encoded;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c >= 0x80) {
            // One '_' per character, not per byte.
            if ((c & 0xC0) != 0x80) fallback += '_';
        } else if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            fallback += '_';
        } else {
            fallback += static_cast<char>(c);
        }
        if (std::isalnum(c) || std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
            encoded += static_cast<char>(c);
        } else {
            static const char* digits = "0123456789ABCDEF";
            encoded += '%';
            encoded += digits[c >> 4];
            encoded += digits[c & 15];
        }
    }
    return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

bool safe_header_value(const std::string& v) {
    return std::none_of(v.begin(), v.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// ---------------------------------------------------------------- state

// Failed logins per key ("login:NAME", "addr:ADDRESS") within a window.
class FailureCounter {
public:
    explicit FailureCounter(std::chrono::seconds window) : window_(window) {}

    // Seconds until the key may try again; 0 when it may now.
    std::int64_t blocked_for(const std::string& key, int limit, steady::time_point now) {
        std::lock_guard lock(mutex_);
        auto it = failures_.find(key);
        if (it == failures_.end()) return 0;
        expire(it->second, now);
        if (static_cast<int>(it->second.size()) < limit) return 0;
        const auto until = it->second.front() + window_;
        return std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(until - now).count());
    }
    void record(const std::string& key, steady::time_point now) {
        std::lock_guard lock(mutex_);
        if (++records_ % 256 == 0 || failures_.size() >= kMaxKeys) prune(now);
        if (failures_.size() >= kMaxKeys && !failures_.count(key)) return;   // a flood: the address counter still holds
        auto& times = failures_[key];
        expire(times, now);
        times.push_back(now);
        if (times.size() > 64) times.pop_front();
    }
    void clear(const std::string& key) {
        std::lock_guard lock(mutex_);
        failures_.erase(key);
    }

private:
    static constexpr std::size_t kMaxKeys = 100000;
    void expire(std::deque<steady::time_point>& times, steady::time_point now) const {
        while (!times.empty() && times.front() + window_ <= now) times.pop_front();
    }
    void prune(steady::time_point now) {
        for (auto it = failures_.begin(); it != failures_.end();) {
            expire(it->second, now);
            it = it->second.empty() ? failures_.erase(it) : std::next(it);
        }
    }
    const std::chrono::seconds window_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::deque<steady::time_point>> failures_;
    std::uint64_t records_ = 0;
};

struct Session {
    std::string login;
    std::string csrf;
    steady::time_point last_seen;
};

class SessionStore {
public:
    SessionStore(std::chrono::seconds idle, std::size_t max) : idle_(idle), max_(max) {}

    // A new session; returns its id (for the cookie only: kept hashed).
    std::string create(const std::string& login, steady::time_point now) {
        std::lock_guard lock(mutex_);
        for (auto it = sessions_.begin(); it != sessions_.end();)
            it = now - it->second.last_seen >= idle_ ? sessions_.erase(it) : std::next(it);
        if (sessions_.size() >= max_) {
            auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
                return a.second.last_seen < b.second.last_seen;
            });
            sessions_.erase(oldest);
        }
        std::string id = random_token();
        sessions_[session_key(id)] = Session{login, random_token(), now};
        return id;
    }
    // The live session of this id, its idle clock restarted; an expired one ends.
    std::optional<Session> touch(const std::string& id, steady::time_point now) {
        if (!token_shaped(id)) return std::nullopt;
        std::lock_guard lock(mutex_);
        auto it = sessions_.find(session_key(id));
        if (it == sessions_.end()) return std::nullopt;
        if (now - it->second.last_seen >= idle_) {
            sessions_.erase(it);
            return std::nullopt;
        }
        it->second.last_seen = now;
        return it->second;
    }
    void end(const std::string& id) {
        if (!token_shaped(id)) return;
        std::lock_guard lock(mutex_);
        sessions_.erase(session_key(id));
    }

private:
    const std::chrono::seconds idle_;
    const std::size_t max_;
    std::mutex mutex_;
    std::unordered_map<std::string, Session> sessions_;
};

// What goes back: the handler's answer, or the server's own.
struct Out {
    int status = 200;
    std::string content_type = "text/html; charset=utf-8";
    std::string body;
    std::string file_path;
    bool remove_file = false;   // a temporary file of the handler's (removed once opened, or when not sent)
    std::vector<std::pair<std::string, std::string>> headers;
    void redirect(const std::string& to) {
        status = 303;
        body.clear();
        file_path.clear();
        headers.emplace_back("Location", to);
    }
};

}  // namespace

struct WebServer::Impl {
    Impl(const workflow::WebConfig& c, web::WebHandler& h, WebLimits l)
        : config(c), handler(h), limits(l), users(c.users_file),
          sessions(std::chrono::seconds(c.session_timeout), l.max_sessions), failures(l.failure_window) {}

    void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

    const workflow::WebConfig config;
    web::WebHandler& handler;
    const WebLimits limits;
    web::UserDirectory users;
    SessionStore sessions;
    FailureCounter failures;
    std::unique_ptr<Poco::ThreadPool> pool;
    std::unique_ptr<Poco::Net::HTTPServer> server;

private:
    struct Exchange;
    void route(Exchange& x);
    void login(Exchange& x);
    void from_handler(Exchange& x, web::WebResponse r);
    void error(Exchange& x, int status, const std::string& message);
    std::string cookie(const std::string& name, const std::string& value, bool expire = false) const;
    void send(Exchange& x, Poco::Net::HTTPServerResponse& response);
};

// One request on its way through.
struct WebServer::Impl::Exchange {
    Poco::Net::HTTPServerRequest& http;
    web::WebRequest request;
    Poco::Net::NameValueCollection cookies;
    std::string raw_path;                // for the log when the path does not decode
    std::string user = "-";
    bool head = false;
    Out out;
};

namespace {

std::string client_address(const Poco::Net::HTTPServerRequest& request) {
    const auto& peer = request.clientAddress().host();
    std::string address = peer.toString();
    if (peer.isLoopback() && request.has("X-Forwarded-For")) {
        std::string forwarded = request.get("X-Forwarded-For");
        if (auto comma = forwarded.rfind(','); comma != std::string::npos) forwarded = forwarded.substr(comma + 1);
        forwarded.erase(0, forwarded.find_first_not_of(" \t"));
        forwarded.erase(forwarded.find_last_not_of(" \t") + 1);
        Poco::Net::IPAddress ip;
        if (Poco::Net::IPAddress::tryParse(forwarded, ip)) address = ip.toString();
    }
    return address;
}

bool is_form(const Poco::Net::HTTPServerRequest& request) {
    std::string type = request.getContentType();
    type = type.substr(0, type.find(';'));
    type.erase(type.find_last_not_of(" \t") + 1);
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
    return type == "application/x-www-form-urlencoded";
}

}  // namespace

std::string WebServer::Impl::cookie(const std::string& name, const std::string& value, bool expire) const {
    std::string c = name + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
    if (config.secure_cookies()) c += "; Secure";
    if (expire) c += "; Max-Age=0";
    return c;
}

void WebServer::Impl::error(Exchange& x, int status, const std::string& message) {
    web::WebResponse r;
    try {
        r = handler.error_page(status, message);
    } catch (const std::exception& e) {
        spdlog::error("web: the error page {} failed: {}", status, e.what());
        r.content_type = "text/plain; charset=utf-8";
        r.body = message + "\n";
    }
    r.status = status;
    r.location.clear();
    r.file_path.clear();
    r.download_name.clear();
    from_handler(x, std::move(r));
}

void WebServer::Impl::from_handler(Exchange& x, web::WebResponse r) {
    Out out;
    out.status = r.status;
    out.content_type = r.content_type;
    out.body = std::move(r.body);
    if (!r.location.empty()) {
        // Our own pages only (no open redirect), and nothing that would
        // split the header.
        if (r.location.front() != '/' || r.location.rfind("//", 0) == 0 || r.location.rfind("/\\", 0) == 0 ||
            !safe_header_value(r.location) || has_control(r.location))
            throw std::runtime_error("the handler redirected to an unsafe location '" + loggable(r.location) + "'");
        out.redirect(r.location);
    } else {
        if (!safe_header_value(out.content_type) || out.content_type.empty())
            throw std::runtime_error("the handler answered an unsafe content type");
        if (!r.download_name.empty()) out.headers.emplace_back("Content-Disposition", content_disposition(r.download_name));
        out.file_path = r.file_path;
    }
    out.remove_file = r.remove_file && !r.file_path.empty();
    if (r.remove_file && out.file_path.empty() && !r.file_path.empty()) ::unlink(r.file_path.c_str());
    // Cookies set before the handler ran (the login form's token) are kept.
    for (auto& h : x.out.headers)
        if (h.first == "Set-Cookie") out.headers.push_back(h);
    x.out = std::move(out);
}

void WebServer::Impl::login(Exchange& x) {
    auto& req = x.request;
    const std::string cookie_token = x.cookies.get(kLoginCookie, "");
    if (req.method == "GET") {
        std::string token = token_shaped(cookie_token) ? cookie_token : random_token();
        if (token != cookie_token) x.out.headers.emplace_back("Set-Cookie", cookie(kLoginCookie, token));
        from_handler(x, handler.login_page(token, "", ""));
        return;
    }
    // POST /login: the form must come from our own GET /login.
    if (!token_shaped(cookie_token) || !same_token(cookie_token, req.form_value("csrf"))) {
        error(x, 403, kBadToken);
        return;
    }
    std::string login = req.form_value("login");
    login.erase(0, login.find_first_not_of(" \t"));
    login.erase(login.find_last_not_of(" \t") + 1);
    std::transform(login.begin(), login.end(), login.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string password = req.form_value("password");
    const bool plausible = web::valid_login(login);
    const std::string login_key = "login:" + login, address_key = "addr:" + req.remote;
    const auto now = steady::now();
    const auto wait = std::max(plausible ? failures.blocked_for(login_key, limits.failures_per_login, now) : 0,
                               failures.blocked_for(address_key, limits.failures_per_address, now));
    if (wait > 0) {
        spdlog::warn("web: login refused for {}from {}: too many failed attempts, {} s to wait",
                     plausible && users.find(login) ? "user " + login + " " : "", req.remote, wait);
        const auto minutes = (wait + 59) / 60;
        error(x, 429,
              "Trop de tentatives de connexion échouées. Réessayez dans " + std::to_string(minutes) + " minute" +
                  (minutes > 1 ? "s." : "."));
        x.out.headers.emplace_back("Retry-After", std::to_string(wait));
        return;
    }
    auto viewer = plausible && password.size() <= 4096 ? users.authenticate(login, password) : std::nullopt;
    if (!plausible || password.size() > 4096) (void)users.authenticate("", password.substr(0, 4096));   // the same time
    if (!viewer) {
        failures.record(address_key, now);
        if (plausible) failures.record(login_key, now);
        const bool known = plausible && users.find(login).has_value();
        // The login of an unknown user is not logged: it may be a password
        // typed in the wrong field.
        spdlog::warn("web: failed login for {} from {}", known ? "user " + login : "an unknown login", req.remote);
        from_handler(x, handler.login_page(cookie_token, kLoginFailed, plausible ? login : ""));
        return;
    }
    failures.clear(login_key);
    // A fresh id: whatever session id the browser had is not carried over.
    if (const auto old = x.cookies.get(kSessionCookie, ""); !old.empty()) sessions.end(old);
    const std::string id = sessions.create(viewer->login, now);
    x.user = viewer->login;
    spdlog::info("web: user {} ({}) logged in from {}", viewer->login, viewer->role, req.remote);
    x.out = Out{};
    x.out.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, id));
    x.out.headers.emplace_back("Set-Cookie", cookie(kLoginCookie, "", true));
    x.out.redirect("/");
}

void WebServer::Impl::route(Exchange& x) {
    auto& req = x.request;
    const bool api = req.path == "/api" || req.path.rfind("/api/", 0) == 0;
    if (req.path == "/login") {
        login(x);
        return;
    }
    // The session, and who it is now (a removed user is logged out).
    const std::string id = x.cookies.get(kSessionCookie, "");
    std::optional<Session> session = id.empty() ? std::nullopt : sessions.touch(id, steady::now());
    std::optional<web::Viewer> viewer;
    if (session) {
        viewer = users.find(session->login);
        if (!viewer) {
            spdlog::info("web: user {} is no longer in {}: session ended", session->login, config.users_file);
            sessions.end(id);
            session.reset();
        }
    }
    if (!session) {
        if (api) {
            x.out = Out{};
            x.out.status = 401;
            x.out.content_type = "application/json";
            x.out.body = "{\"error\":\"authentification requise\"}\n";
            x.out.headers.emplace_back("WWW-Authenticate", "Cookie realm=\"ppo-intake\"");
        } else if (req.method == "POST") {
            // Refused outright (a redirect would look like the 303 of a
            // done action); the page says what to do.
            error(x, 403, "Votre session a expiré ou vous n'êtes pas connecté : reconnectez-vous, puis recommencez.");
        } else {
            x.out.redirect("/login");
        }
        // A stale cookie goes.
        if (!id.empty()) x.out.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", true));
        return;
    }
    x.user = session->login;
    req.csrf = session->csrf;
    if (req.method == "POST" && !same_token(session->csrf, req.form_value("csrf"))) {
        spdlog::warn("web: POST {} by {} without a valid csrf token: 403", loggable(req.path), x.user);
        error(x, 403, kBadToken);
        return;
    }
    if (req.method == "POST" && req.path == "/logout") {
        sessions.end(id);
        spdlog::info("web: user {} logged out", x.user);
        x.out = Out{};
        x.out.headers.emplace_back("Set-Cookie", cookie(kSessionCookie, "", true));
        x.out.redirect("/login");
        return;
    }
    from_handler(x, handler.handle(req, *viewer));
}

void WebServer::Impl::send(Exchange& x, Poco::Net::HTTPServerResponse& response) {
    using Poco::Net::HTTPResponse;
    std::ifstream file;
    std::streamsize file_size = 0;
    if (!x.out.file_path.empty() && x.out.status == 200) {
        file.open(x.out.file_path, std::ios::binary);
        if (file) {
            file.seekg(0, std::ios::end);
            file_size = file.tellg();
            file.seekg(0, std::ios::beg);
        }
        if (!file || file_size < 0) {
            spdlog::error("web: {} {}: cannot read {}", x.request.method, loggable(x.request.path), x.out.file_path);
            error(x, 500, "Le fichier ne peut pas être lu sur le serveur. L'administrateur en est averti par le journal.");
            file.close();
        }
    }
    // A temporary file of the handler's goes now, sent or not: Linux keeps an
    // unlinked file readable through the open stream.
    if (x.out.remove_file) ::unlink(x.out.file_path.c_str());
    const auto status = static_cast<HTTPResponse::HTTPStatus>(x.out.status);
    response.setStatusAndReason(status, HTTPResponse::getReasonForStatus(status));
    response.setContentType(x.out.content_type);
    response.set("Content-Security-Policy", kCsp);
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "same-origin");
    response.set("Cache-Control", "no-store");
    response.setKeepAlive(false);
    for (const auto& [name, value] : x.out.headers) response.add(name, value);
    if (file.is_open()) {
        response.setContentLength64(file_size);
        std::ostream& os = response.send();
        if (!x.head) {
            char buf[65536];
            while (file && os) {
                file.read(buf, sizeof buf);
                if (file.gcount() > 0) os.write(buf, file.gcount());
            }
        }
        return;
    }
    response.setContentLength64(static_cast<Poco::Int64>(x.out.body.size()));
    response.sendBuffer(x.out.body.data(), x.head ? 0 : x.out.body.size());
}

void WebServer::Impl::serve(Poco::Net::HTTPServerRequest& http, Poco::Net::HTTPServerResponse& response) {
    const auto start = steady::now();
    Exchange x{http, {}, {}, {}, "-", false, {}};
    auto& req = x.request;
    try {
        req.remote = client_address(http);
        const std::string& target = http.getURI();
        const auto q = target.find('?');
        x.raw_path = target.substr(0, q);
        const std::string method = http.getMethod();
        x.head = method == "HEAD";
        req.method = x.head ? "GET" : method;
        http.getCookies(x.cookies);
        if (method != "GET" && method != "HEAD" && method != "POST") {
            error(x, 405, "Cette méthode n'est pas acceptée ici.");
            x.out.headers.emplace_back("Allow", "GET, HEAD, POST");
        } else if (!decode_path(x.raw_path, req.path) ||
                   (q != std::string::npos && !parse_params(std::string_view(target).substr(q + 1), req.query))) {
            error(x, 400, "Adresse invalide.");
        } else {
            bool ok = true;
            if (req.method == "POST") {
                std::string body;
                // Neither a length nor chunks: no body (RFC 9112 6.3), where
                // Poco would read until the client closes.
                if (http.hasContentLength() || http.getChunkedTransferEncoding()) {
                    auto& in = http.stream();
                    char buf[8192];
                    while (in && body.size() <= limits.max_body_bytes) {
                        in.read(buf, sizeof buf);
                        body.append(buf, static_cast<std::size_t>(in.gcount()));
                    }
                    ok = body.size() <= limits.max_body_bytes;
                    // Read (and drop) a little more of a big body before
                    // answering 413: closing on unread bytes resets the
                    // connection, and the browser would show no answer.
                    for (std::size_t drained = 0; !ok && in && drained < (1u << 20); drained += sizeof buf)
                        in.read(buf, sizeof buf);
                }
                if (!ok) {
                    error(x, 413, "Le formulaire envoyé est trop volumineux.");
                } else if (is_form(http) && !parse_params(body, req.form)) {
                    ok = false;
                    error(x, 400, "Formulaire invalide.");
                }
            }
            if (ok) route(x);
        }
    } catch (...) {
        std::string what = "unknown exception";
        try {
            throw;
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        spdlog::error("web: {} {}: {}", loggable(http.getMethod()), loggable(x.raw_path), what);
        x.out = Out{};
        try {
            error(x, 500, "Une erreur interne est survenue. L'administrateur en est averti par le journal.");
        } catch (...) {
            x.out = Out{};
            x.out.status = 500;
            x.out.content_type = "text/plain; charset=utf-8";
            x.out.body = "Erreur interne.\n";
        }
    }
    try {
        send(x, response);
    } catch (const std::exception& e) {
        spdlog::debug("web: {} {}: answer not sent: {}", loggable(http.getMethod()), loggable(x.raw_path), e.what());
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
    spdlog::info("web: {} {} {} {} {} ms {}", loggable(http.getMethod()), loggable(x.raw_path), x.out.status, x.user, ms,
                 req.remote);
}

namespace {

class RequestHandler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit RequestHandler(WebServer::Impl& impl) : impl_(impl) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        impl_.serve(request, response);
    }

private:
    WebServer::Impl& impl_;
};

class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit HandlerFactory(WebServer::Impl& impl) : impl_(impl) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new RequestHandler(impl_);
    }

private:
    WebServer::Impl& impl_;
};

}  // namespace

WebServer::WebServer(const workflow::WebConfig& config, web::WebHandler& handler, WebLimits limits)
    : impl_(std::make_unique<Impl>(config, handler, limits)) {
    if (sodium_init() < 0) throw permanent_error("libsodium cannot be initialised");
    Poco::Net::SocketAddress address;
    try {
        address = Poco::Net::SocketAddress(config.listen);
    } catch (const Poco::Exception& e) {
        throw config_error("[web] listen = " + config.listen + ": " + e.displayText());
    }
    Poco::Net::ServerSocket socket;
    if (config.tls()) {
        Poco::Net::Context::Ptr context;
        try {
            Poco::Net::Context::Params params;
            params.certificateFile = config.tls_cert;
            params.privateKeyFile = config.tls_key;
            params.verificationMode = Poco::Net::Context::VERIFY_NONE;   // no client certificates
            params.loadDefaultCAs = false;
            params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
            context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
            context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
            context->preferServerCiphers();
        } catch (const Poco::Exception& e) {
            throw config_error("[web] tls_cert = " + config.tls_cert + ", tls_key = " + config.tls_key +
                               ": cannot load the certificate and key: " + e.displayText());
        }
        try {
            socket = Poco::Net::SecureServerSocket(context);
        } catch (const Poco::Exception& e) {
            throw config_error("[web] tls_cert: " + e.displayText());
        }
    }
    try {
        socket.bind(address, true, false);   // SO_REUSEADDR, not SO_REUSEPORT
        socket.listen(std::max(16, limits.queued));
    } catch (const Poco::Exception& e) {
        throw config_error("[web] listen = " + config.listen + ": cannot listen: " + e.displayText());
    }
    const auto bound = socket.address();
    if (!bound.host().isLoopback() && !config.tls())
        spdlog::warn("[web] listen = {}: the web interface is reachable beyond this machine{} over plain HTTP: "
                     "passwords and session cookies cross the network in clear unless a reverse proxy with TLS "
                     "stands in front (then set base_url = https://...), or set tls_cert and tls_key",
                     config.listen, bound.host().isWildcard() ? " (every interface)" : "");
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(limits.threads);
    params->setMaxQueued(limits.queued);
    params->setThreadIdleTime(Poco::Timespan(10, 0));
    params->setTimeout(Poco::Timespan(static_cast<long>(limits.io_timeout.count()), 0));
    params->setKeepAlive(false);
    impl_->pool = std::make_unique<Poco::ThreadPool>("ppo-web", 1, limits.threads);
    impl_->server = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*impl_), *impl_->pool, socket, params);
    impl_->server->start();
    spdlog::info("web interface on {}://{} (users: {}; sessions end after {} s idle)", config.tls() ? "https" : "http",
                 bound.toString(), config.users_file, config.session_timeout);
}

WebServer::~WebServer() {
    if (impl_->server) impl_->server->stopAll(true);
    impl_->server.reset();
    if (impl_->pool) impl_->pool->joinAll();
}

int WebServer::port() const { return impl_->server->port(); }

}  // namespace ppo::daemon
