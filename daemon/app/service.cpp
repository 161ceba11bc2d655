#include "daemon/app/service.h"

#include "daemon/app/cluster.h"
#include "daemon/app/daemon_loop.h"
#include "daemon/documents/document_reader.h"
#include "daemon/imap/imap_mail_source.h"
#include "daemon/smtp/outbox_worker.h"
#include "daemon/smtp/smtp_sender.h"
#include "parsers/text/error.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/intake/intake.h"
#include "workflow/mail/outbox.h"
#include "workflow/campaign/scheduler.h"
#include "workflow/status/status.h"
#include "workflow/intake/triage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <thread>

namespace ppo::daemon {

namespace {

// The TLS opt-outs of one section, said each time its adapter is made (once
// per command, once per daemon start).
void warn_tls(const workflow::Config& config, const std::string& section) {
    for (const auto& w : workflow::tls_warnings(config))
        if (w.rfind(section, 0) == 0) spdlog::warn("{}", w);
}

}  // namespace

namespace app {

std::int64_t epoch_of(const workflow::Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

std::string academies_csv(const workflow::Config& c) {
    std::string s;
    for (const auto& a : c.campaign.academies) s += (s.empty() ? "" : ",") + a;
    return s;
}

std::string outcome_line(const workflow::MessageRecord& r) {
    std::string line = "uid " + std::to_string(r.uid) + ": submission " + std::to_string(r.id) + ": " + r.outcome;
    if (!r.uai.empty()) line += " UAI " + r.uai + " (by " + r.identified_by + ")";
    if (r.late) line += " late";
    if (!r.reason.empty()) line += " — " + r.reason;
    line += " — from " + r.from;
    return line;
}

}  // namespace app

using app::academies_csv;
using app::epoch_of;
using app::outcome_line;

ShiftedClock::ShiftedClock(std::int64_t start_epoch)
    : offset_(std::chrono::system_clock::time_point(std::chrono::seconds(start_epoch)) - std::chrono::system_clock::now()) {}

std::chrono::system_clock::time_point ShiftedClock::now() const { return std::chrono::system_clock::now() + offset_; }

Context::Context(const std::string& config_path, const std::string& now_text)
    : config(workflow::load_config(config_path)),
      templates_dir(workflow::default_templates_dir(PPO_SOURCE_DIR, config_path)) {
    if (now_text.empty()) clock = std::make_unique<SystemClock>();
    else clock = std::make_unique<ShiftedClock>(workflow::parse_instant(now_text, config.campaign.timezone));
}

SqlStore& Context::store() {
    if (!store_) {
        db_ = std::make_unique<Database>(config.database);
        db_->migrate(default_sql_dir());
        store_ = std::make_unique<SqlStore>(*db_);
    }
    return *store_;
}

Database& Context::database() {
    store();
    return *db_;
}

FileArchive& Context::archive() {
    if (!archive_) archive_ = std::make_unique<FileArchive>(config.storage.archive_dir);
    return *archive_;
}

const workflow::Templates& Context::templates() {
    if (!templates_) templates_ = workflow::Templates::load(templates_dir);
    return *templates_;
}

std::unique_ptr<workflow::MailSource> Context::make_mail_source() const {
    ImapSettings s;
    s.host = config.imap.url.host;
    s.port = config.imap.url.port;
    s.implicit_tls = config.imap.url.scheme == "imaps";
    s.tls_required = config.imap.tls_required;
    s.allow_plaintext = config.imap.allow_plaintext;
    s.verify_certificate = config.imap.verify_certificate;
    s.ca_file = config.imap.ca_file;
    warn_tls(config, "[imap]");
    s.user = config.imap.user;
    s.password = config.imap.password.value;
    s.mailbox = config.imap.mailbox;
    s.processed_folder = config.imap.processed_folder;
    s.triage_folder = config.imap.triage_folder;
    s.ignored_folder = config.imap.ignored_folder;
    s.poll_interval_seconds = config.imap.poll_interval;
    s.timeout_seconds = config.imap.timeout;
    s.spool_dir = config.storage.archive_dir;   // on disk, where the files go anyway
    return std::make_unique<ImapMailSource>(s);
}

std::unique_ptr<workflow::MailSender> Context::make_mail_sender() const {
    SmtpSettings s;
    s.host = config.smtp.url.host;
    s.port = config.smtp.url.port;
    s.implicit_tls = config.smtp.url.scheme == "smtps";
    s.tls_required = config.smtp.tls_required;
    s.allow_plaintext = config.smtp.allow_plaintext;
    s.verify_certificate = config.smtp.verify_certificate;
    s.ca_file = config.smtp.ca_file;
    warn_tls(config, "[smtp]");
    s.user = config.smtp.user;
    s.password = config.smtp.password.value;
    s.timeout_seconds = config.smtp.timeout;
    return std::make_unique<SmtpSender>(s);
}

// The documents are read in child processes (the daemon's own binary, run as
// `document-worker`), with the [documents] limits.
std::unique_ptr<SubprocessDocumentReader> make_document_reader(const workflow::Config& config) {
    if (!config.documents.read) return nullptr;
    DocumentLimits limits;
    limits.timeout = std::chrono::seconds(config.documents.timeout);
    limits.memory_bytes = config.documents.max_memory;
    limits.text.max_text_bytes = config.documents.max_text_bytes;
    limits.text.max_pages = config.documents.max_pages;
    return std::make_unique<SubprocessDocumentReader>("/proc/self/exe", limits);
}

namespace {

// Sends the outbox once no other process (the daemon's sender, another
// command) is sending: one sender at a time, so no mail goes out twice.
// Nothing when another process kept sending for 30 s (it sends these too).
std::optional<workflow::OutboxStats> flush_if_free(Context& ctx, const char* command) {
    OutboxLock lock(ctx.config.database, ctx.database());
    if (!lock.acquired()) {
        spdlog::warn("{}: another ppo-intake process has been sending the outbox for 30 s; the mails queued here "
                     "go out with it or at the next tick",
                     command);
        return std::nullopt;
    }
    auto sender = ctx.make_mail_sender();
    auto sent = workflow::flush_outbox(ctx.store(), *sender, ctx.archive(), *ctx.clock, 10000, {},
                                       ctx.config.smtp.retry_delay, {}, ctx.config.smtp.max_age);
    spdlog::info("{}: outbox: {} sent, {} deferred, {} failed, {} pending", command, sent.sent, sent.deferred,
                 sent.failed, sent.left);
    return sent;
}

// A positive row id given on the command line.
std::int64_t parse_row_id(const std::string& s, const std::string& what) {
    try {
        std::size_t pos = 0;
        long long id = std::stoll(s, &pos);
        if (pos != s.size() || id <= 0) throw std::invalid_argument(s);
        return static_cast<std::int64_t>(id);
    } catch (const std::exception&) {
        throw UsageErrorInCommand(what + ": '" + s + "' is not a number");
    }
}

// What became of one outbox mail after a flush, for the command's output.
std::string outbox_outcome(workflow::Store& store, std::int64_t id, const std::string& timezone) {
    for (const auto& m : store.outbox_list({"pending", "sent", "failed"})) {
        if (m.id != id) continue;
        const std::string state = workflow::outbox_state(m);
        if (state == "sent") return "sent";
        if (state == "failed") return "failed: " + m.last_error;
        if (state == "deferred")
            return "deferred (" + m.last_error + "); next attempt " + workflow::iso_local(m.next_attempt_at, timezone);
        return "pending (sent by the running daemon or the next command that sends)";
    }
    return "unknown";
}

}  // namespace

int cmd_poll_once(Context& ctx) {
    auto& store = ctx.store();   // opened and migrated before the sender opens its own connection
    // The daemon (or another poll) taking the mail at the same time would
    // fetch the same messages: only the leader takes mail. Someone else
    // doing it is not a failure.
    Leadership leadership(ctx.config, "poll --once");
    // A few seconds' patience: the server ends the session of a process that
    // just exited (a previous poll, a daemon restarting) a moment after it
    // is gone, and only then frees its lock.
    bool acquired = leadership.try_acquire();
    for (int i = 0; i < 30 && !acquired; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        acquired = leadership.try_acquire();
    }
    if (!acquired) {
        const auto who = leadership.holder();
        spdlog::warn("poll: another ppo-intake{} is taking the mail of {}; nothing done",
                     who.empty() ? " (the running daemon or another poll)" : " (" + who + ")", leadership.where());
        return 0;
    }
    auto source = ctx.make_mail_source();
    // The mails go out while the next batches are fetched; what is still due
    // when the inbox is done is sent before the command returns.
    OutboxWorker sender(ctx.config, [&ctx] { return ctx.make_mail_sender(); }, *ctx.clock);
    sender.wake();   // left pending by an earlier run
    auto reader = make_document_reader(ctx.config);
    workflow::Intake intake(ctx.config, store, *source, ctx.archive(), ctx.templates(), *ctx.clock, reader.get());
    intake.on_message = [](const workflow::MessageRecord& r) { spdlog::info("{}", outcome_line(r)); };
    intake.on_batch_committed = [&sender] { sender.wake(); };
    auto stats = intake.poll_once();
    source->close();
    auto sent = sender.finish();
    spdlog::info("poll: {} message(s) in the inbox: {} submission(s), {} unidentified, {} ignored, {} quarantined, "
                 "{} already handled; outbox: {} sent, {} deferred, {} failed, {} pending",
                 stats.seen, stats.submissions, stats.unidentified, stats.ignored, stats.quarantined, stats.refiled,
                 sent.sent, sent.deferred, sent.failed, sent.left);
    return 0;
}

int cmd_tick(Context& ctx, const std::vector<std::string>& args) {
    bool dry_run = false;
    for (const auto& a : args) {
        if (a == "--dry-run") dry_run = true;
        else throw UsageErrorInCommand("tick: unexpected argument '" + a + "'");
    }
    auto& store = ctx.store();
    const auto now = epoch_of(*ctx.clock);
    auto campaign = store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline,
                                          academies_csv(ctx.config), now);
    auto directory = store.load_directory(ctx.config.campaign.academies);
    auto actions = workflow::run_scheduled(ctx.config, store, ctx.templates(), directory, campaign.id, now, dry_run);
    for (const auto& a : actions) {
        std::string to;
        for (const auto& r : a.recipients) to += (to.empty() ? "" : ", ") + r;
        std::cout << (dry_run ? "would send " : "queued ") << a.kind << " " << a.key << (a.uai.empty() ? "" : " UAI " + a.uai)
                  << " to " << to << ": " << a.subject << "\n";
    }
    if (actions.empty()) std::cout << "Nothing due at " << workflow::iso_local(now, ctx.config.campaign.timezone) << ".\n";
    if (dry_run) return 0;
    spdlog::info("tick: {} action(s) queued", actions.size());
    flush_if_free(ctx, "tick");
    return 0;
}

int cmd_triage(Context& ctx, const std::vector<std::string>& args) {
    if (args.empty()) throw UsageErrorInCommand("triage: expected 'list', 'assign ID UAI' or 'reject ID'");
    auto& store = ctx.store();
    const auto now = epoch_of(*ctx.clock);
    auto campaign = store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline,
                                          academies_csv(ctx.config), now);
    auto directory = store.load_directory(ctx.config.campaign.academies);
    if (args[0] == "list") {
        bool json = args.size() > 1 && args[1] == "--json";
        if (args.size() > (json ? 2u : 1u)) throw UsageErrorInCommand("triage list: unexpected argument");
        auto st = workflow::build_status(store, ctx.config, campaign.id, directory);
        std::cout << (json ? workflow::unidentified_json(st) + "\n" : workflow::unidentified_table(st));
        return 0;
    }
    auto parse_id = [&](const std::string& s) { return parse_row_id(s, "triage: submission number"); };
    if (args[0] == "assign") {
        if (args.size() != 3) throw UsageErrorInCommand("triage assign: expected SUBMISSION_ID UAI");
        auto id = parse_id(args[1]);
        workflow::MessageRecord msg;
        try {
            msg = workflow::assign_from_triage(ctx.config, store, ctx.templates(), directory, id, args[2], now);
        } catch (const workflow::TriageError& e) {
            throw UsageErrorInCommand(std::string("triage assign: ") + e.what());
        }
        const auto* lycee = directory.by_uai(msg.uai);
        spdlog::info("submission {}: assigned to UAI {} by hand", id, msg.uai);
        flush_if_free(ctx, "triage assign");
        std::cout << "Submission " << id << " assigned to " << msg.uai << " " << (lycee ? lycee->name : "") << ".\n";
        return 0;
    }
    if (args[0] == "reject") {
        if (args.size() != 2) throw UsageErrorInCommand("triage reject: expected SUBMISSION_ID");
        auto id = parse_id(args[1]);
        try {
            workflow::reject_from_triage(store, id);
        } catch (const workflow::TriageError& e) {
            throw UsageErrorInCommand(std::string("triage reject: ") + e.what());
        }
        std::cout << "Submission " << id << " rejected.\n";
        return 0;
    }
    throw UsageErrorInCommand("triage: unknown subcommand '" + args[0] + "'");
}

