#include "bench/web_client.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPCookie.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <signal.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ppo::testbench {

RunResult run_command_input(const std::vector<std::string>& argv, const std::string& input, int timeout_s) {
    // The input goes through a private temporary file that the shell gives
    // the command as stdin: run_command() itself then does the rest.
    char path[] = "/tmp/ppo-stdin-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    const bool written = ::write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size());
    ::close(fd);
    if (!written) {
        ::unlink(path);
        throw std::runtime_error("cannot write the command's input");
    }
    std::vector<std::string> sh = {"/bin/sh", "-c", "f=$1; shift; exec \"$@\" < \"$f\"", "sh", path};
    sh.insert(sh.end(), argv.begin(), argv.end());
    RunResult r;
    try {
        r = run_command(sh, timeout_s);
    } catch (...) {
        ::unlink(path);
        throw;
    }
    ::unlink(path);
    return r;
}

RunResult add_web_user(const std::string& config_path, const std::string& login, const std::string& password,
                       const std::string& role, const std::vector<std::string>& bassins) {
    std::vector<std::string> argv = {PPO_BINARY, "-c", config_path, "user", "add", login, "--role", role};
    for (const auto& b : bassins) argv.insert(argv.end(), {"--bassin", b});
    return run_command_input(argv, password + "\n");
}

// --- PpoProcess -----------------------------------------------------------------------

PpoProcess::PpoProcess(std::string config_path, std::vector<std::string> args, std::string log_path)
    : config_(std::move(config_path)), args_(std::move(args)), log_(std::move(log_path)) {}

PpoProcess::~PpoProcess() = default;

void PpoProcess::start() {
    std::vector<std::string> argv = {PPO_BINARY, "-c", config_};
    argv.insert(argv.end(), args_.begin(), args_.end());
    process_.start(argv, log_);
}

bool PpoProcess::alive() { return process_.alive(); }

int PpoProcess::terminate(std::chrono::seconds timeout) { return process_.terminate(timeout); }

// --- HTTP -----------------------------------------------------------------------------

std::string csrf_field(const std::string& html) {
    for (const std::string& name : {std::string("name=\"csrf\""), std::string("name='csrf'"), std::string("name=csrf")}) {
        for (auto at = html.find(name); at != std::string::npos; at = html.find(name, at + 1)) {
            const auto open = html.rfind('<', at);
            const auto close = html.find('>', at);
            if (open == std::string::npos || close == std::string::npos) continue;
            const std::string tag = html.substr(open, close - open);
            if (tag.compare(0, 6, "<input") != 0) continue;
            for (const char quote : {'"', '\''}) {
                const std::string key = std::string("value=") + quote;
                const auto v = tag.find(key);
                if (v == std::string::npos) continue;
                const auto end = tag.find(quote, v + key.size());
                if (end != std::string::npos) return tag.substr(v + key.size(), end - v - key.size());
            }
        }
    }
    return {};
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& form) {
    std::string out;
    for (const auto& [k, v] : form) {
        std::string ek, ev;
        Poco::URI::encode(k, "&=+;", ek);
        Poco::URI::encode(v, "&=+;", ev);
        out += (out.empty() ? "" : "&") + ek + "=" + ev;
    }
    return out;
}

WebClient::WebClient(int port, std::chrono::seconds timeout)
    : session_(std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", static_cast<Poco::UInt16>(port))) {
    session_->setKeepAlive(true);
    session_->setTimeout(Poco::Timespan(static_cast<long>(timeout.count()), 0));
}

WebClient::~WebClient() = default;

WebReply WebClient::get(const std::string& path_and_query) { return send(Poco::Net::HTTPRequest::HTTP_GET, path_and_query, ""); }

WebReply WebClient::post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& form) {
    return send(Poco::Net::HTTPRequest::HTTP_POST, path, form_encode(form));
}

WebReply WebClient::send(const std::string& method, const std::string& path, const std::string& body) {
    WebReply r;
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    if (!cookies_.empty()) {
        Poco::Net::NameValueCollection jar;
        for (const auto& [k, v] : cookies_) jar.add(k, v);
        request.setCookies(jar);
    }
    if (method == Poco::Net::HTTPRequest::HTTP_POST) {
        request.setContentType("application/x-www-form-urlencoded");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    try {
        session_->sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session_->receiveResponse(response);
        Poco::StreamCopier::copyToString(in, r.body);
        r.status = static_cast<int>(response.getStatus());
        r.content_type = response.getContentType();
        r.location = response.get("Location", "");
        std::vector<Poco::Net::HTTPCookie> cookies;
        response.getCookies(cookies);
        for (const auto& c : cookies) {
            if (c.getValue().empty() || c.getMaxAge() == 0) cookies_.erase(c.getName());
            else cookies_[c.getName()] = c.getValue();
        }
        if (r.content_type.rfind("text/html", 0) == 0) {
            auto token = csrf_field(r.body);
            if (!token.empty()) csrf_ = token;
        }
    } catch (const Poco::Exception& e) {
        r.error = e.displayText();
        session_->reset();
    }
    return r;
}

bool WebClient::login(const std::string& login, const std::string& password, std::string* why) {
    auto say = [&](const std::string& text) {
        if (why) *why = text;
        return false;
    };
    auto form = get("/login");
    if (form.status != 200) return say("GET /login: " + std::to_string(form.status) + " " + form.error);
    const auto token = csrf_field(form.body);
    if (token.empty()) return say("GET /login: no csrf field in the form");
    auto r = post("/login", {{"login", login}, {"password", password}, {"csrf", token}});
    std::string where = r.location;
    if (where.rfind("http", 0) == 0) where = Poco::URI(where).getPathEtc();
    if (r.status != 303 || where != "/")
        return say("POST /login: " + std::to_string(r.status) + " to '" + r.location + "' " + r.error);
    auto home = get("/");
    if (home.status != 200) return say("GET / after login: " + std::to_string(home.status));
    return true;
}

bool wait_for_http(int port, const std::string& path, std::chrono::seconds timeout, const std::function<bool()>& alive) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (alive && !alive()) return false;
        try {
            Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(port));
            s.setTimeout(Poco::Timespan(2, 0));
            Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
            s.sendRequest(request);
            Poco::Net::HTTPResponse response;
            std::string ignored;
            Poco::StreamCopier::copyToString(s.receiveResponse(response), ignored);
            return true;
        } catch (const Poco::Exception&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    return false;
}

}  // namespace ppo::testbench
