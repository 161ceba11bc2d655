// The daemon's configuration: the INI file of ppo-intake.conf(5) parsed once into an
// immutable, typed value with a documented default for every key (the defaults
// are those of etc/ppo-intake.conf). Unknown keys, bad URLs, dates, times,
// offsets and numbers are ppo::Error(config) naming "file:line [section] key"
// and what was expected. Secrets are read from $CREDENTIALS_DIRECTORY/<name>
// (systemd LoadCredential=), else `password_file`, else `password`; they are
// kept in Secret, which has no stream operator, so they cannot reach a log.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace ppo::workflow {

struct Secret {
    std::string value;
    bool empty() const { return value.empty(); }
};

struct Url {
    std::string scheme;    // lower-case
    std::string user;      // may be empty
    std::string host;
    int port = 0;          // the scheme's default when absent
    std::string path;      // without the leading '/'
};

struct ImapConfig {
    Url url;                            // imap:// or imaps://
    bool tls_required = false;          // no plaintext even to a loopback address
    bool allow_plaintext = false;       // log in without TLS to a server that offers none (warned)
    bool verify_certificate = true;     // chain and host name; false is an opt-out (warned)
    std::string ca_file;                // PEM CA(s) to trust instead of the system's; empty: system CAs
    std::string user;
    Secret password;
    std::string mailbox = "INBOX";
    std::string processed_folder = "PPO/Traites";
    std::string triage_folder = "PPO/A-trier";
    std::string ignored_folder = "PPO/Ignores";
    int poll_interval = 60;             // seconds
    int timeout = 60;                   // seconds, socket
};

struct SmtpConfig {
    Url url;                            // smtp:// or smtps://
    bool tls_required = false;          // as in ImapConfig
    bool allow_plaintext = false;
    bool verify_certificate = true;
    std::string ca_file;
    std::string user;
    Secret password;
    std::string from = "PPO Hauts-de-France <ppo@region-academique-hauts-de-france.fr>";
    std::string from_address;           // addr-spec of `from`
    int timeout = 60;
    int max_per_recipient_per_hour = 20;   // acknowledgement rate limit
    int retry_delay = 60;                  // seconds before the first retry of a deferred mail (then doubled, up to 1 h)
    // Seconds after which a mail still failing temporarily is given up
    // (failed), counted from when it was queued; Postfix's maximal_queue_lifetime.
    std::int64_t max_age = 5 * 86400;
    // SMTP connections the outbox is sent over at once (each mail on exactly
    // one); Postfix delivers to one destination over up to 20.
    int connections = 2;
};

struct DatabaseConfig {
    std::string url = "sqlite:///var/lib/ppo-intake/ppo.db";
    std::string backend;                // "sqlite" | "postgresql"
    std::string connection;             // SQLite: the file path ("" for PostgreSQL)
    // PostgreSQL: the URL's parts, kept apart; daemon/store/database.cpp quotes
    // each one into the libpq connection string.
    // pg_host is a host name, an address, or a socket folder (an absolute
    // path: postgresql://user@/db?host=/run/postgresql).
    std::string pg_host{};
    int pg_port = 5432;
    std::string pg_dbname{};
    std::string pg_user{};
    Secret pg_password{};
    std::string pg_sslmode{};           // libpq's sslmode ("" = libpq's default, prefer)
    std::string pg_sslrootcert{};
    std::string password_file{};        // where pg_password came from (for messages; never the value)
    int busy_timeout_ms = 5000;
};

// Several `run` instances on one PostgreSQL database: one leader, the others
// standby (daemon/app/cluster.h).
struct ClusterConfig {
    int lease = 15;   // seconds within which a standby takes over from a dead or cut-off leader
};

struct StorageConfig {
    std::string archive_dir = "/var/lib/ppo-intake/archive";
};

struct CampaignConfig {
    std::string name = "PPO 2021-2022";
    std::string deadline = "2022-03-25";           // ISO date, the whole day counts in `timezone`
    std::string timezone = "Europe/Paris";
    std::vector<std::string> academies = {"09", "20"};
    std::vector<int> reminders = {-21, -7, -2, 1, 7};   // days from the deadline, ascending
    int reminder_minutes = 9 * 60;                 // reminder_time as minutes after midnight
};

