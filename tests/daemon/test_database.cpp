#include "daemon/database.h"
#include "parsers/error.h"
#include "workflow/config.h"

#include <gtest/gtest.h>

namespace {

ppo::workflow::DatabaseConfig memory_db() {
    auto c = ppo::workflow::parse_config("[database]\nurl = sqlite://:memory:\n", "/x/t.conf").database;
    c.connection = ":memory:";
    return c;
}

TEST(Database, RollbackIsQuietWhenSqliteAlreadyRolledBack) {
    // After some errors SQLite ends the transaction by itself; the caller's
    // rollback must not replace the original error with "no transaction".
    ppo::daemon::Database db(memory_db());
    db.exec("CREATE TABLE t (x INTEGER)");
    db.begin();
    db.exec("INSERT INTO t VALUES (1)");
    db.exec("ROLLBACK");   // what SQLite does on its own after SQLITE_FULL or SQLITE_IOERR
    EXPECT_NO_THROW(db.rollback());
    EXPECT_EQ(db.query("SELECT COUNT(*) FROM t").front().i64(0), 0);
    // A transaction still works afterwards, and a real rollback still undoes.
    db.begin();
    db.exec("INSERT INTO t VALUES (2)");
    db.rollback();
    EXPECT_EQ(db.query("SELECT COUNT(*) FROM t").front().i64(0), 0);
    db.begin();
    db.exec("INSERT INTO t VALUES (3)");
    db.commit();
    EXPECT_EQ(db.query("SELECT COUNT(*) FROM t").front().i64(0), 1);
}

}  // namespace
