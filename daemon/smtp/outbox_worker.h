// Sends the outbox on a thread of its own while the intake goes on, so that
// fetching, parsing and archiving the next batch overlap with the SMTP
// dialogue for the mails of the previous one. The thread has its own database
// connection, SMTP session and archive reader; the intake only wakes it after
// each commit. A mail is marked sent right after the server's "250", as in
// flush_outbox: a crash can duplicate at most the mail in flight, never lose one.
// `[smtp] connections` lanes send at once, each with its own database
// connection and SMTP session and its share of the outbox (id % lanes): while
// the server takes one mail, the next is already on its way.
#pragma once

#include "workflow/config/config.h"
#include "workflow/mail/outbox.h"
#include "workflow/ports/ports.h"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ppo::daemon {

class Database;
class FileArchive;
class SqlStore;

class OutboxWorker {
public:
    // Called on the worker thread for each mail, with the worker's store.
    using OnMail = std::function<void(const workflow::OutboxMail&, const std::string& outcome, workflow::Store&)>;

    // Called on the worker thread after each pass, with the mails still pending.
    using OnPass = std::function<void(std::size_t pending)>;

    using MakeSender = std::function<std::unique_ptr<workflow::MailSender>()>;

    // `make_sender` makes one sender per lane (`[smtp] connections`). Called on
    // the worker thread for each mail, `on_mail` is never called by two lanes at once.
    OutboxWorker(const workflow::Config& config, const MakeSender& make_sender, const workflow::Clock& clock,
                 OnMail on_mail = {}, OnPass on_pass = {});
    ~OutboxWorker();   // stops after the mail in flight, without sending the rest
    OutboxWorker(const OutboxWorker&) = delete;
    OutboxWorker& operator=(const OutboxWorker&) = delete;

    // New mails were committed (or retries may be due): send what is due.
    void wake();
    // Sends everything due, then stops the thread; the totals since start.
    workflow::OutboxStats finish();
    // Stops after the mail in flight; the rest waits for the next start.
    workflow::OutboxStats stop();

private:
    // One SMTP connection and what it needs of its own.
    struct Lane {
        std::unique_ptr<Database> db;
        std::unique_ptr<SqlStore> store;
        std::unique_ptr<FileArchive> archive;
        std::unique_ptr<workflow::MailSender> sender;
    };

    void loop();
    workflow::OutboxStats pass(const std::function<bool()>& keep_going);
    workflow::OutboxStats join(bool drain);

    std::vector<Lane> lanes_;   // lanes_[0]: the one whose database holds the outbox lock
    std::mutex on_mail_mutex_;
    std::mutex end_of_data_;    // at most one mail between its final "." and its mark (flush_outbox)
    const workflow::Clock& clock_;
    OnMail on_mail_;
    OnPass on_pass_;
    int retry_delay_;
    std::int64_t max_age_;
    workflow::DatabaseConfig db_config_;

    std::mutex mutex_;
    std::condition_variable cv_;
    bool woken_ = false;
    bool finishing_ = false;    // send what is due, then stop
    bool stopping_ = false;     // stop after the mail in flight
    workflow::OutboxStats totals_;
    std::thread thread_;
};

}  // namespace ppo::daemon
