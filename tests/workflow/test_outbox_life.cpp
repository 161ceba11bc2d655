// The queue's life: a 5xx refusal fails a mail at once, a temporary failure
// defers it until [smtp] max_age, then it is given up; outbox_list shows the
// queue and retry_outbox puts failed mails back. Over the real SQLite store
// (in memory), with a sender and a clock the test drives.
#include "workflow/mail/outbox.h"

#include "daemon/store/database.h"
#include "daemon/store/sql_store.h"
#include "parsers/text/error.h"
#include "workflow/config/config.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kStart = 1646125200;   // 2022-03-01 09:00Z

class SettableClock final : public Clock {
public:
    std::int64_t at = kStart;
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::time_point(std::chrono::seconds(at));
    }
};

// Answers each send with the next scripted reply: "" accepts, "4..." a
// temporary failure, "5..." a permanent one; past the script, accepts.
class ScriptedSender final : public MailSender {
public:
    std::deque<std::string> replies;
    std::vector<std::string> accepted;   // keys ("outbox N")
    int closes = 0;
    void send(const OutgoingMail& mail) override {
        std::string r;
        if (!replies.empty()) {
            r = replies.front();
            replies.pop_front();
        }
        if (r.empty()) {
            accepted.push_back(mail.key);
            return;
        }
        if (r[0] == '5') throw permanent_error(r);
        throw transient_error(r);
    }
    void close() override { ++closes; }
};

class NoArchive final : public Archive {
public:
    StoredFile write(const std::string&, const std::string&, std::string_view) override { return {}; }
    void sync() override {}
    std::string read(const std::string& path) const override { throw permanent_error("no file " + path); }
};

class OutboxLife : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = std::make_unique<daemon::Database>(DatabaseConfig{"sqlite://:memory:", "sqlite", ":memory:"});
        db_->migrate(PPO_SOURCE_DIR "/sql");
        store_ = std::make_unique<daemon::SqlStore>(*db_);
        campaign_ = store_->ensure_campaign("PPO", "2022-03-25", "09,20", kStart);
    }

    std::int64_t queue(const std::string& key, std::int64_t created_at, const std::string& kind = "ack") {
        OutboxMail m;
        m.campaign_id = campaign_.id;
        m.kind = kind;
        m.uai = "0596082R";
        m.dedupe_key = key;
        m.message_id = "<" + key + "@x>";
        m.envelope_from = "ppo@region-academique-hauts-de-france.fr";
        m.recipients = {"ce.0596082r@ac-lille.fr", "prof@ac-lille.fr"};
        m.data = "Subject: x\r\n\r\nbody of " + key + "\r\n";
        m.next_attempt_at = created_at;
        m.created_at = created_at;
        return store_->enqueue(m);
    }

    OutboxMail row(std::int64_t id) {
        for (const auto& m : store_->outbox_list({"pending", "sent", "failed"}))
            if (m.id == id) return m;
        ADD_FAILURE() << "no outbox row " << id;
        return {};
    }

    OutboxStats flush(std::int64_t max_age = 5 * kDay) {
        outcomes_.clear();
        return flush_outbox(*store_, sender_, archive_, clock_, 10000,
                            [this](const OutboxMail& m, const std::string& outcome) { outcomes_.push_back(std::to_string(m.id) + " " + outcome); },
                            60, {}, max_age);
    }

    std::unique_ptr<daemon::Database> db_;
    std::unique_ptr<daemon::SqlStore> store_;
    CampaignInfo campaign_;
    SettableClock clock_;
    ScriptedSender sender_;
    NoArchive archive_;
    std::vector<std::string> outcomes_;
};

