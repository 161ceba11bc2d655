// Reminders and digest scheduling over the real SQLite store (in memory), with
// the shipped French templates.
#include "workflow/campaign/scheduler.h"

#include "daemon/store/database.h"
#include "daemon/store/sql_store.h"
#include "workflow/campaign/campaign_time.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

std::int64_t at(const std::string& iso) { return parse_instant(iso, "Europe/Paris"); }

// Counts the writes a scheduler pass asks for, and forwards everything.
class CountingStore final : public Store {
public:
    explicit CountingStore(Store& inner) : s_(inner) {}
    int begins = 0, enqueues = 0, records = 0;

    void begin() override { ++begins; s_.begin(); }
    void commit() override { s_.commit(); }
    void rollback() override { s_.rollback(); }
    void savepoint(const std::string& n) override { s_.savepoint(n); }
    void release_savepoint(const std::string& n) override { s_.release_savepoint(n); }
    void rollback_to_savepoint(const std::string& n) override { s_.rollback_to_savepoint(n); }
    CampaignInfo ensure_campaign(const std::string& n, const std::string& d, const std::string& a, std::int64_t now) override {
        return s_.ensure_campaign(n, d, a, now);
    }
    Directory load_directory(const std::vector<std::string>& a) override { return s_.load_directory(a); }
    std::optional<MailboxState> mailbox_state(const std::string& m) override { return s_.mailbox_state(m); }
    void set_mailbox_state(const std::string& m, const MailboxState& st) override { s_.set_mailbox_state(m, st); }
    std::optional<MessageRecord> message(std::int64_t id) override { return s_.message(id); }
    std::vector<std::int64_t> reserve_message_ids(std::size_t n) override { return s_.reserve_message_ids(n); }
    std::vector<MessageRecord> messages_after_uid(const std::string& m, std::uint32_t v, std::uint32_t after) override {
        return s_.messages_after_uid(m, v, after);
    }
    std::vector<MessageRecord> messages_with_content(const std::vector<std::string>& d) override {
        return s_.messages_with_content(d);
    }
    void relocate_message(std::int64_t id, std::uint32_t v, std::uint32_t uid) override { s_.relocate_message(id, v, uid); }
    std::vector<std::pair<std::string, std::string>> lycees_of_sent_mails(const std::vector<std::string>& ids) override {
        return s_.lycees_of_sent_mails(ids);
    }
    std::int64_t insert_message(const MessageRecord& r) override { return s_.insert_message(r); }
    void update_message(const MessageRecord& r) override { s_.update_message(r); }
    void mark_moved(const std::vector<std::int64_t>& ids) override { s_.mark_moved(ids); }
    std::vector<MessageRecord> unmoved_messages(const std::string& m) override { return s_.unmoved_messages(m); }
    std::vector<MessageRecord> messages_with_outcome(std::int64_t c, const std::string& o) override {
        return s_.messages_with_outcome(c, o);
    }
    std::vector<MessageRecord> submissions_of(std::int64_t c, const std::string& u) override { return s_.submissions_of(c, u); }
    std::vector<MessageRecord> submissions(std::int64_t c) override { return s_.submissions(c); }
    std::int64_t insert_file(const FileRecord& f) override { return s_.insert_file(f); }
    std::vector<FileRecord> files_of(std::int64_t m) override { return s_.files_of(m); }
    std::string file_text(std::int64_t id) override { return s_.file_text(id); }
    std::vector<FileRecord> campaign_files(std::int64_t c, std::int64_t after) override { return s_.campaign_files(c, after); }
    std::int64_t enqueue(const OutboxMail& m) override { ++enqueues; return s_.enqueue(m); }
    std::vector<OutboxMail> due_outbox(std::int64_t now, std::size_t limit, OutboxShard shard = {}) override {
        return s_.due_outbox(now, limit, shard);
    }
    std::vector<OutboxMail> outbox_for_message(std::int64_t m) override { return s_.outbox_for_message(m); }
    std::vector<OutboxMail> outbox_of_kind(std::int64_t c, const std::string& k) override { return s_.outbox_of_kind(c, k); }
    void mark_sent(std::int64_t id, std::int64_t now) override { s_.mark_sent(id, now); }
    void mark_attempt_failed(std::int64_t id, const std::string& e, std::int64_t n, bool p) override {
        s_.mark_attempt_failed(id, e, n, p);
    }
    std::size_t count_outbox_to(const std::string& k, const std::string& r, std::int64_t since) override {
        return s_.count_outbox_to(k, r, since);
    }
    std::size_t outbox_pending_count() override { return s_.outbox_pending_count(); }
    std::vector<MessageMailState> message_mail_states(std::int64_t c) override { return s_.message_mail_states(c); }
    std::vector<OutboxMail> outbox_list(const std::vector<std::string>& st) override { return s_.outbox_list(st); }
    std::size_t retry_outbox(std::int64_t id, std::int64_t now) override { return s_.retry_outbox(id, now); }
    bool reminder_recorded(std::int64_t c, const std::string& u, int o) override { return s_.reminder_recorded(c, u, o); }
    void record_reminder(std::int64_t c, const std::string& u, int o, std::int64_t id, std::int64_t now) override {
        ++records;
        s_.record_reminder(c, u, o, id, now);
    }
    std::vector<int> reminders_of(std::int64_t c, const std::string& u) override { return s_.reminders_of(c, u); }
    std::vector<ReminderRecord> campaign_reminders(std::int64_t c) override { return s_.campaign_reminders(c); }
    bool digest_recorded(std::int64_t c, const std::string& slot) override { return s_.digest_recorded(c, slot); }
    void record_digest(std::int64_t c, const std::string& slot, std::int64_t id, std::int64_t now) override {
        ++records;
        s_.record_digest(c, slot, id, now);
    }
    std::int64_t last_digest_at(std::int64_t c) override { return s_.last_digest_at(c); }

private:
    Store& s_;
};

class SchedulerTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = std::make_unique<daemon::Database>(DatabaseConfig{"sqlite://:memory:", "sqlite", ":memory:"});
        db_->migrate(PPO_SOURCE_DIR "/sql");
        store_ = std::make_unique<daemon::SqlStore>(*db_);

        config_.smtp.from = "PPO Hauts-de-France <ppo@region-academique-hauts-de-france.fr>";
        config_.smtp.from_address = "ppo@region-academique-hauts-de-france.fr";
        config_.intake.message_id_domain = "region-academique-hauts-de-france.fr";
        config_.campaign.deadline = "2022-03-25";
        config_.digest.enabled = false;   // the digest has its own tests

        store_->upsert_bassin({"095912", "BASSIN DOUAI", "Mme Io Douai", "ien-io.douai@ac-lille.fr"}, true);
        store_->upsert_bassin({"200801", "BASSIN AMIENS", "", ""}, true);   // no IEN-IO
        add("0590072H", "Lycée Camille Claudel", "Douai", "059", "09", "095912", "BASSIN DOUAI", "ce.0590072h@ac-lille.fr");
        add("0596082R", "Lycée Albert Châtelet", "Douai", "059", "09", "095912", "BASSIN DOUAI", "ce.0596082r@ac-lille.fr");
        add("0626769W", "LEGT Édouard Branly", "Boulogne-sur-Mer", "062", "09", "095912", "BASSIN DOUAI", "");
        add("0801234G", "Lycée Madeleine Michelis", "Amiens", "080", "20", "200801", "BASSIN AMIENS",
            "secretariat.michelis@ac-amiens.fr");
        campaign_ = store_->ensure_campaign(config_.campaign.name, config_.campaign.deadline, "09,20", at("2022-01-10"));
        templates_ = Templates::load(PPO_SOURCE_DIR "/etc/templates");
    }

    void add(const std::string& uai, const std::string& name, const std::string& commune, const std::string& dep,
             const std::string& academie, const std::string& bassin, const std::string& label, const std::string& mail) {
        Lycee l;
        l.uai = uai;
        l.name = name;
        l.commune = commune;
        l.departement = dep;
        l.academie = academie;
        l.bassin_code = bassin;
        l.bassin_label = label;
        l.mail = mail;
        l.statut = "Public";
        store_->upsert_lycee({l, "300"}, at("2022-01-10"));
    }

    void submit(const std::string& uai, std::int64_t when, bool late = false) {
        MessageRecord r;
        r.campaign_id = campaign_.id;
        r.mailbox = "INBOX";
        r.uidvalidity = 1;
        r.uid = ++uid_;
        r.message_id = "<m" + std::to_string(uid_) + "@example.fr>";
        r.received_at = when;
        r.from = "ce." + uai + "@ac-lille.fr";
        r.subject = "PPO " + uai;
        r.outcome = "submission";
        r.uai = uai;
        r.identified_by = "sender";
        r.late = late;
        r.folder = "processed";
        store_->begin();
        store_->insert_message(r);
        store_->commit();
    }

    Directory directory() { return store_->load_directory({"09", "20"}); }

    std::vector<ScheduledAction> run(std::int64_t now, bool dry_run = false) {
        return run_scheduled(config_, *store_, templates_, directory(), campaign_.id, now, dry_run);
    }

    std::vector<OutboxMail> reminders() { return store_->outbox_of_kind(campaign_.id, "reminder"); }

    static std::set<std::string> uais(const std::vector<ScheduledAction>& actions) {
        std::set<std::string> out;
        for (const auto& a : actions) out.insert(a.uai);
        return out;
    }

    const OutboxMail* mail_for(const std::vector<OutboxMail>& mails, const std::string& uai, int offset) {
        for (const auto& m : mails)
            if (m.uai == uai && m.dedupe_key == "reminder:" + std::to_string(campaign_.id) + ":" + uai + ":" + std::to_string(offset))
                return &m;
        return nullptr;
    }

    std::unique_ptr<daemon::Database> db_;
    std::unique_ptr<daemon::SqlStore> store_;
    Config config_;
    CampaignInfo campaign_;
    Templates templates_;
    std::uint32_t uid_ = 0;
};

