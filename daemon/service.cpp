#include "daemon/service.h"

#include "daemon/imap_mail_source.h"
#include "daemon/smtp_sender.h"
#include "parsers/error.h"
#include "workflow/campaign_time.h"
#include "workflow/intake.h"
#include "workflow/outbox.h"
#include "workflow/scheduler.h"
#include "workflow/status.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#ifdef PPO_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

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

void notify(const std::string& state) {
#ifdef PPO_HAVE_SYSTEMD
    sd_notify(0, state.c_str());
#else
    (void)state;
#endif
}

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
std::atomic<workflow::MailSource*> g_source{nullptr};

extern "C" void on_signal(int sig) {
    if (sig == SIGHUP) g_reload = true;
    else g_stop = true;
    if (auto* s = g_source.load()) s->interrupt();
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
    s.user = config.imap.user;
    s.password = config.imap.password.value;
    s.mailbox = config.imap.mailbox;
    s.processed_folder = config.imap.processed_folder;
    s.triage_folder = config.imap.triage_folder;
    s.ignored_folder = config.imap.ignored_folder;
    s.poll_interval_seconds = config.imap.poll_interval;
    s.timeout_seconds = config.imap.timeout;
    return std::make_unique<ImapMailSource>(s);
}

std::unique_ptr<workflow::MailSender> Context::make_mail_sender() const {
    SmtpSettings s;
    s.host = config.smtp.url.host;
    s.port = config.smtp.url.port;
    s.implicit_tls = config.smtp.url.scheme == "smtps";
    s.tls_required = config.smtp.tls_required;
    s.user = config.smtp.user;
    s.password = config.smtp.password.value;
    s.timeout_seconds = config.smtp.timeout;
    return std::make_unique<SmtpSender>(s);
}

int cmd_poll_once(Context& ctx) {
    auto source = ctx.make_mail_source();
    workflow::Intake intake(ctx.config, ctx.store(), *source, ctx.archive(), ctx.templates(), *ctx.clock);
    intake.on_message = [](const workflow::MessageRecord& r) { spdlog::info("{}", outcome_line(r)); };
    auto stats = intake.poll_once();
    source->close();
    auto sender = ctx.make_mail_sender();
    auto sent = workflow::flush_outbox(ctx.store(), *sender, *ctx.clock);
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
    auto sender = ctx.make_mail_sender();
    auto sent = workflow::flush_outbox(store, *sender, *ctx.clock);
    spdlog::info("tick: {} action(s) queued; outbox: {} sent, {} deferred, {} failed, {} pending", actions.size(), sent.sent,
                 sent.deferred, sent.failed, sent.left);
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
    auto parse_id = [&](const std::string& s) {
        try {
            std::size_t pos = 0;
            long long id = std::stoll(s, &pos);
            if (pos != s.size() || id <= 0) throw std::invalid_argument(s);
            return static_cast<std::int64_t>(id);
        } catch (const std::exception&) {
            throw UsageErrorInCommand("triage: '" + s + "' is not a submission number");
        }
    };
    if (args[0] == "assign") {
        if (args.size() != 3) throw UsageErrorInCommand("triage assign: expected SUBMISSION_ID UAI");
        auto id = parse_id(args[1]);
        auto msg = store.message(id);
        if (!msg || msg->outcome != "unidentified")
            throw UsageErrorInCommand("triage assign: submission " + args[1] + " is not waiting in triage");
        const auto* lycee = directory.by_uai(args[2]);
        if (!lycee) throw UsageErrorInCommand("triage assign: " + args[2] + " is not a lycée of this campaign");
        auto files = store.files_of(id);
        if (files.empty()) throw UsageErrorInCommand("triage assign: submission " + args[1] + " has no document to attribute");
        store.begin();
        try {
            msg->outcome = "submission";
            msg->uai = lycee->uai;
            msg->identified_by = "manual";
            msg->reason.clear();
            msg->late = msg->received_at >= workflow::deadline_end(ctx.config.campaign);
            store.update_message(*msg);
            workflow::enqueue_submission_mails(ctx.config, store, ctx.archive(), ctx.templates(), directory, *msg, files,
                                               msg->message_id, "", true, now);
            store.commit();
        } catch (...) {
            store.rollback();
            throw;
        }
        spdlog::info("submission {}: assigned to UAI {} by hand", id, lycee->uai);
        auto sender = ctx.make_mail_sender();
        workflow::flush_outbox(store, *sender, *ctx.clock);
        std::cout << "Submission " << id << " assigned to " << lycee->uai << " " << lycee->name << ".\n";
        return 0;
    }
    if (args[0] == "reject") {
        if (args.size() != 2) throw UsageErrorInCommand("triage reject: expected SUBMISSION_ID");
        auto id = parse_id(args[1]);
        auto msg = store.message(id);
        if (!msg || msg->outcome != "unidentified")
            throw UsageErrorInCommand("triage reject: submission " + args[1] + " is not waiting in triage");
        msg->outcome = "rejected";
        msg->reason = "rejected by hand (was: " + msg->reason + ")";
        store.begin();
        store.update_message(*msg);
        store.commit();
        std::cout << "Submission " << id << " rejected.\n";
        return 0;
    }
    throw UsageErrorInCommand("triage: unknown subcommand '" + args[0] + "'");
}

