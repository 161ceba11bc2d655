#include "workflow/intake/triage.h"

#include "workflow/campaign/campaign_time.h"
#include "workflow/intake/intake.h"

namespace ppo::workflow {

namespace {

// The message, read inside the caller's transaction, when it waits in triage.
MessageRecord waiting(Store& store, std::int64_t id) {
    auto msg = store.message(id);
    if (!msg || msg->outcome != "unidentified")
        throw TriageError(TriageError::Problem::not_waiting,
                          "submission " + std::to_string(id) + " is not waiting in triage");
    return *msg;
}

template <class F>
auto in_transaction(Store& store, F&& f) {
    store.begin();
    try {
        auto result = f();
        store.commit();
        return result;
    } catch (...) {
        store.rollback();
        throw;
    }
}

}  // namespace

MessageRecord assign_from_triage(const Config& config, Store& store, const Templates& templates,
                                 const Directory& directory, std::int64_t id, const std::string& uai, std::int64_t now) {
    const auto* lycee = directory.by_uai(uai);
    return in_transaction(store, [&] {
        auto msg = waiting(store, id);
        if (!lycee) throw TriageError(TriageError::Problem::unknown_lycee, uai + " is not a lycée of this campaign");
        auto files = store.files_of(id);
        if (files.empty())
            throw TriageError(TriageError::Problem::no_document,
                              "submission " + std::to_string(id) + " has no document to attribute");
        msg.outcome = "submission";
        msg.uai = lycee->uai;
        msg.identified_by = "manual";
        msg.reason.clear();
        msg.late = msg.received_at >= deadline_end(config.campaign);
        store.update_message(msg);
        enqueue_submission_mails(config, store, templates, directory, msg, files, msg.message_id, "", true, now);
        return msg;
    });
}

MessageRecord reject_from_triage(Store& store, std::int64_t id) {
    return in_transaction(store, [&] {
        auto msg = waiting(store, id);
        msg.outcome = "rejected";
        msg.reason = "rejected by hand (was: " + msg.reason + ")";
        store.update_message(msg);
        return msg;
    });
}

}  // namespace ppo::workflow
