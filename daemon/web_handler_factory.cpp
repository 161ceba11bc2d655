// make_web_handler (daemon/web_server.h): for now a placeholder that keeps
// the WebHandler contract (login form, error pages, a page for a logged-in
// user) while the pages (daemon/web_app.h, WebApp) are being built. When
// WebApp is merged this file becomes `return make_web_app(ctx...)`.
#include "daemon/web_server.h"

#include <string>

namespace ppo::daemon {

namespace {

std::string escape_html(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string page(const std::string& title, const std::string& body) {
    return "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>" + escape_html(title) + " — PPO Hauts-de-France</title>"
           "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}"
           "label{display:block;margin:.8rem 0 .2rem}input{font-size:1rem;padding:.3rem;width:100%;box-sizing:border-box}"
           "button{margin-top:1rem;font-size:1rem;padding:.4rem 1rem}.erreur{color:#a00}</style>"
           "</head><body>\n" + body + "\n</body></html>\n";
}

class PlaceholderHandler final : public web::WebHandler {
public:
    web::WebResponse handle(const web::WebRequest& request, const web::Viewer& viewer) override {
        if (request.path.rfind("/api/", 0) == 0) {
            web::WebResponse r;
            r.status = 404;
            r.content_type = "application/json";
            r.body = "{\"error\":\"interface en cours de construction\"}\n";
            return r;
        }
        if (request.path != "/") return error_page(404, "Cette page n'existe pas (encore).");
        web::WebResponse r;
        r.body = page("Tableau de bord",
                      "<h1>Interface web en cours de construction</h1>\n"
                      "<p>Bonjour " + escape_html(viewer.login) + " (" +
                          (viewer.is_draio() ? "DRAIO" : "IEN-IO") +
                          "). Le tableau de bord, la liste des lycées, le tri et les exports arrivent bientôt ; "
                          "en attendant, la commande <code>ppo-intake status</code> donne l'état de la campagne.</p>\n"
                          "<form id=\"logout\" method=\"post\" action=\"/logout\">"
                          "<input type=\"hidden\" name=\"csrf\" value=\"" + escape_html(request.csrf) + "\">"
                          "<button type=\"submit\">Se déconnecter</button></form>");
        return r;
    }

    web::WebResponse login_page(const std::string& csrf, const std::string& error, const std::string& login) override {
        web::WebResponse r;
        r.body = page("Connexion",
                      "<h1>Connexion</h1>\n" +
                          (error.empty() ? std::string() : "<p class=\"erreur\" role=\"alert\">" + escape_html(error) + "</p>\n") +
                          "<form id=\"login\" method=\"post\" action=\"/login\">"
                          "<label for=\"login-field\">Identifiant</label>"
                          "<input id=\"login-field\" name=\"login\" autocomplete=\"username\" required value=\"" +
                          escape_html(login) + "\">"
                          "<label for=\"password-field\">Mot de passe</label>"
                          "<input id=\"password-field\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>"
                          "<input type=\"hidden\" name=\"csrf\" value=\"" + escape_html(csrf) + "\">"
                          "<button type=\"submit\">Se connecter</button></form>");
        return r;
    }

    web::WebResponse error_page(int status, const std::string& message) override {
        web::WebResponse r;
        r.status = status;
        r.body = page("Erreur " + std::to_string(status),
                      "<h1>Erreur " + std::to_string(status) + "</h1>\n<p>" + escape_html(message) +
                          "</p>\n<p><a href=\"/\">Retour à l'accueil</a></p>");
        return r;
    }
};

}  // namespace

std::unique_ptr<web::WebHandler> make_web_handler(Context&) { return std::make_unique<PlaceholderHandler>(); }

}  // namespace ppo::daemon
