// The replies a message gets, composed in one place for the intake, triage and
// the CLI: a submission's acknowledgement (to the lycée's official address, and
// to the sender only inside the académies' or the directory's domains: no
// backscatter) and its forward to the bassin's IEN-IO (the archived files by
// reference, streamed at send time); the acknowledgement sent again (`ack
// resend`); the request for the file itself when a message gave only a download
// link. Each is rendered from its editable template (workflow/mail/templates.h),
// built as MIME (workflow/mail/mail_builder.h) and queued in the outbox under a
// dedupe key, at most [smtp] max_per_recipient_per_hour of a kind to one address.
#pragma once

#include "workflow/campaign/directory.h"
#include "workflow/config/config.h"
#include "workflow/mail/templates.h"
#include "workflow/ports/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ppo::workflow {

// The values every mail about a lycée has: lycee_nom, uai, commune, campagne,
// date_limite, adresse_depot (the templates of etc/templates/).
TemplateValues lycee_values(const Config& config, const Lycee& lycee);

// Queues the acknowledgement and the forward of a submission (used by the
// intake and by `triage assign`). Must run inside the caller's transaction.
void enqueue_submission_mails(const Config& config, Store& store, const Templates& templates,
                              const Directory& directory, const MessageRecord& record,
                              const std::vector<FileRecord>& files, const std::string& sender_message_id,
                              const std::string& sender_references, bool acknowledge_sender, std::int64_t now);

// `ack resend`: the acknowledgement of a submission (outcome "submission")
// queued once more, under the dedupe key "ack:ID:resend:N" (N = 1, 2, ...;
// the first one is "ack:ID"), rendered again from the "ack" template, to the
// lycée's official address and the sender as the first one, each within
// [smtp] max_per_recipient_per_hour. outbox_id 0: nothing queued (not a
// submission, or no recipient left: the rate limit, which is logged, or no
// address). Must run inside the caller's transaction.
struct AckResend {
    std::int64_t outbox_id = 0;
    std::string dedupe_key;
    std::vector<std::string> recipients;
};
AckResend enqueue_ack_resend(const Config& config, Store& store, const Templates& templates, const Directory& directory,
                             const MessageRecord& record, const std::vector<FileRecord>& files, std::int64_t now);

// Asks the lycée of a message that gave a download link instead of its file
// (record.uai, record.links) for the file as an attachment (template "link").
// Must run inside the caller's transaction.
void enqueue_link_reply(const Config& config, Store& store, const Templates& templates, const Directory& directory,
                        const MessageRecord& record, const std::string& sender_message_id,
                        const std::string& sender_references, std::int64_t now);

}  // namespace ppo::workflow
