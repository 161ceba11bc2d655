#include "daemon/app/signals.h"

#include "parsers/text/error.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace ppo::daemon {

namespace {

sigset_t daemon_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
    std::signal(SIGPIPE, SIG_IGN);
    const sigset_t set = daemon_signals();
    if (int rc = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0)
        throw permanent_error(std::string("cannot block the daemon's signals: ") + std::strerror(rc));
    signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (signal_fd_ < 0 || stop_fd_ < 0) {
        const int err = errno;
        if (signal_fd_ >= 0) ::close(signal_fd_);
        if (stop_fd_ >= 0) ::close(stop_fd_);
        throw permanent_error(std::string("cannot watch the daemon's signals (signalfd/eventfd): ") + std::strerror(err));
    }
    thread_ = std::thread([this] { watch(); });
}

SignalWatcher::~SignalWatcher() {
    stop();
    ::close(signal_fd_);
    ::close(stop_fd_);
}

void SignalWatcher::stop() {
    if (!thread_.joinable()) return;
    const std::uint64_t one = 1;
    while (::write(stop_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
}

void SignalWatcher::watch() {
    for (;;) {
        pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            spdlog::error("signal watcher: poll: {}", std::strerror(errno));
            return;
        }
        if (fds[1].revents != 0) return;
        if (fds[0].revents == 0) continue;
        signalfd_siginfo info{};
        const ssize_t n = ::read(signal_fd_, &info, sizeof info);
        if (n == static_cast<ssize_t>(sizeof info)) on_signal_(static_cast<int>(info.ssi_signo));
    }
}

}  // namespace ppo::daemon
