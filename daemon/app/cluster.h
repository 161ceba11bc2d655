// One leader per database: the process that takes mail, sends the outbox and
// runs reminders and digests. Every other `run` instance on the same database
// is a standby (serves /healthz and /metrics, takes over when the leader dies
// or loses the database).
//
// PostgreSQL: a session-level advisory lock (pg_try_advisory_lock) held on a
// dedicated connection. The server releases it when that connection ends,
// however it ends (process killed, machine gone, network cut once the TCP
// keepalives give up), so there is no lease row, no clock to trust and
// nothing to clean up. The leader confirms its connection every lease/5
// seconds and counts itself leader only while the last confirmation is
// younger than lease/2; the server's keepalives on that connection are set to
// give up later than that, so a cut-off leader stops taking mail before the
// server lets a standby in (doc/design.md, "One leader").
//
// SQLite: one instance only. The leadership is an exclusive flock() on
// "<database>.lock", which also holds "pid command" for the messages.
//
// The outbox has a lock of its own, held for one flush (the leader's outbox
// worker, a `tick`, a `triage assign`): two processes never send at once,
// so a mail marked sent by one is never picked up by the other.
#pragma once

#include "daemon/store/database.h"
#include "workflow/config/config.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace ppo::daemon {

class Leadership {
public:
    // `command`: what this process is ("run", "poll --once"), for the
    // messages of the others.
    Leadership(const workflow::Config& config, std::string command);
    ~Leadership();
    Leadership(const Leadership&) = delete;
    Leadership& operator=(const Leadership&) = delete;

    // One attempt, at once: true when this process is now the leader.
    // Throws ppo::Error (transient) when the database
    // cannot be reached.
    bool try_acquire();
    // Leader, and (PostgreSQL) the lock's connection confirmed within lease/2.
    bool held() const;
    // Leader, checked now with a round trip on the lock's connection (before
    // each batch is fetched): a lock the server dropped at once (its
    // connection terminated, the server restarted) is seen here rather than
    // at the next periodic confirmation.
    bool confirm_now();
    // Gives the leadership up (closes the lock's connection / file).
    void step_down();
    // Who holds it, when known: "pid 1234 (run)" on SQLite, "" otherwise.
    std::string holder() const;
    // What to say when another process holds it.
    std::string where() const;
    bool single_instance() const { return sqlite_; }

private:
    void monitor();
    void confirm();

    workflow::Config config_;
    std::string command_;
    bool sqlite_ = false;
    std::string lock_path_;           // SQLite
    int lock_fd_ = -1;                // SQLite: "<db>.lock"
    std::unique_ptr<Database> db_;    // PostgreSQL: the lock's connection
    std::chrono::seconds lease_;

    mutable std::mutex mutex_;        // db_, lock_fd_
    std::condition_variable cv_;
    std::atomic<bool> leader_{false};
    std::atomic<std::int64_t> confirmed_ms_{0};   // steady clock, ms
    bool stopping_ = false;
    std::thread monitor_;
};

// The right to send the outbox for the length of one flush. PostgreSQL: the
// advisory lock on `db`'s connection; SQLite: flock() on "<db>.outbox-lock".
// Tries for up to `wait` (another sender's flush is short), or while
// `keep_trying` says so.
class OutboxLock {
public:
    OutboxLock(const workflow::DatabaseConfig& config, Database& db,
               std::chrono::milliseconds wait = std::chrono::seconds(30),
               const std::function<bool()>& keep_trying = {});
    ~OutboxLock();
    OutboxLock(const OutboxLock&) = delete;
    OutboxLock& operator=(const OutboxLock&) = delete;
    bool acquired() const { return acquired_; }

private:
    Database& db_;
    bool pg_ = false;
    int fd_ = -1;
    bool acquired_ = false;
};

}  // namespace ppo::daemon
