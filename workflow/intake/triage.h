// The two actions on a message waiting in triage, shared by the CLI (`triage
// assign|reject`) and the web interface (POST /triage/ID/assign|reject): the
// same checks, the same records, the same mails. Each runs in one transaction
// of its own; the mails are only queued (the caller sends the outbox, or lets
// the daemon's sender do it).
#pragma once

#include "workflow/config/config.h"
#include "workflow/campaign/directory.h"
#include "workflow/ports/store.h"
#include "workflow/mail/templates.h"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ppo::workflow {

// Why an action was refused; what() is an English sentence for the CLI, the
// web page says it in French from `problem`.
struct TriageError : std::runtime_error {
    enum class Problem {
        not_waiting,     // no such message, or not (any more) in triage
        unknown_lycee,   // the UAI is not a lycée of the campaign
        no_document,     // nothing to credit (a link, or no document at all)
    };
    TriageError(Problem p, const std::string& what) : std::runtime_error(what), problem(p) {}
    Problem problem;
};

// Credits message `id` (outcome "unidentified") to the lycée `uai` by hand
// (identified_by "manual", late when received after the deadline), and queues
// its acknowledgement and its forward. Returns the updated message.
MessageRecord assign_from_triage(const Config& config, Store& store, const Templates& templates,
                                 const Directory& directory, std::int64_t id, const std::string& uai, std::int64_t now);

// Sets message `id` (outcome "unidentified") aside for good: outcome
// "rejected", reason "rejected by hand (was: ...)". Nothing is sent.
MessageRecord reject_from_triage(Store& store, std::int64_t id);

}  // namespace ppo::workflow