// J-21 = 2022-03-04, 09:00 in Paris (CET) = 08:00Z.
TEST_F(SchedulerTest, AtJMinus21RemindsExactlyTheMissingLycees) {
    submit("0596082R", at("2022-03-01T10:00:00+01:00"));
    EXPECT_TRUE(run(at("2022-03-04T07:59:59Z")).empty());

    auto actions = run(at("2022-03-04T08:00:00Z"));
    ASSERT_EQ(actions.size(), 3u);
    EXPECT_EQ(uais(actions), (std::set<std::string>{"0590072H", "0626769W", "0801234G"}));
    for (const auto& a : actions) {
        EXPECT_EQ(a.kind, "reminder");
        EXPECT_EQ(a.key, "-21");
        EXPECT_EQ(a.recipients.size(), 1u) << a.uai;   // no IEN-IO before the deadline
        EXPECT_NE(a.subject.find("Rappel"), std::string::npos) << a.subject;
    }

    auto mails = reminders();
    ASSERT_EQ(mails.size(), 3u);
    const auto* claudel = mail_for(mails, "0590072H", -21);
    ASSERT_NE(claudel, nullptr);
    EXPECT_EQ(claudel->recipients, (std::vector<std::string>{"ce.0590072h@ac-lille.fr"}));
    EXPECT_EQ(claudel->envelope_from, "ppo@region-academique-hauts-de-france.fr");
    EXPECT_NE(claudel->data.find("Auto-Submitted: auto-generated"), std::string::npos);
    EXPECT_NE(claudel->data.find("X-Loop: ppo@region-academique-hauts-de-france.fr"), std::string::npos);
    EXPECT_NE(claudel->data.find("@region-academique-hauts-de-france.fr>"), std::string::npos);   // Message-ID
    EXPECT_EQ(claudel->data.find("\r\nCc:"), std::string::npos);

    // No directory mail: the académie's functional address.
    const auto* branly = mail_for(mails, "0626769W", -21);
    ASSERT_NE(branly, nullptr);
    EXPECT_EQ(branly->recipients, (std::vector<std::string>{"ce.0626769w@ac-lille.fr"}));
    // A directory mail wins over the functional address.
    const auto* michelis = mail_for(mails, "0801234G", -21);
    ASSERT_NE(michelis, nullptr);
    EXPECT_EQ(michelis->recipients, (std::vector<std::string>{"secretariat.michelis@ac-amiens.fr"}));

    EXPECT_EQ(store_->reminders_of(campaign_.id, "0590072H"), (std::vector<int>{-21}));
    EXPECT_TRUE(store_->reminders_of(campaign_.id, "0596082R").empty());
}

TEST_F(SchedulerTest, ASecondRunAtTheSameInstantQueuesNothing) {
    const auto now = at("2022-03-04T09:00:00+01:00");
    EXPECT_EQ(run(now).size(), 4u);
    EXPECT_TRUE(run(now).empty());
    EXPECT_TRUE(run(now + 3600).empty());
    EXPECT_EQ(reminders().size(), 4u);
}

