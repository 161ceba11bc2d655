// daemon/web/web_server: a real WebServer on 127.0.0.1:0 in front of a fake
// WebHandler, driven over HTTP(S) with Poco's client: what a browser without
// a session gets, logging in and out, the cookies' flags, CSRF, the login rate
// limits, session expiry, paths that must not reach the handler, what the
// handler's answers become on the wire, and what the log never holds.
#include "daemon/web/web_server.h"

#include "bench/tls_cert.h"
#include "daemon/web/web_users.h"
#include "parsers/text/error.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ppo::daemon::WebLimits;
using ppo::daemon::WebServer;
namespace web = ppo::daemon::web;

const std::string kAlicePassword = "alice a un très long mot de passe";
const std::string kBobPassword = "bob-IEN-IO-password-2022";

// The users every test server reads (hashed once: 64 MiB and ~0.1 s each).
const std::vector<web::User>& test_users() {
    static const std::vector<web::User> users = {
        {"alice", "draio", {}, web::hash_password(kAlicePassword)},
        {"bob", "ien-io", {"095912"}, web::hash_password(kBobPassword)},
    };
    return users;
}

// A WebHandler that says what it was given.
class FakeHandler final : public web::WebHandler {
public:
    web::WebResponse handle(const web::WebRequest& request, const web::Viewer& viewer) override {
        {
            std::lock_guard lock(mutex);
            requests.push_back(request);
            viewers.push_back(viewer);
        }
        if (respond) return respond(request);
        web::WebResponse r;
        r.body = "PAGE " + request.path + " for " + viewer.login + " (" + viewer.role + ")";
        return r;
    }
    web::WebResponse login_page(const std::string& csrf, const std::string& error, const std::string& login) override {
        web::WebResponse r;
        r.body = "LOGIN FORM csrf=" + csrf + " error=" + error + " login=" + login;
        return r;
    }
    web::WebResponse error_page(int status, const std::string& message) override {
        web::WebResponse r;
        r.status = status;
        r.body = "ERROR PAGE " + std::to_string(status) + ": " + message;
        return r;
    }
    std::size_t calls() {
        std::lock_guard lock(mutex);
        return requests.size();
    }
    web::WebRequest last() {
        std::lock_guard lock(mutex);
        return requests.back();
    }

    std::function<web::WebResponse(const web::WebRequest&)> respond;
    std::mutex mutex;
    std::vector<web::WebRequest> requests;
    std::vector<web::Viewer> viewers;
};

struct Reply {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;   // last value of each (names as sent)
    std::vector<std::string> set_cookies;         // every Set-Cookie, verbatim
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        out += (out.empty() ? "" : "&") + k + "=";
        for (unsigned char c : v) {
            if (std::isalnum(c) || c == '-' || c == '.' || c == '_') out += static_cast<char>(c);
            else {
                char buf[4];
                std::snprintf(buf, sizeof buf, "%%%02X", c);
                out += buf;
            }
        }
    }
    return out;
}

// A browser: a cookie jar and one request per connection.
class Browser {
public:
    Browser(int port, Poco::Net::Context::Ptr tls = nullptr) : port_(port), tls_(std::move(tls)) {}

