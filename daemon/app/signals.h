// The daemon's signals (SIGTERM, SIGINT, SIGHUP) delivered to an object
// rather than to a handler and globals: the constructor blocks them in the
// calling thread (and so in every thread started after it: construct it
// before any other thread) and reads them from a signalfd on a thread of its
// own, which calls `on_signal` with the signal's number, one call per signal,
// in order. No handler runs, so `on_signal` may do anything a thread may
// (take a lock, call MailSource::interrupt(), log). It also ignores SIGPIPE
// (a write on a closed socket is an error to handle, not a death).
//
// The signals stay blocked once the watcher is gone (the process is ending:
// a second SIGTERM during the shutdown does not kill it half-way). Children
// started with posix_spawn reset their mask (daemon/documents/).
#pragma once

#include <functional>
#include <thread>

namespace ppo::daemon {

class SignalWatcher {
public:
    explicit SignalWatcher(std::function<void(int)> on_signal);
    ~SignalWatcher();   // stop()
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

    // Ends the watching thread (idempotent); no `on_signal` call after it returns.
    void stop();

private:
    void watch();

    std::function<void(int)> on_signal_;
    int signal_fd_ = -1;
    int stop_fd_ = -1;   // an eventfd: written to end the thread
    std::thread thread_;
};

}  // namespace ppo::daemon