TEST_F(OutboxLife, A5xxRefusalIsFailedAtOnce) {
    const auto id = queue("ack:1", kStart);
    sender_.replies = {"550 5.1.1 Mailbox unavailable"};
    const auto s = flush();
    EXPECT_EQ(s.failed, 1u);
    EXPECT_EQ(s.expired, 0u);
    const auto m = row(id);
    EXPECT_EQ(m.state, "failed");
    EXPECT_EQ(outbox_state(m), "failed");
    EXPECT_EQ(m.attempts, 1);
    EXPECT_EQ(m.last_error, "550 5.1.1 Mailbox unavailable");
    EXPECT_EQ(outcomes_, std::vector<std::string>{std::to_string(id) + " failed"});
}

TEST_F(OutboxLife, ADeferredMailIsRetriedUntilMaxAgeThenGivenUp) {
    const auto id = queue("ack:1", kStart);
    sender_.replies = {"451 4.3.0 try later", "451 4.3.0 try later", "451 4.3.0 still down"};
    auto s = flush();
    EXPECT_EQ(s.deferred, 1u);
    auto m = row(id);
    EXPECT_EQ(outbox_state(m), "deferred");
    EXPECT_EQ(m.attempts, 1);
    EXPECT_GT(m.next_attempt_at, clock_.at);

    // Four days later: still deferred.
    clock_.at = kStart + 4 * kDay;
    s = flush();
    EXPECT_EQ(s.deferred, 1u);
    EXPECT_EQ(outbox_state(row(id)), "deferred");

    // Five days after it was queued, the next temporary failure gives it up.
    clock_.at = kStart + 5 * kDay;
    s = flush();
    EXPECT_EQ(s.failed, 1u);
    EXPECT_EQ(s.expired, 1u);
    EXPECT_EQ(s.deferred, 0u);
    m = row(id);
    EXPECT_EQ(m.state, "failed");
    EXPECT_EQ(m.attempts, 3);
    EXPECT_EQ(m.last_error, "gave up after 5 days: 451 4.3.0 still down");
    EXPECT_EQ(outcomes_, std::vector<std::string>{std::to_string(id) + " failed"});
    // Failed mails are no longer tried.
    sender_.replies.clear();
    s = flush();
    EXPECT_EQ(s.sent, 0u);
    EXPECT_TRUE(sender_.accepted.empty());
}

TEST_F(OutboxLife, OldMailsAreEachGivenUpInOnePassAndAYoungOneStopsIt) {
    const auto a = queue("ack:1", kStart);
    const auto b = queue("ack:2", kStart + 60);
    const auto c = queue("ack:3", kStart + 4 * kDay);
    const auto d = queue("ack:4", kStart + 4 * kDay + 60);
    clock_.at = kStart + 5 * kDay + 120;
    sender_.replies = {"421 down", "421 down", "421 down", "421 down"};
    const auto s = flush();
    EXPECT_EQ(s.expired, 2u);
    EXPECT_EQ(s.deferred, 1u);
    EXPECT_EQ(row(a).state, "failed");
    EXPECT_EQ(row(b).state, "failed");
    EXPECT_EQ(outbox_state(row(c)), "deferred");
    // The pass stopped at c: d was not tried.
    EXPECT_EQ(row(d).attempts, 0);
    EXPECT_EQ(outbox_state(row(d)), "pending");
}

TEST_F(OutboxLife, ATemporaryFailureOfAYoungMailOrWithoutMaxAgeIsOnlyDeferred) {
    const auto id = queue("ack:1", kStart);
    clock_.at = kStart + 30 * kDay;
    sender_.replies = {"451 later"};
    flush(0);   // max_age 0: never given up
    EXPECT_EQ(outbox_state(row(id)), "deferred");
}

