// The transactional store port: everything the workflow keeps. The daemon
// implements it over Poco::Data (SQLite by default, PostgreSQL later). All
// times are seconds since the epoch (UTC). Every write happens inside
// begin()/commit(); a ppo::Error(transient) means "busy, try again".
#pragma once

#include "workflow/campaign/directory.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ppo::workflow {

struct CampaignInfo {
    std::int64_t id = 0;
    std::string name;
    std::string deadline;
};

struct MailboxState {
    std::uint32_t uidvalidity = 0;
    std::uint32_t last_uid = 0;
};

struct MessageRecord {
    std::int64_t id = 0;                 // set by insert_message
    std::int64_t campaign_id = 0;
    std::string mailbox;
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
    std::string message_id;              // "" stored as NULL; a hint, never a key
    std::string content_sha256;          // content digest (parsers/mime/content_digest.h); "" when not read
    std::int64_t duplicate_of = 0;       // outcome "duplicate": the first copy's id
    std::int64_t received_at = 0;
    std::string from;
    std::string subject;
    std::string outcome;                 // "submission" | "unidentified" | "ignored" | "quarantined" | "duplicate" | "rejected"
    std::string reason;
    std::string uai;                     // "" stored as NULL
    std::string identified_by;           // "sender" | "forwarded" | "thread" | "uai" | "name" | "manual"
    std::string evidence;
    bool late = false;
    std::string folder;                  // "processed" | "triage" | "ignored"
    bool moved = false;
    std::string links{};                   // download links found in a message without documents, one per line
};

struct FileRecord {
    std::int64_t id = 0;
    std::int64_t message_ref = 0;
    std::string name;                    // original name, UTF-8
    std::string path;                    // absolute path in the archive
    std::int64_t size = 0;
    std::string sha256;                  // lower-case hex
    std::string kind;                    // "pdf", "docx", ..., "tnef" (a winmail.dat, kept as received)
    std::string container{};               // the winmail.dat it was unpacked from, "" when sent as such
    // What the document says (parsers/document/document_text.h, workflow/intake/document_check.h);
    // empty on rows written before version 005.
    std::string text{};                    // first [documents] max_text_bytes of its text, UTF-8
    std::string text_error{};              // why there is no text ("scanned image", "timed out ...")
    std::string looks_like_ppo{};          // "yes" | "no" | "unknown"; "" when not checked
    std::string school_years{};            // school years it names, "2021-2022 2022-2023"
    std::string named_uais{};              // lycées its letterhead names, space-separated
    std::string check_detail{};            // what the check found, English
};

// The delivery state of one mail tied to a message (bulk status: one query).
struct MessageMailState {
    std::int64_t message_ref = 0;
    std::string kind;                    // "ack" | "forward" | "link"
    std::string state;                   // "pending" | "sent" | "failed"
};

// A reminder recorded for a lycée (bulk status: one query).
struct ReminderRecord {
    std::string uai;
    int offset_days = 0;
};

struct OutboxMail {
    std::int64_t id = 0;
    std::int64_t campaign_id = 0;
    std::string kind;                    // "ack" | "forward" | "reminder" | "digest"
    std::int64_t message_ref = 0;        // 0 stored as NULL
    std::string uai;
    std::string dedupe_key;              // unique: enqueuing twice is a no-op
    std::string message_id;              // the mail's own Message-ID, with <> (replies are matched on it)
    std::string envelope_from;
    std::vector<std::string> recipients;
    std::string data;                    // complete RFC 5322 text
    std::string state = "pending";       // "pending" | "sent" | "failed"
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    std::string last_error;
    std::int64_t created_at = 0;
    std::int64_t sent_at = 0;
};


// A share of the outbox: the mails whose id % count == index.
struct OutboxShard {
    int index = 0;
    int count = 1;
};

class Store {
public:
    virtual ~Store() = default;

    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;
    // Inside begin()/commit(): a point to go back to when one message of a
    // batch fails, so that the others are still committed. `name` is an SQL
    // identifier chosen by the caller.
    virtual void savepoint(const std::string& name) = 0;
    virtual void release_savepoint(const std::string& name) = 0;
    virtual void rollback_to_savepoint(const std::string& name) = 0;

    // Creates the campaign row on first use; returns it.
    virtual CampaignInfo ensure_campaign(const std::string& name, const std::string& deadline,
                                         const std::string& academies_csv, std::int64_t now) = 0;
    // Open lycées of these académies, with every bassin.
    virtual Directory load_directory(const std::vector<std::string>& academies) = 0;

    virtual std::optional<MailboxState> mailbox_state(const std::string& mailbox) = 0;
    virtual void set_mailbox_state(const std::string& mailbox, const MailboxState& state) = 0;

