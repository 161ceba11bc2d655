// A throwaway PostgreSQL server for the integration tests, when
// PPO_TEST_DATABASE=postgresql: initdb into a temporary folder, pg_ctl start
// on a Unix socket in that folder only (listen_addresses = '': nothing on the
// network), one database per Harness (CREATE DATABASE), pg_ctl stop -m fast
// at the end. Run as root (CI), initdb and pg_ctl run as `postgres`, which
// owns the folder.
//
// One server serves a whole ctest run: the ctest fixture "postgres"
// (tests/CMakeLists.txt) runs `ppo_postgres_server start` first and `stop`
// last, the server's socket folder and port in a state file. A test binary
// run by hand, without that fixture, starts a server of its own on first use
// and stops it when the process ends (initdb is the slow part: seconds).
#pragma once

#include <memory>
#include <string>

namespace ppo::testbench {

// PPO_TEST_DATABASE=postgresql (or postgres); anything else or unset: SQLite.
bool postgres_wanted();

class PostgresServer {
public:
    // The ctest run's server (from the state file) or this process's own,
    // started on first use.
    static PostgresServer& shared();

    // Starts a new server in a new temporary folder.
    PostgresServer();
    // Attaches to the server a state file describes (not stopped by this object).
    explicit PostgresServer(const std::string& state_file);
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    // A fresh, empty database; its name.
    std::string create_database();
    void drop_database(const std::string& name);
    // [database] url for ppo-intake: postgresql://postgres@/NAME?host=SOCKDIR&port=PORT
    std::string url(const std::string& database) const;
    const std::string& socket_dir() const { return socket_dir_; }
    int port() const { return port_; }
    void stop();
    // The fixture's start leaves the server running; its stop takes it back.
    void detach() { owned_ = false; }
    void adopt() { owned_ = true; }
    // "SOCKDIR PORT" for the state file.
    std::string state() const;

private:
    void admin_exec(const std::string& sql);

    std::string dir_;          // the server's folder (data/, socket, log)
    std::string socket_dir_;
    int port_ = 0;
    bool owned_ = false;       // started (and to be stopped) by this object
};

// The state file of the ctest fixture (PPO_TEST_PG_STATE_FILE).
std::string postgres_state_file();

}  // namespace ppo::testbench
