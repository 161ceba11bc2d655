// The seam between the web server (daemon/web/web_server.h: HTTP, TLS, users,
// sessions, CSRF, login rate limits) and the web application (daemon/web/web_app.h:
// pages, exports, actions, rendered from etc/templates/web/). The server only
// hands authenticated requests, whose CSRF token it has already checked, to a
// WebHandler; the handler never sees a password or a session cookie.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ppo::daemon::web {

// Who is asking. "draio" sees and does everything; "ien-io" sees the lycées,
// submissions and files of `bassins` only, and has no triage or outbox action.
struct Viewer {
    std::string login;
    std::string role;                    // "draio" | "ien-io"
    std::vector<std::string> bassins;    // bassin codes (ien-io)
    bool is_draio() const { return role == "draio"; }
};

using Params = std::vector<std::pair<std::string, std::string>>;

struct WebRequest {
    std::string method;                  // "GET" | "POST" | "HEAD"
    std::string path;                    // percent-decoded, without the query ("/lycees/0596082R")
    Params query;                        // decoded query parameters, in order
    Params form;                         // decoded application/x-www-form-urlencoded body (POST)
    std::string csrf;                    // this session's CSRF token: every form carries it as hidden "csrf"
    std::string remote;                  // client address (for logs)

    // First value of a query / form parameter, "" when absent.
    std::string query_value(const std::string& name) const;
    std::string form_value(const std::string& name) const;
};

struct WebResponse {
    int status = 200;
    std::string content_type = "text/html; charset=utf-8";
    std::string body;
    std::string location;                // non-empty: 303 See Other to this path
    std::string download_name;           // non-empty: Content-Disposition: attachment (UTF-8 name, RFC 6266)
    std::string file_path;               // non-empty: the body is this file, streamed from disk
    bool remove_file = false;            // file_path is a temporary file of the handler's: removed once opened
};

class WebHandler {
public:
    virtual ~WebHandler() = default;
    // Every request of a logged-in user, after the session and CSRF checks.
    // Paths under /api/ answer JSON.
    virtual WebResponse handle(const WebRequest& request, const Viewer& viewer) = 0;
    // GET /login (and a failed POST /login): the form with fields login,
    // password and the hidden csrf; `error` is French, "" for none.
    virtual WebResponse login_page(const std::string& csrf, const std::string& error, const std::string& login) = 0;
    // A French page for 400, 403, 404, 429, 500 (`message` is French).
    virtual WebResponse error_page(int status, const std::string& message) = 0;
};

inline std::string first_value(const Params& params, const std::string& name) {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return {};
}
inline std::string WebRequest::query_value(const std::string& name) const { return first_value(query, name); }
inline std::string WebRequest::form_value(const std::string& name) const { return first_value(form, name); }

}  // namespace ppo::daemon::web
