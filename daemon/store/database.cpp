#include "daemon/store/database.h"

#include "parsers/text/error.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string_view>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ppo::daemon {

namespace fs = std::filesystem;
using namespace Poco::Data::Keywords;

namespace {

void register_connectors() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::PostgreSQL::Connector::registerConnector();
    });
}

void bind_all(Poco::Data::Statement& stmt, const std::vector<SqlParam>& params) {
    for (const auto& p : params) {
        if (std::holds_alternative<SqlNull>(p))
            stmt, use(Poco::Data::Keywords::null);
        else if (const auto* i = std::get_if<std::int64_t>(&p))
            stmt, bind(static_cast<Poco::Int64>(*i));
        else
            // By reference: `params` outlives every execute() here, and bind()
            // would copy the text three times (a 40 MB forward: 120 MB).
            stmt, useRef(const_cast<std::string&>(std::get<std::string>(p)));
    }
}

// The database holds the lycées' mail addresses and the IMAP state: 0640,
// like what the umask (027) gives new files. Files made by an older version
// (0644 outside systemd) are brought back to it.
void restrict_database_files(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        const std::string f = path + suffix;
        struct stat st {};
        if (::stat(f.c_str(), &st) != 0 || st.st_uid != ::geteuid()) continue;
        const mode_t mode = st.st_mode & 07777;
        if ((mode & ~static_cast<mode_t>(0640)) == 0) continue;
        if (::chmod(f.c_str(), mode & 0640) == 0)
            spdlog::warn("database file {}: mode {:o} was wider than 0640, now {:o}", f, mode, mode & 0640);
    }
}

// libpq prints NOTICE and WARNING messages on stderr by default ("relation
// ... already exists, skipping"); the daemon's stderr is its log, so they go
// through spdlog instead, at debug level (client_min_messages=warning already
// keeps the NOTICEs on the server).
extern "C" void log_pq_notice(void*, const char* message) {
    std::string m = message ? message : "";
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.pop_back();
    spdlog::debug("PostgreSQL: {}", m);
}

std::int64_t now_epoch() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::int64_t SqlRow::i64(std::size_t i) const {
    const auto& c = cells_.at(i);
    if (!c || c->empty()) return 0;
    return std::stoll(*c);
}

Database::Database(const workflow::DatabaseConfig& config,
                   const std::vector<std::pair<std::string, std::string>>& extra_conninfo)
    : backend_(config.backend) {
    register_connectors();
    try {
        if (backend_ == "sqlite") {
            if (config.connection != ":memory:") {
                auto parent = fs::path(config.connection).parent_path();
                if (!parent.empty()) fs::create_directories(parent);
                restrict_database_files(config.connection);
            }
            session_ = std::make_unique<Poco::Data::Session>("SQLite", config.connection);
            exec("PRAGMA journal_mode=WAL");
            exec("PRAGMA foreign_keys=ON");
            exec("PRAGMA synchronous=FULL");
            exec("PRAGMA busy_timeout=" + std::to_string(config.busy_timeout_ms));
            sqlite_ = Poco::AnyCast<::sqlite3*>(session_->getProperty("handle"));
        } else if (backend_ == "postgresql") {
            auto extra = extra_conninfo;
            // "--name=value" rather than "-c name=value": Poco splits the
            // connection string at spaces.
            extra.emplace_back("options", "--client_min_messages=warning");
            extra.emplace_back("application_name", "ppo-intake");
            if (std::none_of(extra.begin(), extra.end(), [](const auto& kv) { return kv.first == "connect_timeout"; }))
                extra.emplace_back("connect_timeout", "10");
            session_ = std::make_unique<Poco::Data::Session>("PostgreSQL", postgres_conninfo(config, extra));
            if (auto* impl = dynamic_cast<Poco::Data::PostgreSQL::SessionImpl*>(session_->impl()))
                ::PQsetNoticeProcessor(static_cast<PGconn*>(impl->handle()), log_pq_notice, nullptr);
        } else {
            throw config_error("[database] url: unsupported backend '" + backend_ + "'");
        }
    } catch (const ppo::Error&) {
        throw;
    } catch (const std::exception& e) {
        // Poco's what() is the exception's name only; libpq's reason is in
        // displayText(). Never echo a PostgreSQL connection string: it may
        // carry the password.
        std::string what = e.what();
        if (const auto* pe = dynamic_cast<const Poco::Exception*>(&e)) what = pe->displayText();
        if (auto p = what.find("password="); p != std::string::npos) what = what.substr(0, p) + "password=***";
        throw transient_error("cannot open the " + backend_ + " database: " + what);
    }
}

