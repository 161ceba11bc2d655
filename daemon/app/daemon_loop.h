// `ppo-intake run`: the daemon loop as an object, its state explicit.
//
//   role      standby | leader (Leadership, daemon/app/cluster.h): only the
//             leader holds the IMAP session, the intake and the outbox
//             sender; a standby serves /healthz, /metrics and the web
//             interface and tries to take over every second.
//   stop      asked by SIGTERM or SIGINT: the batch in hand is committed and
//             filed, the next one is not fetched, the mail in flight goes out.
//   reload    asked by SIGHUP: the configuration, templates and directory are
//             read again at the top of the next turn (a refused reload keeps
//             the running configuration).
//   backoff   after an error of the mailbox or the database: 1 s, doubled up
//             to 300 s, back to 1 s after a pass that went through.
//
// The signals reach it through a SignalWatcher (signalfd, its own thread):
// no handler, no file-scope state. One turn of the loop: make sure of the
// role (step down, take over), reload if asked, one pass over the mailbox
// and the scheduler, then wait (IMAP IDLE) until new mail, the next due
// reminder or digest, or the poll interval, capped by the systemd watchdog
// and, on PostgreSQL, by a third of the lease.
#pragma once

#include "daemon/app/cluster.h"
#include "daemon/app/http_server.h"
#include "daemon/app/metrics.h"
#include "daemon/app/service.h"
#include "daemon/app/signals.h"
#include "daemon/documents/document_reader.h"
#include "daemon/smtp/outbox_worker.h"
#include "daemon/web/web_server.h"
#include "parsers/text/error.h"
#include "workflow/intake/intake.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace ppo::daemon {

class DaemonLoop {
public:
    explicit DaemonLoop(Context& ctx);
    ~DaemonLoop();
    DaemonLoop(const DaemonLoop&) = delete;
    DaemonLoop& operator=(const DaemonLoop&) = delete;

    // Until SIGTERM / SIGINT; 0 then. Throws permanent_error when another
    // daemon already runs on the same SQLite database.
    int run();

private:
    enum class Role { standby, leader };
    class StoppableSource;

    void on_signal(int sig);              // the watcher's thread
    bool pause(std::chrono::milliseconds d);   // false once a stop is asked
    bool wait_for_single_instance();      // false: stopped while waiting
    void start_monitoring();
    void start_web();
    void make_intake();
    void on_mail(const workflow::OutboxMail& mail, const std::string& outcome, workflow::Store& outbox_store);
    bool ensure_leader();                 // false: not (yet) leader, turn again
    void step_down_to_standby();
    bool take_over();
    void publish_sender(OutboxWorker* sender);
    void reload_if_asked();
    void pass();
    bool recover(const ppo::Error& e);    // false: stopping
    void wait_seconds(int seconds);       // until then, a stop, a reload or the lead lost
    void reload_folders(const workflow::Config& fresh);
    void shutdown();

    Context& ctx_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> reload_{false};
    std::mutex wake_mutex_;               // pause()'s, with wake_
    std::condition_variable wake_;
    std::atomic<workflow::MailSource*> interruptible_{nullptr};
    SignalWatcher signals_;               // after the state it writes, before any thread
    SqlStore& store_;
    Leadership leadership_;
    std::unique_ptr<workflow::MailSource> imap_;
    std::unique_ptr<StoppableSource> source_;
    std::int64_t max_wait_ = 600;
    std::int64_t max_leader_wait_ = 600;
    Metrics metrics_;
    std::unique_ptr<HttpServer> http_;
    // The web interface's actions wake the leader's sender from a request
    // thread: the worker is published to it under a mutex.
    std::mutex sender_mutex_;
    OutboxWorker* sender_for_web_ = nullptr;
    std::unique_ptr<WebInterface> web_;
    std::unique_ptr<OutboxWorker> sender_;   // the leader's alone
    std::optional<workflow::Templates> templates_;   // ctx's, then each reload's
    std::unique_ptr<SubprocessDocumentReader> reader_;
    std::unique_ptr<workflow::Intake> intake_;

    Role role_ = Role::standby;
    bool ready_ = false;            // the mailbox is open
    // A lasting refusal by the IMAP server (ppo::Error config, e.g. a folder it
    // will not create): said once, checked again at a slow pace, until a reload
    // with a corrected configuration (or the server) settles it.
    std::string config_error_;
    static constexpr int kConfigErrorRecheckSeconds = 300;
    bool notified_ready_ = false;   // systemd was told READY=1 (a standby is ready too)
    bool standby_said_ = false;
    int backoff_ = 1;               // seconds
};

}  // namespace ppo::daemon