TEST_F(OutboxLife, OutboxListShowsTheStatesAskedForWithTheHeadOnly) {
    const auto sent = queue("ack:1", kStart);
    const auto failed = queue("ack:2", kStart + 1);
    const auto deferred = queue("ack:3", kStart + 2);
    const auto pending = queue("ack:4", kStart + 3);
    store_->mark_sent(sent, kStart + 10);
    store_->mark_attempt_failed(failed, "550 no", kStart + 10, true);
    store_->mark_attempt_failed(deferred, "451 later", kStart + 600, false);

    const auto list = store_->outbox_list({"pending", "failed"});
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].id, failed);
    EXPECT_EQ(list[1].id, deferred);
    EXPECT_EQ(list[2].id, pending);
    for (const auto& m : list) EXPECT_LE(m.data.size(), 4096u) << m.id;   // the head only
    EXPECT_EQ(outbox_state(list[0]), "failed");
    EXPECT_EQ(outbox_state(list[1]), "deferred");
    EXPECT_EQ(outbox_state(list[2]), "pending");
    EXPECT_EQ(list[0].recipients, (std::vector<std::string>{"ce.0596082r@ac-lille.fr", "prof@ac-lille.fr"}));
    EXPECT_EQ(list[0].last_error, "550 no");
    EXPECT_EQ(store_->outbox_list({"sent"}).size(), 1u);
    EXPECT_EQ(store_->outbox_list({}).size(), 4u);   // every state

    // The JSON of `outbox list --json` parses and says the same.
    auto json = Poco::JSON::Parser().parse(outbox_list_json(list, "Europe/Paris")).extract<Poco::JSON::Array::Ptr>();
    ASSERT_EQ(json->size(), 3u);
    auto first = json->getObject(0);
    EXPECT_EQ(first->getValue<std::int64_t>("id"), failed);
    EXPECT_EQ(first->getValue<std::string>("state"), "failed");
    EXPECT_EQ(first->getValue<std::string>("kind"), "ack");
    EXPECT_EQ(first->getValue<std::string>("last_error"), "550 no");
    EXPECT_EQ(first->getValue<std::string>("next_attempt_at"), "");
    EXPECT_EQ(first->getValue<std::string>("created_at"), "2022-03-01T10:00:01+01:00");
    EXPECT_EQ(first->getArray("recipients")->size(), 2u);
    EXPECT_EQ(json->getObject(1)->getValue<std::string>("state"), "deferred");
    EXPECT_EQ(json->getObject(1)->getValue<std::string>("next_attempt_at"), "2022-03-01T10:10:00+01:00");
    EXPECT_EQ(json->getObject(1)->getValue<int>("attempts"), 1);
    EXPECT_EQ(outbox_list_json({}, "Europe/Paris"), "[]\n");
    const auto table = outbox_list_table(list, "Europe/Paris");
    EXPECT_NE(table.find("1 pending, 1 deferred, 1 failed"), std::string::npos) << table;
    EXPECT_NE(table.find("last error: 550 no"), std::string::npos) << table;
}

TEST_F(OutboxLife, RetryPutsFailedMailsBackDueNowWithTheirAttempts) {
    const auto a = queue("ack:1", kStart);
    const auto b = queue("ack:2", kStart);
    const auto c = queue("ack:3", kStart);
    store_->mark_attempt_failed(a, "550 no", kStart, true);
    store_->mark_attempt_failed(b, "gave up after 5 days: 451", kStart, true);
    store_->mark_attempt_failed(c, "451 later", kStart + 3600, false);   // deferred, not failed
    const std::int64_t now = kStart + 6 * kDay;

    EXPECT_EQ(store_->retry_outbox(c, now), 0u);          // not failed: untouched
    EXPECT_EQ(row(c).next_attempt_at, kStart + 3600);
    EXPECT_EQ(store_->retry_outbox(999, now), 0u);        // no such mail
    EXPECT_EQ(store_->retry_outbox(a, now), 1u);
    auto m = row(a);
    EXPECT_EQ(m.state, "pending");
    EXPECT_EQ(m.next_attempt_at, now);
    EXPECT_EQ(m.attempts, 1);
    EXPECT_EQ(outbox_state(m), "deferred");
    EXPECT_EQ(row(b).state, "failed");
    EXPECT_EQ(store_->retry_outbox(a, now), 0u);          // already back

    store_->mark_attempt_failed(a, "550 no", now, true);
    EXPECT_EQ(store_->retry_outbox(0, now), 2u);          // every failed one
    EXPECT_EQ(row(a).state, "pending");
    EXPECT_EQ(row(b).state, "pending");
    EXPECT_EQ(store_->outbox_list({"failed"}).size(), 0u);

    // Now due: the next pass sends them (and the deferred one, due too).
    clock_.at = now;
    const auto s = flush();
    EXPECT_EQ(s.sent, 3u);
    EXPECT_EQ(row(a).state, "sent");
    EXPECT_EQ(row(b).state, "sent");
    EXPECT_EQ(row(a).attempts, 3);
}

