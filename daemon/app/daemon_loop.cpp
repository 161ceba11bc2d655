#include "daemon/app/daemon_loop.h"

#include "daemon/imap/imap_mail_source.h"

#include "daemon/app/notify.h"
#include "parsers/text/error.h"
#include "workflow/campaign/scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <malloc.h>
#include <thread>

namespace ppo::daemon {

using app::academies_csv;
using app::epoch_of;
using app::outcome_line;

namespace {

void notify(const std::string& state) { sd_notify_state(state); }

std::int64_t real_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void close_quietly(workflow::MailSource& source) {
    try {
        source.close();
    } catch (...) {
    }
}

}  // namespace

// The IMAP source as the loop uses it: once a stop was asked for, the next
// batch is not fetched (the batch in hand is committed and filed first; the
// rest stays in the inbox), so SIGTERM ends even a long first pass within
// seconds; and no batch is fetched once the leadership is lost.
class DaemonLoop::StoppableSource final : public workflow::MailSource {
public:
    explicit StoppableSource(DaemonLoop& loop) : loop_(loop), inner_(*loop.imap_) {}
    std::uint32_t open() override { return inner_.open(); }
    std::vector<workflow::MessageSummary> list(std::uint32_t after_uid) override { return inner_.list(after_uid); }
    std::vector<workflow::FetchedMessage> fetch(const std::vector<std::uint32_t>& uids) override {
        if (loop_.stop_) throw transient_error("stopping: the messages not yet fetched wait for the next start");
        if (!loop_.leadership_.confirm_now())
            throw transient_error("leadership lost: the messages not yet fetched are left to the new leader");
        return inner_.fetch(uids);
    }
    void move(const std::vector<std::uint32_t>& uids, workflow::Folder folder) override { inner_.move(uids, folder); }
    void wait(std::chrono::seconds timeout) override { inner_.wait(timeout); }
    void interrupt() override { inner_.interrupt(); }
    void close() override { inner_.close(); }

private:
    DaemonLoop& loop_;
    workflow::MailSource& inner_;
};

DaemonLoop::DaemonLoop(Context& ctx)
    : ctx_(ctx),
      signals_([this](int sig) { on_signal(sig); }),
      store_(ctx.store()),
      // Before anything is opened: on SQLite a second daemon must not start
      // at all (its IMAP session alone would confuse the mailbox's watchers).
      leadership_(ctx.config, "run") {}

DaemonLoop::~DaemonLoop() {
    signals_.stop();   // no on_signal() once the members it reaches start to go
    interruptible_ = nullptr;
}

void DaemonLoop::on_signal(int sig) {
    if (sig == SIGHUP) reload_ = true;
    else stop_ = true;
    if (auto* s = interruptible_.load()) s->interrupt();
    std::lock_guard lock(wake_mutex_);
    wake_.notify_all();
}

bool DaemonLoop::pause(std::chrono::milliseconds d) {
    std::unique_lock lock(wake_mutex_);
    return !wake_.wait_for(lock, d, [this] { return stop_.load(); });
}

bool DaemonLoop::wait_for_single_instance() {
    if (!leadership_.single_instance()) return true;
    bool waiting_said = false;
    while (!leadership_.try_acquire()) {
        const auto who = leadership_.holder();
        // A `poll --once` ends by itself: wait for it. Another daemon does not.
        if (who.find("(poll --once)") == std::string::npos)
            throw permanent_error("another ppo-intake daemon" + (who.empty() ? std::string() : " (" + who + ")") +
                                  " already runs on " + leadership_.where() +
                                  ": one daemon per SQLite database; stop it first, or use PostgreSQL "
                                  "([database] url = postgresql://...) for a standby instance");
        if (!waiting_said) spdlog::info("waiting for {} to finish with {}", who, leadership_.where());
        waiting_said = true;
        if (stop_) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return true;
}

void DaemonLoop::start_monitoring() {
    // Under WatchdogSec= the loop must ping at least every WatchdogSec/2: no
    // wait (IDLE or sleep) lasts longer than a third of it.
    if (auto wd = watchdog_interval()) {
        max_wait_ = std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(*wd).count() / 3);
        spdlog::debug("systemd watchdog every {} ms: waits capped to {} s",
                      std::chrono::duration_cast<std::chrono::milliseconds>(*wd).count(), max_wait_);
    }
    // How long a leader may wait on the mailbox (IDLE) before it looks at
    // its leadership again: a leader that lost it must step down well within
    // the lease, and the mailbox is not taken meanwhile (StoppableSource).
    max_leader_wait_ = leadership_.single_instance()
                           ? max_wait_
                           : std::min<std::int64_t>(max_wait_, std::max(1, ctx_.config.cluster.lease / 3));
    metrics_.set_role(leadership_.held() ? "leader" : "standby");
    metrics_.set_outbox_pending(store_.outbox_pending_count());
    if (ctx_.config.http.listen.empty()) return;
    const std::int64_t max_poll_age = 3 * static_cast<std::int64_t>(ctx_.config.imap.poll_interval) + 60;
    try {
        http_ = std::make_unique<HttpServer>(ctx_.config.http.listen, metrics_,
                                             [this, max_poll_age] { return metrics_.health(real_now(), max_poll_age); });
        spdlog::info("HTTP endpoint on {}: /healthz, /metrics", ctx_.config.http.listen);
    } catch (const ppo::Error& e) {
        // Monitoring must not stop the intake: run without it, loudly.
        spdlog::error("{}; running without /healthz and /metrics", e.what());
    }
}

// [web] listen: the web interface, on leader and standby alike.
void DaemonLoop::start_web() {
    try {
        web_ = start_web_interface(ctx_);
        if (web_)
            web_->set_on_mail_queued([this] {
                std::lock_guard lock(sender_mutex_);
                if (sender_for_web_) sender_for_web_->wake();
            });
    } catch (const std::exception& e) {
        spdlog::error("{}; running without the web interface", e.what());   // the intake goes on
    }
}

void DaemonLoop::publish_sender(OutboxWorker* sender) {
    std::lock_guard lock(sender_mutex_);
    sender_for_web_ = sender;
}

void DaemonLoop::make_intake() {
    intake_.reset();
    reader_ = make_document_reader(ctx_.config);
    intake_ = std::make_unique<workflow::Intake>(ctx_.config, store_, *source_, ctx_.archive(), *templates_, *ctx_.clock,
                                                 reader_.get());
    intake_->on_batch_committed = [this] {
        if (sender_) sender_->wake();
    };
    intake_->on_message = [this](const workflow::MessageRecord& r) {
        spdlog::info("{}", outcome_line(r));
        // Counted when handled, before the batch commits: a batch rolled
        // back and handled again later is counted twice (rare, harmless).
        metrics_.message_handled(r.outcome);
        notify("WATCHDOG=1");
    };
}

// On the sender's thread, with the sender's own store.
void DaemonLoop::on_mail(const workflow::OutboxMail& mail, const std::string& outcome, workflow::Store& outbox_store) {
    notify("WATCHDOG=1");
    if (outcome != "sent") {
        metrics_.send_failed(mail.kind);
        return;
    }
    metrics_.mail_sent(mail.kind);
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
    metrics_.observe_ack_latency(static_cast<double>(epoch_of(*ctx_.clock) - from));
}

// Lost (the lock's connection failed or went silent): stop taking mail and
// sending before anyone else can start.
void DaemonLoop::step_down_to_standby() {
    if (sender_) {
        spdlog::error("leadership lost on {}: stepping down to standby", leadership_.where());
        close_quietly(*source_);
        ready_ = false;
        publish_sender(nullptr);
        sender_->stop();
        sender_.reset();
        metrics_.set_imap_session_up(false);
    }
    role_ = Role::standby;
    leadership_.step_down();
    metrics_.set_role("standby");
}

// A standby's attempt to take over; false while another instance leads.
bool DaemonLoop::take_over() {
    bool acquired = false;
    try {
        acquired = leadership_.try_acquire();
        metrics_.standby_checked(real_now());
    } catch (const ppo::Error& e) {
        spdlog::warn("standby: {}", e.what());
    }
    if (acquired) return true;
    if (!standby_said_)
        spdlog::info("standby: another instance is the leader on {}; taking over when it stops", leadership_.where());
    standby_said_ = true;
    notify(std::string(notified_ready_ ? "" : "READY=1\n") + "STATUS=Standby: another instance is the leader\nWATCHDOG=1");
    notified_ready_ = true;
    for (int i = 0; i < 10 && pause(std::chrono::milliseconds(100)); ++i) {
    }
    return false;
}

bool DaemonLoop::ensure_leader() {
    if (role_ == Role::leader && leadership_.held() && sender_) return true;
    if (!leadership_.held()) {
        step_down_to_standby();
        if (!take_over()) return false;
    }
    standby_said_ = false;
    try {
        sender_ = std::make_unique<OutboxWorker>(
            ctx_.config, [this] { return ctx_.make_mail_sender(); }, *ctx_.clock,
            [this](const workflow::OutboxMail& m, const std::string& outcome, workflow::Store& s) { on_mail(m, outcome, s); },
            [this](std::size_t pending) { metrics_.set_outbox_pending(pending); });
    } catch (const ppo::Error& e) {
        // The sender's own connection: without it this instance cannot lead.
        spdlog::error("{}; giving the leadership up, retrying in 1 s", e.what());
        role_ = Role::standby;
        leadership_.step_down();
        for (int i = 0; i < 10 && pause(std::chrono::milliseconds(100)); ++i) {
        }
        return false;
    }
    publish_sender(sender_.get());
    role_ = Role::leader;
    spdlog::info("leader on {}: taking the mail", leadership_.where());
    metrics_.set_role("leader");
    sender_->wake();   // left pending by an earlier run or the previous leader
    make_intake();
    backoff_ = 1;
    return true;
}

void DaemonLoop::reload_if_asked() {
    if (!reload_.exchange(false)) return;
    if (ready_) notify("RELOADING=1\nSTATUS=Reloading the configuration");
    std::string status;
    try {
        auto fresh = workflow::load_config(ctx_.config.source);
        auto fresh_templates = workflow::Templates::load(ctx_.templates_dir);
        // Connection settings need a restart; the rest applies now.
        ctx_.config.campaign = fresh.campaign;
        ctx_.config.digest = fresh.digest;
        ctx_.config.intake = fresh.intake;
        ctx_.config.workflow = fresh.workflow;
        ctx_.config.log = fresh.log;
        reload_folders(fresh);
        templates_ = fresh_templates;
        make_intake();
        if (fresh.http.listen != ctx_.config.http.listen)
            spdlog::warn("[http] listen changed to '{}': it takes effect at the next restart", fresh.http.listen);
        if (!(fresh.web == ctx_.config.web))
            spdlog::warn("[web] changed: it takes effect at the next restart (users_file is read again "
                         "whenever it changes)");
        spdlog::info("configuration, templates and directory reloaded from {}", ctx_.config.source);
        status = "Configuration reloaded";
    } catch (const std::exception& e) {
        spdlog::error("reload refused, the running configuration stays in force: {}", e.what());
        status = "Reload refused (see the log); running with the previous configuration";
    }
    notify(std::string(ready_ ? "READY=1\n" : "") + "STATUS=" + status);
}

// The mailbox and the folders are read again on reload: a name the server
// refused can be corrected without a restart (the session is reopened).
void DaemonLoop::reload_folders(const workflow::Config& fresh) {
    auto& imap = ctx_.config.imap;
    if (fresh.imap.mailbox == imap.mailbox && fresh.imap.processed_folder == imap.processed_folder &&
        fresh.imap.triage_folder == imap.triage_folder && fresh.imap.ignored_folder == imap.ignored_folder)
        return;
    imap.mailbox = fresh.imap.mailbox;
    imap.processed_folder = fresh.imap.processed_folder;
    imap.triage_folder = fresh.imap.triage_folder;
    imap.ignored_folder = fresh.imap.ignored_folder;
    if (auto* folders = dynamic_cast<ImapMailSource*>(imap_.get()))
        folders->set_folders(imap.mailbox, imap.processed_folder, imap.triage_folder, imap.ignored_folder);
    ready_ = false;
}

// One pass over the mailbox and the scheduler, then the wait for the next.
void DaemonLoop::pass() {
    if (!ready_) {
        source_->open();
        ready_ = true;
        notify(std::string(notified_ready_ ? "" : "READY=1\n") + "STATUS=Connected: first pass over the mailbox");
        notified_ready_ = true;
    }
    notify("STATUS=Polling the mailbox\nWATCHDOG=1");
    auto stats = intake_->poll_once();
    metrics_.poll_succeeded(real_now());
    if (!config_error_.empty()) {
        spdlog::info("IMAP: the configuration is accepted again; taking the mail");
        config_error_.clear();
        metrics_.clear_config_error();
    }
    const auto now = epoch_of(*ctx_.clock);
    auto campaign = store_.ensure_campaign(ctx_.config.campaign.name, ctx_.config.campaign.deadline,
                                           academies_csv(ctx_.config), now);
    auto directory = store_.load_directory(ctx_.config.campaign.academies);
    workflow::run_scheduled(ctx_.config, store_, *templates_, directory, campaign.id, now, false);
    if (sender_) sender_->wake();   // reminders and digests just queued, retries now due
    // The sender thread keeps the outbox gauge; this count sets the wait.
    const std::size_t pending = store_.outbox_pending_count();
    if (stats.seen)
        spdlog::info("pass: {} message(s), {} submission(s); outbox {} pending", stats.seen, stats.submissions, pending);
    backoff_ = 1;
    notify("STATUS=Waiting for new mail; outbox " + std::to_string(pending) + " pending\nWATCHDOG=1");
    // What a burst used (batches, documents, the directory) is free again:
    // give it back to the system rather than keep it while idle.
    ctx_.database().release_memory();
    ::malloc_trim(0);
    auto until_due = workflow::next_due(ctx_.config, now) - now;
    auto wait = std::clamp<std::int64_t>(until_due, 1,
                                         std::min<std::int64_t>(ctx_.config.imap.poll_interval, max_leader_wait_));
    if (pending > 0) wait = std::min<std::int64_t>(wait, 60);
    source_->wait(std::chrono::seconds(wait));
}

// Sleeps up to `seconds`, a second at a time (the watchdog fed), until a stop
// or a reload is asked or the leadership is lost.
void DaemonLoop::wait_seconds(int seconds) {
    for (int s = 0; s < seconds && !stop_ && !reload_ && leadership_.held(); ++s) {
        {
            std::unique_lock lock(wake_mutex_);
            wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || reload_; });
        }
        notify("WATCHDOG=1");
    }
}

