// For the web interface's browser test and page benchmark (issue 13): users
// made with `ppo-intake user add` (password on stdin), a background
// `ppo-intake run` or `web`, and a small HTTP client that logs in through the
// login form as a browser does and keeps its cookies.
#pragma once

#include "bench/process.h"
#include "bench/harness.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace ppo::testbench {

// run_command() with `input` as the command's stdin.
RunResult run_command_input(const std::vector<std::string>& argv, const std::string& input, int timeout_s = 120);

// `ppo-intake -c CONFIG user add LOGIN --role ROLE [--bassin CODE]...`, the
// password as the first line of stdin.
RunResult add_web_user(const std::string& config_path, const std::string& login, const std::string& password,
                       const std::string& role, const std::vector<std::string>& bassins = {});

// `ppo-intake -c CONFIG ARGS...` in the background (`run`, `web`), stdout and
// stderr appended to a log file; SIGKILLed by the destructor if still running.
class PpoProcess {
public:
    PpoProcess(std::string config_path, std::vector<std::string> args, std::string log_path);
    ~PpoProcess();
    PpoProcess(const PpoProcess&) = delete;
    PpoProcess& operator=(const PpoProcess&) = delete;

    void start();
    bool alive();
    // SIGTERM; the exit code (-1 on timeout, then SIGKILL).
    int terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
    std::string log() const { return read_file(log_); }
    int pid() const { return process_.pid(); }

private:
    std::string config_;
    std::vector<std::string> args_;
    std::string log_;
    BackgroundProcess process_;
};

struct WebReply {
    int status = -1;              // -1: no answer (connection refused, timeout)
    std::string body;
    std::string content_type;
    std::string location;
    std::string error;            // why there was no answer
};

// One keep-alive connection to 127.0.0.1:PORT with a cookie jar.
class WebClient {
public:
    explicit WebClient(int port, std::chrono::seconds timeout = std::chrono::seconds(30));
    ~WebClient();

    WebReply get(const std::string& path_and_query);
    WebReply post(const std::string& path, const std::vector<std::pair<std::string, std::string>>& form);
    // GET /login, then POST /login with login, password and the form's csrf;
    // true when the answer is 303 to /. `why` says what went wrong otherwise.
    bool login(const std::string& login, const std::string& password, std::string* why = nullptr);
    // The session's CSRF token, read from the last page that carried one.
    const std::string& csrf() const { return csrf_; }

private:
    WebReply send(const std::string& method, const std::string& path, const std::string& body);

    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    std::map<std::string, std::string> cookies_;
    std::string csrf_;
};

// The value of <input name="csrf" value="..."> in an HTML page, "" if none.
std::string csrf_field(const std::string& html);
// application/x-www-form-urlencoded
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& form);

// Polls GET `path` on 127.0.0.1:PORT until it answers with an HTTP status or
// `timeout` passes, or `alive` returns false; true when it answered.
bool wait_for_http(int port, const std::string& path, std::chrono::seconds timeout,
                   const std::function<bool()>& alive = {});

}  // namespace ppo::testbench