TEST(OutboxText, DurationLabels) {
    EXPECT_EQ(duration_label(5 * kDay), "5 days");
    EXPECT_EQ(duration_label(kDay), "1 day");
    EXPECT_EQ(duration_label(36 * 3600), "36 hours");
    EXPECT_EQ(duration_label(90 * 60), "90 minutes");
    EXPECT_EQ(duration_label(45), "45 seconds");
    EXPECT_EQ(duration_label(5 * kDay + 7), "5 days");
}

TEST(OutboxConfig, MaxAgeTakesSecondsOrAUnitAndDefaultsToFiveDays) {
    EXPECT_EQ(parse_config("", "/x/t.conf").smtp.max_age, 5 * kDay);
    auto with = [](const std::string& v) { return parse_config("[smtp]\nmax_age = " + v + "\n", "/x/t.conf").smtp.max_age; };
    EXPECT_EQ(with("432000"), 5 * kDay);
    EXPECT_EQ(with("5d"), 5 * kDay);
    EXPECT_EQ(with("36h"), 36 * 3600);
    EXPECT_EQ(with("90m"), 90 * 60);
    EXPECT_EQ(with("2w"), 14 * kDay);
    EXPECT_EQ(with("3600s"), 3600);
    for (const std::string bad : {"", "5x", "d", "-1d", "0", "30", "1000d", "5 d", "5.5d"}) {
        try {
            with(bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::config);
            EXPECT_NE(std::string(e.what()).find("[smtp] max_age"), std::string::npos) << e.what();
        }
    }
}

// Shares of the outbox (one SMTP connection each): every mail is in exactly
// one share, and a pass over all of them sends each mail once.
TEST_F(OutboxLife, SharesSplitTheOutboxAndEachMailGoesOnce) {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 11; ++i) ids.push_back(queue("m" + std::to_string(i), kStart));
    std::vector<std::int64_t> seen;
    for (int k = 0; k < 3; ++k)
        for (const auto& m : store_->due_outbox(kStart, 100, OutboxShard{k, 3})) {
            EXPECT_EQ(m.id % 3, k);
            seen.push_back(m.id);
        }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, ids);

    std::vector<ScriptedSender> senders(3);
    std::size_t sent = 0;
    for (int k = 0; k < 3; ++k)
        sent += flush_outbox(*store_, senders[static_cast<std::size_t>(k)], archive_, clock_, 10000, {}, 60, {}, 0,
                             OutboxShard{k, 3})
                    .sent;
    EXPECT_EQ(sent, ids.size());
    std::vector<std::string> keys;
    for (const auto& s : senders) keys.insert(keys.end(), s.accepted.begin(), s.accepted.end());
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end());   // none twice
    EXPECT_EQ(keys.size(), ids.size());
    EXPECT_TRUE(store_->due_outbox(kStart, 100).empty());
}

TEST(OutboxConfig, ConnectionsDefaultToTwoFromOneToEight) {
    EXPECT_EQ(parse_config("", "/x/t.conf").smtp.connections, 2);
    EXPECT_EQ(parse_config("[smtp]\nconnections = 4\n", "/x/t.conf").smtp.connections, 4);
    for (const std::string bad : {"0", "9", "two", ""}) {
        try {
            parse_config("[smtp]\nconnections = " + bad + "\n", "/x/t.conf");
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("[smtp] connections"), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace ppo::workflow
