// The verdict on one message: the only place where the intake decides what a
// message is (submission, unidentified, ignored, quarantined, duplicate) and
// where it goes. Pure: everything it needs is passed in — what the worker
// threads learnt from the message (MessageFacts) and what the store holds
// that bears on it (Known) — so that every rule is tested without a mailbox,
// a database or a thread.
//
// Order of the rules:
//   1. the message could not be read at all        -> quarantined
//   2. same content as a message already recorded  -> that message filed again (after a
//      UIDVALIDITY change, when it was never moved), else a duplicate of the first copy
//      that was not quarantined (a quarantined one put back in the inbox is judged afresh)
//   3. malformed (limits, broken structure)         -> quarantined
//   4. auto-reply, bounce, list, our own mail       -> ignored
//   5. no document: a download link instead    -> unidentified "download link: <host>", and the
//      lycée, when the evidence names one, is asked for the file as an attachment
//   6. no document at all                           -> unidentified
//   7. evidence: the message's own (sender, UAI, name), every forwarded message's
//      (message/rfc822 parts and inline forward blocks: "forwarded"), the lycées of our
//      mails it replies to ("thread"); when these name no lycée and block nothing, the
//      documents' letterheads ("document"). One lycée -> submission; none or several ->
//      unidentified. A document naming another lycée than the message is not evidence
//      against it: it is a check (document_check.h), shown but never blocking.
#pragma once

#include "workflow/intake/identification.h"
#include "workflow/ports/ports.h"
#include "workflow/ports/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ppo::workflow {

struct MessageFacts {
    MessageRecord base;                       // campaign, mailbox, uidvalidity, uid, message_id, from, subject,
                                              // received_at, content_sha256
    std::string unreadable;                   // set when reading the message threw (the reason)
    std::string corrupt_reason;               // the parser's, when the message is malformed
    std::string auto_reply;                   // auto_reply_reason(), "" when none
    std::size_t documents = 0;                // attachments that are documents
    std::size_t attachments = 0;              // every attachment
    Identification own;                       // from the message's own sender, subject, body, file names
    std::vector<Identification> forwarded;    // one per forwarded message found
    std::vector<std::string> replied_to;      // Message-IDs of In-Reply-To and References
    // What each document's letterhead names (identify() on its head, relabelled
    // "document"): evidence only when the message itself names no lycée.
    std::vector<Identification> documents_named{};
    std::vector<std::string> links{};           // download links (parsers/mime/download_links.h): "host url", in order
};

struct Known {
    // Recorded messages with the same content digest, oldest first (the ones
    // recorded earlier in the same batch included, as not moved).
    std::vector<MessageRecord> same_content;
    // The lycées of the mails we sent that this message replies to.
    std::vector<std::string> thread_uais;
};

struct JudgeContext {
    const Directory* directory = nullptr;
    std::uint32_t uidvalidity = 0;            // of the mailbox now
    std::int64_t deadline_end = 0;            // first second after the deadline
};

struct Verdict {
    // record: a new row; refile: the message is `refile_of`, already recorded,
    // which is only filed (and relocated to its new UID).
    enum class Action { record, refile } action = Action::record;
    std::int64_t refile_of = 0;
    std::string outcome;                      // "submission" | "unidentified" | "ignored" | "quarantined" | "duplicate"
    std::string reason;
    std::string uai;
    std::string identified_by;
    std::string evidence;
    bool late = false;
    std::int64_t duplicate_of = 0;
    std::string folder;                       // "processed" | "triage" | "ignored"
    bool keep_files = false;                  // documents archived (submission, unidentified)
    bool send_mails = false;                  // acknowledgement and forward queued (submission)
    std::string links{};                      // download links of a message without documents, one per line
    bool send_link_reply = false;             // the identified lycée is asked for the file itself (uai set)
};

Verdict judge(const MessageFacts& facts, const Known& known, const JudgeContext& context);

// A message over max_message_size, never downloaded.
Verdict judge_oversized(const MessageSummary& summary, std::uint64_t max_message_size);

// A message the IMAP server refuses to deliver (FETCH answered NO) while it
// delivers the others: its bytes cannot be read, it stays for a person.
Verdict judge_unfetchable(const MessageSummary& summary, const std::string& error);

// A message whose handling failed on its own (not the environment's fault).
Verdict quarantine(const std::string& reason);

// The IMAP folder of an outcome.
std::string folder_of(const std::string& outcome);

}  // namespace ppo::workflow
