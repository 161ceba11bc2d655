// Sends what waits in the outbox over one SMTP connection, marking each mail
// sent right after the server accepted it (the only window in which a crash
// can duplicate a mail). Temporary failures are retried with exponential
// backoff ([smtp] retry_delay, doubled at each attempt, capped at 1 h); permanent ones (5xx) are marked
// failed and reported. A connection-level failure stops the pass: the rest
// waits for the next one. A mail still failing temporarily [smtp] max_age
// after it was queued is given up (failed, "gave up after 5 days: ..."), as
// Postfix's maximal_queue_lifetime; `outbox retry` puts failed mails back.
#pragma once

#include "workflow/ports/archive.h"
#include "workflow/ports/ports.h"
#include "workflow/ports/store.h"

#include <functional>
#include <mutex>

namespace ppo::workflow {

struct OutboxStats {
    std::size_t sent = 0;
    std::size_t deferred = 0;
    std::size_t failed = 0;   // refused for good (5xx) or given up (max_age)
    std::size_t expired = 0;  // of `failed`: given up after max_age
    std::size_t left = 0;     // still pending after the pass
};

// `archive` expands the file references of forwards; when a file cannot be
// read the mail is deferred like any temporary failure, with the path in its error.
// `on_mail` gets "sent", "deferred" or "failed" (refused or given up).
// `max_age_seconds` > 0: a temporary failure of a mail created that long ago
// or more makes it failed ("gave up after <max_age>: <error>"), logged as a
// warning; the pass goes on with the next mail (each is tried once).
// `shard`: only the mails of that share (one SMTP connection per share).
// `end_of_data`, shared by the connections of one process, is held from just
// before a mail's final "." until it is marked sent (or failed): however many
// connections, a crash duplicates at most one mail.
OutboxStats flush_outbox(Store& store, MailSender& sender, const Archive& archive, const Clock& clock,
                         std::size_t max_mails = 10000,
                         const std::function<void(const OutboxMail&, const std::string& outcome)>& on_mail = {},
                         int first_retry_seconds = 60, const std::function<bool()>& keep_going = {},
                         std::int64_t max_age_seconds = 0, OutboxShard shard = {},
                         std::mutex* end_of_data = nullptr);

// "pending", "deferred" (pending, tried at least once), "sent" or "failed".
std::string outbox_state(const OutboxMail& mail);

// "5 days", "1 day", "36 hours", "90 minutes", "45 seconds": a duration as
// the give-up message and the logs say it.
std::string duration_label(std::int64_t seconds);

// `outbox list`: the mails of outbox_list() (pending, deferred, failed) as a
// JSON array of {id, kind, uai, recipients, state, attempts, next_attempt_at,
// last_error, created_at} (times ISO 8601 in `timezone`), or a text table.
std::string outbox_list_json(const std::vector<OutboxMail>& mails, const std::string& timezone);
std::string outbox_list_table(const std::vector<OutboxMail>& mails, const std::string& timezone);

// first_retry_seconds * 2^attempts, capped at one hour.
std::int64_t retry_delay_seconds(int attempts, int first_retry_seconds = 60);

}  // namespace ppo::workflow
