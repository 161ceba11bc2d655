// The web interface's commands against the real binary: `user add|list|remove`
// (the password from stdin, hashed, never shown), `ppo-intake web` (serves the
// interface and /healthz, takes no mail, stops on SIGTERM) and `run` with
// [web] listen (serves it beside the intake).
#include "bench/harness.h"
#include "bench/smtp_capture.h"
#include "bench/tls_cert.h"
#include "daemon/web/web_users.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

using namespace ppo::testbench;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kPassword = "correct horse battery staple";

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// ppo-intake -c CONFIG ARGS... with `input` on its stdin.
RunResult ppo_with_stdin(Harness& h, const std::vector<std::string>& args, const std::string& input) {
    const std::string in_file = h.dir() + "/stdin.txt";
    std::ofstream(in_file, std::ios::binary) << input;
    std::string cmd = "exec " + shell_quote(PPO_BINARY) + " -c " + shell_quote(h.config_path());
    for (const auto& a : args) cmd += " " + shell_quote(a);
    cmd += " < " + shell_quote(in_file);
    return run_command({"/bin/sh", "-c", cmd});
}

Harness::Options web_options(std::map<std::string, std::string> extra = {}) {
    Harness::Options o;
    o.import_directory = false;
    o.extra_config = std::move(extra);
    o.extra_config["web.users_file"] = "users";   // beside the configuration
    return o;
}

struct Reply {
    int status = 0;
    std::string body;
    std::string location;
    std::vector<std::string> set_cookies;
};

