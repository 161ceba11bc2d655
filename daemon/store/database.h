// A thin layer over Poco::Data: one session, the SQL dialect differences in one
// place, bound parameters only ($1..$n, numbered in order of first appearance
// so SQLite and PostgreSQL bind alike), and the numbered migrations of sql/.
// Errors become ppo::Error: transient when the database is busy or locked,
// permanent otherwise.
#pragma once

#include "workflow/config/config.h"

#include <Poco/Data/Session.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

struct sqlite3;

namespace ppo::daemon {

struct SqlNull {};
using SqlParam = std::variant<SqlNull, std::int64_t, std::string>;

class SqlRow {
public:
    explicit SqlRow(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {}
    bool is_null(std::size_t i) const { return !cells_.at(i).has_value(); }
    std::string str(std::size_t i) const { return cells_.at(i).value_or(std::string()); }
    std::int64_t i64(std::size_t i) const;
    std::size_t size() const { return cells_.size(); }

private:
    std::vector<std::optional<std::string>> cells_;
};

class Database {
public:
    // `extra_conninfo`: more libpq keywords for this connection only (the
    // leadership connection's TCP keepalives); ignored by SQLite.
    explicit Database(const workflow::DatabaseConfig& config,
                      const std::vector<std::pair<std::string, std::string>>& extra_conninfo = {});
    ~Database();

    const std::string& backend() const { return backend_; }

    // Executes one statement; returns the affected row count.
    std::size_t exec(const std::string& sql, const std::vector<SqlParam>& params = {});
    std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params = {});
    // INSERT of a table with an auto-increment `id`; returns the new id.
    std::int64_t insert(const std::string& sql, const std::vector<SqlParam>& params);

    void begin();
    void commit();
    void rollback();
    bool in_transaction() const { return in_transaction_; }

    // Applies every sql/NNN_*.sql newer than the recorded version, each inside
    // a transaction, and records it in schema_version. Returns the version.
    int migrate(const std::string& sql_dir);
    int schema_version();

    // "INSERT ... ON CONFLICT DO NOTHING" is the same in both dialects; this
    // is for the few places that differ.
    std::string id_column() const;

    // PostgreSQL session-level advisory locks (held until unlocked or until
    // this connection ends, whatever ends it). try_ returns at once.
    bool try_advisory_lock(std::int64_t key);
    void advisory_lock(std::int64_t key);
    void advisory_unlock(std::int64_t key);

    // SQLite: gives the connection's page cache back (PRAGMA shrink_memory),
    // for a daemon going idle; nothing on PostgreSQL (the server's caches).
    void release_memory();

private:
    int migrate_locked(const std::string& sql_dir);
    // SQLite: the query straight through the C API on the session's own
    // connection (Poco's RecordSet converts each cell through a Dynamic::Var,
    // several times slower on the status's tens of thousands of rows).
    std::vector<SqlRow> query_sqlite(const std::string& sql, const std::vector<SqlParam>& params);
    void translate_and_throw(const std::exception& e, const std::string& sql) const;

    std::string backend_;
    std::unique_ptr<Poco::Data::Session> session_;
    ::sqlite3* sqlite_ = nullptr;          // the session's native handle (SQLite)
    bool in_transaction_ = false;
};

// Where the migrations live: $PPO_SQL_DIR, the installed data dir, or the
// source tree (when run from a build directory).
std::string default_sql_dir();

// A libpq connection string: "keyword='value' ...", each value in single
// quotes with ' and \ escaped by a backslash, so that no value (a password
// "x' port=5433") can close its quotes and add or override a keyword.
// Poco's PostgreSQL connector splits the string at spaces and re-joins it
// before libpq reads it: a value containing a space cannot reach libpq
// intact, so it is refused (ppo::Error(config) naming the keyword, never the
// value). Empty values are left out (libpq's default, or its PG* variable).
std::string libpq_conninfo(const std::vector<std::pair<std::string, std::string>>& keywords);

// The connection string of a [database] url = postgresql://... (host, port,
// dbname, user, password), through libpq_conninfo().
// sslmode and sslrootcert are added when set, then `extra` (keyword, value).
std::string postgres_conninfo(const workflow::DatabaseConfig& config,
                              const std::vector<std::pair<std::string, std::string>>& extra = {});

// Advisory lock keys (one namespace per PostgreSQL database): the leader's,
// the outbox sender's, the migrations'.
inline constexpr std::int64_t kLeaderLockKey = 0x70706f0001;
inline constexpr std::int64_t kOutboxLockKey = 0x70706f0002;
inline constexpr std::int64_t kMigrationLockKey = 0x70706f0003;

}  // namespace ppo::daemon
