// Drives the real ppo-intake binary through its public contract (config file,
// CLI, status --json, the mail it sends) against a throwaway Dovecot and SMTP
// capture, with the sample directory imported. One harness per test.
#pragma once

#include "bench/dovecot_server.h"
#include "bench/postgres_server.h"
#include "bench/process.h"
#include "bench/smtp_capture.h"

#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace ppo::testbench {

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs a command line (argv[0] = program), capturing stdout and stderr; the
// child is killed after `timeout_s`.
RunResult run_command(const std::vector<std::string>& argv, int timeout_s = 120);

struct TestFile {
    std::string name;           // as the sender's client names it (UTF-8)
    std::string content_type = "application/pdf";
    std::string data;
    std::string raw_disposition;  // when set, the whole Content-Disposition/Type header block, verbatim
};

struct TestMail {
    std::string from = "ce.0596082r@ac-lille.fr";
    std::string to = "ppo@region-academique-hauts-de-france.fr";
    std::string subject = "PPO du lycée";
    std::string body = "Bonjour,\nveuillez trouver ci-joint notre PPO.\nCordialement";
    std::string message_id;     // default: a fresh one
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    std::vector<TestFile> files;
};

// A small but real PDF whose content differs with `tag`.
std::string sample_pdf(const std::string& tag, std::size_t pad_bytes = 0);
// multipart/mixed message with the files in base64 (CRLF line ends).
std::string build_test_mail(const TestMail& mail);

class Harness {
public:
    struct Options {
        DovecotOptions imap;
        std::map<std::string, std::string> extra_config;  // "section.key" -> value
        bool import_directory = true;
    };
    Harness();
    explicit Harness(Options options);
    ~Harness();

    DovecotServer& imap() { return imap_; }
    SmtpCapture& smtp() { return smtp_; }
    const std::string& dir() const { return dir_; }
    const std::string& config_path() const { return config_; }
    // PPO_TEST_DATABASE=postgresql: this harness's database on the test
    // server (bench/postgres_server.h); otherwise SQLite in dir()/ppo.db.
    bool postgres() const { return !pg_database_.empty(); }
    // [database] url as written in the configuration.
    std::string database_url() const;

    // ppo-intake -c CONFIG [--now NOW] ARGS...
    RunResult ppo(const std::vector<std::string>& args, const std::string& now = "");
    // status --json, parsed
    Poco::JSON::Object::Ptr status(const std::string& now = "");
    // The lycée object of status --json for this UAI (nullptr if absent).
    Poco::JSON::Object::Ptr lycee(const std::string& uai, const std::string& now = "");
    std::uint32_t deliver(const TestMail& mail) { return imap_.append(build_test_mail(mail)); }
    void write_config(const std::map<std::string, std::string>& extra);

private:
    Options options_;
    DovecotServer imap_;
    SmtpCapture smtp_;
    std::string dir_;
    std::string config_;
    std::string pg_database_;
};

// A Poco::Data session on the database of the Harness whose dir() this is
// (SQLite file or PostgreSQL database, as the run is), for tests that read
// rows directly.
Poco::Data::Session database_session(const std::string& harness_dir);

// In a test that exercises SQLite itself (its file, its locking, its
// ownership): GTEST_SKIP() with the reason when the run is on PostgreSQL.
#define PPO_SQLITE_ONLY(reason)                                                   \
    do {                                                                          \
        if (::ppo::testbench::postgres_wanted()) GTEST_SKIP() << "SQLite only: " << (reason); \
    } while (0)

// `ppo-intake -c CONFIG [--now NOW] run` in the background, stdout and stderr
// appended to a log file; killed (SIGKILL) by the destructor if still running.
class DaemonProcess {
public:
    DaemonProcess(std::string config_path, std::string log_path, std::string now = "");
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    void start();
    // False (and the exit status kept) once the process has ended.
    bool alive();
    void kill9();
    // SIGTERM; the exit code (-1 on timeout, then SIGKILL).
    int terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
    int exit_status() const { return process_.exit_status(); }
    int pid() const { return process_.pid(); }
    std::string log() const;

private:
    std::string config_;
    std::string log_;
    std::string now_;
    BackgroundProcess process_;
};

// Header value (first occurrence, unfolded) of a raw message, "" if absent.
std::string header_of(const std::string& raw, const std::string& name);

// A whole file, bytes as they are ("" when it cannot be read).
std::string read_file(const std::string& path);
// The last `n` bytes of a (log) text, for failure messages.
std::string tail(const std::string& s, std::size_t n = 6000);

}  // namespace ppo::testbench