    Reply request(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::map<std::string, std::string>& extra = {}) {
        std::unique_ptr<Poco::Net::HTTPClientSession> session;
        if (tls_) session = std::make_unique<Poco::Net::HTTPSClientSession>("127.0.0.1", port_, tls_);
        else session = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", port_);
        session->setTimeout(Poco::Timespan(15, 0));
        Poco::Net::HTTPRequest req(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        std::string cookie;
        for (const auto& [k, v] : jar) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
        if (!cookie.empty()) req.set("Cookie", cookie);
        for (const auto& [k, v] : extra) req.set(k, v);
        if (method == "POST") {
            req.setContentType("application/x-www-form-urlencoded");
            req.setContentLength(static_cast<std::streamsize>(body.size()));
            session->sendRequest(req) << body;
        } else {
            session->sendRequest(req);
        }
        Poco::Net::HTTPResponse resp;
        std::istream& in = session->receiveResponse(resp);
        Reply r;
        r.status = resp.getStatus();
        Poco::StreamCopier::copyToString(in, r.body);
        for (const auto& [k, v] : resp) {
            r.headers[k] = v;
            if (k == "Set-Cookie") {
                r.set_cookies.push_back(v);
                const auto eq = v.find('='), semi = v.find(';');
                const std::string name = v.substr(0, eq), value = v.substr(eq + 1, semi - eq - 1);
                if (v.find("Max-Age=0") != std::string::npos) jar.erase(name);
                else jar[name] = value;
            }
        }
        return r;
    }
    Reply get(const std::string& target) { return request("GET", target); }
    Reply post(const std::string& target, const std::vector<std::pair<std::string, std::string>>& fields,
               const std::map<std::string, std::string>& extra = {}) {
        return request("POST", target, form_encode(fields), extra);
    }

    // GET /login, then POST it; the reply of the POST.
    Reply login(const std::string& login, const std::string& password,
                const std::map<std::string, std::string>& extra = {}) {
        auto form = get("/login");
        EXPECT_EQ(form.status, 200);
        return post("/login", {{"login", login}, {"password", password}, {"csrf", jar["ppo_login"]}}, extra);
    }

    std::map<std::string, std::string> jar;

private:
    int port_;
    Poco::Net::Context::Ptr tls_;
};

std::string set_cookie_of(const Reply& r, const std::string& name) {
    for (const auto& c : r.set_cookies)
        if (c.rfind(name + "=", 0) == 0) return c;
    return "";
}

// The page's csrf token, as the handler was given it.
std::string csrf_of(FakeHandler& handler) { return handler.last().csrf; }

class WebServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = (fs::temp_directory_path() / ("ppo-web-server-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                  .string();
        fs::create_directories(dir);
        config.listen = "127.0.0.1:0";
        config.users_file = dir + "/users";
        web::save_users(config.users_file, test_users());
    }
    void TearDown() override {
        server.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    void start(WebLimits limits = {}) { server = std::make_unique<WebServer>(config, handler, limits); }
    Browser browser(Poco::Net::Context::Ptr tls = nullptr) { return Browser(server->port(), std::move(tls)); }

    // Logged in as alice; returns the browser.
    Browser alice() {
        auto b = browser();
        auto r = b.login("alice", kAlicePassword);
        EXPECT_EQ(r.status, 303) << r.body;
        return b;
    }

    std::string dir;
    ppo::workflow::WebConfig config;
    FakeHandler handler;
    std::unique_ptr<WebServer> server;
};

void expect_security_headers(const Reply& r, const std::string& what) {
    EXPECT_EQ(r.header("Content-Security-Policy"),
              "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
              "frame-ancestors 'none'; base-uri 'none'")
        << what;
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff") << what;
    EXPECT_EQ(r.header("Referrer-Policy"), "same-origin") << what;
    EXPECT_EQ(r.header("Cache-Control"), "no-store") << what;
}

TEST_F(WebServerTest, WithoutASessionPagesRedirectToLoginAndTheApiSays401) {
    start();
    auto b = browser();
    for (const std::string target : {"/", "/lycees?state=late", "/triage", "/files/12/ppo.pdf"}) {
        auto r = b.get(target);
        EXPECT_EQ(r.status, 303) << target;
        EXPECT_EQ(r.header("Location"), "/login") << target;
        expect_security_headers(r, target);
    }
    EXPECT_EQ(b.request("HEAD", "/").status, 303);
    // A POST without a session is refused (not a 303 that looks like success).
    auto post = b.post("/triage/1/reject", {{"csrf", "x"}});
    EXPECT_EQ(post.status, 403);
    EXPECT_NE(post.body.find("Votre session a expiré"), std::string::npos) << post.body;
    EXPECT_EQ(b.post("/api/x", {{"csrf", "x"}}).status, 401);
    for (const std::string target : {"/api/status", "/api/x", "/api"}) {
        auto r = b.get(target);
        EXPECT_EQ(r.status, 401) << target;
        EXPECT_EQ(r.header("Content-Type"), "application/json") << target;
        EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
        expect_security_headers(r, target);
    }
    // A made-up session cookie is no session (and is cleared).
    b.jar["ppo_session"] = std::string(64, 'a');
    auto r = b.get("/");
    EXPECT_EQ(r.status, 303);
    EXPECT_NE(set_cookie_of(r, "ppo_session").find("Max-Age=0"), std::string::npos);
    EXPECT_EQ(handler.calls(), 0u);
}

TEST_F(WebServerTest, LoginSetsAnHttpOnlyStrictSessionCookieAndReachesTheHandler) {
    start();
    auto b = browser();
    auto form = b.get("/login");
    EXPECT_EQ(form.status, 200);
    expect_security_headers(form, "GET /login");
    const auto login_cookie = set_cookie_of(form, "ppo_login");
    ASSERT_FALSE(login_cookie.empty());
    EXPECT_NE(login_cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(login_cookie.find("SameSite=Strict"), std::string::npos);
    // The hidden field carries the cookie's token.
    EXPECT_NE(form.body.find("csrf=" + b.jar["ppo_login"] + " "), std::string::npos) << form.body;

    auto r = b.post("/login", {{"login", "alice"}, {"password", kAlicePassword}, {"csrf", b.jar["ppo_login"]}});
    EXPECT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(r.header("Location"), "/");
    expect_security_headers(r, "POST /login");
    const auto cookie = set_cookie_of(r, "ppo_session");
    ASSERT_FALSE(cookie.empty());
    EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;
    EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain HTTP, no https base_url: " << cookie;
    EXPECT_EQ(b.jar["ppo_session"].size(), 64u);
    EXPECT_FALSE(b.jar.count("ppo_login")) << "the login form's cookie is dropped once logged in";

    auto page = b.get("/lycees/0596082R?q=Jean%20Bart&state=late");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body, "PAGE /lycees/0596082R for alice (draio)");
    expect_security_headers(page, "a page");
    ASSERT_EQ(handler.calls(), 1u);
    const auto seen = handler.last();
    EXPECT_EQ(seen.method, "GET");
    EXPECT_EQ(seen.query_value("q"), "Jean Bart");
    EXPECT_EQ(seen.query_value("state"), "late");
    EXPECT_EQ(seen.remote, "127.0.0.1");
    EXPECT_EQ(seen.csrf.size(), 64u);
    EXPECT_NE(seen.csrf, b.jar["ppo_session"]);

    // The ien-io is given their role and bassins.
    auto bob = browser();
    EXPECT_EQ(bob.login("bob", kBobPassword).status, 303);
    EXPECT_EQ(bob.get("/").body, "PAGE / for bob (ien-io)");
    EXPECT_EQ(handler.viewers.back().bassins, (std::vector<std::string>{"095912"}));
    // The login is taken whatever its case and spaces.
    auto again = browser();
    EXPECT_EQ(again.login("  ALICE ", kAlicePassword).status, 303);
}

TEST_F(WebServerTest, AWrongPasswordShowsTheFormAgainWithAFrenchError) {
    start();
    for (const auto& [login, password] : std::vector<std::pair<std::string, std::string>>{
             {"alice", "not the password"}, {"nobody", kAlicePassword}, {"alice", ""}, {"bad login!", "x"}}) {
        auto b = browser();
        auto r = b.login(login, password);
        EXPECT_EQ(r.status, 200) << login;
        EXPECT_NE(r.body.find("LOGIN FORM"), std::string::npos) << r.body;
        EXPECT_NE(r.body.find("error=Identifiant ou mot de passe incorrect."), std::string::npos) << r.body;
        EXPECT_TRUE(set_cookie_of(r, "ppo_session").empty()) << login;
        EXPECT_EQ(b.get("/").status, 303) << login;
    }
    EXPECT_EQ(handler.calls(), 0u);
}

TEST_F(WebServerTest, TheSixthFailedLoginIsRefusedWith429AndRetryAfter) {
    start();
    for (int i = 1; i <= 5; ++i) {
        auto b = browser();
        auto r = b.login("alice", "wrong password " + std::to_string(i));
        EXPECT_EQ(r.status, 200) << "attempt " << i;
        EXPECT_NE(r.body.find("incorrect"), std::string::npos) << r.body;
    }
    auto b = browser();
    auto r = b.login("alice", "wrong password 6");
    EXPECT_EQ(r.status, 429);
    EXPECT_NE(r.body.find("Trop de tentatives"), std::string::npos) << r.body;
    const int retry = std::stoi(r.header("Retry-After"));
    EXPECT_GT(retry, 800);
    EXPECT_LE(retry, 900);
    expect_security_headers(r, "429");
    // Even the right password waits: the password is not even checked.
    EXPECT_EQ(browser().login("alice", kAlicePassword).status, 429);
    // Another login from the same address is not blocked (20 per address).
    EXPECT_EQ(browser().login("bob", kBobPassword).status, 303);
}

TEST_F(WebServerTest, FailuresAreCountedPerAddressBehindALocalProxyToo) {
    WebLimits limits;
    limits.failures_per_address = 3;
    start(limits);
    const std::map<std::string, std::string> from_a = {{"X-Forwarded-For", "203.0.113.7, 198.51.100.1"}};
    for (const std::string login : {"carol", "dave", "erin"}) EXPECT_EQ(browser().login(login, "guess", from_a).status, 200);
    // A fourth login, never tried, from the same address: blocked.
    EXPECT_EQ(browser().login("alice", kAlicePassword, from_a).status, 429);
    // Someone else behind the same proxy is not.
    EXPECT_EQ(browser().login("alice", kAlicePassword, {{"X-Forwarded-For", "198.51.100.2"}}).status, 303);
}

TEST_F(WebServerTest, APostWithoutTheCsrfTokenIs403AndWithItReachesTheHandler) {
    start();
    auto b = alice();
    (void)b.get("/triage");
    const std::string csrf = csrf_of(handler);
    const auto before = handler.calls();
    for (const auto& fields : std::vector<std::vector<std::pair<std::string, std::string>>>{
             {{"uai", "0596082R"}},
             {{"uai", "0596082R"}, {"csrf", ""}},
             {{"uai", "0596082R"}, {"csrf", std::string(64, '0')}},
             {{"uai", "0596082R"}, {"csrf", csrf.substr(0, 63)}},
             {{"uai", "0596082R"}, {"csrf", b.jar["ppo_session"]}}}) {
        auto r = b.post("/triage/7/assign", fields);
        EXPECT_EQ(r.status, 403);
        EXPECT_NE(r.body.find("ERROR PAGE 403"), std::string::npos) << r.body;
        expect_security_headers(r, "403");
    }
    EXPECT_EQ(handler.calls(), before) << "a refused POST reached the handler";
    // A token in the query string does not count: it must be in the form.
    EXPECT_EQ(b.request("POST", "/triage/7/reject?csrf=" + csrf, "").status, 403);

    handler.respond = [](const web::WebRequest&) {
        web::WebResponse r;
        r.location = "/triage";
        return r;
    };
    auto r = b.post("/triage/7/assign", {{"uai", "0596082R"}, {"csrf", csrf}, {"note", "élève + prof"}});
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("Location"), "/triage");
    ASSERT_EQ(handler.calls(), before + 1);
    const auto seen = handler.last();
    EXPECT_EQ(seen.method, "POST");
    EXPECT_EQ(seen.path, "/triage/7/assign");
    EXPECT_EQ(seen.form_value("uai"), "0596082R");
    EXPECT_EQ(seen.form_value("note"), "élève + prof");
    // Another session's token is not this one's.
    auto other = alice();
    EXPECT_EQ(other.post("/triage/7/assign", {{"uai", "0596082R"}, {"csrf", csrf}}).status, 403);
}

TEST_F(WebServerTest, TheLoginFormIsProtectedByItsOwnToken) {
    start();
    auto b = browser();
    (void)b.get("/login");
    const std::string token = b.jar["ppo_login"];
    // No token, a wrong one, or no cookie: 403, the password not even tried.
    EXPECT_EQ(b.post("/login", {{"login", "alice"}, {"password", kAlicePassword}}).status, 403);
    EXPECT_EQ(b.post("/login", {{"login", "alice"}, {"password", kAlicePassword}, {"csrf", std::string(64, 'f')}}).status,
              403);
    Browser stranger(server->port());
    EXPECT_EQ(stranger.post("/login", {{"login", "alice"}, {"password", kAlicePassword}, {"csrf", token}}).status, 403);
    EXPECT_EQ(b.post("/login", {{"login", "alice"}, {"password", kAlicePassword}, {"csrf", token}}).status, 303);
}

TEST_F(WebServerTest, LogoutEndsTheSessionAndEachLoginGetsANewId) {
    start();
    auto b = alice();
    const std::string first = b.jar["ppo_session"];
    EXPECT_EQ(b.get("/").status, 200);
    // Logging in again (the old cookie sent along) gives a new id and ends the old one.
    EXPECT_EQ(b.login("alice", kAlicePassword).status, 303);
    const std::string second = b.jar["ppo_session"];
    EXPECT_NE(second, first);
    Browser replay(server->port());
    replay.jar["ppo_session"] = first;
    EXPECT_EQ(replay.get("/").status, 303) << "the pre-login session id still works";

    (void)b.get("/");
    const std::string csrf = csrf_of(handler);
    EXPECT_EQ(b.post("/logout", {}).status, 403) << "logout needs the token too";
    EXPECT_EQ(b.get("/").status, 200);
    auto r = b.post("/logout", {{"csrf", csrf}});
    EXPECT_EQ(r.status, 303);
    EXPECT_EQ(r.header("Location"), "/login");
    EXPECT_NE(set_cookie_of(r, "ppo_session").find("Max-Age=0"), std::string::npos);
    replay.jar["ppo_session"] = second;
    EXPECT_EQ(replay.get("/").status, 303) << "the session outlived its logout";
    EXPECT_EQ(replay.get("/api/status").status, 401);
}

TEST_F(WebServerTest, AnIdleSessionExpiresAndARemovedUserIsLoggedOut) {
    config.session_timeout = 2;
    start();
    auto b = alice();
    EXPECT_EQ(b.get("/").status, 200);
    std::this_thread::sleep_for(2500ms);
    EXPECT_EQ(b.get("/").status, 303) << "the idle session did not expire";

    server.reset();
    config.session_timeout = 3600;
    start();
    auto bob = browser();
    ASSERT_EQ(bob.login("bob", kBobPassword).status, 303);
    EXPECT_EQ(bob.get("/").status, 200);
    web::save_users(config.users_file, {test_users()[0]});   // bob removed
    EXPECT_EQ(bob.get("/").status, 303);
    EXPECT_EQ(bob.login("bob", kBobPassword).status, 200);
}

TEST_F(WebServerTest, PathsWithDotDotNulOrBadUtf8Are400BeforeAnything) {
    start();
    auto b = alice();
    const auto before = handler.calls();
    for (const std::string target :
         {"/files/1/..", "/files/1/../../etc/passwd", "/files/%2e%2e/x", "/files/1/..%2Fppo.db", "/files/1/a%2fb",
          "/files/1/a%00b.pdf", "/files/1/a%0Ab.pdf", "/files/1/%C3%28.pdf", "/files/1/%FF.pdf", "/files/1/%zz",
          "/files/1/a%5C..%5Cb", "/./", "/lycees?q=%00", "/lycees?q=%C3", "/lycees?q=%2"}) {
        auto r = b.get(target);
        EXPECT_EQ(r.status, 400) << target;
        expect_security_headers(r, target);
    }
    EXPECT_EQ(handler.calls(), before);
    // Without a session too.
    EXPECT_EQ(browser().get("/files/1/a%00b").status, 400);
    // A well-formed UTF-8 name is fine.
    auto r = b.get("/files/3/Lyc%C3%A9e%20%C3%A9t%C3%A9.pdf");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(handler.last().path, "/files/3/Lycée été.pdf");
}

TEST_F(WebServerTest, AnswersBecomeRedirectsDownloadsAndStreamedFiles) {
    start();
    auto b = alice();
    const std::string file = dir + "/archived.pdf";
    std::string content(200000, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 % 251);
    std::ofstream(file, std::ios::binary) << content;
    handler.respond = [&](const web::WebRequest& req) {
        web::WebResponse r;
        if (req.path == "/go") r.location = "/lycees?state=late";
        else if (req.path == "/csv") {
            r.content_type = "text/csv; charset=utf-8";
            r.body = "uai;état\n";
            r.download_name = "état \"PPO\" 2022.csv";
        } else if (req.path == "/file") {
            r.content_type = "application/pdf";
            r.file_path = file;
            r.download_name = "Lycée Jean Bart.pdf";
        } else if (req.path == "/gone") {
            r.file_path = dir + "/missing.pdf";
        } else if (req.path == "/evil") {
            r.location = "https://elsewhere.example/";
        } else if (req.path == "/split") {
            r.location = "/x\r\nSet-Cookie: a=b";
        } else {
            r.status = 404;
            r.body = "nope";
        }
        return r;
    };
    auto go = b.get("/go");
    EXPECT_EQ(go.status, 303);
    EXPECT_EQ(go.header("Location"), "/lycees?state=late");
    expect_security_headers(go, "303");

    auto csv = b.get("/csv");
    EXPECT_EQ(csv.status, 200);
    EXPECT_EQ(csv.header("Content-Type"), "text/csv; charset=utf-8");
    EXPECT_EQ(csv.header("Content-Disposition"),
              "attachment; filename=\"_tat _PPO_ 2022.csv\"; filename*=UTF-8''%C3%A9tat%20%22PPO%22%202022.csv");
    EXPECT_EQ(csv.body, "uai;état\n");

    auto pdf = b.get("/file");
    EXPECT_EQ(pdf.status, 200);
    EXPECT_EQ(pdf.body.size(), content.size());
    EXPECT_TRUE(pdf.body == content) << "the streamed file differs";
    EXPECT_EQ(pdf.header("Content-Type"), "application/pdf");
    EXPECT_EQ(pdf.header("Content-Length"), std::to_string(content.size()));
    EXPECT_NE(pdf.header("Content-Disposition").find("filename*=UTF-8''Lyc%C3%A9e%20Jean%20Bart.pdf"),
              std::string::npos);
    expect_security_headers(pdf, "a download");
    auto head = b.request("HEAD", "/file");
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(head.header("Content-Length"), std::to_string(content.size()));
    EXPECT_EQ(handler.last().method, "GET") << "HEAD reaches the handler as GET";

    EXPECT_EQ(b.get("/gone").status, 500);
    EXPECT_EQ(b.get("/evil").status, 500) << "an off-site redirect";
    auto split = b.get("/split");
    EXPECT_EQ(split.status, 500);
    EXPECT_TRUE(split.header("a").empty());
    EXPECT_EQ(b.get("/other").status, 404);
}

TEST_F(WebServerTest, AThrowingHandlerIs500AndTheServerGoesOn) {
    start();
    auto b = alice();
    handler.respond = [](const web::WebRequest& req) -> web::WebResponse {
        if (req.path == "/boom") throw std::runtime_error("database on fire");
        if (req.path == "/int") throw 42;
        return {};
    };
    auto r = b.get("/boom");
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("ERROR PAGE 500"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("database on fire"), std::string::npos) << "internals shown to the user";
    expect_security_headers(r, "500");
    EXPECT_EQ(b.get("/int").status, 500);
    EXPECT_EQ(b.get("/fine").status, 200);
}

TEST_F(WebServerTest, OtherMethodsAre405AndBigBodies413) {
    start();
    auto b = alice();
    auto put = b.request("PUT", "/lycees", "x");
    EXPECT_EQ(put.status, 405);
    EXPECT_EQ(put.header("Allow"), "GET, HEAD, POST");
    (void)b.get("/");
    const std::string csrf = csrf_of(handler);
    const auto before = handler.calls();
    auto big = b.post("/triage/1/assign", {{"csrf", csrf}, {"uai", std::string(70 * 1024, 'x')}});
    EXPECT_EQ(big.status, 413);
    EXPECT_EQ(handler.calls(), before);
    EXPECT_EQ(b.post("/triage/1/assign", {{"csrf", csrf}, {"uai", std::string(60 * 1024, 'x')}}).status, 200);
}

TEST_F(WebServerTest, TheLogHasOneLinePerRequestAndNeverAPasswordCookieOrToken) {
    std::ostringstream captured;
    auto previous = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    start();
    auto b = browser();
    (void)b.login("alice", "a wrong password typed here");
    (void)b.login("alice typed her password here", kAlicePassword);
    const std::string login_token = b.jar["ppo_login"];
    auto r = b.login("alice", kAlicePassword);
    (void)b.get("/lycees?q=secret-query");
    const std::string csrf = csrf_of(handler);
    (void)b.post("/logout", {{"csrf", csrf}});
    server.reset();
    spdlog::set_default_logger(previous);
    const std::string log = captured.str();
    EXPECT_EQ(log.find(kAlicePassword), std::string::npos) << log;
    EXPECT_EQ(log.find("a wrong password typed here"), std::string::npos) << log;
    EXPECT_EQ(log.find("alice typed her password here"), std::string::npos) << log;
    EXPECT_EQ(log.find(csrf), std::string::npos) << log;
    ASSERT_EQ(login_token.size(), 64u);
    EXPECT_EQ(log.find(login_token), std::string::npos) << log;
    EXPECT_EQ(log.find("secret-query"), std::string::npos) << "the query string is not logged: " << log;
    const auto cookie = set_cookie_of(r, "ppo_session");
    const std::string session_id = cookie.substr(12, 64);
    EXPECT_EQ(log.find(session_id), std::string::npos) << log;
    EXPECT_NE(log.find("web: GET /lycees 200 alice"), std::string::npos) << log;
    EXPECT_NE(log.find("web: POST /login 303 alice"), std::string::npos) << log;
    EXPECT_NE(log.find("web: POST /logout 303 alice"), std::string::npos) << log;
}

TEST_F(WebServerTest, OverTlsTheCookiesAreSecure) {
    const auto cert = ppo::testbench::make_self_signed_cert(dir, "web");
    config.tls_cert = cert.cert;
    config.tls_key = cert.key;
    start();
    Poco::Net::Context::Ptr client = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", cert.cert,
                                                           Poco::Net::Context::VERIFY_RELAXED, 9, false);
    auto b = browser(client);
    auto form = b.get("/login");
    EXPECT_EQ(form.status, 200);
    EXPECT_NE(set_cookie_of(form, "ppo_login").find("; Secure"), std::string::npos);
    auto r = b.post("/login", {{"login", "alice"}, {"password", kAlicePassword}, {"csrf", b.jar["ppo_login"]}});
    EXPECT_EQ(r.status, 303);
    const auto cookie = set_cookie_of(r, "ppo_session");
    EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
    EXPECT_EQ(b.get("/").body, "PAGE / for alice (draio)");
    // Plain HTTP on the TLS port gets nothing useful.
    Browser plain(server->port());
    EXPECT_ANY_THROW(plain.get("/login"));
}

TEST_F(WebServerTest, BehindAnHttpsProxyTheCookiesAreSecureToo) {
    config.base_url = "https://ppo.example.fr";
    start();
    auto b = browser();
    auto r = b.login("alice", kAlicePassword);
    EXPECT_NE(set_cookie_of(r, "ppo_session").find("; Secure"), std::string::npos);
}

TEST_F(WebServerTest, ABadCertificateOrAnAddressInUseIsAConfigurationError) {
    config.tls_cert = dir + "/none.crt";
    config.tls_key = dir + "/none.key";
    try {
        start();
        FAIL() << "started without its certificate";
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::config);
        EXPECT_NE(std::string(e.what()).find("[web] tls_cert"), std::string::npos) << e.what();
    }
    config.tls_cert.clear();
    config.tls_key.clear();
    start();
    config.listen = "127.0.0.1:" + std::to_string(server->port());
    try {
        WebServer second(config, handler);
        FAIL() << "two servers on one port";
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::config);
        EXPECT_NE(std::string(e.what()).find("[web] listen"), std::string::npos) << e.what();
    }
}

}  // namespace