// Enough of a browser for the placeholder pages: cookies and forms.
class Browser {
public:
    explicit Browser(int port) : port_(port) {}
    Reply request(const std::string& method, const std::string& target, const std::string& body = "") {
        Poco::Net::HTTPClientSession session("127.0.0.1", port_);
        session.setTimeout(Poco::Timespan(15, 0));
        Poco::Net::HTTPRequest req(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        std::string cookie;
        for (const auto& [k, v] : jar_) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
        if (!cookie.empty()) req.set("Cookie", cookie);
        if (method == "POST") {
            req.setContentType("application/x-www-form-urlencoded");
            req.setContentLength(static_cast<std::streamsize>(body.size()));
            session.sendRequest(req) << body;
        } else {
            session.sendRequest(req);
        }
        Poco::Net::HTTPResponse resp;
        std::istream& in = session.receiveResponse(resp);
        Reply r;
        r.status = resp.getStatus();
        Poco::StreamCopier::copyToString(in, r.body);
        r.location = resp.get("Location", "");
        for (const auto& [k, v] : resp)
            if (k == "Set-Cookie") {
                r.set_cookies.push_back(v);
                const auto eq = v.find('='), semi = v.find(';');
                if (v.find("Max-Age=0") != std::string::npos) jar_.erase(v.substr(0, eq));
                else jar_[v.substr(0, eq)] = v.substr(eq + 1, semi - eq - 1);
            }
        return r;
    }
    // The hidden csrf field of a page.
    static std::string csrf_of(const std::string& html) {
        std::smatch m;
        static const std::regex re("name=\"csrf\" value=\"([0-9a-f]{64})\"");
        return std::regex_search(html, m, re) ? m[1].str() : "";
    }
    Reply login(const std::string& login, const std::string& password) {
        auto form = request("GET", "/login");
        EXPECT_EQ(form.status, 200);
        EXPECT_NE(form.body.find("id=\"login\""), std::string::npos) << form.body;
        return request("POST", "/login", "login=" + login + "&password=" + password_encoded(password) +
                                             "&csrf=" + csrf_of(form.body));
    }
    static std::string password_encoded(const std::string& p) {
        std::string out;
        for (char c : p) out += c == ' ' ? std::string("+") : std::string(1, c);
        return out;
    }

private:
    int port_;
    std::map<std::string, std::string> jar_;
};

bool wait_for_port(int port, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (detail::can_connect(port)) return true;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

// SIGTERM and the exit status (-1: had to be killed).
int stop(pid_t pid, std::chrono::seconds timeout = 20s) {
    ::kill(pid, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
}

std::string http_body(int port, const std::string& path, int* status = nullptr) {
    Browser b(port);
    auto r = b.request("GET", path);
    if (status) *status = r.status;
    return r.body;
}

}  // namespace

TEST(WebUserCommands, AddListRemoveThroughTheCommandLine) {
    Harness h(web_options());
    const std::string users = h.dir() + "/users";

    auto add = ppo_with_stdin(h, {"user", "add", "alice", "--role", "draio"}, kPassword + "\n");
    ASSERT_EQ(add.exit_code, 0) << add.err;
    EXPECT_NE(add.out.find("User alice added to " + users), std::string::npos) << add.out;
    struct stat st {};
    ASSERT_EQ(::stat(users.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    std::string text = read_text(users);
    EXPECT_EQ(text.find(kPassword), std::string::npos) << "the password reached the file";
    EXPECT_NE(text.find("alice:draio::$argon2id$"), std::string::npos) << text;
    EXPECT_EQ(add.err.find(kPassword), std::string::npos) << "the password was logged: " << add.err;

    ASSERT_EQ(ppo_with_stdin(h, {"user", "add", "bob", "--role", "ien-io", "--bassin", "095913", "--bassin", "095912"},
                             "un autre mot de passe\r\nsecond line ignored\n")
                  .exit_code,
              0);
    auto list = h.ppo({"user", "list"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_NE(list.out.find("alice"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("draio"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("bob"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("ien-io  095912,095913"), std::string::npos) << list.out;
    EXPECT_EQ(list.out.find("argon2"), std::string::npos) << "list shows hashes: " << list.out;

    // The hashes are the passwords' (the CR and the second line are not part of it).
    auto parsed = ppo::daemon::web::load_users(users);
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_TRUE(ppo::daemon::web::verify_password(parsed[0].hash, kPassword));
    EXPECT_TRUE(ppo::daemon::web::verify_password(parsed[1].hash, "un autre mot de passe"));

    // Refused, the file unchanged: exit 2.
    text = read_text(users);
    struct Case {
        std::vector<std::string> args;
        std::string input, expected;
    };
    for (const auto& c : std::vector<Case>{
             {{"user", "add", "carol", "--role", "draio"}, "short pass\n", "shorter than 12 characters"},
             {{"user", "add", "carol", "--role", "draio"}, "\n", "the password is empty"},
             {{"user", "add", "carol", "--role", "draio"}, "", "no password on stdin"},
             {{"user", "add", "carol", "--role", "ien-io"}, kPassword + "\n", "at least one --bassin"},
             {{"user", "add", "carol", "--role", "draio", "--bassin", "095912"}, kPassword + "\n", "ien-io users only"},
             {{"user", "add", "carol", "--role", "admin"}, kPassword + "\n", "expected draio or ien-io"},
             {{"user", "add", "carol"}, kPassword + "\n", "--role draio or --role ien-io is required"},
             {{"user", "add", "Carol", "--role", "draio"}, kPassword + "\n", "is not a login"},
             {{"user", "add", "carol", "--role", "ien-io", "--bassin", "09/59"}, kPassword + "\n", "not a bassin code"},
             {{"user", "add", "--role", "draio"}, kPassword + "\n", "expected LOGIN"},
             {{"user", "add", "carol", "dave", "--role", "draio"}, kPassword + "\n", "unexpected argument 'dave'"},
             {{"user"}, "", "expected 'add"},
             {{"user", "frob"}, "", "unknown subcommand 'frob'"},
             {{"user", "list", "--all"}, "", "unexpected argument"},
             {{"user", "remove"}, "", "expected LOGIN"},
         }) {
        auto r = ppo_with_stdin(h, c.args, c.input);
        EXPECT_EQ(r.exit_code, 2) << c.expected << ": " << r.err;
        EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find(kPassword), std::string::npos) << r.err;
    }
    EXPECT_EQ(read_text(users), text) << "a refused command changed the file";

    // Adding an existing login replaces it, and says so.
    auto again = ppo_with_stdin(h, {"user", "add", "alice", "--role", "ien-io", "--bassin", "095911"},
                                "a brand new passphrase\n");
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.out.find("User alice replaced"), std::string::npos) << again.out;
    parsed = ppo::daemon::web::load_users(users);
    ASSERT_EQ(parsed.size(), 2u);
    EXPECT_EQ(parsed[0].role, "ien-io");
    EXPECT_FALSE(ppo::daemon::web::verify_password(parsed[0].hash, kPassword));
    EXPECT_TRUE(ppo::daemon::web::verify_password(parsed[0].hash, "a brand new passphrase"));

    auto removed = h.ppo({"user", "remove", "bob"});
    EXPECT_EQ(removed.exit_code, 0) << removed.err;
    EXPECT_NE(removed.out.find("User bob removed"), std::string::npos) << removed.out;
    auto unknown = h.ppo({"user", "remove", "bob"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("no user 'bob'"), std::string::npos) << unknown.err;
    list = h.ppo({"user", "list"});
    EXPECT_EQ(list.out.find("bob"), std::string::npos) << list.out;
    ASSERT_EQ(::stat(users.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);

    // A hand-broken file is refused by name and line, and add does not touch it.
    std::ofstream(users, std::ios::app) << "mallory:root::x\n";
    auto broken = h.ppo({"user", "list"});
    EXPECT_EQ(broken.exit_code, 2);
    EXPECT_NE(broken.err.find(users + ":3: "), std::string::npos) << broken.err;
    EXPECT_EQ(ppo_with_stdin(h, {"user", "add", "carol", "--role", "draio"}, kPassword + "\n").exit_code, 2);

    EXPECT_EQ(run_command({PPO_BINARY, "user", "--help"}).exit_code, 0);
    EXPECT_EQ(run_command({PPO_BINARY, "web", "--help"}).exit_code, 0);
}

TEST(WebCommand, ServesTheInterfaceAndHealthWithoutTakingMail) {
    const int web_port = free_port();
    const int http_port = free_port();
    Harness h(web_options({{"web.listen", "127.0.0.1:" + std::to_string(web_port)},
                           {"http.listen", "127.0.0.1:" + std::to_string(http_port)}}));
    ASSERT_EQ(ppo_with_stdin(h, {"user", "add", "alice", "--role", "draio"}, kPassword + "\n").exit_code, 0);
    TestMail mail;
    mail.files.push_back({"ppo.pdf", "application/pdf", sample_pdf("web"), ""});
    h.deliver(mail);

    const std::string log = h.dir() + "/web.log";
    pid_t pid = detail::spawn({PPO_BINARY, "-c", h.config_path(), "web"}, log);
    ASSERT_TRUE(wait_for_port(web_port, 20s)) << read_text(log);

    Browser b(web_port);
    auto anonymous = b.request("GET", "/");
    EXPECT_EQ(anonymous.status, 303);
    EXPECT_EQ(anonymous.location, "/login");
    EXPECT_EQ(b.request("GET", "/api/status").status, 401);
    auto wrong = b.login("alice", "not the password");
    EXPECT_EQ(wrong.status, 200);
    EXPECT_NE(wrong.body.find("Identifiant ou mot de passe incorrect."), std::string::npos) << wrong.body;
    auto in = b.login("alice", kPassword);
    ASSERT_EQ(in.status, 303) << in.body << read_text(log);
    auto home = b.request("GET", "/");
    EXPECT_EQ(home.status, 200);
    EXPECT_NE(home.body.find("data-figure=\"expected\""), std::string::npos) << home.body;   // WebApp's dashboard
    EXPECT_NE(home.body.find("id=\"logout\""), std::string::npos) << home.body;
    EXPECT_EQ(b.request("POST", "/logout", "").status, 403);
    auto out = b.request("POST", "/logout", "csrf=" + Browser::csrf_of(home.body));
    EXPECT_EQ(out.status, 303);
    EXPECT_EQ(b.request("GET", "/").status, 303);

    int health_status = 0;
    const auto health = http_body(http_port, "/healthz", &health_status);
    EXPECT_EQ(health_status, 200) << health;
    EXPECT_NE(health.find("\"role\":\"web\""), std::string::npos) << health;

    // A user added while it runs can log in at once.
    ASSERT_EQ(ppo_with_stdin(h, {"user", "add", "bob", "--role", "ien-io", "--bassin", "095912"}, kPassword + "\n")
                  .exit_code,
              0);
    Browser bob(web_port);
    EXPECT_EQ(bob.login("bob", kPassword).status, 303);

    EXPECT_EQ(stop(pid), 0) << read_text(log);
    const std::string text = read_text(log);
    EXPECT_NE(text.find("web: GET / 200 alice"), std::string::npos) << text;
    EXPECT_EQ(text.find(kPassword), std::string::npos) << text;
    EXPECT_EQ(text.find("not the password"), std::string::npos) << text;

    // The mail was left in the inbox: `web` takes none.
    auto st = h.status();
    EXPECT_EQ(st->getArray("unidentified")->size(), 0u);
    ASSERT_EQ(h.ppo({"poll", "--once"}).exit_code, 0);
    EXPECT_EQ(h.status()->getArray("unidentified")->size(), 1u) << "the mail was not there to be taken";

    // Without [web] listen there is nothing to serve.
    h.write_config({{"web.users_file", "users"}});
    auto off = h.ppo({"web"});
    EXPECT_EQ(off.exit_code, 2);
    EXPECT_NE(off.err.find("[web] listen is empty"), std::string::npos) << off.err;
}

TEST(WebCommand, RunServesTheInterfaceBesideTheIntake) {
    const int web_port = free_port();
    Harness h(web_options({{"web.listen", "127.0.0.1:" + std::to_string(web_port)}}));
    ASSERT_EQ(ppo_with_stdin(h, {"user", "add", "alice", "--role", "draio"}, kPassword + "\n").exit_code, 0);
    DaemonProcess d(h.config_path(), h.dir() + "/run.log");
    d.start();
    ASSERT_TRUE(wait_for_port(web_port, 30s)) << d.log();
    Browser b(web_port);
    EXPECT_EQ(b.login("alice", kPassword).status, 303) << d.log();
    EXPECT_EQ(b.request("GET", "/").status, 200);
    EXPECT_EQ(d.terminate(), 0) << d.log();
    EXPECT_NE(d.log().find("web interface on http://127.0.0.1:" + std::to_string(web_port)), std::string::npos)
        << d.log();
}