int cmd_outbox(Context& ctx, const std::vector<std::string>& args) {
    if (args.empty()) throw UsageErrorInCommand("outbox: expected 'list [--json]', 'retry ID' or 'retry --all'");
    auto& store = ctx.store();
    const std::string& tz = ctx.config.campaign.timezone;
    if (args[0] == "list") {
        bool json = false;
        for (std::size_t i = 1; i < args.size(); ++i) {
            if (args[i] == "--json") json = true;
            else throw UsageErrorInCommand("outbox list: unexpected argument '" + args[i] + "'");
        }
        const auto mails = store.outbox_list({"pending", "failed"});
        std::cout << (json ? workflow::outbox_list_json(mails, tz) : workflow::outbox_list_table(mails, tz));
        return 0;
    }
    if (args[0] == "retry") {
        if (args.size() != 2) throw UsageErrorInCommand("outbox retry: expected a mail ID or --all");
        const bool all = args[1] == "--all";
        const std::int64_t id = all ? 0 : parse_row_id(args[1], "outbox retry: mail ID");
        const auto now = epoch_of(*ctx.clock);
        std::size_t n = 0;
        store.begin();
        try {
            n = store.retry_outbox(id, now);
            store.commit();
        } catch (...) {
            store.rollback();
            throw;
        }
        if (!all && n == 0) {
            std::string state = "unknown";
            for (const auto& m : store.outbox_list({"pending", "sent", "failed"}))
                if (m.id == id) state = workflow::outbox_state(m);
            throw UsageErrorInCommand("outbox retry: mail " + args[1] +
                                      (state == "unknown" ? std::string(" does not exist") : " is " + state + ", not failed") +
                                      " ('outbox list' shows the failed mails)");
        }
        spdlog::info("outbox retry: {} failed mail(s) put back in the queue{}", n,
                     all ? "" : " (mail " + std::to_string(id) + ")");
        if (all && n == 0) {
            std::cout << "No failed mail to retry.\n";
            return 0;
        }
        std::cout << (all ? std::to_string(n) + " failed mail(s)" : "Mail " + std::to_string(id)) << " put back in the queue.\n";
        if (auto sent = flush_if_free(ctx, "outbox retry")) {
            if (!all) std::cout << "Mail " << id << ": " << outbox_outcome(store, id, tz) << "\n";
            std::cout << "Outbox: " << sent->sent << " sent, " << sent->deferred << " deferred, " << sent->failed
                      << " failed, " << sent->left << " pending.\n";
        } else {
            std::cout << "Another ppo-intake process is sending the outbox: it sends them.\n";
        }
        return 0;
    }
    throw UsageErrorInCommand("outbox: unknown subcommand '" + args[0] + "'");
}

