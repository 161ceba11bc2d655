// The intake: takes every message waiting in the mailbox exactly once, keeps its
// documents, identifies the lycée, records the submission and queues its
// acknowledgement and forward, then files the message in its IMAP folder.
//
// Exactly once: a message leaves the inbox only after its row, its files and
// its outgoing mails are committed; a message already recorded (by
// (mailbox, UIDVALIDITY, UID) or by Message-ID) is only filed again, never
// handled twice. Batches of messages share one fetch, one fsync pass and one
// commit. Transient errors (IMAP, database, disk) abort the batch, leave its
// messages in the inbox, and propagate for the caller to retry with backoff.
#pragma once

#include "parsers/document_type.h"
#include "parsers/mime_message.h"
#include "workflow/archive.h"
#include "workflow/config.h"
#include "workflow/identification.h"
#include "workflow/ports.h"
#include "workflow/store.h"
#include "workflow/templates.h"

#include <functional>
#include <optional>
#include <string>

namespace ppo::workflow {

struct IntakeStats {
    std::size_t seen = 0;
    std::size_t submissions = 0;
    std::size_t unidentified = 0;
    std::size_t ignored = 0;
    std::size_t quarantined = 0;
    std::size_t refiled = 0;       // already recorded: only moved
    std::size_t uidvalidity_resyncs = 0;
};

// Why a message gets no acknowledgement and goes to the ignored folder
// (auto-replies, bounces, lists, our own mail); "" when none applies.
std::string auto_reply_reason(const parsers::MimeMessage& message, const Config& config);

// authenticate_sender(...).authenticated (sender_auth.h): true with no trusted
// authserv-id configured.
bool sender_authenticated(const parsers::MimeMessage& message, const std::string& trusted_authserv_id);

class Intake {
public:
    Intake(const Config& config, Store& store, MailSource& source, Archive& archive, const Templates& templates,
           const Clock& clock);

    // One pass: everything now in the inbox. Throws ppo::Error(transient) on
    // IMAP, database or disk trouble (what was committed stays committed).
    IntakeStats poll_once();

    // Called with one line per message handled (for logs and metrics).
    std::function<void(const MessageRecord&)> on_message;
    // Called after each batch is committed (its mails are then in the outbox).
    std::function<void()> on_batch_committed;

private:
    struct Handled {
        std::int64_t id;
        std::uint32_t uid;
        Folder folder;
    };
    // A message read and judged, not yet recorded: prepare() touches neither
    // the store nor the archive, so it runs on worker threads (two at once)
    // without holding the database lock; record() writes it, in the batch's
    // transaction. See poll_once() for the pipeline.
    struct Prepared {
        MessageRecord rec;
        parsers::MimeMessage msg;
        std::vector<std::pair<std::size_t, parsers::DocumentKind>> documents;   // index in msg.attachments
        std::vector<FileRecord> files;   // archived by archive_files()
        std::int64_t now = 0;
    };
    Prepared prepare(FetchedMessage& message, std::uint32_t uidvalidity) const;
    // Writes the documents of a prepared message (rec.id already reserved) to
    // the archive, before the transaction: the write lock is held only for
    // the rows.
    void archive_files(Prepared& prepared);
    Handled record(Prepared& prepared, IntakeStats& stats);
    void file_messages(const std::vector<Handled>& handled);

    const Config& config_;
    Store& store_;
    MailSource& source_;
    Archive& archive_;
    const Templates& templates_;
    const Clock& clock_;
    CampaignInfo campaign_;
    Directory directory_;
    std::optional<NameIndex> names_;   // made from directory_, remade whenever it is
};

Folder folder_from_name(const std::string& name);
std::string folder_name(Folder folder);

// Queues the acknowledgement and the forward of a submission (used by the
// intake and by `triage assign`). Must run inside the caller's transaction.
void enqueue_submission_mails(const Config& config, Store& store, const Templates& templates,
                              const Directory& directory, const MessageRecord& record,
                              const std::vector<FileRecord>& files, const std::string& sender_message_id,
                              const std::string& sender_references, bool acknowledge_sender, std::int64_t now);

}  // namespace ppo::workflow
