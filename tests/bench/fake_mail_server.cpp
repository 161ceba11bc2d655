#include "bench/fake_mail_server.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#ifndef PPO_FAKE_MAIL_SERVER_SCRIPT
#define PPO_FAKE_MAIL_SERVER_SCRIPT "tests/bench/fake_mail_server.py"
#endif

namespace ppo::testbench {

FakeMailServer::FakeMailServer(FakeMailServerOptions options) {
    dir_ = detail::make_temp_dir("ppo-fake-" + options.proto + "-");
    record_ = dir_ + "/received.txt";
    std::vector<std::string> argv{"/usr/bin/python3", PPO_FAKE_MAIL_SERVER_SCRIPT, "--proto", options.proto,
                                  "--record", record_};
    if (!options.certificate.cert.empty())
        argv.insert(argv.end(), {"--cert", options.certificate.cert, "--key", options.certificate.key});
    if (options.implicit_tls) argv.push_back("--implicit-tls");
    if (!options.offer_starttls) argv.push_back("--no-starttls");
    try {
        port_ = detail::spawn_until_ready(argv, dir_ + "/server.log", pid_);
    } catch (...) {
        detail::remove_temp_dir(dir_);
        throw;
    }
}

FakeMailServer::~FakeMailServer() {
    detail::terminate(pid_, std::chrono::seconds(2));
    detail::remove_temp_dir(dir_);
}

int FakeMailServer::port() const { return port_; }

std::vector<std::string> FakeMailServer::lines() const {
    std::vector<std::string> out;
    std::istringstream in(detail::read_file(record_));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

bool FakeMailServer::received(const std::string& text) const {
    auto lower = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return s;
    };
    const std::string needle = lower(text);
    for (const auto& line : lines())
        if (lower(line).find(needle) != std::string::npos) return true;
    return false;
}

}  // namespace ppo::testbench
