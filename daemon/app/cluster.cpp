#include "daemon/app/cluster.h"

#include "parsers/text/error.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sys/file.h>
#include <unistd.h>

namespace ppo::daemon {

namespace {

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// An exclusive flock() on `path`, created 0640 if missing; -1 when another
// open file holds it (and `wait` is false). flock, not fcntl locks: those are
// per process, so the daemon's own threads could not tell each other apart,
// and closing any descriptor of the file would drop them.
int lock_file(const std::string& path, bool wait) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) throw transient_error("cannot open the lock file " + path + ": " + std::strerror(errno));
    while (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) return -1;
        throw transient_error("cannot lock " + path + ": " + std::strerror(err));
    }
    return fd;
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

Leadership::Leadership(const workflow::Config& config, std::string command)
    : config_(config),
      command_(std::move(command)),
      sqlite_(config.database.backend == "sqlite"),
      lease_(config.cluster.lease) {
    if (sqlite_ && config.database.connection != ":memory:") lock_path_ = config.database.connection + ".lock";
    if (!sqlite_) monitor_ = std::thread([this] { monitor(); });
}

Leadership::~Leadership() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (monitor_.joinable()) monitor_.join();
    step_down();
}

bool Leadership::try_acquire() {
    std::lock_guard lock(mutex_);
    if (leader_) return true;
    if (sqlite_) {
        if (lock_path_.empty()) {   // :memory: is this process's alone
            leader_ = true;
            return true;
        }
        lock_fd_ = lock_file(lock_path_, false);
        if (lock_fd_ < 0) return false;
        const std::string who = std::to_string(::getpid()) + " " + command_ + "\n";
        if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, who.data(), who.size(), 0) < 0)
            spdlog::debug("lock file {}: cannot record the pid: {}", lock_path_, std::strerror(errno));
        leader_ = true;
        return true;
    }
    try {
        if (!db_) {
            const auto lease = lease_.count();
            // The client gives up on a silent server quickly (keepalives,
            // unacknowledged data), well within lease/2.
            db_ = std::make_unique<Database>(
                config_.database,
                std::vector<std::pair<std::string, std::string>>{
                    {"keepalives", "1"},
                    {"keepalives_idle", std::to_string(std::max<std::int64_t>(1, lease / 10))},
                    {"keepalives_interval", "1"},
                    {"keepalives_count", "2"},
                    {"tcp_user_timeout", std::to_string(lease * 1000 / 4)},
                    {"connect_timeout", std::to_string(std::max<std::int64_t>(2, lease / 3))}});
            // The server gives up on this connection, and so releases the
            // lock, only after lease/2 + 3 * lease/10 of silence: later than
            // the leader stops counting itself leader (lease/2 after its last
            // confirmation), sooner than the lease. Ignored on a Unix socket,
            // where a dead peer is seen at once.
            db_->exec("SET tcp_keepalives_idle = " + std::to_string(std::max<std::int64_t>(1, lease / 2)));
            db_->exec("SET tcp_keepalives_interval = " + std::to_string(std::max<std::int64_t>(1, lease / 10)));
            db_->exec("SET tcp_keepalives_count = 3");
            db_->exec("SET statement_timeout = " + std::to_string(lease * 1000 / 4));
        }
        if (!db_->try_advisory_lock(kLeaderLockKey)) return false;
        confirmed_ms_ = steady_ms();
        leader_ = true;
    } catch (...) {
        db_.reset();   // the session ends, and every lock of it
        throw;
    }
    cv_.notify_all();
    return true;
}

bool Leadership::held() const {
    if (!leader_) return false;
    if (sqlite_) return true;
    return steady_ms() - confirmed_ms_.load() < lease_.count() * 1000 / 2;
}

bool Leadership::confirm_now() {
    if (sqlite_) return leader_;
    std::lock_guard lock(mutex_);
    if (leader_ && db_) confirm();
    return held();
}

void Leadership::step_down() {
    std::lock_guard lock(mutex_);
    leader_ = false;
    close_fd(lock_fd_);
    db_.reset();
}

std::string Leadership::holder() const {
    if (!sqlite_ || lock_path_.empty()) return "";
    std::ifstream in(lock_path_);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) return "";
    auto space = s.find(' ');
    if (space == std::string::npos) return "pid " + s;
    return "pid " + s.substr(0, space) + " (" + s.substr(space + 1) + ")";
}

std::string Leadership::where() const {
    if (sqlite_) return "the SQLite database " + config_.database.connection + " (lock file " + lock_path_ + ")";
    return "the PostgreSQL database " + config_.database.pg_dbname;
}

void Leadership::monitor() {
    const auto every = std::chrono::milliseconds(std::max<std::int64_t>(1000, lease_.count() * 1000 / 5));
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        cv_.wait_for(lock, every, [this] { return stopping_; });
        if (stopping_) break;
        if (leader_ && db_) confirm();
    }
}

// With mutex_ held.
void Leadership::confirm() {
    try {
        db_->query("SELECT 1");
        confirmed_ms_ = steady_ms();
    } catch (const std::exception& e) {
        spdlog::error("lost the database connection that holds the leadership ({}): stepping down", e.what());
        leader_ = false;
        db_.reset();
    }
}

OutboxLock::OutboxLock(const workflow::DatabaseConfig& config, Database& db, std::chrono::milliseconds wait,
                       const std::function<bool()>& keep_trying)
    : db_(db), pg_(config.backend == "postgresql") {
    if (!pg_ && config.connection == ":memory:") {
        acquired_ = true;
        return;
    }
    const auto end = std::chrono::steady_clock::now() + wait;
    for (;;) {
        if (pg_) {
            acquired_ = db_.try_advisory_lock(kOutboxLockKey);
        } else {
            fd_ = lock_file(config.connection + ".outbox-lock", false);
            acquired_ = fd_ >= 0;
        }
        if (acquired_ || std::chrono::steady_clock::now() >= end || (keep_trying && !keep_trying())) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

OutboxLock::~OutboxLock() {
    if (pg_ && acquired_) {
        try {
            db_.advisory_unlock(kOutboxLockKey);
        } catch (const std::exception& e) {
            spdlog::debug("outbox lock: {}", e.what());   // the connection is gone, and the lock with it
        }
    }
    close_fd(fd_);
}

}  // namespace ppo::daemon