struct DigestConfig {
    std::vector<std::string> to = {"draio@region-academique-hauts-de-france.fr"};
    int minutes = 7 * 60;                          // time
    std::set<int> days = {1, 2, 3, 4, 5};          // 0 = Sunday ... 6 = Saturday
    bool enabled = true;
};

struct IntakeConfig {
    std::size_t max_message_size = 50u * 1024 * 1024;
    std::size_t max_parts = 10000;
    std::size_t max_depth = 50;
    std::size_t batch_bytes = 32u * 1024 * 1024;   // fetched and committed together
    std::vector<std::string> allowed_domains;      // extra domains acknowledgements may go to
    std::string trusted_authserv_id;               // Authentication-Results to trust (sender_auth.h); empty: every From believed
    std::string message_id_domain;                 // our Message-IDs; default: domain of smtp.from
    bool acknowledge = true;
};

// Reading the documents (parsers/document/document_text.h), in child processes with
// these limits (daemon/documents/document_reader.h).
struct DocumentsConfig {
    bool read = true;                              // false: files are kept, never opened
    std::size_t max_text_bytes = 64 * 1024;        // text kept per document
    int timeout = 10;                              // seconds of wall time per document
    std::size_t max_memory = 512u * 1024 * 1024;   // address space of a reading process
    int max_pages = 50;                            // PDF pages read
};

struct WorkflowConfig {
    bool forward = true;                           // forward each PPO to the bassin's IEN-IO
};

struct LogConfig {
    std::string level = "info";                    // trace, debug, info, warn, error
};

struct HttpConfig {
    std::string listen = "127.0.0.1:9187";         // /healthz and /metrics; empty: off
};

// The web interface (daemon/web/web_server.h): the DRAIO's and IEN-IOs' pages.
struct WebConfig {
    std::string listen;                            // HOST:PORT; empty: off (the default)
    std::string users_file = "/etc/ppo-intake/users";   // daemon/web/web_users.h; `ppo-intake user add` writes it
    std::string base_url;                          // absolute http(s) URL without a trailing '/' (links in mails); may be empty
    int session_timeout = 3600;                    // seconds of inactivity before a session ends
    std::string tls_cert;                          // PEM certificate (chain) and key: HTTPS; both or neither
    std::string tls_key;

    bool tls() const { return !tls_cert.empty(); }
    // Cookies carry the Secure flag when the browser reaches us over HTTPS:
    // our own TLS, or a reverse proxy's (base_url = https://...).
    bool secure_cookies() const { return tls() || base_url.rfind("https://", 0) == 0; }
    bool operator==(const WebConfig&) const = default;
};

struct Config {
    std::string source;                            // the file it was read from
    ImapConfig imap;
    SmtpConfig smtp;
    DatabaseConfig database;
    ClusterConfig cluster;
    StorageConfig storage;
    CampaignConfig campaign;
    DigestConfig digest;
    IntakeConfig intake;
    DocumentsConfig documents;
    WorkflowConfig workflow;
    LogConfig log;
    HttpConfig http;
    WebConfig web;

    // The académie mail domain for a Code_academie ("09" -> "ac-lille.fr").
    static std::string academie_domain(const std::string& code);
    std::vector<std::string> academie_domains() const;
};

// The settings that weaken TLS (verify_certificate = false, allow_plaintext =
// true), one sentence each naming the key; logged as warnings at start and
// printed by check-config.
std::vector<std::string> tls_warnings(const Config& config);

// Parses text read from `source`. Relative paths (database, archive,
// password_file) are resolved against the folder of `source`.
Config parse_config(const std::string& text, const std::string& source);
// Reads and parses the file; a missing file is a config error.
Config load_config(const std::string& path);

Url parse_url(const std::string& text, const std::vector<std::string>& schemes, const std::string& where);

// [database] url = postgresql://...: fills db's pg_* fields (host may be a
// socket folder, from the authority or ?host=; ?port=, ?sslmode=,
// ?sslrootcert=) and returns the URL's password ("" when none). Errors never
// quote the URL (it may hold a password).
std::string parse_postgres_url(const std::string& text, const std::string& where, DatabaseConfig& db);

}  // namespace ppo::workflow