int cmd_run(Context& ctx) {
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGHUP, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    auto source = ctx.make_mail_source();
    auto sender = ctx.make_mail_sender();
    g_source = source.get();
    std::unique_ptr<workflow::Intake> intake;
    auto templates = ctx.templates();
    auto make_intake = [&] {
        intake = std::make_unique<workflow::Intake>(ctx.config, ctx.store(), *source, ctx.archive(), templates, *ctx.clock);
        intake->on_message = [](const workflow::MessageRecord& r) { spdlog::info("{}", outcome_line(r)); };
    };
    make_intake();
    notify("READY=1\nSTATUS=Starting: first pass over the mailbox");
    spdlog::info("ppo-intake running: mailbox {} on {}:{}", ctx.config.imap.mailbox, ctx.config.imap.url.host,
                 ctx.config.imap.url.port);
    int backoff = 1;
    while (!g_stop) {
        if (g_reload.exchange(false)) {
            try {
                auto fresh = workflow::load_config(ctx.config.source);
                auto fresh_templates = workflow::Templates::load(ctx.templates_dir);
                // Connection settings need a restart; the rest applies now.
                ctx.config.campaign = fresh.campaign;
                ctx.config.digest = fresh.digest;
                ctx.config.intake = fresh.intake;
                ctx.config.workflow = fresh.workflow;
                ctx.config.log = fresh.log;
                templates = fresh_templates;
                make_intake();
                spdlog::info("configuration, templates and directory reloaded from {}", ctx.config.source);
            } catch (const std::exception& e) {
                spdlog::error("reload refused, the running configuration stays in force: {}", e.what());
            }
        }
        try {
            notify("STATUS=Polling the mailbox\nWATCHDOG=1");
            auto stats = intake->poll_once();
            const auto now = epoch_of(*ctx.clock);
            auto& store = ctx.store();
            auto campaign = store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline,
                                                  academies_csv(ctx.config), now);
            auto directory = store.load_directory(ctx.config.campaign.academies);
            workflow::run_scheduled(ctx.config, store, templates, directory, campaign.id, now, false);
            auto sent = workflow::flush_outbox(store, *sender, *ctx.clock);
            if (stats.seen || sent.sent || sent.deferred)
                spdlog::info("pass: {} message(s), {} submission(s); outbox {} sent, {} pending", stats.seen,
                             stats.submissions, sent.sent, sent.left);
            backoff = 1;
            notify("STATUS=Waiting for new mail; outbox " + std::to_string(sent.left) + " pending\nWATCHDOG=1");
            auto until_due = workflow::next_due(ctx.config, now) - now;
            auto wait = std::clamp<std::int64_t>(until_due, 1, std::min<std::int64_t>(ctx.config.imap.poll_interval, 600));
            if (sent.left > 0) wait = std::min<std::int64_t>(wait, 60);
            source->wait(std::chrono::seconds(wait));
        } catch (const ppo::Error& e) {
            spdlog::error("{}; retrying in {} s", e.what(), backoff);
            notify("STATUS=Error, retrying in " + std::to_string(backoff) + " s: " + e.what() + "\nWATCHDOG=1");
            try {
                source->close();
            } catch (...) {
            }
            for (int s = 0; s < backoff && !g_stop; ++s) std::this_thread::sleep_for(std::chrono::seconds(1));
            backoff = std::min(backoff * 2, 300);
        }
    }
    notify("STOPPING=1\nSTATUS=Stopping");
    g_source = nullptr;
    source->close();
    sender->close();
    spdlog::info("ppo-intake stopped");
    return 0;
}

}  // namespace ppo::daemon
