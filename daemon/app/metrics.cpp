#include "daemon/app/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ppo::daemon {

namespace {

std::string number(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void labelled(std::string& out, const char* name, const char* label, const std::map<std::string, std::uint64_t>& values) {
    for (const auto& [value, n] : values)
        out += std::string(name) + "{" + label + "=\"" + escape_label_value(value) + "\"} " + std::to_string(n) + "\n";
}

}  // namespace

std::string escape_label_value(const std::string& value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), per_bucket_(bounds_.size() + 1, 0) {
    std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double value) {
    // Buckets are "less than or equal": a value equal to a bound falls in it.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++per_bucket_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += value;
}

std::vector<std::uint64_t> Histogram::cumulative() const {
    std::vector<std::uint64_t> out(per_bucket_.size());
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < per_bucket_.size(); ++i) out[i] = running += per_bucket_[i];
    return out;
}

namespace {

// A JSON string's contents: quote, backslash and control characters escaped.
std::string json_escape(const std::string& in) {
    std::string out;
    for (char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
    return out;
}

}  // namespace

std::string Health::json() const {
    return std::string("{\"imap_session\":\"") + (imap_session_up ? "up" : "down") +
           "\",\"last_poll_age_seconds\":" + (last_poll_age_seconds < 0 ? "null" : std::to_string(last_poll_age_seconds)) +
           ",\"outbox_pending\":" + std::to_string(outbox_pending) +
           (role.empty() ? std::string() : ",\"role\":\"" + role + "\"") +
           (config_error.empty() ? std::string() : ",\"config_error\":\"" + json_escape(config_error) + "\"") + "}";
}

const std::vector<double>& Metrics::ack_latency_bounds() {
    static const std::vector<double> bounds = {1, 2, 5, 10, 30, 60, 300, 900, 3600};
    return bounds;
}

Metrics::Metrics() : ack_latency_(ack_latency_bounds()) {
    // Every series exists from the start (at 0), so rate() and alerts see them.
    for (const char* o : {"submission", "unidentified", "ignored", "quarantined"}) handled_[o] = 0;
    for (const char* k : {"ack", "forward", "reminder", "digest"}) sent_[k] = send_failures_[k] = 0;
}

void Metrics::message_handled(const std::string& outcome) {
    std::lock_guard lock(mutex_);
    ++handled_[outcome];
}

void Metrics::mail_sent(const std::string& kind) {
    std::lock_guard lock(mutex_);
    ++sent_[kind];
}

void Metrics::send_failed(const std::string& kind) {
    std::lock_guard lock(mutex_);
    ++send_failures_[kind];
}

void Metrics::observe_ack_latency(double seconds) {
    std::lock_guard lock(mutex_);
    ack_latency_.observe(std::max(0.0, seconds));
}

void Metrics::set_outbox_pending(std::size_t n) {
    std::lock_guard lock(mutex_);
    outbox_pending_ = n;
}

void Metrics::poll_succeeded(std::int64_t epoch) {
    std::lock_guard lock(mutex_);
    last_poll_ = epoch;
    imap_up_ = true;
}

void Metrics::set_imap_session_up(bool up) {
    std::lock_guard lock(mutex_);
    imap_up_ = up;
}

void Metrics::set_role(const std::string& role) {
    std::lock_guard lock(mutex_);
    role_ = role;
}

void Metrics::standby_checked(std::int64_t epoch) {
    std::lock_guard lock(mutex_);
    last_standby_check_ = epoch;
}

void Metrics::set_config_error(const std::string& reason) {
    std::lock_guard lock(mutex_);
    if (reason == config_error_) return;
    config_error_ = reason;
    ++config_errors_total_;
}

void Metrics::clear_config_error() {
    std::lock_guard lock(mutex_);
    config_error_.clear();
}

Health Metrics::health(std::int64_t now_epoch, std::int64_t max_age_seconds) const {
    std::lock_guard lock(mutex_);
    Health h;
    h.imap_session_up = imap_up_;
    h.outbox_pending = outbox_pending_;
    h.role = role_;
    h.config_error = config_error_;
    if (last_poll_ > 0) h.last_poll_age_seconds = std::max<std::int64_t>(0, now_epoch - last_poll_);
    if (role_ == "standby" || role_ == "web") {
        // A standby is healthy while it reaches the database, ready to take
        // over; so is `ppo-intake web`, which takes no mail.
        h.healthy = last_standby_check_ > 0 && now_epoch - last_standby_check_ <= max_age_seconds;
        return h;
    }
    h.healthy = config_error_.empty() && imap_up_ && h.last_poll_age_seconds >= 0 &&
                h.last_poll_age_seconds <= max_age_seconds;
    return h;
}

std::string Metrics::render_prometheus() const {
    std::lock_guard lock(mutex_);
    std::string out;
    header(out, "ppo_messages_handled_total", "counter", "Messages taken from the mailbox, by outcome.");
    labelled(out, "ppo_messages_handled_total", "outcome", handled_);
    header(out, "ppo_mails_sent_total", "counter", "Mails accepted by the SMTP server, by kind.");
    labelled(out, "ppo_mails_sent_total", "kind", sent_);
    header(out, "ppo_send_failures_total", "counter",
           "Send attempts that failed (deferred for a retry, or refused for good), by kind.");
    labelled(out, "ppo_send_failures_total", "kind", send_failures_);
    header(out, "ppo_outbox_pending", "gauge", "Mails waiting in the outbox.");
    out += "ppo_outbox_pending " + std::to_string(outbox_pending_) + "\n";
    header(out, "ppo_last_successful_poll_timestamp_seconds", "gauge",
           "When the last pass over the mailbox succeeded (Unix time; 0: none yet).");
    out += "ppo_last_successful_poll_timestamp_seconds " + std::to_string(last_poll_) + "\n";
    if (!role_.empty()) {
        header(out, "ppo_leader", "gauge",
               "1 when this instance is the leader (takes mail, sends the outbox, reminders and digests), 0 when standby.");
        out += std::string("ppo_leader ") + (role_ == "leader" ? "1" : "0") + "\n";
    }
    header(out, "ppo_imap_config_errors_total", "counter",
           "Lasting refusals of the configuration by the IMAP server (a folder it will not create or select), "
           "counted once each.");
    out += "ppo_imap_config_errors_total " + std::to_string(config_errors_total_) + "\n";
    header(out, "ppo_imap_config_error", "gauge",
           "1 while the IMAP server refuses the configuration (see /healthz for the reason), else 0.");
    out += std::string("ppo_imap_config_error ") + (config_error_.empty() ? "0" : "1") + "\n";
    header(out, "ppo_ack_latency_seconds", "histogram",
           "From a message's arrival at the IMAP server to its acknowledgement being accepted by SMTP.");
    auto cumulative = ack_latency_.cumulative();
    const auto& bounds = ack_latency_.bounds();
    for (std::size_t i = 0; i < cumulative.size(); ++i) {
        std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
        out += "ppo_ack_latency_seconds_bucket{le=\"" + le + "\"} " + std::to_string(cumulative[i]) + "\n";
    }
    out += "ppo_ack_latency_seconds_sum " + number(ack_latency_.sum()) + "\n";
    out += "ppo_ack_latency_seconds_count " + std::to_string(ack_latency_.count()) + "\n";
    return out;
}

}  // namespace ppo::daemon
