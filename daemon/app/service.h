// What the commands share: the loaded configuration, the clock (--now), the
// database and store (opened and migrated on first use), the archive, the
// templates, and the IMAP / SMTP adapters built from the configuration. Plus
// the commands that drive the workflow: poll --once, tick, run (the loop
// itself is daemon/app/daemon_loop.h), triage.
#pragma once

#include "daemon/store/database.h"
#include "daemon/store/file_archive.h"
#include "daemon/store/sql_store.h"
#include "workflow/config/config.h"
#include "workflow/ports/ports.h"
#include "workflow/mail/templates.h"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ppo::daemon {

struct UsageErrorInCommand : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class SystemClock final : public workflow::Clock {
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

// --now: a clock that starts at the given instant and moves on with real time,
// so timers and backoff still work in a replay.
class ShiftedClock final : public workflow::Clock {
public:
    explicit ShiftedClock(std::int64_t start_epoch);
    std::chrono::system_clock::time_point now() const override;

private:
    std::chrono::system_clock::duration offset_;
};

struct Context {
    Context(const std::string& config_path, const std::string& now_text);

    workflow::Config config;
    std::string templates_dir;
    std::unique_ptr<workflow::Clock> clock;

    SqlStore& store();                       // opens and migrates the database on first use
    Database& database();                    // the store's connection (opened by store())
    FileArchive& archive();
    const workflow::Templates& templates();  // loaded on first use
    std::unique_ptr<workflow::MailSource> make_mail_source() const;
    std::unique_ptr<workflow::MailSender> make_mail_sender() const;

private:
    std::unique_ptr<Database> db_;
    std::unique_ptr<SqlStore> store_;
    std::unique_ptr<FileArchive> archive_;
    std::optional<workflow::Templates> templates_;
};

class SubprocessDocumentReader;

// Shared by the commands and the daemon loop (daemon/app/daemon_loop.h).
namespace app {
std::int64_t epoch_of(const workflow::Clock& clock);
std::string academies_csv(const workflow::Config& config);   // "lille,amiens"
std::string outcome_line(const workflow::MessageRecord& r);  // the log line of one message handled
}  // namespace app
// The documents are read in child processes (the daemon's own binary, run as
// `document-worker`), with the [documents] limits; null when [documents] read = false.
std::unique_ptr<SubprocessDocumentReader> make_document_reader(const workflow::Config& config);

int cmd_poll_once(Context& ctx);
int cmd_tick(Context& ctx, const std::vector<std::string>& args);
int cmd_run(Context& ctx);
int cmd_triage(Context& ctx, const std::vector<std::string>& args);
// outbox list [--json] | outbox retry ID | outbox retry --all
int cmd_outbox(Context& ctx, const std::vector<std::string>& args);
// ack resend SUBMISSION_ID
int cmd_ack(Context& ctx, const std::vector<std::string>& args);

}  // namespace ppo::daemon
