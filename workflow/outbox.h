// Sends what waits in the outbox over one SMTP connection, marking each mail
// sent right after the server accepted it (the only window in which a crash
// can duplicate a mail). Temporary failures are retried with exponential
// backoff ([smtp] retry_delay, doubled at each attempt, capped at 1 h); permanent ones (5xx) are marked
// failed and reported. A connection-level failure stops the pass: the rest
// waits for the next one.
#pragma once

#include "workflow/archive.h"
#include "workflow/ports.h"
#include "workflow/store.h"

#include <functional>

namespace ppo::workflow {

struct OutboxStats {
    std::size_t sent = 0;
    std::size_t deferred = 0;
    std::size_t failed = 0;
    std::size_t left = 0;     // still pending after the pass
};

// `archive` expands the file references of forwards; when a file cannot be
// read the mail is deferred like any temporary failure, with the path in its error.
OutboxStats flush_outbox(Store& store, MailSender& sender, const Archive& archive, const Clock& clock,
                         std::size_t max_mails = 10000,
                         const std::function<void(const OutboxMail&, const std::string& outcome)>& on_mail = {},
                         int first_retry_seconds = 60, const std::function<bool()>& keep_going = {});

// first_retry_seconds * 2^attempts, capped at one hour.
std::int64_t retry_delay_seconds(int attempts, int first_retry_seconds = 60);

}  // namespace ppo::workflow