TEST_F(SchedulerTest, ALyceeThatSubmittedAfterJMinus7GetsNoJMinus2Reminder) {
    EXPECT_EQ(run(at("2022-03-18T09:00:00+01:00")).size(), 4u);   // J-7
    submit("0590072H", at("2022-03-20T15:00:00+01:00"));
    auto actions = run(at("2022-03-23T09:00:00+01:00"));          // J-2
    EXPECT_EQ(uais(actions), (std::set<std::string>{"0596082R", "0626769W", "0801234G"}));
    for (const auto& a : actions) EXPECT_EQ(a.key, "-2");
    EXPECT_EQ(store_->reminders_of(campaign_.id, "0590072H"), (std::vector<int>{-7}));
    EXPECT_EQ(store_->reminders_of(campaign_.id, "0596082R"), (std::vector<int>{-7, -2}));
}

TEST_F(SchedulerTest, ALateSubmissionAlsoCountsAsSubmitted) {
    submit("0590072H", at("2022-03-26T08:00:00+01:00"), true);
    auto actions = run(at("2022-03-26T09:00:00+01:00"));   // J+1
    EXPECT_EQ(uais(actions), (std::set<std::string>{"0596082R", "0626769W", "0801234G"}));
}

TEST_F(SchedulerTest, AfterADowntimeOnlyTheCurrentOffsetFires) {
    // Down from before J-21 until J-3: J-21 is stale, J-7 is still current.
    auto actions = run(at("2022-03-22T09:00:00+01:00"));
    ASSERT_EQ(actions.size(), 4u);
    for (const auto& a : actions) EXPECT_EQ(a.key, "-7");
    EXPECT_EQ(store_->reminders_of(campaign_.id, "0590072H"), (std::vector<int>{-7}));
    EXPECT_FALSE(store_->reminder_recorded(campaign_.id, "0590072H", -21));
}

TEST_F(SchedulerTest, AfterJMinus2AndBeforeJPlus1TheJMinus2ReminderFires) {
    auto actions = run(at("2022-03-25T23:30:00+01:00"));   // the deadline day, late evening
    ASSERT_EQ(actions.size(), 4u);
    for (const auto& a : actions) EXPECT_EQ(a.key, "-2");
    EXPECT_TRUE(run(at("2022-03-26T08:59:59+01:00")).empty());
    EXPECT_EQ(run(at("2022-03-26T09:00:00+01:00")).size(), 4u);   // J+1 takes over
}

TEST_F(SchedulerTest, JPlus1RemindersCopyTheIenIoAndUseTheLateTemplate) {
    auto actions = run(at("2022-03-26T09:00:00+01:00"));
    ASSERT_EQ(actions.size(), 4u);
    auto mails = reminders();
    const auto* claudel = mail_for(mails, "0590072H", 1);
    ASSERT_NE(claudel, nullptr);
    EXPECT_EQ(claudel->recipients, (std::vector<std::string>{"ce.0590072h@ac-lille.fr", "ien-io.douai@ac-lille.fr"}));
    EXPECT_NE(claudel->data.find("\r\nCc: ien-io.douai@ac-lille.fr"), std::string::npos);
    for (const auto& a : actions) {
        EXPECT_EQ(a.key, "+1");
        EXPECT_NE(a.subject.find("Relance"), std::string::npos) << a.subject;
        EXPECT_NE(a.subject.find("date limite dépassée"), std::string::npos) << a.subject;
    }
    // The Amiens bassin has no IEN-IO: the lycée alone.
    const auto* michelis = mail_for(mails, "0801234G", 1);
    ASSERT_NE(michelis, nullptr);
    EXPECT_EQ(michelis->recipients, (std::vector<std::string>{"secretariat.michelis@ac-amiens.fr"}));
}

TEST_F(SchedulerTest, TheLastOffsetDoesNotFireWeeksLater) {
    EXPECT_EQ(run(at("2022-04-01T09:00:00+02:00")).size(), 4u);   // J+7
    Config c = config_;
    EXPECT_TRUE(run_scheduled(c, *store_, templates_, directory(), campaign_.id, at("2022-04-01T10:00:00+02:00"), false)
                    .empty());
    // A fresh database restarted a month later: nothing stale is sent.
    SetUp();
    EXPECT_TRUE(run(at("2022-05-02T09:00:00+02:00")).empty());
}

