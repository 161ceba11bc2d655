#include "daemon/store/database.h"
#include "parsers/text/error.h"
#include "workflow/config/config.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <map>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// --- the PostgreSQL connection string --------------------------------------

// What libpq itself reads from a connection string (PQconninfoParse: no
// connection, no server), keyword -> value for the keywords that are set.
std::map<std::string, std::string> libpq_reads(const std::string& conninfo) {
    char* err = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &err);
    std::map<std::string, std::string> out;
    if (!options) {
        out["<error>"] = err ? err : "?";
        PQfreemem(err);
        return out;
    }
    for (auto* o = options; o->keyword; ++o)
        if (o->val) out[o->keyword] = o->val;
    PQconninfoFree(options);
    return out;
}

// Poco's PostgreSQL connector splits the string at every space, each piece
// being "keyword=value": the builder must give it exactly one piece per
// keyword.
std::vector<std::string> poco_pieces(const std::string& conninfo) {
    std::vector<std::string> pieces;
    std::size_t start = 0;
    for (;;) {
        auto end = conninfo.find(' ', start);
        pieces.push_back(conninfo.substr(start, end - start));
        if (end == std::string::npos) return pieces;
        start = end + 1;
    }
}

TEST(PostgresConninfo, EachValueIsQuotedAndEscaped) {
    EXPECT_EQ(ppo::daemon::libpq_conninfo({{"host", "db.example.fr"}, {"port", "5432"}}), "host='db.example.fr' port='5432'");
    EXPECT_EQ(ppo::daemon::libpq_conninfo({{"password", R"(it's\)"}}), R"(password='it\'s\\')");
    EXPECT_EQ(ppo::daemon::libpq_conninfo({{"user", ""}, {"dbname", "ppo"}}), "dbname='ppo'");   // empty: left out
}

TEST(PostgresConninfo, NoPasswordCanOverrideAnotherKeyword) {
    const std::vector<std::string> passwords = {
        "s3cret",     "x'port=5433",          "port=5433",        "x\\'port=5433",   "'",         "\\",
        "''",         "a=b=c",                "x'host=evil.example'", "\\'\\'",   "tab\there", "fin\\",
        "é€ñ",        "x';sslmode='disable",  "dbname=postgres",  "\"quoted\"",    "=",         "a'b\\c'd"};
    for (const auto& pw : passwords) {
        ppo::workflow::DatabaseConfig c;
        c.backend = "postgresql";
        c.pg_host = "127.0.0.1";
        c.pg_port = 6543;
        c.pg_dbname = "ppo";
        c.pg_user = "ppo";
        c.pg_password.value = pw;
        const auto conninfo = ppo::daemon::postgres_conninfo(c);
        auto read = libpq_reads(conninfo);
        EXPECT_EQ(read.count("<error>"), 0u) << pw << " -> " << conninfo << ": " << read["<error>"];
        EXPECT_EQ(read["password"], pw) << conninfo;
        EXPECT_EQ(read["port"], "6543") << pw << " -> " << conninfo;
        EXPECT_EQ(read["host"], "127.0.0.1") << pw << " -> " << conninfo;
        EXPECT_EQ(read["dbname"], "ppo") << pw << " -> " << conninfo;
        EXPECT_EQ(read["user"], "ppo") << pw << " -> " << conninfo;
        EXPECT_EQ(read.count("sslmode") ? read["sslmode"] : "prefer", "prefer") << conninfo;   // libpq's default
        // What Poco does to it before libpq: one "keyword=value" piece per keyword.
        auto pieces = poco_pieces(conninfo);
        ASSERT_EQ(pieces.size(), 5u) << conninfo;
        for (const auto& p : pieces) {
            auto eq = p.find('=');
            ASSERT_NE(eq, std::string::npos) << p;
            EXPECT_TRUE(read.count(p.substr(0, eq))) << p;
        }
    }
}

TEST(PostgresConninfo, AValueWithASpaceIsRefusedWithoutShowingIt) {
    // Poco would split it: "x port=5433" would reach libpq as two keywords.
    ppo::workflow::DatabaseConfig c;
    c.pg_host = "db";
    c.pg_dbname = "ppo";
    c.pg_password.value = "hunter2 port=5433";
    try {
        ppo::daemon::postgres_conninfo(c);
        FAIL() << "a password with a space was accepted";
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::config);
        EXPECT_NE(std::string(e.what()).find("password contains a space"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    }
    EXPECT_THROW(ppo::daemon::libpq_conninfo({{"dbname", "my db"}}), ppo::Error);
    EXPECT_THROW(ppo::daemon::libpq_conninfo({{"bad key", "x"}}), ppo::Error);
}

TEST(PostgresConninfo, ThroughPocoAndLibpqTheUrlPortIsTheOneDialled) {
    // End to end without a server: a loopback port nobody listens on. libpq's
    // "connection refused" names the port it dialled: the URL's, whatever the
    // password says.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    const int closed_port = ntohs(a.sin_port);
    ::close(fd);   // bound, never listened: connecting is refused

    ppo::workflow::DatabaseConfig c;
    c.backend = "postgresql";
    c.pg_host = "127.0.0.1";
    c.pg_port = closed_port;
    c.pg_dbname = "ppo";
    c.pg_user = "ppo";
    c.pg_password.value = "x'port=1'host='192.0.2.1";
    try {
        ppo::daemon::Database db(c);
        FAIL() << "connected to a closed port";
    } catch (const ppo::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("port " + std::to_string(closed_port)), std::string::npos) << what;
        EXPECT_EQ(what.find("192.0.2.1"), std::string::npos) << what;
    }
}

}  // namespace