    // What a listing already holds: the messages recorded in (mailbox,
    // uidvalidity) with a UID above `after_uid` (one query for the listing).
    virtual std::vector<MessageRecord> messages_after_uid(const std::string& mailbox, std::uint32_t uidvalidity,
                                                          std::uint32_t after_uid) = 0;
    // Messages whose content digest is one of `digests` (one query per batch).
    virtual std::vector<MessageRecord> messages_with_content(const std::vector<std::string>& digests) = 0;
    // After a UIDVALIDITY change: the message now lives at (uidvalidity, uid).
    virtual void relocate_message(std::int64_t id, std::uint32_t uidvalidity, std::uint32_t uid) = 0;
    virtual std::optional<MessageRecord> message(std::int64_t id) = 0;
    // `n` message ids no other caller will get, in a transaction of their own
    // (not inside begin()/commit()): the intake names the archive folders with
    // them before it takes the write lock. An id reserved and never used is a gap.
    virtual std::vector<std::int64_t> reserve_message_ids(std::size_t n) = 0;
    // With record.id == 0 the database picks the id; otherwise record.id (reserved).
    virtual std::int64_t insert_message(const MessageRecord& record) = 0;
    virtual void update_message(const MessageRecord& record) = 0;
    virtual void mark_moved(const std::vector<std::int64_t>& ids) = 0;
    // Messages recorded but not yet moved out of the inbox (crash recovery).
    virtual std::vector<MessageRecord> unmoved_messages(const std::string& mailbox) = 0;
    // Messages of this campaign with this outcome, oldest first.
    virtual std::vector<MessageRecord> messages_with_outcome(std::int64_t campaign_id, const std::string& outcome) = 0;
    // Submissions (outcome "submission") of one lycée, oldest first.
    virtual std::vector<MessageRecord> submissions_of(std::int64_t campaign_id, const std::string& uai) = 0;
    // Every submission of the campaign, oldest first, without the long text
    // fields (subject, reason, evidence and links are left empty): what the
    // status, the schedule and the digest read of tens of thousands of rows.
    virtual std::vector<MessageRecord> submissions(std::int64_t campaign_id) = 0;

    virtual std::int64_t insert_file(const FileRecord& file) = 0;
    // The files of a message, without their text.
    virtual std::vector<FileRecord> files_of(std::int64_t message_ref) = 0;
    // A file's extracted text ("" when none or not read).
    virtual std::string file_text(std::int64_t file_id) = 0;
    // Every file of the campaign's submissions and unidentified messages
    // whose id is above `after_file_id` (0: all), without their text, by
    // message then id (one query for the status; files are never changed
    // once written, so a reader may keep them and ask for the new ones only).
    virtual std::vector<FileRecord> campaign_files(std::int64_t campaign_id, std::int64_t after_file_id) = 0;

    // Inserts unless a row with the same dedupe_key exists; returns the id of
    // the row (new or existing).
    virtual std::int64_t enqueue(const OutboxMail& mail) = 0;
    // The pending mails due by `now`, oldest first; with `shard`, only those
    // whose id % shard.count == shard.index (one SMTP connection each, never
    // two for one mail).
    virtual std::vector<OutboxMail> due_outbox(std::int64_t now, std::size_t limit, OutboxShard shard = {}) = 0;
    // The mails about one message, oldest first; `data` holds only the mail's
    // head (its first 4 KiB), as in outbox_list.
    virtual std::vector<OutboxMail> outbox_for_message(std::int64_t message_ref) = 0;
    virtual std::vector<OutboxMail> outbox_of_kind(std::int64_t campaign_id, const std::string& kind) = 0;
    virtual void mark_sent(std::int64_t outbox_id, std::int64_t now) = 0;
    virtual void mark_attempt_failed(std::int64_t outbox_id, const std::string& error, std::int64_t next_attempt_at,
                                     bool permanent) = 0;
    // The lycée (UAI) of each mail we sent whose Message-ID is one of `message_ids`
    // (Message-ID -> UAI; mails with no lycée are left out).
    virtual std::vector<std::pair<std::string, std::string>> lycees_of_sent_mails(
        const std::vector<std::string>& message_ids) = 0;
    // Outgoing mails of this kind to this recipient created since `since` (rate
    // limit). The address is matched exactly (ASCII case aside), never as a pattern.
    virtual std::size_t count_outbox_to(const std::string& kind, const std::string& recipient, std::int64_t since) = 0;
    virtual std::size_t outbox_pending_count() = 0;
    // Kind and state of every acknowledgement, forward and link reply of the
    // campaign's messages, in no particular order (one query for the status).
    virtual std::vector<MessageMailState> message_mail_states(std::int64_t campaign_id) = 0;
    // The outbox as `outbox list` and the /outbox page show it: the mails in
    // one of `states` ("pending", "sent", "failed"; empty: every state), oldest
    // first. `data` holds only the mail's head (its first 4 KiB: enough for the
    // Subject), never the whole mail. A pending mail with attempts > 0 is
    // deferred (outbox_state() in outbox.h).
    virtual std::vector<OutboxMail> outbox_list(const std::vector<std::string>& states) = 0;
    // `outbox retry` (like postqueue -f): puts the failed mail `id` back to
    // pending, due at `now`, its attempts and last error kept; `id` 0: every
    // failed mail. Returns how many were put back (0 when `id` is not failed).
    virtual std::size_t retry_outbox(std::int64_t id, std::int64_t now) = 0;

    // Reminders: true when this (lycée, offset) was already recorded.
    virtual bool reminder_recorded(std::int64_t campaign_id, const std::string& uai, int offset_days) = 0;
    virtual void record_reminder(std::int64_t campaign_id, const std::string& uai, int offset_days,
                                 std::int64_t outbox_id, std::int64_t now) = 0;
    virtual std::vector<int> reminders_of(std::int64_t campaign_id, const std::string& uai) = 0;
    // Every reminder of the campaign, by UAI then offset (one query for the status).
    virtual std::vector<ReminderRecord> campaign_reminders(std::int64_t campaign_id) = 0;

    virtual bool digest_recorded(std::int64_t campaign_id, const std::string& slot) = 0;
    virtual void record_digest(std::int64_t campaign_id, const std::string& slot, std::int64_t outbox_id,
                               std::int64_t now) = 0;
    // created_at of the newest digest, 0 if none.
    virtual std::int64_t last_digest_at(std::int64_t campaign_id) = 0;
};

}  // namespace ppo::workflow
