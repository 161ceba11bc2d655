// The Store port over Database (Poco::Data). Besides the workflow's Store
// operations it holds the directory import's writes, which only the CLI uses.
#pragma once

#include "daemon/store/database.h"
#include "workflow/campaign/directory_import.h"
#include "workflow/ports/store.h"

namespace ppo::daemon {

struct LyceeRow {
    workflow::Lycee lycee;
    std::string nature;
};

class SqlStore final : public workflow::Store {
public:
    explicit SqlStore(Database& db) : db_(db) {}

    void begin() override { db_.begin(); }
    void commit() override { db_.commit(); }
    void rollback() override { db_.rollback(); }
    void savepoint(const std::string& name) override { db_.exec("SAVEPOINT " + name); }
    void release_savepoint(const std::string& name) override { db_.exec("RELEASE SAVEPOINT " + name); }
    void rollback_to_savepoint(const std::string& name) override { db_.exec("ROLLBACK TO SAVEPOINT " + name); }

    workflow::CampaignInfo ensure_campaign(const std::string& name, const std::string& deadline,
                                           const std::string& academies_csv, std::int64_t now) override;
    workflow::Directory load_directory(const std::vector<std::string>& academies) override;

    std::optional<workflow::MailboxState> mailbox_state(const std::string& mailbox) override;
    void set_mailbox_state(const std::string& mailbox, const workflow::MailboxState& state) override;

    std::optional<workflow::MessageRecord> message(std::int64_t id) override;
    std::vector<workflow::MessageRecord> messages_after_uid(const std::string& mailbox, std::uint32_t uidvalidity,
                                                            std::uint32_t after_uid) override;
    std::vector<workflow::MessageRecord> messages_with_content(const std::vector<std::string>& digests) override;
    void relocate_message(std::int64_t id, std::uint32_t uidvalidity, std::uint32_t uid) override;
    std::vector<std::pair<std::string, std::string>> lycees_of_sent_mails(
        const std::vector<std::string>& message_ids) override;
    std::vector<std::int64_t> reserve_message_ids(std::size_t n) override;
    std::int64_t insert_message(const workflow::MessageRecord& record) override;
    void update_message(const workflow::MessageRecord& record) override;
    void mark_moved(const std::vector<std::int64_t>& ids) override;
    std::vector<workflow::MessageRecord> unmoved_messages(const std::string& mailbox) override;
    std::vector<workflow::MessageRecord> messages_with_outcome(std::int64_t campaign_id, const std::string& outcome) override;
    std::vector<workflow::MessageRecord> submissions_of(std::int64_t campaign_id, const std::string& uai) override;
    std::vector<workflow::MessageRecord> submissions(std::int64_t campaign_id) override;

    std::int64_t insert_file(const workflow::FileRecord& file) override;
    std::vector<workflow::FileRecord> files_of(std::int64_t message_ref) override;
    std::string file_text(std::int64_t file_id) override;
    std::vector<workflow::FileRecord> campaign_files(std::int64_t campaign_id, std::int64_t after_file_id) override;

    std::int64_t enqueue(const workflow::OutboxMail& mail) override;
    std::vector<workflow::OutboxMail> due_outbox(std::int64_t now, std::size_t limit,
                                                 workflow::OutboxShard shard = {}) override;
    std::vector<workflow::OutboxMail> outbox_for_message(std::int64_t message_ref) override;
    std::vector<workflow::OutboxMail> outbox_of_kind(std::int64_t campaign_id, const std::string& kind) override;
    void mark_sent(std::int64_t outbox_id, std::int64_t now) override;
    void mark_attempt_failed(std::int64_t outbox_id, const std::string& error, std::int64_t next_attempt_at,
                             bool permanent) override;
    std::size_t count_outbox_to(const std::string& kind, const std::string& recipient, std::int64_t since) override;
    std::size_t outbox_pending_count() override;
    std::vector<workflow::MessageMailState> message_mail_states(std::int64_t campaign_id) override;
    std::vector<workflow::OutboxMail> outbox_list(const std::vector<std::string>& states) override;
    std::size_t retry_outbox(std::int64_t id, std::int64_t now) override;

    bool reminder_recorded(std::int64_t campaign_id, const std::string& uai, int offset_days) override;
    void record_reminder(std::int64_t campaign_id, const std::string& uai, int offset_days, std::int64_t outbox_id,
                         std::int64_t now) override;
    std::vector<int> reminders_of(std::int64_t campaign_id, const std::string& uai) override;
    std::vector<workflow::ReminderRecord> campaign_reminders(std::int64_t campaign_id) override;

    bool digest_recorded(std::int64_t campaign_id, const std::string& slot) override;
    void record_digest(std::int64_t campaign_id, const std::string& slot, std::int64_t outbox_id,
                       std::int64_t now) override;
    std::int64_t last_digest_at(std::int64_t campaign_id) override;

    // Directory import. Returns "inserted", "updated" or "unchanged".
    std::string upsert_lycee(const LyceeRow& row, std::int64_t now);
    // Marks these lycées closed (never deleted: their submissions stay theirs).
    void close_lycees(const std::vector<std::string>& uais, std::int64_t now);
    // Every lycée stored, open or closed, any académie; every bassin.
    std::vector<workflow::DirectoryRow> directory_rows();
    std::vector<workflow::Bassin> bassins();
    // With `with_ien_io` false, only the label is written (the annuaire knows
    // bassins but not their IEN-IO; the routing file does).
    void upsert_bassin(const workflow::Bassin& bassin, bool with_ien_io);

private:
    Database& db_;
};

}  // namespace ppo::daemon
