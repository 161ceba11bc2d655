#include "workflow/mail/outbox.h"

#include "parsers/text/error.h"
#include "workflow/intake/crash_point.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/mail/mail_builder.h"
#include "workflow/status/status.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <thread>

namespace ppo::workflow {

std::int64_t retry_delay_seconds(int attempts, int first_retry_seconds) {
    std::int64_t d = std::max(1, first_retry_seconds);
    for (int i = 0; i < attempts && d < 3600; ++i) d *= 2;
    return std::min<std::int64_t>(d, 3600);
}

OutboxStats flush_outbox(Store& store, MailSender& sender, const Archive& archive, const Clock& clock,
                         std::size_t max_mails,
                         const std::function<void(const OutboxMail&, const std::string&)>& on_mail,
                         int first_retry_seconds, const std::function<bool()>& keep_going,
                         std::int64_t max_age_seconds, OutboxShard shard, std::mutex* end_of_data) {
    auto now = [&] {
        return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    };
    OutboxStats stats;
    bool stop_pass = false;   // a refused connection, or keep_going() said no
    while (!stop_pass && stats.sent + stats.failed + stats.deferred < max_mails) {
        auto due = store.due_outbox(now(), std::min<std::size_t>(50, max_mails), shard);
        if (due.empty()) break;
        for (const auto& mail : due) {
            if (keep_going && !keep_going()) {
                stop_pass = true;   // asked to stop: the rest waits
                break;
            }
            // Held from the mail's final "." until it is marked: see flush_outbox's comment.
            std::unique_lock<std::mutex> window;
            if (end_of_data) window = std::unique_lock<std::mutex>(*end_of_data, std::defer_lock);
            try {
                OutgoingMail out;
                out.envelope_from = mail.envelope_from;
                out.recipients = mail.recipients;
                out.data = mail.data;
                out.key = "outbox " + std::to_string(mail.id);
                if (has_file_references(mail.data)) {
                    // Every file opened before the first byte goes out: a missing one
                    // defers the mail (retried like a refused connection: the archive may
                    // be back later); then each is read a piece at a time as it is sent.
                    auto files = std::make_shared<std::vector<std::unique_ptr<ArchiveFile>>>();
                    std::vector<std::uint64_t> sizes;
                    try {
                        for (const auto& path : file_references(mail.data)) {
                            files->push_back(archive.open(path));
                            sizes.push_back(files->back()->size());
                        }
                    } catch (const ppo::Error& e) {
                        throw transient_error(std::string("cannot attach an archived file: ") + e.what());
                    }
                    out.size = size_with_files(mail.data, sizes);
                    out.write_data = [files, &data = mail.data](const std::function<void(std::string_view)>& emit) {
                        write_with_files(
                            data, [&](std::size_t i, char* buffer, std::size_t max) { return (*files)[i]->read(buffer, max); },
                            emit);
                    };
                }
                if (end_of_data) out.before_end_of_data = [&window] { window.lock(); };
                sender.send(out);
            } catch (const ppo::Error& e) {
                bool permanent = e.kind() == ErrorKind::permanent;
                const std::int64_t age = now() - mail.created_at;
                if (!permanent && max_age_seconds > 0 && age >= max_age_seconds) {
                    // Too old to keep trying (Postfix's maximal_queue_lifetime):
                    // failed, for an administrator to see and retry.
                    const std::string why = "gave up after " + duration_label(max_age_seconds) + ": " + e.what();
                    store.mark_attempt_failed(mail.id, why, now(), true);
                    ++stats.failed;
                    ++stats.expired;
                    spdlog::warn("outbox {}: {} to {} given up after {} attempt(s), queued {} ago: {}", mail.id,
                                 mail.kind, mail.recipients.empty() ? "" : mail.recipients.front(), mail.attempts + 1,
                                 duration_label(age), e.what());
                    if (on_mail) on_mail(mail, "failed");
                    // The connection may be gone: the next mail gets a fresh one.
                    sender.close();
                    continue;
                }
                auto next = now() + retry_delay_seconds(mail.attempts, first_retry_seconds);
                store.mark_attempt_failed(mail.id, e.what(), next, permanent);
                if (permanent) {
                    ++stats.failed;
                    spdlog::error("outbox {}: {} to {} refused for good: {}", mail.id, mail.kind, mail.recipients.front(),
                                  e.what());
                    if (on_mail) on_mail(mail, "failed");
                } else {
                    ++stats.deferred;
                    // A config error (refused certificate, no STARTTLS, refused
                    // login) needs the administrator: error level at every retry.
                    spdlog::log(e.kind() == ErrorKind::config ? spdlog::level::err : spdlog::level::warn,
                                "outbox {}: {} to {} deferred (attempt {}): {}", mail.id, mail.kind,
                                mail.recipients.empty() ? "" : mail.recipients.front(), mail.attempts + 1, e.what());
                    if (on_mail) on_mail(mail, "deferred");
                    // A refused connection fails every mail alike: stop here.
                    stop_pass = true;
                    sender.close();
                    break;
                }
                continue;
            }
            crash_point("send");
            // The server has the mail: a lock held for a while by another
            // connection must not turn into sending it again later.
            for (int attempt = 1;; ++attempt) {
                try {
                    store.mark_sent(mail.id, now());
                    break;
                } catch (const ppo::Error& e) {
                    if (e.kind() != ErrorKind::transient || attempt >= 20) throw;
                    spdlog::warn("outbox {}: sent, but not yet recorded as sent (attempt {}): {}", mail.id, attempt, e.what());
                    std::this_thread::sleep_for(std::chrono::milliseconds(250));
                }
            }
            crash_point("mark");
            ++stats.sent;
            spdlog::info("outbox {}: {} sent to {}{}", mail.id, mail.kind, mail.recipients.empty() ? "" : mail.recipients.front(),
                         mail.uai.empty() ? "" : " (UAI " + mail.uai + ")");
            if (on_mail) on_mail(mail, "sent");
        }
    }
    sender.close();
    stats.left = store.outbox_pending_count();
    return stats;
}

std::string outbox_state(const OutboxMail& mail) {
    if (mail.state == "pending" && mail.attempts > 0) return "deferred";
    return mail.state;
}

std::string duration_label(std::int64_t seconds) {
    auto plural = [](std::int64_t n, const char* unit) {
        return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
    };
    if (seconds >= 86400 && seconds % 86400 == 0) return plural(seconds / 86400, "day");
    if (seconds >= 3600 && seconds % 3600 == 0) return plural(seconds / 3600, "hour");
    if (seconds >= 60 && seconds % 60 == 0) return plural(seconds / 60, "minute");
    // An age rather than a setting: rounded down to the largest unit that fits.
    if (seconds >= 2 * 86400) return plural(seconds / 86400, "day");
    if (seconds >= 2 * 3600) return plural(seconds / 3600, "hour");
    if (seconds >= 2 * 60) return plural(seconds / 60, "minute");
    return plural(seconds, "second");
}

std::string outbox_list_json(const std::vector<OutboxMail>& mails, const std::string& timezone) {
    std::ostringstream o;
    o << "[";
    for (std::size_t i = 0; i < mails.size(); ++i) {
        const auto& m = mails[i];
        o << (i ? ",\n" : "\n") << "  {\"id\": " << m.id << ", \"kind\": " << json_string(m.kind)
          << ", \"uai\": " << json_string(m.uai) << ", \"recipients\": " << json_strings(m.recipients)
          << ",\n   \"state\": " << json_string(outbox_state(m)) << ", \"attempts\": " << m.attempts
          << ", \"next_attempt_at\": " << json_string(m.state == "pending" ? iso_local(m.next_attempt_at, timezone) : "")
          << ", \"last_error\": " << json_string(m.last_error)
          << ", \"created_at\": " << json_string(iso_local(m.created_at, timezone)) << "}";
    }
    o << (mails.empty() ? "]\n" : "\n]\n");
    return o.str();
}

std::string outbox_list_table(const std::vector<OutboxMail>& mails, const std::string& timezone) {
    if (mails.empty()) return "The outbox is empty: no mail pending, deferred or failed.\n";
    std::ostringstream o;
    std::size_t pending = 0, deferred = 0, failed = 0;
    o << pad_right("ID", 6) << "  " << pad_right("Kind", 8) << "  " << pad_right("State", 8) << "  " << pad_right("Tries", 5)
      << "  " << pad_right("Created", 25) << "  " << pad_right("Next attempt", 25) << "  Recipients\n";
    for (const auto& m : mails) {
        const std::string state = outbox_state(m);
        (state == "failed" ? failed : state == "deferred" ? deferred : pending)++;
        std::string rcpt;
        for (const auto& r : m.recipients) rcpt += (rcpt.empty() ? "" : ", ") + r;
        o << pad_right(std::to_string(m.id), 6) << "  " << pad_right(m.kind, 8) << "  " << pad_right(state, 8) << "  "
          << pad_right(std::to_string(m.attempts), 5) << "  " << pad_right(iso_local(m.created_at, timezone), 25) << "  "
          << pad_right(m.state == "pending" ? iso_local(m.next_attempt_at, timezone) : "", 25) << "  " << rcpt
          << (m.uai.empty() ? "" : " (UAI " + m.uai + ")") << "\n";
        if (!m.last_error.empty()) o << "        last error: " << m.last_error << "\n";
    }
    o << "\n" << pending << " pending, " << deferred << " deferred, " << failed << " failed";
    if (failed) o << " ('outbox retry ID' or 'outbox retry --all' puts failed mails back)";
    o << ".\n";
    return o.str();
}

}  // namespace ppo::workflow
