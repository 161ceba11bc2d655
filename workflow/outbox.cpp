#include "workflow/outbox.h"

#include "parsers/error.h"
#include "workflow/crash_point.h"
#include "workflow/mail_builder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
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
                         int first_retry_seconds, const std::function<bool()>& keep_going) {
    auto now = [&] {
        return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
    };
    OutboxStats stats;
    bool stop_pass = false;   // a refused connection, or keep_going() said no
    while (!stop_pass && stats.sent + stats.failed + stats.deferred < max_mails) {
        auto due = store.due_outbox(now(), std::min<std::size_t>(50, max_mails));
        if (due.empty()) break;
        for (const auto& mail : due) {
            if (keep_going && !keep_going()) {
                stop_pass = true;   // asked to stop: the rest waits
                break;
            }
            try {
                if (has_file_references(mail.data)) {
                    std::string full;
                    try {
                        full = expand_file_references(mail.data, [&](const std::string& p) { return archive.read(p); });
                    } catch (const ppo::Error& e) {
                        // Retried like a refused connection: the archive may be back later.
                        throw transient_error(std::string("cannot attach an archived file: ") + e.what());
                    }
                    sender.send({mail.envelope_from, mail.recipients, std::move(full), "outbox " + std::to_string(mail.id)});
                } else {
                    sender.send({mail.envelope_from, mail.recipients, mail.data, "outbox " + std::to_string(mail.id)});
                }
            } catch (const ppo::Error& e) {
                bool permanent = e.kind() == ErrorKind::permanent;
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

}  // namespace ppo::workflow