Database::~Database() {
    if (in_transaction_) {
        try {
            session_->rollback();
        } catch (...) {
        }
    }
}

void Database::translate_and_throw(const std::exception& e, const std::string& sql) const {
    std::string what = e.what();
    if (const auto* pe = dynamic_cast<const Poco::Exception*>(&e)) what = pe->displayText();
    std::string lowered = what;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
    std::string head = sql.substr(0, 80);
    std::replace(head.begin(), head.end(), '\n', ' ');
    if (lowered.find("locked") != std::string::npos || lowered.find("busy") != std::string::npos ||
        lowered.find("connection") != std::string::npos || lowered.find("disk i/o") != std::string::npos)
        throw transient_error("database: " + what + " (in: " + head + ")");
    throw permanent_error("database: " + what + " (in: " + head + ")");
}

std::size_t Database::exec(const std::string& sql, const std::vector<SqlParam>& params) {
    try {
        Poco::Data::Statement stmt(*session_);
        stmt << sql;
        bind_all(stmt, params);
        return stmt.execute();
    } catch (const std::exception& e) {
        translate_and_throw(e, sql);
    }
    return 0;
}

std::vector<SqlRow> Database::query_sqlite(const std::string& sql, const std::vector<SqlParam>& params) {
    struct Finalize {
        sqlite3_stmt* stmt = nullptr;
        ~Finalize() { sqlite3_finalize(stmt); }
    } st;
    auto fail = [&] { throw std::runtime_error(std::string(sqlite3_errmsg(sqlite_))); };
    std::vector<SqlRow> rows;
    try {
        if (sqlite3_prepare_v2(sqlite_, sql.c_str(), static_cast<int>(sql.size()), &st.stmt, nullptr) != SQLITE_OK) fail();
        if (!st.stmt) return rows;   // nothing but a comment or spaces
        for (std::size_t i = 0; i < params.size(); ++i) {
            const int at = static_cast<int>(i + 1);
            int rc = SQLITE_OK;
            if (std::holds_alternative<SqlNull>(params[i])) rc = sqlite3_bind_null(st.stmt, at);
            else if (const auto* v = std::get_if<std::int64_t>(&params[i])) rc = sqlite3_bind_int64(st.stmt, at, *v);
            else {
                const auto& text = std::get<std::string>(params[i]);
                rc = sqlite3_bind_text64(st.stmt, at, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
            }
            if (rc != SQLITE_OK) fail();
        }
        const int cols = sqlite3_column_count(st.stmt);
        for (;;) {
            const int rc = sqlite3_step(st.stmt);
            if (rc == SQLITE_DONE) break;
            if (rc != SQLITE_ROW) fail();
            std::vector<std::optional<std::string>> cells;
            cells.reserve(static_cast<std::size_t>(cols));
            for (int c = 0; c < cols; ++c) {
                if (sqlite3_column_type(st.stmt, c) == SQLITE_NULL) {
                    cells.emplace_back(std::nullopt);
                    continue;
                }
                // As text: integers in decimal, text and blobs byte for byte.
                const auto* p = static_cast<const char*>(sqlite3_column_blob(st.stmt, c));
                const auto n = static_cast<std::size_t>(sqlite3_column_bytes(st.stmt, c));
                cells.emplace_back(p ? std::string(p, n) : std::string());
            }
            rows.emplace_back(std::move(cells));
        }
    } catch (const std::exception& e) {
        translate_and_throw(e, sql);
    }
    return rows;
}

std::vector<SqlRow> Database::query(const std::string& sql, const std::vector<SqlParam>& params) {
    if (sqlite_) return query_sqlite(sql, params);
    std::vector<SqlRow> rows;
    try {
        Poco::Data::Statement stmt(*session_);
        stmt << sql;
        bind_all(stmt, params);
        stmt.execute();
        Poco::Data::RecordSet rs(stmt);
        const std::size_t cols = rs.columnCount();
        const std::size_t n = rs.rowCount();
        rows.reserve(n);
        for (std::size_t r = 0; r < n; ++r) {
            std::vector<std::optional<std::string>> cells;
            cells.reserve(cols);
            for (std::size_t c = 0; c < cols; ++c) {
                if (rs.isNull(c, r)) {
                    cells.emplace_back(std::nullopt);
                } else {
                    cells.emplace_back(rs.value(c, r).convert<std::string>());
                }
            }
            rows.emplace_back(std::move(cells));
        }
    } catch (const ppo::Error&) {
        throw;
    } catch (const std::exception& e) {
        translate_and_throw(e, sql);
    }
    return rows;
}

std::int64_t Database::insert(const std::string& sql, const std::vector<SqlParam>& params) {
    if (backend_ == "postgresql") {
        auto rows = query(sql + " RETURNING id", params);
        return rows.empty() ? 0 : rows.front().i64(0);
    }
    exec(sql, params);
    auto rows = query("SELECT last_insert_rowid()");
    return rows.front().i64(0);
}

void Database::begin() {
    try {
        // SQLite: IMMEDIATE takes the write lock now (waiting up to
        // busy_timeout) rather than at the first write, which would fail at
        // once with SQLITE_BUSY if another connection (the outbox sender)
        // wrote since this transaction's first read.
        if (backend_ == "sqlite") exec("BEGIN IMMEDIATE");
        else session_->begin();
        in_transaction_ = true;
    } catch (const ppo::Error&) {
        throw;   // from exec(), already translated
    } catch (const std::exception& e) {
        translate_and_throw(e, "BEGIN");
    }
}

void Database::commit() {
    try {
        if (backend_ == "sqlite") exec("COMMIT");
        else session_->commit();
        in_transaction_ = false;
    } catch (const ppo::Error&) {
        throw;   // from exec(), already translated
    } catch (const std::exception& e) {
        translate_and_throw(e, "COMMIT");
    }
}

void Database::rollback() {
    if (!in_transaction_) return;
    in_transaction_ = false;
    try {
        if (backend_ == "sqlite") exec("ROLLBACK");
        else session_->rollback();
    } catch (const ppo::Error& e) {
        // SQLite already rolled back by itself after some errors (SQLITE_FULL,
        // SQLITE_IOERR...): nothing is left to undo, and the caller's error,
        // not this one, is the one to report.
        if (std::string_view(e.what()).find("no transaction is active") != std::string_view::npos) return;
        throw;   // from exec(), already translated
    } catch (const std::exception& e) {
        translate_and_throw(e, "ROLLBACK");
    }
}

std::string Database::id_column() const {
    return backend_ == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
}

bool Database::try_advisory_lock(std::int64_t key) {
    auto rows = query("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END", {key});
    return !rows.empty() && rows.front().i64(0) == 1;
}

void Database::advisory_lock(std::int64_t key) { query("SELECT 1 FROM (SELECT pg_advisory_lock($1)) AS l", {key}); }

void Database::advisory_unlock(std::int64_t key) {
    query("SELECT CASE WHEN pg_advisory_unlock($1) THEN 1 ELSE 0 END", {key});
}

void Database::release_memory() {
    if (backend_ == "sqlite" && !in_transaction_) exec("PRAGMA shrink_memory");
}

int Database::schema_version() {
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    auto rows = query("SELECT MAX(version) FROM schema_version");
    return rows.empty() || rows.front().is_null(0) ? 0 : static_cast<int>(rows.front().i64(0));
}

int Database::migrate(const std::string& sql_dir) {
    // Two processes starting at once on a new database (two `run`s, a `tick`
    // beside a starting daemon) would both apply the same migration; the
    // second would fail on a duplicate table. PostgreSQL: one at a time,
    // by an advisory lock. SQLite: BEGIN IMMEDIATE serialises, and the
    // version is read again inside each transaction below.
    const bool pg = backend_ == "postgresql";
    if (pg) advisory_lock(kMigrationLockKey);
    try {
        const int v = migrate_locked(sql_dir);
        if (pg) advisory_unlock(kMigrationLockKey);
        return v;
    } catch (...) {
        if (pg) {
            try {
                advisory_unlock(kMigrationLockKey);
            } catch (...) {
            }
        }
        throw;
    }
}

int Database::migrate_locked(const std::string& sql_dir) {
    int current = schema_version();
    std::vector<std::pair<int, fs::path>> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(sql_dir, ec)) {
        static const std::regex name(R"((\d+)_.*\.sql)");
        std::smatch m;
        std::string fname = entry.path().filename().string();
        if (std::regex_match(fname, m, name)) files.emplace_back(std::stoi(m[1]), entry.path());
    }
    if (ec) throw config_error("cannot read the migrations folder " + sql_dir + ": " + ec.message());
    if (files.empty()) throw config_error("no migrations (NNN_name.sql) found in " + sql_dir);
    std::sort(files.begin(), files.end());
    for (const auto& [version, path] : files) {
        if (version <= current) continue;
        std::ifstream in(path);
        std::stringstream buf;
        buf << in.rdbuf();
        std::string text = std::regex_replace(buf.str(), std::regex(R"(--[^\n]*)"), "");
        text = std::regex_replace(text, std::regex(R"(\{\{ID\}\})"), id_column());
        begin();
        try {
            if (schema_version() >= version) {   // applied by another process meanwhile
                commit();
                current = version;
                continue;
            }
            std::size_t start = 0;
            while (start < text.size()) {
                auto end = text.find(';', start);
                std::string stmt = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
                start = end == std::string::npos ? text.size() : end + 1;
                if (stmt.find_first_not_of(" \t\r\n") == std::string::npos) continue;
                exec(stmt);
            }
            exec("INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
                 {std::int64_t{version}, now_epoch()});
            commit();
        } catch (...) {
            rollback();
            throw;
        }
        current = version;
    }
    return current;
}

