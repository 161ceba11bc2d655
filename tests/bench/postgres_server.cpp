#include "bench/postgres_server.h"

#include "bench/harness.h"
#include "daemon/store/database.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>

namespace ppo::testbench {

namespace fs = std::filesystem;

namespace {

// The newest installed server: /usr/lib/postgresql/<major>/bin (Debian), or
// $PPO_PG_BINDIR.
std::string bindir() {
    if (const char* env = std::getenv("PPO_PG_BINDIR"); env && *env) return env;
    std::string best;
    int best_major = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const int major = std::atoi(e.path().filename().c_str());
        if (major > best_major && fs::exists(e.path() / "bin" / "initdb")) {
            best_major = major;
            best = (e.path() / "bin").string();
        }
    }
    if (best.empty())
        throw std::runtime_error("PPO_TEST_DATABASE=postgresql: no PostgreSQL server found in /usr/lib/postgresql "
                                 "(apt-get install postgresql, or set PPO_PG_BINDIR)");
    return best;
}

// initdb and the server refuse to run as root: as root they run as `postgres`.
std::vector<std::string> as_server_user(std::vector<std::string> argv) {
    if (::geteuid() != 0) return argv;
    argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
    return argv;
}

workflow::DatabaseConfig admin_config(const std::string& socket_dir, int port) {
    workflow::DatabaseConfig c;
    c.backend = "postgresql";
    c.pg_host = socket_dir;
    c.pg_port = port;
    c.pg_dbname = "postgres";
    c.pg_user = "postgres";
    return c;
}

}  // namespace

bool postgres_wanted() {
    const char* env = std::getenv("PPO_TEST_DATABASE");
    if (!env) return false;
    const std::string v = env;
    return v == "postgresql" || v == "postgres";
}

std::string postgres_state_file() {
#ifdef PPO_TEST_PG_STATE_FILE
    return PPO_TEST_PG_STATE_FILE;
#else
    return "";
#endif
}

PostgresServer& PostgresServer::shared() {
    static std::once_flag once;
    static std::unique_ptr<PostgresServer> server;
    std::call_once(once, [] {
        const std::string state = postgres_state_file();
        std::error_code ec;
        if (!state.empty() && fs::exists(state, ec)) {
            server = std::make_unique<PostgresServer>(state);
            // A state file left by a ctest run that was killed: its server is gone.
            const std::string socket = server->socket_dir() + "/.s.PGSQL." + std::to_string(server->port());
            if (fs::exists(socket, ec)) return;
        }
        server = std::make_unique<PostgresServer>();
    });
    return *server;
}

PostgresServer::PostgresServer() : owned_(true) {
    char tmpl[] = "/tmp/ppo-pg-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    socket_dir_ = dir_;
    if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("postgres");
        if (!pw) throw std::runtime_error("running as root, but there is no `postgres` user to run PostgreSQL as");
        if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + dir_ + " failed");
    }
    const std::string bin = bindir();
    // -N: no fsync of the new cluster; fsync=off below: a throwaway server
    // (the durability under test is ppo-intake's, not PostgreSQL's).
    auto r = run_command(as_server_user({bin + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "--auth=trust", "-N",
                                         "-E", "UTF8", "--locale=C.UTF-8"}),
                         300);
    if (r.exit_code != 0) throw std::runtime_error("initdb failed: " + r.out + r.err);
    port_ = free_port();
    r = run_command(as_server_user({bin + "/pg_ctl", "-D", dir_ + "/data", "-w", "-s", "-t", "120", "-l", dir_ + "/log",
                                    "-o",
                                    "-p " + std::to_string(port_) + " -k " + socket_dir_ +
                                        " -c listen_addresses= -c fsync=off -c synchronous_commit=off"
                                        " -c full_page_writes=off -c max_connections=200",
                                    "start"}),
                    180);
    if (r.exit_code != 0) throw std::runtime_error("pg_ctl start failed: " + r.out + r.err + read_file(dir_ + "/log"));
}

PostgresServer::PostgresServer(const std::string& state_file) {
    std::ifstream in(state_file);
    if (!(in >> socket_dir_ >> port_)) throw std::runtime_error("unreadable PostgreSQL state file " + state_file);
    dir_ = socket_dir_;
}

PostgresServer::~PostgresServer() {
    try {
        stop();
    } catch (...) {
    }
}

void PostgresServer::stop() {
    if (!owned_) return;
    owned_ = false;
    run_command(as_server_user({bindir() + "/pg_ctl", "-D", dir_ + "/data", "-w", "-s", "-m", "fast", "stop"}), 120);
    if (!std::getenv("PPO_KEEP_TEST_DIRS")) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::string PostgresServer::state() const { return socket_dir_ + " " + std::to_string(port_) + "\n"; }

void PostgresServer::admin_exec(const std::string& sql) {
    daemon::Database db(admin_config(socket_dir_, port_));
    db.exec(sql);
}

std::string PostgresServer::create_database() {
    static std::atomic<int> counter{0};
    const std::string name = "ppo_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    admin_exec("CREATE DATABASE " + name);
    return name;
}

void PostgresServer::drop_database(const std::string& name) { admin_exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }

std::string PostgresServer::url(const std::string& database) const {
    return "postgresql://postgres@/" + database + "?host=" + socket_dir_ + "&port=" + std::to_string(port_);
}

}  // namespace ppo::testbench
