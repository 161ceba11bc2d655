// make_web_handler (daemon/web/web_server.h): the web interface's pages are
// WebApp's (daemon/web/web_app.h).
#include "daemon/web/web_app.h"
#include "daemon/web/web_server.h"

namespace ppo::daemon {

std::unique_ptr<web::WebHandler> make_web_handler(Context& ctx) { return make_web_app(ctx); }

}  // namespace ppo::daemon