// After an error of a pass: the backoff (false when a stop was asked). A
// configuration error (the server's lasting refusal) is said once and checked
// again every kConfigErrorRecheckSeconds, not retried with a backoff.
bool DaemonLoop::recover(const ppo::Error& e) {
    metrics_.set_imap_session_up(false);
    close_quietly(*source_);
    if (stop_) {
        spdlog::info("{}", e.what());
        return false;
    }
    if (e.kind() == ErrorKind::config) {
        ready_ = false;
        if (config_error_ != e.what()) {
            config_error_ = e.what();
            spdlog::error("configuration error: {}; no mail is taken until it is corrected (edit the "
                          "configuration, then reload: systemctl reload ppo-intake); checking again every {} s",
                          config_error_, kConfigErrorRecheckSeconds);
        }
        metrics_.set_config_error(config_error_);
        notify("STATUS=Configuration error (see the log): " + config_error_ + "\nWATCHDOG=1");
        wait_seconds(kConfigErrorRecheckSeconds);
        backoff_ = 1;
        return true;
    }
    spdlog::error("{}; retrying in {} s", e.what(), backoff_);
    notify("STATUS=Error, retrying in " + std::to_string(backoff_) + " s: " + e.what() + "\nWATCHDOG=1");
    wait_seconds(backoff_);
    backoff_ = std::min(backoff_ * 2, 300);
    return true;
}

void DaemonLoop::shutdown() {
    notify("STOPPING=1\nSTATUS=Stopping");
    interruptible_ = nullptr;
    web_.reset();
    http_.reset();
    source_->close();
    if (sender_) sender_->stop();   // after the mail in flight; the rest waits for the next start
    role_ = Role::standby;
    leadership_.step_down();
    spdlog::info("ppo-intake stopped");
}

int DaemonLoop::run() {
    if (!wait_for_single_instance()) return 0;
    imap_ = ctx_.make_mail_source();
    source_ = std::make_unique<StoppableSource>(*this);
    interruptible_ = imap_.get();
    start_monitoring();
    start_web();
    templates_ = ctx_.templates();
    make_intake();
    notify("STATUS=Starting: connecting to the mailbox");
    spdlog::info("ppo-intake running: mailbox {} on {}:{}", ctx_.config.imap.mailbox, ctx_.config.imap.url.host,
                 ctx_.config.imap.url.port);
    while (!stop_) {
        if (!ensure_leader()) continue;
        reload_if_asked();
        try {
            pass();
        } catch (const ppo::Error& e) {
            if (!recover(e)) break;
        }
    }
    shutdown();
    return 0;
}

}  // namespace ppo::daemon
