// What the daemon counts, for GET /metrics (Prometheus text exposition format
// 0.0.4) and GET /healthz. Written by the main loop, read by the HTTP server's
// threads: every member is guarded by one mutex (the volumes are tiny).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ppo::daemon {

// "a\"b\\c\nd" -> a\"b\\c\nd : the escaping of Prometheus label values
// (backslash, double quote and line feed).
std::string escape_label_value(const std::string& value);

// A cumulative histogram with fixed upper bounds (+Inf is implicit).
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double value);
    const std::vector<double>& bounds() const { return bounds_; }
    // Cumulative counts, one per bound plus the +Inf bucket (== count()).
    std::vector<std::uint64_t> cumulative() const;
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> per_bucket_;   // not cumulative; last = above every bound
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

struct Health {
    bool healthy = false;
    bool imap_session_up = false;
    std::int64_t last_poll_age_seconds = -1;  // -1: no successful poll yet
    std::size_t outbox_pending = 0;
    std::string role;                         // "leader" | "standby" | "web" ("": not said, left out of the JSON)
    // A lasting refusal by the IMAP server of the configuration (a folder it
    // will not create or select), with its words and the key to change: not
    // ready until a corrected configuration is in force. "": none (left out).
    std::string config_error;
    std::string json() const;                 // {"imap_session":"up",...}
};

class Metrics {
public:
    static const std::vector<double>& ack_latency_bounds();  // 1,2,5,10,30,60,300,900,3600

    Metrics();

    // outcome: submission | unidentified | ignored | quarantined (others are counted too).
    void message_handled(const std::string& outcome);
    // kind: ack | forward | reminder | digest.
    void mail_sent(const std::string& kind);
    void send_failed(const std::string& kind);
    void observe_ack_latency(double seconds);
    void set_outbox_pending(std::size_t n);
    // A pass over the mailbox went through: the session is up, at `epoch` (real time).
    void poll_succeeded(std::int64_t epoch);
    void set_imap_session_up(bool up);
    // Several instances on one PostgreSQL database: "leader" or "standby";
    // "web" for `ppo-intake web` (judged like a standby).
    void set_role(const std::string& role);
    // A standby reached the database at `epoch` (real time): what /healthz
    // judges a standby by, since it holds no IMAP session.
    void standby_checked(std::int64_t epoch);

    // The IMAP server refuses the configuration for good (ppo::Error config):
    // counted once per distinct refusal (ppo_imap_config_errors_total), and
    // /healthz answers 503 with `reason` until clear_config_error().
    void set_config_error(const std::string& reason);
    void clear_config_error();

    // Unhealthy when a configuration error is set, when the IMAP session is down, or when the last successful
    // poll is older than max_age_seconds (or there was none yet).
    Health health(std::int64_t now_epoch, std::int64_t max_age_seconds) const;
    std::string render_prometheus() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t> handled_;
    std::map<std::string, std::uint64_t> sent_;
    std::map<std::string, std::uint64_t> send_failures_;
    Histogram ack_latency_;
    std::size_t outbox_pending_ = 0;
    std::int64_t last_poll_ = 0;
    bool imap_up_ = false;
    std::string role_;
    std::int64_t last_standby_check_ = 0;
    std::string config_error_;
    std::uint64_t config_errors_total_ = 0;
};

}  // namespace ppo::daemon