int cmd_ack(Context& ctx, const std::vector<std::string>& args) {
    if (args.size() != 2 || args[0] != "resend") throw UsageErrorInCommand("ack: expected 'ack resend SUBMISSION_ID'");
    const auto id = parse_row_id(args[1], "ack resend: submission number");
    if (!ctx.config.intake.acknowledge)
        throw UsageErrorInCommand("ack resend: acknowledgements are off ([intake] acknowledge = false in " +
                                  ctx.config.source + ")");
    auto& store = ctx.store();
    const auto now = epoch_of(*ctx.clock);
    store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline, academies_csv(ctx.config), now);
    auto msg = store.message(id);
    if (!msg) throw UsageErrorInCommand("ack resend: there is no message " + args[1]);
    if (msg->outcome != "submission")
        throw UsageErrorInCommand("ack resend: message " + args[1] + " is not a submission (" + msg->outcome +
                                  "); only a submission credited to a lycée is acknowledged");
    auto directory = store.load_directory(ctx.config.campaign.academies);
    if (!directory.by_uai(msg->uai))
        throw UsageErrorInCommand("ack resend: the lycée " + msg->uai + " of submission " + args[1] +
                                  " is no longer an open lycée of the campaign's directory");
    workflow::AckResend r;
    store.begin();
    try {
        r = workflow::enqueue_ack_resend(ctx.config, store, ctx.templates(), directory, *msg, store.files_of(id), now);
        store.commit();
    } catch (...) {
        store.rollback();
        throw;
    }
    if (r.outbox_id == 0)
        throw permanent_error("ack resend: nothing queued for submission " + args[1] + ": no recipient left (at most " +
                              std::to_string(ctx.config.smtp.max_per_recipient_per_hour) +
                              " acknowledgements per address and hour, [smtp] max_per_recipient_per_hour; or the lycée "
                              "has no address)");
    std::string to;
    for (const auto& a : r.recipients) to += (to.empty() ? "" : ", ") + a;
    spdlog::info("submission {}: acknowledgement queued again (outbox {}, {}) to {}", id, r.outbox_id, r.dedupe_key, to);
    std::cout << "Acknowledgement of submission " << id << " (UAI " << msg->uai << ") queued again as mail " << r.outbox_id
              << " (" << r.dedupe_key << ") to " << to << ".\n";
    if (flush_if_free(ctx, "ack resend"))
        std::cout << "Mail " << r.outbox_id << ": " << outbox_outcome(store, r.outbox_id, ctx.config.campaign.timezone) << "\n";
    else
        std::cout << "Another ppo-intake process is sending the outbox: it sends it.\n";
    return 0;
}

int cmd_run(Context& ctx) { return DaemonLoop(ctx).run(); }

}  // namespace ppo::daemon
