// The one scheduler of reminders and digests. `tick` runs it once at --now;
// `run` runs it from a timer (next_due tells when). Both queue their mails in
// the same outbox, inside one transaction per action, so a restart never sends
// a reminder or a digest twice.
//
// Reminders: for each offset of [campaign] reminders (days from the deadline),
// due at reminder_time in the campaign's zone on deadline + offset. A due
// reminder goes once per (lycée, offset), only to lycées with no submission
// ("missing"); after a downtime it is still sent if the next offset has not yet
// come, never as a stale backlog. After the deadline (offset > 0) the bassin's
// IEN-IO is copied. Digests: on [digest] days at time, one per slot.
#pragma once

#include "workflow/config/config.h"
#include "workflow/campaign/directory.h"
#include "workflow/ports/store.h"
#include "workflow/mail/templates.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ppo::workflow {

struct ScheduledAction {
    std::string kind;                  // "reminder" | "digest"
    std::string key;                   // "-21" for a reminder offset, the slot "2022-03-04" for a digest
    std::string uai;                   // reminders
    std::vector<std::string> recipients;
    std::string subject;
};

// Queues (or, with dry_run, only lists) what is due at `now`. Returns what was
// (or would be) queued.
std::vector<ScheduledAction> run_scheduled(const Config& config, Store& store, const Templates& templates,
                                           const Directory& directory, std::int64_t campaign_id, std::int64_t now,
                                           bool dry_run);

// The next instant after `now` when something may fall due (a reminder time or
// a digest time), for the daemon's timer.
std::int64_t next_due(const Config& config, std::int64_t now);

}  // namespace ppo::workflow
