// [database] url = postgresql://... with a socket folder, sslmode and a
// password_file, through to the libpq connection string.
#include "daemon/store/database.h"
#include "parsers/text/error.h"
#include "workflow/config/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {

using ppo::workflow::parse_config;

std::string error_of(const std::string& text, const std::string& source = "/x/ppo.conf") {
    try {
        parse_config(text, source);
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::config);
        return e.what();
    }
    return "";
}

TEST(PostgresUrl, ASocketFolderInTheQueryOrTheAuthority) {
    auto c = parse_config("[database]\nurl = postgresql://ppo@/campagne?host=/run/postgresql\n", "/x/ppo.conf").database;
    EXPECT_EQ(c.backend, "postgresql");
    EXPECT_EQ(c.pg_host, "/run/postgresql");
    EXPECT_EQ(c.pg_port, 5432);
    EXPECT_EQ(c.pg_dbname, "campagne");
    EXPECT_EQ(c.pg_user, "ppo");
    EXPECT_NE(ppo::daemon::postgres_conninfo(c).find("host='/run/postgresql'"), std::string::npos);

    c = parse_config("[database]\nurl = postgresql://ppo@%2Fvar%2Frun%2Fpostgresql:5433/ppo\n", "/x/ppo.conf").database;
    EXPECT_EQ(c.pg_host, "/var/run/postgresql");
    EXPECT_EQ(c.pg_port, 5433);

    c = parse_config("[database]\nurl = postgresql://ppo@/ppo?host=/tmp/s&port=6000\n", "/x/ppo.conf").database;
    EXPECT_EQ(c.pg_host, "/tmp/s");
    EXPECT_EQ(c.pg_port, 6000);
}

TEST(PostgresUrl, SslmodeAndRootCertReachLibpq) {
    auto c = parse_config("[database]\nurl = postgresql://ppo@db.example.fr/ppo?sslmode=verify-full&sslrootcert=/etc/ca.pem\n",
                          "/x/ppo.conf")
                 .database;
    EXPECT_EQ(c.pg_host, "db.example.fr");
    EXPECT_EQ(c.pg_sslmode, "verify-full");
    const auto conninfo = ppo::daemon::postgres_conninfo(c);
    EXPECT_NE(conninfo.find("sslmode='verify-full'"), std::string::npos) << conninfo;
    EXPECT_NE(conninfo.find("sslrootcert='/etc/ca.pem'"), std::string::npos) << conninfo;

    auto e = error_of("[database]\nurl = postgresql://ppo:hunter2@db/ppo?sslmode=maybe\n");
    EXPECT_NE(e.find("sslmode 'maybe'"), std::string::npos) << e;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    e = error_of("[database]\nurl = postgresql://ppo@db/ppo?application_name=x\n");
    EXPECT_NE(e.find("unknown parameter 'application_name'"), std::string::npos) << e;
    e = error_of("[database]\nurl = postgresql://ppo:hunter2@db\n");
    EXPECT_NE(e.find("no database name"), std::string::npos) << e;
    EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
}

TEST(PostgresUrl, PasswordFileFirstLineAndAClearErrorWhenUnreadable) {
    char dir[] = "/tmp/ppo-pgurl-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string file = std::string(dir) + "/db.secret";
    std::ofstream(file) << "s3cret\nsecond line\n";
    auto c = parse_config("[database]\nurl = postgresql://ppo@/ppo?host=/run/postgresql\npassword_file = db.secret\n",
                          std::string(dir) + "/ppo.conf")
                 .database;
    EXPECT_EQ(c.pg_password.value, "s3cret");
    EXPECT_EQ(c.password_file, file);

    auto e = error_of("[database]\nurl = postgresql://ppo@/ppo\npassword_file = missing.secret\n",
                      std::string(dir) + "/ppo.conf");
    EXPECT_NE(e.find("[database] password_file"), std::string::npos) << e;
    EXPECT_NE(e.find(std::string(dir) + "/missing.secret"), std::string::npos) << e;
    std::remove(file.c_str());
    ::rmdir(dir);
}

TEST(ClusterConfig, LeaseDefaultsToFifteenSecondsAndIsBounded) {
    EXPECT_EQ(parse_config("", "/x/ppo.conf").cluster.lease, 15);
    EXPECT_EQ(parse_config("[cluster]\nlease = 30\n", "/x/ppo.conf").cluster.lease, 30);
    EXPECT_NE(error_of("[cluster]\nlease = 1\n").find("[cluster] lease"), std::string::npos);
}

}  // namespace