TEST_F(SchedulerTest, DryRunListsButWritesNothing) {
    config_.digest.enabled = true;
    CountingStore counting(*store_);
    auto now = at("2022-03-04T09:00:00+01:00");   // a Friday, after the digest time
    auto actions = run_scheduled(config_, counting, templates_, directory(), campaign_.id, now, true);
    ASSERT_EQ(actions.size(), 5u);   // 4 reminders and the digest
    EXPECT_EQ(actions.back().kind, "digest");
    EXPECT_EQ(actions.back().key, "2022-03-04");
    EXPECT_EQ(counting.begins, 0);
    EXPECT_EQ(counting.enqueues, 0);
    EXPECT_EQ(counting.records, 0);
    EXPECT_TRUE(reminders().empty());
    EXPECT_FALSE(store_->digest_recorded(campaign_.id, "2022-03-04"));

    // The real run then queues the same things, one transaction each.
    auto real = run_scheduled(config_, counting, templates_, directory(), campaign_.id, now, false);
    ASSERT_EQ(real.size(), actions.size());
    for (std::size_t i = 0; i < real.size(); ++i) {
        EXPECT_EQ(real[i].uai, actions[i].uai);
        EXPECT_EQ(real[i].recipients, actions[i].recipients);
        EXPECT_EQ(real[i].subject, actions[i].subject);
    }
    EXPECT_EQ(counting.begins, 5);
    EXPECT_EQ(counting.enqueues, 5);
    EXPECT_EQ(counting.records, 5);
}

// Daylight saving: Europe/Paris went to summer time on 2022-03-27.
TEST_F(SchedulerTest, ReminderInstantsFollowDaylightSaving) {
    config_.campaign.deadline = "2022-04-01";
    config_.campaign.reminders = {-7, 1};
    EXPECT_EQ(next_due(config_, at("2022-03-20T00:00:00Z")), at("2022-03-25T08:00:00Z"));   // 09:00 CET
    EXPECT_EQ(next_due(config_, at("2022-03-25T08:00:00Z")), at("2022-04-02T07:00:00Z"));   // 09:00 CEST

    EXPECT_TRUE(run(at("2022-03-25T07:59:59Z")).empty());
    EXPECT_EQ(run(at("2022-03-25T08:00:00Z")).size(), 4u);
    EXPECT_TRUE(run(at("2022-04-02T06:59:59Z")).empty());
    auto actions = run(at("2022-04-02T07:00:00Z"));
    ASSERT_EQ(actions.size(), 4u);
    EXPECT_EQ(actions.front().key, "+1");
}

TEST_F(SchedulerTest, NextDueIsTheNearestReminderOrDigest) {
    config_.digest.enabled = true;   // mon..fri at 07:00
    // Friday 2022-03-04 09:00: the next digest is on Monday 07:00 CET, before J-7.
    EXPECT_EQ(next_due(config_, at("2022-03-04T09:00:00+01:00")), at("2022-03-07T07:00:00+01:00"));
    // Thursday 06:00: today's digest.
    EXPECT_EQ(next_due(config_, at("2022-03-03T06:00:00+01:00")), at("2022-03-03T07:00:00+01:00"));
    // Just before J-21 on Friday 08:59: the reminder.
    EXPECT_EQ(next_due(config_, at("2022-03-04T08:59:00+01:00")), at("2022-03-04T09:00:00+01:00"));
    // Strictly after: at the instant itself, the next one.
    EXPECT_EQ(next_due(config_, at("2022-03-03T07:00:00+01:00")), at("2022-03-04T07:00:00+01:00"));
    // Across the DST change: Monday 2022-03-28 07:00 CEST = 05:00Z.
    config_.campaign.reminders = {};
    EXPECT_EQ(next_due(config_, at("2022-03-25T08:00:00+01:00")), at("2022-03-28T05:00:00Z"));
    // Nothing at all: look again in a day.
    config_.digest.enabled = false;
    EXPECT_EQ(next_due(config_, at("2022-03-25T08:00:00+01:00")), at("2022-03-26T08:00:00+01:00"));
}

TEST_F(SchedulerTest, ClosedLyceesAreNotReminded) {
    auto dir = directory();
    std::vector<Lycee> lycees = dir.lycees();
    lycees[0].open = false;
    Directory closed(lycees, {{"095912", "BASSIN DOUAI", "", "ien-io.douai@ac-lille.fr"}});
    auto actions =
        run_scheduled(config_, *store_, templates_, closed, campaign_.id, at("2022-03-04T09:00:00+01:00"), false);
    EXPECT_EQ(actions.size(), 3u);
    EXPECT_EQ(uais(actions).count(lycees[0].uai), 0u);
}

}  // namespace
}  // namespace ppo::workflow
