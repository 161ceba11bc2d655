#include "daemon/smtp/outbox_worker.h"

#include "daemon/app/cluster.h"
#include "daemon/store/database.h"
#include "daemon/store/file_archive.h"
#include "daemon/store/sql_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace ppo::daemon {

OutboxWorker::OutboxWorker(const workflow::Config& config, const MakeSender& make_sender, const workflow::Clock& clock,
                           OnMail on_mail, OnPass on_pass)
    : clock_(clock),
      on_mail_(std::move(on_mail)),
      on_pass_(std::move(on_pass)),
      retry_delay_(config.smtp.retry_delay),
      max_age_(config.smtp.max_age),
      db_config_(config.database) {
    for (int i = 0; i < std::max(1, config.smtp.connections); ++i) {
        Lane lane;
        lane.db = std::make_unique<Database>(config.database);
        lane.store = std::make_unique<SqlStore>(*lane.db);
        lane.archive = std::make_unique<FileArchive>(config.storage.archive_dir);
        lane.sender = make_sender();
        lanes_.push_back(std::move(lane));
    }
    thread_ = std::thread([this] { loop(); });
}

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
        totals_.left = lanes_.front().store->outbox_pending_count();
    } catch (const std::exception& e) {
        spdlog::warn("outbox: cannot count the pending mails: {}", e.what());
    }
    return totals_;
}

// Every lane sends its share at once (lane 0 on this thread); the totals of all.
workflow::OutboxStats OutboxWorker::pass(const std::function<bool()>& keep_going) {
    const int count = static_cast<int>(lanes_.size());
    std::vector<workflow::OutboxStats> stats(lanes_.size());
    std::vector<std::string> errors(lanes_.size());
    auto run = [&](int i) {
        Lane& lane = lanes_[static_cast<std::size_t>(i)];
        auto on_mail = [this, &lane](const workflow::OutboxMail& mail, const std::string& outcome) {
            if (!on_mail_) return;
            std::lock_guard lock(on_mail_mutex_);
            on_mail_(mail, outcome, *lane.store);
        };
        try {
            stats[static_cast<std::size_t>(i)] =
                workflow::flush_outbox(*lane.store, *lane.sender, *lane.archive, clock_, 10000, on_mail, retry_delay_,
                                       keep_going, max_age_, workflow::OutboxShard{i, count},
                                       count > 1 ? &end_of_data_ : nullptr);
        } catch (const std::exception& e) {
            // The database or the archive: the lane's mails stay pending for the next wake.
            errors[static_cast<std::size_t>(i)] = e.what();
        }
    };
    std::vector<std::thread> others;
    for (int i = 1; i < count; ++i) others.emplace_back(run, i);
    run(0);
    for (auto& t : others) t.join();
    workflow::OutboxStats total;
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        if (!errors[i].empty()) spdlog::error("outbox: {}", errors[i]);
        total.sent += stats[i].sent;
        total.deferred += stats[i].deferred;
        total.failed += stats[i].failed;
        total.expired += stats[i].expired;
    }
    total.left = lanes_.front().store->outbox_pending_count();   // each lane counted the whole outbox
    if (total.left == 0)
        for (auto& lane : lanes_) lane.db->release_memory();   // nothing left to send: the caches can go
    return total;
}

void OutboxWorker::loop() {
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
            // One sender at a time per database (daemon/app/cluster.h): a `tick`
            // or `triage assign` sending right now finishes first.
            OutboxLock outbox_lock(db_config_, *lanes_.front().db, std::chrono::seconds(60), keep_going);
            if (!outbox_lock.acquired()) {
                spdlog::warn("outbox: another ppo-intake process is still sending; the mails wait for the next pass");
                if (last) break;
                continue;
            }
            auto s = pass(keep_going);
            totals_.sent += s.sent;
            totals_.deferred += s.deferred;
            totals_.failed += s.failed;
            totals_.expired += s.expired;
            if (on_pass_) on_pass_(s.left);
        } catch (const std::exception& e) {
            // The database: the mails stay pending for the next wake.
            spdlog::error("outbox: {}", e.what());
        }
        if (last) break;
    }
    for (auto& lane : lanes_) {
        try {
            lane.sender->close();
        } catch (...) {
        }
    }
}

}  // namespace ppo::daemon