std::string default_sql_dir() {
    if (const char* env = std::getenv("PPO_SQL_DIR"); env && *env) return env;
    // A build directory uses its own source tree; an installed binary, whose
    // source tree is gone, the installed copy.
    std::error_code ec;
    if (fs::exists(fs::path(PPO_SOURCE_DIR) / "sql" / "001_init.sql", ec)) return (fs::path(PPO_SOURCE_DIR) / "sql").string();
    return (fs::path(PPO_DATADIR) / "sql").string();
}


std::string libpq_conninfo(const std::vector<std::pair<std::string, std::string>>& keywords) {
    std::string conninfo;
    for (const auto& [keyword, value] : keywords) {
        if (keyword.empty() || keyword.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos)
            throw config_error("[database] libpq keyword '" + keyword + "': expected lower-case letters and '_'");
        if (value.empty()) continue;
        if (value.find(' ') != std::string::npos)
            throw config_error("[database] the PostgreSQL " + keyword +
                               " contains a space, which the PostgreSQL connector (Poco) cannot pass to libpq "
                               "intact: choose one without spaces");
        if (value.find('\0') != std::string::npos)
            throw config_error("[database] the PostgreSQL " + keyword + " contains a NUL byte");
        if (!conninfo.empty()) conninfo += ' ';
        conninfo += keyword + "='";
        for (char ch : value) {
            if (ch == '\'' || ch == '\\') conninfo += '\\';
            conninfo += ch;
        }
        conninfo += '\'';
    }
    return conninfo;
}

std::string postgres_conninfo(const workflow::DatabaseConfig& config,
                              const std::vector<std::pair<std::string, std::string>>& extra) {
    std::vector<std::pair<std::string, std::string>> keywords = {{"host", config.pg_host},
                                                                 {"port", std::to_string(config.pg_port)},
                                                                 {"dbname", config.pg_dbname},
                                                                 {"user", config.pg_user},
                                                                 {"password", config.pg_password.value},
                                                                 {"sslmode", config.pg_sslmode},
                                                                 {"sslrootcert", config.pg_sslrootcert}};
    keywords.insert(keywords.end(), extra.begin(), extra.end());
    return libpq_conninfo(keywords);
}

}  // namespace ppo::daemon
