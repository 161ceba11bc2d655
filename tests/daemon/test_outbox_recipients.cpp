// Outbox recipients are rows (schema 004): the hourly per-recipient count
// matches exact addresses only, and comma-joined lists written before 004 are
// converted by the migration.
#include "daemon/store/database.h"
#include "daemon/store/sql_store.h"
#include "workflow/config/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

const std::string kSql = std::string(PPO_SOURCE_DIR) + "/sql";

ppo::workflow::DatabaseConfig memory_db() {
    auto c = ppo::workflow::parse_config("[database]\nurl = sqlite://:memory:\n", "/x/t.conf").database;
    c.connection = ":memory:";
    return c;
}

ppo::workflow::OutboxMail mail(const std::string& key, std::vector<std::string> to, std::int64_t at, std::string kind = "ack") {
    ppo::workflow::OutboxMail m;
    m.campaign_id = 1;
    m.kind = std::move(kind);
    m.dedupe_key = key;
    m.envelope_from = "ppo@x.fr";
    m.recipients = std::move(to);
    m.data = "Subject: x\r\n\r\nx\r\n";
    m.created_at = at;
    m.next_attempt_at = at;
    return m;
}

}  // namespace

TEST(OutboxRecipients, CountMatchesExactAddressesOnly) {
    ppo::daemon::Database db(memory_db());
    db.migrate(kSql);
    ppo::daemon::SqlStore store(db);
    store.ensure_campaign("c", "2022-03-25", "09", 0);
    store.enqueue(mail("1", {"axb@x.fr"}, 100));
    store.enqueue(mail("2", {"ce.0590072h@ac-lille.fr", "ien-io.douai@ac-lille.fr"}, 100));
    store.enqueue(mail("3", {"CE.0590072H@ac-lille.fr"}, 200));
    store.enqueue(mail("4", {"ce.0590072h@ac-lille.fr"}, 200, "forward"));
    store.enqueue(mail("5", {"ce.0590072h@ac-lille.fr"}, 10));
    // LIKE patterns matched these: '_' and '%' are wildcards, a suffix or prefix is not the address.
    EXPECT_EQ(store.count_outbox_to("ack", "a_b@x.fr", 0), 0u);
    EXPECT_EQ(store.count_outbox_to("ack", "%@x.fr", 0), 0u);
    EXPECT_EQ(store.count_outbox_to("ack", "b@x.fr", 0), 0u);
    EXPECT_EQ(store.count_outbox_to("ack", "axb@x.fr", 0), 1u);
    EXPECT_EQ(store.count_outbox_to("ack", "ce.0590072h@ac-lille.fr", 50), 2u) << "same mailbox whatever the case";
    EXPECT_EQ(store.count_outbox_to("ack", "ce.0590072h@ac-lille.fr", 0), 3u);
    EXPECT_EQ(store.count_outbox_to("forward", "ce.0590072h@ac-lille.fr", 0), 1u);
    EXPECT_EQ(store.count_outbox_to("ack", "ien-io.douai@ac-lille.fr", 0), 1u);

    // Stored as a JSON array, read back as the list.
    EXPECT_EQ(db.query("SELECT recipients FROM outbox WHERE dedupe_key = '2'").front().str(0),
              "[\"ce.0590072h@ac-lille.fr\",\"ien-io.douai@ac-lille.fr\"]");
    auto due = store.due_outbox(1000, 10);
    ASSERT_EQ(due.size(), 5u);
    EXPECT_EQ(due[1].recipients, (std::vector<std::string>{"ce.0590072h@ac-lille.fr", "ien-io.douai@ac-lille.fr"}));
    EXPECT_EQ(due[2].recipients, std::vector<std::string>{"CE.0590072H@ac-lille.fr"});
}

TEST(OutboxRecipients, MigrationConvertsCommaJoinedLists) {
    // A database at the schema before 004 with lists written the old way, then migrated.
    std::string tmpl = (fs::temp_directory_path() / "ppo-sql-XXXXXX").string();
    const fs::path dir = ::mkdtemp(tmpl.data());
    for (const auto& e : fs::directory_iterator(kSql)) {
        const auto name = e.path().filename().string();
        if (name.size() > 4 && name.compare(0, 3, "004") < 0 && name.ends_with(".sql")) fs::copy_file(e.path(), dir / name);
    }
    ppo::daemon::Database db(memory_db());
    EXPECT_LT(db.migrate(dir.string()), 4);
    db.exec("INSERT INTO campaigns (name, deadline, academies, created_at) VALUES ('c', '2022-03-25', '09', 0)");
    auto legacy = [&](const std::string& key, const std::string& list, std::int64_t at) {
        db.exec("INSERT INTO outbox (campaign_id, kind, dedupe_key, envelope_from, recipients, data, next_attempt_at, "
                "created_at) VALUES (1, 'ack', $1, 'ppo@x.fr', $2, 'x', $3, $3)",
                {key, list, at});
    };
    legacy("1", "ce.0590072h@ac-lille.fr,ien-io.douai@ac-lille.fr", 100);
    legacy("2", "axb@x.fr", 100);
    legacy("3", "Odd\"Quote@x.fr,b@x.fr", 100);
    for (const auto& e : fs::directory_iterator(kSql)) {
        const auto name = e.path().filename().string();
        if (name.size() > 4 && name.compare(0, 3, "004") >= 0 && name.ends_with(".sql")) fs::copy_file(e.path(), dir / name);
    }
    EXPECT_GE(db.migrate(dir.string()), 4);
    fs::remove_all(dir);

    ppo::daemon::SqlStore store(db);
    EXPECT_EQ(store.count_outbox_to("ack", "ien-io.douai@ac-lille.fr", 0), 1u);
    EXPECT_EQ(store.count_outbox_to("ack", "ce.0590072h@ac-lille.fr", 0), 1u);
    EXPECT_EQ(store.count_outbox_to("ack", "a_b@x.fr", 0), 0u);
    EXPECT_EQ(store.count_outbox_to("ack", "b@x.fr", 0), 1u);
    EXPECT_EQ(store.count_outbox_to("ack", "odd\"quote@x.fr", 0), 1u);
    EXPECT_EQ(db.query("SELECT recipients FROM outbox WHERE dedupe_key = '1'").front().str(0),
              "[\"ce.0590072h@ac-lille.fr\",\"ien-io.douai@ac-lille.fr\"]");
    // The one that could not be converted safely is still read as its list.
    auto mails = store.outbox_of_kind(1, "ack");
    ASSERT_EQ(mails.size(), 3u);
    EXPECT_EQ(mails[0].recipients, (std::vector<std::string>{"ce.0590072h@ac-lille.fr", "ien-io.douai@ac-lille.fr"}));
    EXPECT_EQ(mails[1].recipients, std::vector<std::string>{"axb@x.fr"});
    EXPECT_EQ(mails[2].recipients, (std::vector<std::string>{"Odd\"Quote@x.fr", "b@x.fr"}));
}
