#include "daemon/outbox_worker.h"

#include "daemon/cluster.h"
#include "daemon/database.h"
#include "daemon/file_archive.h"
#include "daemon/sql_store.h"

#include <spdlog/spdlog.h>

namespace ppo::daemon {

OutboxWorker::OutboxWorker(const workflow::Config& config, std::unique_ptr<workflow::MailSender> sender,
                           const workflow::Clock& clock, OnMail on_mail, OnPass on_pass)
    : db_(std::make_unique<Database>(config.database)),
      store_(std::make_unique<SqlStore>(*db_)),
      archive_(std::make_unique<FileArchive>(config.storage.archive_dir)),
      sender_(std::move(sender)),
      clock_(clock),
      on_mail_(std::move(on_mail)),
      on_pass_(std::move(on_pass)),
      retry_delay_(config.smtp.retry_delay),
      max_age_(config.smtp.max_age),
      db_config_(config.database),
      thread_([this] { loop(); }) {}

OutboxWorker::~OutboxWorker() {
    if (thread_.joinable()) stop();
}

void OutboxWorker::wake() {
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    cv_.notify_one();
}

workflow::OutboxStats OutboxWorker::finish() { return join(true); }

workflow::OutboxStats OutboxWorker::stop() { return join(false); }

workflow::OutboxStats OutboxWorker::join(bool drain) {
    {
        std::lock_guard lock(mutex_);
        if (drain) finishing_ = true;
        else stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    try {
        totals_.left = store_->outbox_pending_count();
    } catch (const std::exception& e) {
        spdlog::warn("outbox: cannot count the pending mails: {}", e.what());
    }
    return totals_;
}

void OutboxWorker::loop() {
    auto on_mail = [this](const workflow::OutboxMail& mail, const std::string& outcome) {
        if (on_mail_) on_mail_(mail, outcome, *store_);
    };
    auto keep_going = [this] {
        std::lock_guard lock(mutex_);
        return !stopping_;
    };
    for (;;) {
        bool last = false;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [this] { return woken_ || finishing_ || stopping_; });
            if (stopping_) break;
            last = finishing_;
            woken_ = false;
        }
        try {
            // One sender at a time per database (daemon/cluster.h): a `tick`
            // or `triage assign` sending right now finishes first.
            OutboxLock outbox_lock(db_config_, *db_, std::chrono::seconds(60), keep_going);
            if (!outbox_lock.acquired()) {
                spdlog::warn("outbox: another ppo-intake process is still sending; the mails wait for the next pass");
                if (last) break;
                continue;
            }
            auto s = workflow::flush_outbox(*store_, *sender_, *archive_, clock_, 10000, on_mail, retry_delay_, keep_going,
                                            max_age_);
            totals_.sent += s.sent;
            totals_.deferred += s.deferred;
            totals_.failed += s.failed;
            totals_.expired += s.expired;
            if (on_pass_) on_pass_(s.left);
        } catch (const std::exception& e) {
            // The database or the archive: the mails stay pending for the next wake.
            spdlog::error("outbox: {}", e.what());
        }
        if (last) break;
    }
    try {
        sender_->close();
    } catch (...) {
    }
}

}  // namespace ppo::daemon
