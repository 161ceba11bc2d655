// The intake: takes every message waiting in the mailbox exactly once, keeps its
// documents, identifies the lycée, records the submission and queues its
// acknowledgement and forward, then files the message in its IMAP folder.
//
// Exactly once: a message is (mailbox, UIDVALIDITY, UID). It leaves the inbox
// only after its row, its files and its outgoing mails are committed; a
// message already recorded under its UID is only filed again. Its Message-ID
// is a stranger's field, never a key: the same content (parsers/mime/content_digest.h)
// recognises the same message after a UIDVALIDITY change, and a second
// delivery is recorded as a duplicate of the first, with no mail sent.
//
// Three stages (plan_listing, judge() in judge.h, record_batch) over batches
// that share one fetch, one sync of the archive and one commit. Whatever goes
// wrong with one message (a decoder, a constraint, a file name the disk
// refuses, an exception) quarantines that message alone; only the
// environment's failures (IMAP, database, disk: ppo::Error transient) abort
// the batch, leave its messages in the inbox and propagate for the caller to
// retry with backoff.
#pragma once

#include "parsers/document/document_type.h"
#include "parsers/mime/mime_message.h"
#include "workflow/ports/archive.h"
#include "workflow/config/config.h"
#include "workflow/intake/document_check.h"
#include "workflow/intake/identification.h"
#include "workflow/intake/judge.h"
#include "workflow/ports/ports.h"
#include "workflow/ports/store.h"
#include "workflow/mail/replies.h"   // the mails a submission gets (triage and the CLI queue them too)
#include "workflow/mail/templates.h"

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
    std::size_t duplicates = 0;    // same content as a message already recorded
    std::size_t refiled = 0;       // already recorded: only moved
    std::size_t uidvalidity_resyncs = 0;
};

// Why a message gets no acknowledgement and goes to the ignored folder
// (auto-replies, bounces, lists, our own mail); "" when none applies.
std::string auto_reply_reason(const parsers::MimeMessage& message, const Config& config);

// A message filed in an IMAP folder: its row and its UID.
struct Filing {
    std::int64_t id = 0;
    std::uint32_t uid = 0;
    Folder folder = Folder::processed;
};

// What a listing holds (pure): messages already recorded under this
// (mailbox, UIDVALIDITY) and UID, which are only filed again (a crash came
// between commit and move); new ones, to fetch, judge and record, in UID
// order, those over max_message_size marked oversized (judged unread).
struct ListingPlan {
    struct New {
        MessageSummary summary;
        bool oversized = false;
    };
    std::vector<Filing> refile;
    std::vector<New> fresh;
    std::uint32_t max_uid = 0;
};
ListingPlan plan_listing(const std::vector<MessageSummary>& listing, const std::vector<MessageRecord>& recorded,
                         std::uint64_t max_message_size, std::uint32_t after_uid);

class Intake {
public:
    // `documents` reads the documents (their text, winmail.dat); without it
    // they are kept unread.
    Intake(const Config& config, Store& store, MailSource& source, Archive& archive, const Templates& templates,
           const Clock& clock, DocumentReader* documents = nullptr);

    // One pass: everything now in the inbox. Throws ppo::Error(transient) on
    // IMAP, database or disk trouble (what was committed stays committed).
    // Anything else that goes wrong with one message quarantines that message
    // only; the rest of its batch is committed and filed.
    IntakeStats poll_once();

    // Called with one line per message handled (for logs and metrics).
    std::function<void(const MessageRecord&)> on_message;
    // Called after each batch is committed (its mails are then in the outbox).
    std::function<void()> on_batch_committed;
    // Tests only: called for each message at "read", "judge", "archive" and
    // "record" (after its rows are written, before its mails are queued); what
    // it throws is that message's failure.
    std::function<void(const char* stage, std::uint32_t uid)> fault_hook;

private:
    // A message read on a worker thread (no store, no archive): its facts for
    // the judge, and its decoded documents for the archive.
    // One file to keep: a document, or a winmail.dat its documents came from.
    struct Document {
        std::size_t index = 0;                 // in msg.attachments
        parsers::DocumentKind kind = parsers::DocumentKind::none;
        bool tnef = false;                     // a winmail.dat, kept as received
        std::string container{};                 // the winmail.dat it came from
        parsers::DocumentText text{};            // when read
        bool read = false;
        std::string named_uais{};                // what its letterhead names
        PpoSignals signals{};
    };
    struct Prepared {
        MessageFacts facts;
        parsers::MimeMessage msg;
        std::vector<Document> documents;
        std::vector<FileRecord> files;   // archived by archive_files()
        Verdict verdict;
        MessageRecord rec;               // the row, once judged
        std::int64_t now = 0;
    };
    Prepared prepare(FetchedMessage& message, std::uint32_t uidvalidity) const;
    void read_documents(Prepared& prepared) const;
    // Judges a batch (two store queries for all of it), archives its files,
    // then writes its rows in one transaction, one savepoint per message.
    // A message judged without its content (too big, or the server cannot deliver it).
    struct Unread {
        MessageSummary summary;
        Verdict verdict;
    };
    std::vector<Filing> record_batch(const std::vector<Unread>& unread, std::vector<Prepared>& prepared,
                                     std::uint32_t uidvalidity, IntakeStats& stats);
    void archive_files(Prepared& prepared);
    void write_rows(Prepared& prepared);
    void count(const MessageRecord& rec, IntakeStats& stats);
    void file_messages(const std::vector<Filing>& filings);
    void fault(const char* stage, std::uint32_t uid) const {
        if (fault_hook) fault_hook(stage, uid);
    }

    const Config& config_;
    Store& store_;
    MailSource& source_;
    Archive& archive_;
    const Templates& templates_;
    const Clock& clock_;
    DocumentReader* reader_;
    CampaignInfo campaign_;
    Directory directory_;
    std::optional<NameIndex> names_;   // made from directory_, remade whenever it is
};

Folder folder_from_name(const std::string& name);
std::string folder_name(Folder folder);

}  // namespace ppo::workflow
