#include "bench/smtp_capture.h"

#include "bench/tls_cert.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#ifndef PPO_SMTP_CAPTURE_SCRIPT
#define PPO_SMTP_CAPTURE_SCRIPT "tests/bench/smtp_capture.py"
#endif

namespace ppo::testbench {

namespace fs = std::filesystem;

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        int e = errno;
        ::close(fd);
        throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(e));
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

struct SmtpCapture::Impl {
    SmtpCaptureOptions options;
    std::string dir;       // messages, control.json, log, certificate
    std::string log;
    TlsFiles tls;
    int port = 0;          // 0 until the first start
    pid_t pid = -1;

    void launch() {
        std::vector<std::string> argv{"/usr/bin/python3", PPO_SMTP_CAPTURE_SCRIPT, "--host", "127.0.0.1",
                                      "--port", std::to_string(port), "--dir", dir};
        if (options.tls) {
            argv.insert(argv.end(), {"--tls-cert", tls.cert, "--tls-key", tls.key});
            if (options.implicit_tls) argv.push_back("--implicit-tls");
        }
        if (!options.auth_user.empty()) argv.insert(argv.end(), {"--auth", options.auth_user + ":" + options.auth_password});

        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        try {
            pid = detail::spawn(argv, log, fds[1], {fds[0]});
        } catch (...) {
            ::close(fds[0]);
            ::close(fds[1]);
            throw;
        }
        ::close(fds[1]);

        // The script prints "READY <port>" once it listens.
        std::string out;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        bool ready = false;
        while (!ready && std::chrono::steady_clock::now() < deadline) {
            pollfd p{fds[0], POLLIN, 0};
            int r = ::poll(&p, 1, 100);
            if (r < 0 && errno == EINTR) continue;
            if (r > 0) {
                char buffer[256];
                ssize_t n = ::read(fds[0], buffer, sizeof buffer);
                if (n <= 0) break;   // the script ended
                out.append(buffer, static_cast<std::size_t>(n));
                if (out.find('\n') != std::string::npos) ready = true;
            }
        }
        ::close(fds[0]);
        int got = 0;
        if (ready && std::sscanf(out.c_str(), "READY %d", &got) == 1 && got > 0) {
            port = got;
            return;
        }
        detail::terminate(pid, std::chrono::seconds(1));
        pid = -1;
        throw std::runtime_error("smtp_capture.py did not start (stdout: " + out + "); log:\n" + detail::read_file(log));
    }

    void write_control(const std::string& key, int n) {
        Poco::JSON::Object::Ptr control = new Poco::JSON::Object;
        std::string text = detail::read_file(dir + "/control.json");
        if (!text.empty()) {
            try {
                auto parsed = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
                if (parsed) control = parsed;
            } catch (const std::exception&) {
            }
        }
        control->set(key, n);
        std::ostringstream json;
        control->stringify(json);
        std::string tmp = dir + "/.control.json.cpp.tmp";
        detail::write_file(tmp, json.str());
        fs::rename(tmp, dir + "/control.json");
    }
};

SmtpCapture::SmtpCapture(SmtpCaptureOptions options) : impl_(new Impl) {
    try {
        impl_->options = std::move(options);
        impl_->dir = detail::make_temp_dir("ppo-smtp-");
        impl_->log = impl_->dir + "/capture.log";
        if (impl_->options.tls)
            impl_->tls = impl_->options.certificate.cert.empty() ? make_self_signed_cert(impl_->dir, "capture")
                                                                 : impl_->options.certificate;
        if (impl_->options.fail_temporarily > 0) impl_->write_control("fail_temporarily", impl_->options.fail_temporarily);
        impl_->launch();
    } catch (...) {
        detail::terminate(impl_->pid);
        detail::remove_temp_dir(impl_->dir);
        delete impl_;
        throw;
    }
}

