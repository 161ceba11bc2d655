#include "daemon/app/service.h"

#include "daemon/app/cluster.h"
#include "daemon/documents/document_reader.h"
#include "daemon/app/http_server.h"
#include "daemon/imap/imap_mail_source.h"
#include "daemon/app/metrics.h"
#include "daemon/app/notify.h"
#include "daemon/smtp/outbox_worker.h"
#include "daemon/smtp/smtp_sender.h"
#include "daemon/web/web_server.h"
#include "parsers/text/error.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/intake/intake.h"
#include "workflow/mail/outbox.h"
#include "workflow/campaign/scheduler.h"
#include "workflow/status/status.h"
#include "workflow/intake/triage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <malloc.h>
#include <iostream>
#include <optional>
#include <mutex>
#include <thread>

namespace ppo::daemon {

namespace {

std::int64_t epoch_of(const workflow::Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

std::string academies_csv(const workflow::Config& c) {
    std::string s;
    for (const auto& a : c.campaign.academies) s += (s.empty() ? "" : ",") + a;
    return s;
}

void notify(const std::string& state) { sd_notify_state(state); }

std::int64_t real_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
std::atomic<workflow::MailSource*> g_source{nullptr};
// cmd_run's leadership: no batch is fetched once it is lost.
std::atomic<Leadership*> g_leadership{nullptr};

extern "C" void on_signal(int sig) {
    if (sig == SIGHUP) g_reload = true;
    else g_stop = true;
    if (auto* s = g_source.load()) s->interrupt();
}

// The IMAP source as cmd_run uses it: once a stop was asked for, the next
// batch is not fetched (the batch in hand is committed and filed first; the
// rest stays in the inbox), so SIGTERM ends even a long first pass within
// seconds.
class StoppableSource final : public workflow::MailSource {
public:
    explicit StoppableSource(workflow::MailSource& inner) : inner_(inner) {}
    std::uint32_t open() override { return inner_.open(); }
    std::vector<workflow::MessageSummary> list(std::uint32_t after_uid) override { return inner_.list(after_uid); }
    std::vector<workflow::FetchedMessage> fetch(const std::vector<std::uint32_t>& uids) override {
        if (g_stop) throw transient_error("stopping: the messages not yet fetched wait for the next start");
        if (auto* l = g_leadership.load(); l && !l->confirm_now())
            throw transient_error("leadership lost: the messages not yet fetched are left to the new leader");
        return inner_.fetch(uids);
    }
    void move(const std::vector<std::uint32_t>& uids, workflow::Folder folder) override { inner_.move(uids, folder); }
    void wait(std::chrono::seconds timeout) override { inner_.wait(timeout); }
    void interrupt() override { inner_.interrupt(); }
    void close() override { inner_.close(); }

private:
    workflow::MailSource& inner_;
};

// The TLS opt-outs of one section, said each time its adapter is made (once
// per command, once per daemon start).
void warn_tls(const workflow::Config& config, const std::string& section) {
    for (const auto& w : workflow::tls_warnings(config))
        if (w.rfind(section, 0) == 0) spdlog::warn("{}", w);
}

std::string outcome_line(const workflow::MessageRecord& r) {
    std::string line = "uid " + std::to_string(r.uid) + ": submission " + std::to_string(r.id) + ": " + r.outcome;
    if (!r.uai.empty()) line += " UAI " + r.uai + " (by " + r.identified_by + ")";
    if (r.late) line += " late";
    if (!r.reason.empty()) line += " — " + r.reason;
    line += " — from " + r.from;
    return line;
}

}  // namespace

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

int cmd_run(Context& ctx) {
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGHUP, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    auto& store = ctx.store();
    // Before anything is opened: on SQLite a second daemon must not start
    // at all (its IMAP session alone would confuse the mailbox's watchers).
    Leadership leadership(ctx.config, "run");
    if (leadership.single_instance()) {
        bool waiting_said = false;
        while (!leadership.try_acquire()) {
            const auto who = leadership.holder();
            // A `poll --once` ends by itself: wait for it. Another daemon does not.
            if (who.find("(poll --once)") == std::string::npos)
                throw permanent_error("another ppo-intake daemon" + (who.empty() ? std::string() : " (" + who + ")") +
                                      " already runs on " + leadership.where() +
                                      ": one daemon per SQLite database; stop it first, or use PostgreSQL "
                                      "([database] url = postgresql://...) for a standby instance");
            if (!waiting_said) spdlog::info("waiting for {} to finish with {}", who, leadership.where());
            waiting_said = true;
            if (g_stop) return 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    auto imap = ctx.make_mail_source();
    StoppableSource source(*imap);
    g_source = imap.get();

    // Under WatchdogSec= the loop must ping at least every WatchdogSec/2: no
    // wait (IDLE or sleep) lasts longer than a third of it.
    std::int64_t max_wait = 600;
    if (auto wd = watchdog_interval()) {
        max_wait = std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(*wd).count() / 3);
        spdlog::debug("systemd watchdog every {} ms: waits capped to {} s",
                      std::chrono::duration_cast<std::chrono::milliseconds>(*wd).count(), max_wait);
    }

    Metrics metrics;
    metrics.set_role(leadership.held() ? "leader" : "standby");
    metrics.set_outbox_pending(store.outbox_pending_count());
    std::unique_ptr<HttpServer> http;
    if (!ctx.config.http.listen.empty()) {
        const std::int64_t max_poll_age = 3 * static_cast<std::int64_t>(ctx.config.imap.poll_interval) + 60;
        try {
            http = std::make_unique<HttpServer>(ctx.config.http.listen, metrics,
                                                [&metrics, max_poll_age] { return metrics.health(real_now(), max_poll_age); });
            spdlog::info("HTTP endpoint on {}: /healthz, /metrics", ctx.config.http.listen);
        } catch (const ppo::Error& e) {
            // Monitoring must not stop the intake: run without it, loudly.
            spdlog::error("{}; running without /healthz and /metrics", e.what());
        }
    }
    // [web] listen: the web interface, on leader and standby alike. Its
    // actions (a triage assignment, an outbox retry) wake the leader's sender
    // from a request thread: the worker is published to it under a mutex.
    std::mutex sender_mutex;
    OutboxWorker* sender_for_web = nullptr;
    std::unique_ptr<WebInterface> web_interface;
    try {
        web_interface = start_web_interface(ctx);
        if (web_interface)
            web_interface->set_on_mail_queued([&sender_mutex, &sender_for_web] {
                std::lock_guard lock(sender_mutex);
                if (sender_for_web) sender_for_web->wake();
            });
    } catch (const std::exception& e) {
        spdlog::error("{}; running without the web interface", e.what());   // the intake goes on
    }

    // On the sender's thread, with the sender's own store.
    auto on_mail = [&](const workflow::OutboxMail& mail, const std::string& outcome, workflow::Store& outbox_store) {
        notify("WATCHDOG=1");
        if (outcome != "sent") {
            metrics.send_failed(mail.kind);
            return;
        }
        metrics.mail_sent(mail.kind);
        if (mail.kind != "ack") return;
        // Arrival-to-acknowledgement: from the message's received_at (its
        // INTERNALDATE, the arrival at the IMAP server) to now, the SMTP server
        // having just accepted the ack. When the message cannot be read back,
        // from the ack's created_at (when it was queued, in the same
        // transaction as the message).
        std::int64_t from = mail.created_at;
        if (mail.message_ref != 0) {
            try {
                if (auto m = outbox_store.message(mail.message_ref)) from = m->received_at;
            } catch (const std::exception&) {
            }
        }
        metrics.observe_ack_latency(static_cast<double>(epoch_of(*ctx.clock) - from));
    };
    // The leader's alone: made when this instance becomes leader, stopped
    // when it steps down.
    std::unique_ptr<OutboxWorker> sender;
    auto wake_sender = [&sender] {
        if (sender) sender->wake();
    };
    std::unique_ptr<workflow::Intake> intake;
    auto templates = ctx.templates();
    std::unique_ptr<SubprocessDocumentReader> reader;
    auto make_intake = [&] {
        intake.reset();
        reader = make_document_reader(ctx.config);
        intake = std::make_unique<workflow::Intake>(ctx.config, store, source, ctx.archive(), templates, *ctx.clock,
                                                    reader.get());
        intake->on_batch_committed = wake_sender;
        intake->on_message = [&metrics](const workflow::MessageRecord& r) {
            spdlog::info("{}", outcome_line(r));
            // Counted when handled, before the batch commits: a batch rolled
            // back and handled again later is counted twice (rare, harmless).
            metrics.message_handled(r.outcome);
            notify("WATCHDOG=1");
        };
    };
    make_intake();

    notify("STATUS=Starting: connecting to the mailbox");
    spdlog::info("ppo-intake running: mailbox {} on {}:{}", ctx.config.imap.mailbox, ctx.config.imap.url.host,
                 ctx.config.imap.url.port);
    g_leadership = &leadership;
    bool ready = false;             // the mailbox is open
    bool notified_ready = false;    // systemd was told READY=1 (a standby is ready too)
    bool standby_said = false;
    int backoff = 1;
    // A lasting refusal by the IMAP server (ppo::Error config, e.g. a folder it
    // will not create): said once, checked again at a slow pace, until a
    // reload with a corrected configuration (or the server) settles it.
    std::string config_error;
    constexpr int config_error_recheck_seconds = 300;
    // How long a leader may wait on the mailbox (IDLE) before it looks at
    // its leadership again: a leader that lost it must step down well within
    // the lease, and the mailbox is not taken meanwhile (StoppableSource).
    const std::int64_t max_leader_wait =
        leadership.single_instance() ? max_wait : std::min<std::int64_t>(max_wait, std::max(1, ctx.config.cluster.lease / 3));
    while (!g_stop) {
        if (!leadership.held() || !sender) {
            if (!leadership.held()) {
                if (sender) {
                    // Lost (the lock's connection failed or went silent): stop
                    // taking mail and sending before anyone else can start.
                    spdlog::error("leadership lost on {}: stepping down to standby", leadership.where());
                    try {
                        source.close();
                    } catch (...) {
                    }
                    ready = false;
                    {
                        std::lock_guard lock(sender_mutex);
                        sender_for_web = nullptr;
                    }
                    sender->stop();
                    sender.reset();
                    metrics.set_imap_session_up(false);
                }
                leadership.step_down();
                metrics.set_role("standby");
                bool acquired = false;
                try {
                    acquired = leadership.try_acquire();
                    metrics.standby_checked(real_now());
                } catch (const ppo::Error& e) {
                    spdlog::warn("standby: {}", e.what());
                }
                if (!acquired) {
                    if (!standby_said)
                        spdlog::info("standby: another instance is the leader on {}; taking over when it stops",
                                     leadership.where());
                    standby_said = true;
                    notify(std::string(notified_ready ? "" : "READY=1\n") +
                           "STATUS=Standby: another instance is the leader\nWATCHDOG=1");
                    notified_ready = true;
                    for (int i = 0; i < 10 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    continue;
                }
            }
            standby_said = false;
            try {
                sender = std::make_unique<OutboxWorker>(ctx.config, [&ctx] { return ctx.make_mail_sender(); }, *ctx.clock,
                                                        on_mail,
                                                        [&metrics](std::size_t pending) { metrics.set_outbox_pending(pending); });
            } catch (const ppo::Error& e) {
                // The sender's own connection: without it this instance cannot lead.
                spdlog::error("{}; giving the leadership up, retrying in 1 s", e.what());
                leadership.step_down();
                for (int i = 0; i < 10 && !g_stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            {
                std::lock_guard lock(sender_mutex);
                sender_for_web = sender.get();
            }
            spdlog::info("leader on {}: taking the mail", leadership.where());
            metrics.set_role("leader");
            sender->wake();   // left pending by an earlier run or the previous leader
            make_intake();
            backoff = 1;
        }
        if (g_reload.exchange(false)) {
            if (ready) notify("RELOADING=1\nSTATUS=Reloading the configuration");
            std::string status;
            try {
                auto fresh = workflow::load_config(ctx.config.source);
                auto fresh_templates = workflow::Templates::load(ctx.templates_dir);
                // Connection settings need a restart; the rest applies now.
                ctx.config.campaign = fresh.campaign;
                ctx.config.digest = fresh.digest;
                ctx.config.intake = fresh.intake;
                ctx.config.workflow = fresh.workflow;
                ctx.config.log = fresh.log;
                // The mailbox and the folders too: a name the server refused
                // can be corrected without a restart (the session is reopened).
                if (fresh.imap.mailbox != ctx.config.imap.mailbox ||
                    fresh.imap.processed_folder != ctx.config.imap.processed_folder ||
                    fresh.imap.triage_folder != ctx.config.imap.triage_folder ||
                    fresh.imap.ignored_folder != ctx.config.imap.ignored_folder) {
                    ctx.config.imap.mailbox = fresh.imap.mailbox;
                    ctx.config.imap.processed_folder = fresh.imap.processed_folder;
                    ctx.config.imap.triage_folder = fresh.imap.triage_folder;
                    ctx.config.imap.ignored_folder = fresh.imap.ignored_folder;
                    if (auto* folders = dynamic_cast<ImapMailSource*>(imap.get()))
                        folders->set_folders(fresh.imap.mailbox, fresh.imap.processed_folder, fresh.imap.triage_folder,
                                             fresh.imap.ignored_folder);
                    ready = false;
                }
                templates = fresh_templates;
                make_intake();
                if (fresh.http.listen != ctx.config.http.listen)
                    spdlog::warn("[http] listen changed to '{}': it takes effect at the next restart", fresh.http.listen);
                if (!(fresh.web == ctx.config.web))
                    spdlog::warn("[web] changed: it takes effect at the next restart (users_file is read again "
                                 "whenever it changes)");
                spdlog::info("configuration, templates and directory reloaded from {}", ctx.config.source);
                status = "Configuration reloaded";
            } catch (const std::exception& e) {
                spdlog::error("reload refused, the running configuration stays in force: {}", e.what());
                status = "Reload refused (see the log); running with the previous configuration";
            }
            notify(std::string(ready ? "READY=1\n" : "") + "STATUS=" + status);
        }
        try {
            if (!ready) {
                source.open();
                ready = true;
                notify(std::string(notified_ready ? "" : "READY=1\n") + "STATUS=Connected: first pass over the mailbox");
                notified_ready = true;
            }
            notify("STATUS=Polling the mailbox\nWATCHDOG=1");
            auto stats = intake->poll_once();
            metrics.poll_succeeded(real_now());
            if (!config_error.empty()) {
                spdlog::info("IMAP: the configuration is accepted again; taking the mail");
                config_error.clear();
                metrics.clear_config_error();
            }
            const auto now = epoch_of(*ctx.clock);
            auto campaign = store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline,
                                                  academies_csv(ctx.config), now);
            auto directory = store.load_directory(ctx.config.campaign.academies);
            workflow::run_scheduled(ctx.config, store, templates, directory, campaign.id, now, false);
            wake_sender();   // reminders and digests just queued, retries now due
            // The sender thread keeps the outbox gauge; this count sets the wait.
            const std::size_t pending = store.outbox_pending_count();
            if (stats.seen)
                spdlog::info("pass: {} message(s), {} submission(s); outbox {} pending", stats.seen, stats.submissions,
                             pending);
            backoff = 1;
            notify("STATUS=Waiting for new mail; outbox " + std::to_string(pending) + " pending\nWATCHDOG=1");
            // What a burst used (batches, documents, the directory) is free
            // again: give it back to the system rather than keep it while idle.
            ctx.database().release_memory();
            ::malloc_trim(0);
            auto until_due = workflow::next_due(ctx.config, now) - now;
            auto wait = std::clamp<std::int64_t>(until_due, 1,
                                                 std::min<std::int64_t>(ctx.config.imap.poll_interval, max_leader_wait));
            if (pending > 0) wait = std::min<std::int64_t>(wait, 60);
            source.wait(std::chrono::seconds(wait));
        } catch (const ppo::Error& e) {
            metrics.set_imap_session_up(false);
            try {
                source.close();
            } catch (...) {
            }
            if (g_stop) {
                spdlog::info("{}", e.what());
                break;
            }
            if (e.kind() == ErrorKind::config) {
                ready = false;
                if (config_error != e.what()) {
                    config_error = e.what();
                    spdlog::error("configuration error: {}; no mail is taken until it is corrected (edit the "
                                  "configuration, then reload: systemctl reload ppo-intake); checking again every {} s",
                                  config_error, config_error_recheck_seconds);
                }
                metrics.set_config_error(config_error);
                notify("STATUS=Configuration error (see the log): " + config_error + "\nWATCHDOG=1");
                for (int s = 0; s < config_error_recheck_seconds && !g_stop && !g_reload && leadership.held(); ++s) {
                    std::this_thread::sleep_for(std::chrono::seconds(1));
                    notify("WATCHDOG=1");
                }
                backoff = 1;
                continue;
            }
            spdlog::error("{}; retrying in {} s", e.what(), backoff);
            notify("STATUS=Error, retrying in " + std::to_string(backoff) + " s: " + e.what() + "\nWATCHDOG=1");
            for (int s = 0; s < backoff && !g_stop && !g_reload && leadership.held(); ++s) {
                std::this_thread::sleep_for(std::chrono::seconds(1));
                notify("WATCHDOG=1");
            }
            backoff = std::min(backoff * 2, 300);
        }
    }
    notify("STOPPING=1\nSTATUS=Stopping");
    g_source = nullptr;
    g_leadership = nullptr;
    web_interface.reset();
    http.reset();
    source.close();
    if (sender) sender->stop();   // after the mail in flight; the rest waits for the next start
    leadership.step_down();
    spdlog::info("ppo-intake stopped");
    return 0;
}

}  // namespace ppo::daemon
