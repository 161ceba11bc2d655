// The web interface as the commands start it: next to the daemon (`run`), or
// alone (`ppo-intake web`, a read-only node that takes no mail and sends none).
#include "daemon/store/database.h"
#include "daemon/app/http_server.h"
#include "daemon/app/metrics.h"
#include "daemon/app/notify.h"
#include "daemon/app/service.h"
#include "daemon/web/web_app.h"
#include "daemon/store/sql_store.h"
#include "daemon/web/web_server.h"
#include "parsers/text/error.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace ppo::daemon {

namespace {

std::atomic<bool> g_web_stop{false};

extern "C" void on_web_signal(int) { g_web_stop = true; }

std::int64_t real_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

WebInterface::WebInterface(Context& ctx) : handler_(make_web_handler(ctx)) {
    server_ = std::make_unique<WebServer>(ctx.config.web, *handler_);
}

void WebInterface::set_on_mail_queued(std::function<void()> callback) {
    if (auto* app = dynamic_cast<WebApp*>(handler_.get())) app->set_on_mail_queued(std::move(callback));
}

WebInterface::~WebInterface() {
    server_.reset();   // no request in flight any more
    handler_.reset();
}

std::unique_ptr<WebInterface> start_web_interface(Context& ctx) {
    if (ctx.config.web.listen.empty()) return nullptr;
    return std::make_unique<WebInterface>(ctx);
}

int cmd_web(Context& ctx) {
    if (ctx.config.web.listen.empty())
        throw config_error(ctx.config.source + ": [web] listen is empty: set it (e.g. 127.0.0.1:8443) to serve the "
                           "web interface");
    std::signal(SIGTERM, on_web_signal);
    std::signal(SIGINT, on_web_signal);
    std::signal(SIGPIPE, SIG_IGN);
    (void)ctx.store();   // opened and migrated before the first page

    // /healthz and /metrics, as `run` serves them: healthy while the database
    // answers (role "web"). On a connection of its own, pinged from here.
    Database health_db(ctx.config.database);
    SqlStore health_store(health_db);
    Metrics metrics;
    metrics.set_role("web");
    auto ping = [&] {
        try {
            metrics.set_outbox_pending(health_store.outbox_pending_count());
            metrics.standby_checked(real_now());
        } catch (const ppo::Error& e) {
            spdlog::warn("web: the database does not answer: {}", e.what());
        }
    };
    ping();
    std::unique_ptr<HttpServer> http;
    if (!ctx.config.http.listen.empty()) {
        try {
            http = std::make_unique<HttpServer>(ctx.config.http.listen, metrics,
                                                [&metrics] { return metrics.health(real_now(), 60); });
        } catch (const ppo::Error& e) {
            spdlog::error("{}; running without /healthz and /metrics", e.what());
        }
    }
    auto web_interface = start_web_interface(ctx);
    sd_notify_state("READY=1\nSTATUS=Serving the web interface on " + ctx.config.web.listen + " (no mail taken)");
    spdlog::info("ppo-intake web: serving {} without taking mail; SIGTERM stops", ctx.config.web.listen);
    for (int tick = 0; !g_web_stop; ++tick) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (tick % 50 == 49) {   // every 10 s
            ping();
            sd_notify_state("WATCHDOG=1");
        }
    }
    sd_notify_state("STOPPING=1\nSTATUS=Stopping");
    web_interface.reset();
    http.reset();
    spdlog::info("ppo-intake web stopped");
    return 0;
}

}  // namespace ppo::daemon