SmtpCapture::~SmtpCapture() {
    detail::terminate(impl_->pid);
    detail::remove_temp_dir(impl_->dir);
    delete impl_;
}

int SmtpCapture::port() const { return impl_->port; }

std::string SmtpCapture::url() const {
    return std::string(impl_->options.tls && impl_->options.implicit_tls ? "smtps" : "smtp") + "://127.0.0.1:" +
           std::to_string(impl_->port);
}

const std::string& SmtpCapture::dir() const { return impl_->dir; }

const std::string& SmtpCapture::cert_file() const { return impl_->tls.cert; }

void SmtpCapture::set_fail_temporarily(int n) { impl_->write_control("fail_temporarily", n); }

void SmtpCapture::set_fail_permanently(int n) { impl_->write_control("fail_permanently", n); }

std::vector<CapturedMail> SmtpCapture::messages() const {
    // NNNNNN.json is renamed into place after NNNNNN.eml: a listed .json means
    // a complete message.
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(impl_->dir)) {
        std::string name = entry.path().filename().string();
        if (name.size() == 11 && name.ends_with(".json") &&
            std::all_of(name.begin(), name.begin() + 6, [](char c) { return c >= '0' && c <= '9'; }))
            names.push_back(name.substr(0, 6));
    }
    std::sort(names.begin(), names.end());
    std::vector<CapturedMail> result;
    for (const auto& number : names) {
        CapturedMail mail;
        mail.file = impl_->dir + "/" + number + ".eml";
        mail.data = detail::read_file(mail.file);
        std::string json = detail::read_file(impl_->dir + "/" + number + ".json");
        if (json.empty()) continue;   // removed by clear() meanwhile
        auto object = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
        mail.mail_from = object->optValue<std::string>("mail_from", "");
        if (auto rcpts = object->getArray("rcpt_to"))
            for (std::size_t i = 0; i < rcpts->size(); ++i) mail.rcpt_to.push_back(rcpts->getElement<std::string>(static_cast<unsigned>(i)));
        if (auto options = object->getArray("mail_options"))
            for (std::size_t i = 0; i < options->size(); ++i)
                mail.mail_options.push_back(options->getElement<std::string>(static_cast<unsigned>(i)));
        if (!object->isNull("auth_user") && object->has("auth_user")) mail.auth_user = object->getValue<std::string>("auth_user");
        mail.tls = object->optValue<bool>("tls", false);
        mail.peer_port = object->optValue<int>("peer_port", 0);
        result.push_back(std::move(mail));
    }
    return result;
}

std::vector<CapturedMail> SmtpCapture::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto mails = messages();
        if (mails.size() >= n || std::chrono::steady_clock::now() >= deadline) return mails;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void SmtpCapture::clear() {
    for (const auto& entry : fs::directory_iterator(impl_->dir)) {
        std::string name = entry.path().filename().string();
        bool numbered = name.size() > 6 && std::all_of(name.begin(), name.begin() + 6, [](char c) { return c >= '0' && c <= '9'; });
        if (numbered && (name.ends_with(".json") || name.ends_with(".eml"))) fs::remove(entry.path());
    }
}

void SmtpCapture::stop() {
    detail::terminate(impl_->pid);
    impl_->pid = -1;
}

void SmtpCapture::start() {
    if (detail::alive(impl_->pid)) return;
    impl_->pid = -1;
    // The same port again; a closed listening socket can be rebound at once
    // (the script sets SO_REUSEADDR), but retry briefly in case.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        try {
            impl_->launch();
            return;
        } catch (const std::exception&) {
            if (std::chrono::steady_clock::now() >= deadline) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

std::size_t count_rcpt(const std::vector<CapturedMail>& mails, const std::string& rcpt) {
    std::size_t n = 0;
    for (const auto& m : mails)
        for (const auto& r : m.rcpt_to)
            if (r == rcpt) ++n;
    return n;
}

}  // namespace ppo::testbench
