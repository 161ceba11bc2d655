// The web application behind daemon/web/web_server.h: the French pages (dashboard,
// lycées, one lycée, triage, outbox), the file downloads, the CSV and JSON
// exports, and the triage and outbox actions, rendered from the templates of
// <templates>/web (workflow/status/views.h). It never sees HTTP: the server hands it
// authenticated requests (CSRF already checked) with their Viewer.
//
// An "ien-io" viewer sees the status filtered to their bassins
// (workflow::filter_status) on every page and export, gets 404 for another
// bassin's lycée or file, 403 for the triage and outbox pages and actions, and
// no link to them.
//
// The application has its own database connection (the daemon's main loop
// keeps its own), used by one request at a time. The campaign's status is
// built once (workflow::build_status, so the figures equal `status --json`)
// and kept until the database changes: a few cheap queries on each request
// compare the counts and highest ids of messages, files, outbox states,
// reminders, lycées and bassins with those it was built from; an action of
// this application drops it at once.
#pragma once

#include "daemon/web/web_types.h"

#include <functional>
#include <memory>

namespace ppo::daemon {

struct Context;

class WebApp final : public web::WebHandler {
public:
    // Loads the templates (ppo::Error(config) naming a broken one) and opens
    // a connection of its own to ctx.config's database.
    explicit WebApp(Context& ctx);
    ~WebApp() override;
    WebApp(const WebApp&) = delete;
    WebApp& operator=(const WebApp&) = delete;

    web::WebResponse handle(const web::WebRequest& request, const web::Viewer& viewer) override;
    web::WebResponse login_page(const std::string& csrf, const std::string& error, const std::string& login) override;
    web::WebResponse error_page(int status, const std::string& message) override;

    // Called (on the request's thread) after an action queued mails or put
    // failed ones back (triage assignment, outbox retry), so that the daemon
    // wakes its outbox sender at once; without it they leave at its next pass.
    void set_on_mail_queued(std::function<void()> callback);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The application of `ctx` (its configuration, templates folder, clock).
std::unique_ptr<web::WebHandler> make_web_app(Context& ctx);

}  // namespace ppo::daemon
