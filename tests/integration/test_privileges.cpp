// Run as root, ppo-intake becomes the owner of the state directory before it
// opens the database (daemon/app/privileges.h): the database it creates belongs to
// that user, mode 0640 whatever the caller's umask; with a root-owned state
// directory, or a database file left by root, it refuses and says why. Needs
// root (CI runs the tests as root); the user is `nobody`.
#include "bench/harness.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace ppo::testbench;
namespace fs = std::filesystem;

namespace {

class Privileges : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (the tests run as root in CI)";
        const passwd* pw = ::getpwnam("nobody");
        if (!pw) GTEST_SKIP() << "no 'nobody' user";
        uid_ = pw->pw_uid;
        gid_ = pw->pw_gid;
        char tmpl[] = "/tmp/ppo-priv-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0755);
        // The migrations where `nobody` can read them (the source tree may be
        // in a folder only root can enter).
        fs::copy(std::string(PPO_SOURCE_DIR) + "/sql", dir_ + "/sql");
        fs::permissions(dir_ + "/sql", fs::perms(0755));
    }
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    // A configuration whose database is STATE/ppo.db, the state folder owned by `owner`.
    std::string setup_state(const std::string& name, uid_t owner, gid_t group) {
        const std::string state = dir_ + "/" + name;
        fs::create_directories(state);
        ::chmod(state.c_str(), 0750);
        EXPECT_EQ(::chown(state.c_str(), owner, group), 0);
        const std::string conf = dir_ + "/" + name + ".conf";
        std::ofstream(conf) << "[imap]\nurl = imap://127.0.0.1:1\nuser = u\npassword = p\n"
                            << "[smtp]\nurl = smtp://127.0.0.1:1\n"
                            << "[database]\nurl = sqlite://" << state << "/ppo.db\n"
                            << "[storage]\narchive_dir = " << state << "/archive\n"
                            << "[http]\nlisten =\n";
        return conf;
    }

    // As a root shell would: no PPO_ALLOW_ROOT (the test bench sets it), and
    // the permissive umask of an interactive session.
    RunResult ppo_as_root(const std::string& conf, const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"/usr/bin/env", "-u", "PPO_ALLOW_ROOT", "PPO_SQL_DIR=" + dir_ + "/sql",
                                         "/bin/sh", "-c", "umask 022; exec \"$0\" \"$@\"", PPO_BINARY, "-c", conf};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 60);
    }

    std::string dir_;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
};

TEST_F(Privileges, RootBecomesTheOwnerOfTheStateDirectoryAndTheDatabaseIs0640) {
    PPO_SQLITE_ONLY("the ownership and mode of the SQLite file and its folder (its own configuration, no server)");
    const auto conf = setup_state("state", uid_, gid_);
    auto r = ppo_as_root(conf, {"status", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("running as nobody"), std::string::npos) << r.err;
    const std::string db = dir_ + "/state/ppo.db";
    struct stat st {};
    ASSERT_EQ(::stat(db.c_str(), &st), 0) << db << " was not created";
    EXPECT_EQ(st.st_uid, uid_) << db << " is owned by uid " << st.st_uid;
    EXPECT_EQ(st.st_mode & 07777, 0640u) << std::oct << (st.st_mode & 07777);
    for (const char* suffix : {"-wal", "-shm"}) {
        struct stat s2 {};
        if (::stat((db + suffix).c_str(), &s2) != 0) continue;   // removed at the last close
        EXPECT_EQ(s2.st_uid, uid_) << suffix;
        EXPECT_EQ(s2.st_mode & 07777, 0640u) << suffix;
    }
    // And again: the database is reused, its owner unchanged.
    r = ppo_as_root(conf, {"triage", "list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(::stat(db.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid_);
}

TEST_F(Privileges, RootOwnedStateDirectoryIsRefusedWithTheReason) {
    PPO_SQLITE_ONLY("the ownership and mode of the SQLite file and its folder (its own configuration, no server)");
    const auto conf = setup_state("rootstate", 0, 0);
    auto r = ppo_as_root(conf, {"status"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("refusing to run as root: the state directory " + dir_ + "/rootstate is owned by root"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("sudo -u ppo-intake"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ + "/rootstate/ppo.db")) << "the database was created anyway";
    // check-config opens nothing: it runs.
    EXPECT_EQ(ppo_as_root(conf, {"check-config"}).exit_code, 0);
}

TEST_F(Privileges, DatabaseLeftByRootIsRefusedWithTheFix) {
    PPO_SQLITE_ONLY("the ownership and mode of the SQLite file and its folder (its own configuration, no server)");
    const auto conf = setup_state("state", uid_, gid_);
    const std::string db = dir_ + "/state/ppo.db";
    std::ofstream(db) << "";   // as an older version run as root would have left it
    auto r = ppo_as_root(conf, {"status"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(db + " is owned by root, not by nobody"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("chown nobody: " + db + "*"), std::string::npos) << r.err;
}

}  // namespace
