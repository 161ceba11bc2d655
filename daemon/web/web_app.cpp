#include "daemon/web/web_app.h"
#include "parsers/text/strings.h"

#include "daemon/store/database.h"
#include "daemon/app/service.h"
#include "daemon/store/sql_store.h"
#include "parsers/text/error.h"
#include "parsers/mime/header_decode.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/status/dashboard.h"
#include "workflow/status/digest.h"
#include "workflow/status/exports.h"
#include "workflow/intake/document_check.h"
#include "workflow/intake/identification.h"
#include "workflow/intake/reasons.h"
#include "workflow/status/status.h"
#include "workflow/intake/triage.h"
#include "workflow/status/views.h"

#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace ppo::daemon {

namespace fs = std::filesystem;
using web::Viewer;
using web::WebRequest;
using web::WebResponse;
using workflow::ViewData;
using workflow::ViewList;
using workflow::view_bool;
using workflow::view_number;
using workflow::view_text;

namespace {

using text::join;
using text::trim;
using app::academies_csv;   // daemon/app/service.h
using app::epoch_of;

constexpr std::size_t kLyceesPerPage = 200;
constexpr std::size_t kOutboxRows = 500;

std::string upper_ascii(std::string_view s) { return text::upper(s); }

// A positive decimal id, or nullopt.
std::optional<std::int64_t> parse_id(const std::string& s) {
    if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    const auto id = std::stoll(s);
    if (id <= 0) return std::nullopt;
    return id;
}

// Percent-encodes everything but the unreserved characters (RFC 3986).
std::string url_encode(const std::string& s) {
    std::string out;
    Poco::URI::encode(s, "!#$&'()*+,/:;=?@[]", out);
    return out;
}

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> out;
    std::size_t pos = 1;
    while (pos <= path.size()) {
        auto next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        out.push_back(path.substr(pos, next - pos));
        pos = next + 1;
    }
    if (!out.empty() && out.back().empty()) out.pop_back();   // a trailing slash
    return out;
}

std::string size_fr(std::int64_t bytes) {
    char buf[32];
    if (bytes < 1024) return std::to_string(bytes) + " octets";
    if (bytes < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f Ko", static_cast<double>(bytes) / 1024.0);
    else std::snprintf(buf, sizeof buf, "%.1f Mo", static_cast<double>(bytes) / (1024.0 * 1024.0));
    std::string s = buf;
    std::replace(s.begin(), s.end(), '.', ',');
    return s;
}

std::string content_type_of(const std::string& name) {
    auto dot = name.rfind('.');
    std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::map<std::string, std::string> types = {
        {"pdf", "application/pdf"},
        {"doc", "application/msword"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"odt", "application/vnd.oasis.opendocument.text"},
        {"rtf", "application/rtf"},
        {"zip", "application/zip"},
        {"xls", "application/vnd.ms-excel"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
        {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
        {"odp", "application/vnd.oasis.opendocument.presentation"},
        {"txt", "text/plain; charset=utf-8"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"png", "image/png"},
    };
    auto it = types.find(ext);
    return it == types.end() ? "application/octet-stream" : it->second;
}

std::string role_label(const Viewer& v) { return v.is_draio() ? "DRAIO" : "IEN-IO"; }

bool sees_bassin(const Viewer& v, const std::string& bassin) {
    return v.is_draio() || std::find(v.bassins.begin(), v.bassins.end(), bassin) != v.bassins.end();
}

// The Subject of a mail's head (the first lines of outbox.data), decoded.
std::string subject_of(const std::string& head) {
    std::size_t pos = 0;
    while (pos < head.size()) {
        auto end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        if (end == pos) break;   // the end of the header section
        if (head.compare(pos, 8, "Subject:") == 0) {
            std::string value = head.substr(pos + 8, end - pos - 8);
            // Folded continuation lines.
            auto next = end + 2;
            while (next < head.size() && (head[next] == ' ' || head[next] == '\t')) {
                auto e = head.find("\r\n", next);
                if (e == std::string::npos) e = head.size();
                value += head.substr(next, e - next);
                next = e + 2;
            }
            return std::string(trim(parsers::decode_rfc2047(trim(value))));
        }
        pos = end + 2;
    }
    return "";
}

std::string reminders_label(const std::vector<int>& offsets) {
    std::vector<std::string> labels;
    for (int o : offsets) labels.push_back("J" + workflow::offset_label(o));
    return join(labels, ", ");
}

WebResponse redirect(const std::string& location) {
    WebResponse r;
    r.status = 303;
    r.location = location;
    return r;
}

WebResponse json_response(int status, const std::string& body) {
    WebResponse r;
    r.status = status;
    r.content_type = "application/json; charset=utf-8";
    r.body = body;
    return r;
}

// What the status is built from: when none of these changed, neither did it.
struct Fingerprint {
    std::vector<std::string> values;
    bool operator==(const Fingerprint&) const = default;
};

// The campaign as last read: its directory and status, kept while the
// database does not change; what the DRAIO's pages make of it is kept too,
// made on first use.
struct Snapshot {
    workflow::CampaignInfo campaign;
    workflow::Directory directory;
    // The whole campaign's status and its figures (what the DRAIO's
    // dashboard shows), summarised once.
    workflow::DigestData all;
    workflow::CampaignStatus& status = all.status;
    std::vector<workflow::DigestFailure>& failures = all.failures;
    // UAI -> folded "name uai commune", made with the directory.
    std::shared_ptr<const std::unordered_map<std::string, std::string>> search_keys;
    Fingerprint fingerprint;
    std::string data_version;                                   // SQLite: PRAGMA data_version when read
    std::int64_t built_at = 0;

    std::mutex derived_mutex;
    std::shared_ptr<const std::string> json, csv;               // status --json / --csv of the whole campaign

    template <class T, class Make>
    std::shared_ptr<const T> derived(std::shared_ptr<const T>& slot, Make&& make) {
        std::lock_guard lock(derived_mutex);
        if (!slot) slot = std::make_shared<const T>(make());
        return slot;
    }
};

}  // namespace

struct WebApp::Impl {
    Impl(Context& ctx)
        : config(ctx.config), templates_dir(ctx.templates_dir), clock(*ctx.clock) {
        templates = std::make_shared<const workflow::Templates>(workflow::Templates::load(templates_dir));
        templates_stamp = stamp_of_templates();
        // The daemon's connection has migrated the schema (ctx.store());
        // this one is the application's alone.
        (void)ctx.store();
        db = std::make_unique<Database>(config.database);
        store = std::make_unique<SqlStore>(*db);
        // The first status (every file read once) is built before the first
        // page is asked for.
        warm_up = std::thread([this] {
            try {
                (void)current();
            } catch (const std::exception& e) {
                spdlog::warn("web: the campaign's status could not be read in advance: {}", e.what());
            }
        });
    }

    ~Impl() {
        if (warm_up.joinable()) warm_up.join();
    }

    workflow::Config config;
    std::string templates_dir;
    const workflow::Clock& clock;

    std::mutex templates_mutex;
    std::shared_ptr<const workflow::Templates> templates;
    std::string templates_stamp;
    std::int64_t templates_checked = 0;

    std::mutex db_mutex;   // the connection, and everything read through it
    std::unique_ptr<Database> db;
    std::unique_ptr<SqlStore> store;
    std::atomic<bool> reopen{false};   // a transient error: a new connection for the next request
    std::shared_ptr<Snapshot> snapshot;
    std::mutex xlsx_mutex;                        // the XLSX of the snapshot xlsx_snapshot, by viewer's bassins
    std::weak_ptr<const Snapshot> xlsx_snapshot;
    std::map<std::string, std::string> xlsx_cache;

    static std::string join_bassins(std::vector<std::string> bassins) {
        std::sort(bassins.begin(), bassins.end());
        std::string key;
        for (const auto& b : bassins) key += b + ",";
        return key;
    }
    // Files never change once written: kept between two builds, only the
    // new ones (a higher id) read. The leader's intake writes them, one batch
    // at a time, so ids become visible in order; all are read again every
    // hour all the same (two leaders' batches may overlap at a takeover).
    workflow::FilesByMessage file_cache;
    std::int64_t files_campaign = 0, files_after = 0, files_read_at = 0;

    std::mutex callback_mutex;
    std::function<void()> on_mail_queued;

    std::thread warm_up;   // last: started once everything else is made

    // ---- templates: reloaded when an administrator edits them ----

    std::string stamp_of_templates() const {
        std::string stamp;
        std::error_code ec;
        for (const auto& dir : {fs::path(templates_dir), fs::path(templates_dir) / "web"}) {
            for (const auto& e : fs::directory_iterator(dir, ec)) {
                auto t = fs::last_write_time(e.path(), ec);
                stamp += e.path().filename().string() + ":" + std::to_string(t.time_since_epoch().count()) + ";";
            }
        }
        return stamp;
    }

    std::shared_ptr<const workflow::Templates> current_templates() {
        std::lock_guard lock(templates_mutex);
        const auto now = epoch_of(clock);
        if (now - templates_checked >= 2 || now < templates_checked) {
            templates_checked = now;
            auto stamp = stamp_of_templates();
            if (stamp != templates_stamp) {
                templates_stamp = stamp;
                try {
                    templates = std::make_shared<const workflow::Templates>(workflow::Templates::load(templates_dir));
                    spdlog::info("web: templates reloaded from {}", templates_dir);
                } catch (const std::exception& e) {
                    spdlog::error("web: the edited templates are refused, the previous ones stay in use: {}", e.what());
                }
            }
        }
        return templates;
    }

    // ---- the snapshot ----

    Fingerprint fingerprint(std::int64_t campaign_id) {
        Fingerprint f;
        auto add = [&](const std::string& sql, const std::vector<SqlParam>& params = {}) {
            for (const auto& row : db->query(sql, params)) {
                std::string v;
                for (std::size_t i = 0; i < row.size(); ++i) v += row.str(i) + "|";
                f.values.push_back(std::move(v));
            }
        };
        // Messages: a new one, an outcome, a lycée or a lateness changed.
        add("SELECT COUNT(*), MAX(id), SUM(CASE outcome WHEN 'submission' THEN 1 WHEN 'unidentified' THEN 2 "
            "WHEN 'quarantined' THEN 3 WHEN 'duplicate' THEN 5 ELSE 7 END * id), SUM(late * id), "
            "SUM(LENGTH(COALESCE(uai, ''))) FROM messages WHERE campaign_id = $1",
            {campaign_id});
        add("SELECT MAX(id) FROM files");
        // Outbox: from the index on (state, next_attempt_at) alone.
        add("SELECT state, COUNT(*), SUM(next_attempt_at) FROM outbox GROUP BY state ORDER BY state");
        add("SELECT COUNT(*) FROM reminders WHERE campaign_id = $1", {campaign_id});
        // The directory: an import writes updated_at; the bassins (a hundred
        // rows) whole.
        add("SELECT COUNT(*), MAX(updated_at), SUM(updated_at), SUM(is_open) FROM lycees");
        const std::string bassin = "code || '|' || label || '|' || COALESCE(ien_io_name, '') || '|' || COALESCE(ien_io_mail, '')";
        if (db->backend() == "postgresql") add("SELECT string_agg(" + bassin + ", ';' ORDER BY code) FROM bassins");
        else add("SELECT group_concat(b, ';') FROM (SELECT " + bassin + " AS b FROM bassins ORDER BY code)");
        return f;
    }

    // SQLite counts the commits of the other connections: while it says
    // none, nothing is read again (this application's own writes drop the
    // snapshot themselves). Then the fingerprint says whether anything the
    // status shows changed (the daemon also writes its mailbox state, its
    // leadership...).
    std::string data_version() {
        if (db->backend() != "sqlite") return "";
        auto rows = db->query("PRAGMA data_version");
        return rows.empty() ? "" : rows.front().str(0);
    }

    // After a transient error (the server restarted, the connection was
    // cut): a new connection, before anything else is read.
    void reopen_if_needed() {
        if (!reopen.exchange(false)) return;
        std::lock_guard lock(db_mutex);
        try {
            // The old connection stays in use until the new one is open.
            auto fresh_db = std::make_unique<Database>(config.database);
            auto fresh_store = std::make_unique<SqlStore>(*fresh_db);
            store = std::move(fresh_store);
            db = std::move(fresh_db);
            spdlog::info("web: new database connection");
        } catch (...) {
            reopen = true;
            throw;
        }
    }

    std::shared_ptr<Snapshot> current() {
        std::lock_guard lock(db_mutex);
        const auto dv = data_version();
        if (snapshot && !dv.empty() && dv == snapshot->data_version) return snapshot;
        const auto t0 = std::chrono::steady_clock::now();
        const auto now = epoch_of(clock);
        auto campaign = store->ensure_campaign(config.campaign.name, config.campaign.deadline, academies_csv(config), now);
        auto fp = fingerprint(campaign.id);
        if (snapshot && snapshot->campaign.id == campaign.id && snapshot->fingerprint == fp) {
            snapshot->data_version = dv;   // under db_mutex, like every read of it
            return snapshot;
        }
        auto lap = [t = std::chrono::steady_clock::now()]() mutable {
            const auto n = std::chrono::steady_clock::now();
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(n - t).count();
            t = n;
            return ms;
        };
        const auto fingerprint_ms = lap();
        auto s = std::make_shared<Snapshot>();
        s->campaign = campaign;
        // The directory again only when the lycées or the bassins changed
        // (the fingerprint's last two values).
        const auto& v = fp.values;
        if (snapshot && snapshot->campaign.id == campaign.id && v.size() >= 2 &&
            snapshot->fingerprint.values.size() == v.size() &&
            std::equal(v.end() - 2, v.end(), snapshot->fingerprint.values.end() - 2)) {
            s->directory = snapshot->directory;
            s->search_keys = snapshot->search_keys;
        } else {
            s->directory = store->load_directory(config.campaign.academies);
            auto keys = std::make_shared<std::unordered_map<std::string, std::string>>();
            for (const auto& l : s->directory.lycees())
                (*keys)[l.uai] = workflow::fold_for_search(l.name + " " + l.uai + " " + l.commune);
            s->search_keys = std::move(keys);
        }
        if (files_campaign != campaign.id || now - files_read_at >= 3600 || now < files_read_at) {
            file_cache.clear();
            files_campaign = campaign.id;
            files_after = 0;
            files_read_at = now;
        }
        const auto directory_ms = lap();
        for (auto& f : store->campaign_files(campaign.id, files_after)) {
            files_after = std::max(files_after, f.id);
            file_cache[f.message_ref].push_back(std::move(f));
        }
        const auto files_ms = lap();
        s->all.campaign = config.campaign.name;
        s->all.deadline = config.campaign.deadline;
        s->all.timezone = config.campaign.timezone;
        s->status = workflow::build_status(*store, config, campaign.id, s->directory, file_cache);
        const auto status_ms = lap();
        workflow::summarise_status(s->all, s->directory);
        s->failures = workflow::outbox_failures(*store, campaign.id);
        const auto summary_ms = lap();
        s->fingerprint = std::move(fp);
        s->data_version = dv;
        s->built_at = now;
        snapshot = s;
        spdlog::debug("web: status of {} lycées read in {} ms (fingerprint {}, directory {}, new files {}, status {}, "
                      "figures {})",
                      s->status.lycees.size(),
                      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count(),
                      fingerprint_ms, directory_ms, files_ms, status_ms, summary_ms);
        return snapshot;
    }

    void invalidate() {
        std::lock_guard lock(db_mutex);
        snapshot.reset();
    }

    void mail_queued() {
        std::function<void()> cb;
        {
            std::lock_guard lock(callback_mutex);
            cb = on_mail_queued;
        }
        if (cb) cb();
    }

    // ---- rendering ----

    ViewData base(const WebRequest& req, const Viewer& viewer, const Snapshot* snap, const std::string& page,
                  const std::string& title) {
        ViewData d;
        d.set("page_title", view_text(title));
        d.set("campaign", view_text(config.campaign.name));
        ViewData user;
        user.set("login", view_text(viewer.login));
        user.set("role_label", view_text(role_label(viewer)));
        d.set("user", user);
        d.set("draio", view_bool(viewer.is_draio()));
        d.set("csrf", view_text(req.csrf));
        d.set("nav_" + page, view_bool(true));
        if (snap && viewer.is_draio()) {
            d.set("triage_count", view_number(static_cast<std::int64_t>(snap->status.unidentified.size())));
            d.set("has_triage_count", view_bool(!snap->status.unidentified.empty()));
        }
        return d;
    }

    WebResponse page(const std::string& name, const ViewData& data, int status = 200) {
        WebResponse r;
        r.status = status;
        r.body = current_templates()->views().render_page(name, data);
        return r;
    }

    WebResponse error_for(const WebRequest& req, const Viewer& viewer, int status, const std::string& message) {
        if (req.path.rfind("/api/", 0) == 0) return json_response(status, "{\"error\": " + workflow::json_string(message) + "}\n");
        auto d = base(req, viewer, nullptr, "error", error_title(status));
        d.set("error_title", view_text(error_title(status)));
        d.set("error_message", view_text(message));
        return page("error", d, status);
    }

    static std::string error_title(int status) {
        switch (status) {
            case 400: return "Requête incorrecte";
            case 401: return "Connexion nécessaire";
            case 403: return "Accès refusé";
            case 404: return "Page introuvable";
            case 405: return "Méthode non autorisée";
            case 409: return "Action impossible";
            case 429: return "Trop de tentatives";
            case 500: return "Erreur interne";
            case 503: return "Service momentanément indisponible";
            default: return "Erreur " + std::to_string(status);
        }
    }

    workflow::CampaignStatus visible_status(const Snapshot& s, const Viewer& v) {
        return v.is_draio() ? s.status : workflow::filter_status(s.status, v.bassins);
    }

    // The same without a copy for the DRAIO: `holder` keeps an IEN-IO's part.
    const workflow::CampaignStatus& visible(const Snapshot& s, const Viewer& v,
                                            std::optional<workflow::CampaignStatus>& holder) {
        if (v.is_draio()) return s.status;
        return holder.emplace(workflow::filter_status(s.status, v.bassins));
    }

    // The figures of the status a viewer sees (dashboard_view's input).
    std::shared_ptr<const workflow::DigestData> summary(const std::shared_ptr<Snapshot>& snap, const Viewer& viewer) {
        if (viewer.is_draio()) return std::shared_ptr<const workflow::DigestData>(snap, &snap->all);
        auto d = std::make_shared<workflow::DigestData>();
        d->campaign = config.campaign.name;
        d->deadline = config.campaign.deadline;
        d->timezone = config.campaign.timezone;
        d->status = visible_status(*snap, viewer);
        workflow::summarise_status(*d, snap->directory);
        return d;
    }

    std::string bassin_label(const Snapshot& s, const std::string& code) {
        if (const auto* b = s.directory.bassin(code); b && !b->label.empty()) return b->label;
        return code.empty() ? "Sans bassin" : "Bassin " + code;
    }

    // ---- pages ----

    WebResponse dashboard(const WebRequest& req, const Viewer& viewer) {
        auto snap = current();
        const auto now = epoch_of(clock);
        auto figures = summary(snap, viewer);
        // Kept with the snapshot; only what is said of `now` is made here.
        auto v = workflow::dashboard_view(*figures, {viewer.is_draio(), "", true, now});
        auto b = base(req, viewer, snap.get(), "dashboard", "Tableau de bord");
        std::vector<std::string> labels;
        for (const auto& code : viewer.bassins) labels.push_back(bassin_label(*snap, code));
        v.set("bassins_label", view_text(labels.empty() ? std::string("aucun") : join(labels, ", ")));
        merge(v, b);
        return page("dashboard", v);
    }

    // Copies the keys of `from` into `into` (page data over the common data).
    static void merge(ViewData& into, const ViewData& from) {
        for (const char* key : {"page_title", "campaign", "user", "draio", "csrf", "triage_count", "has_triage_count",
                                "nav_dashboard", "nav_lycees", "nav_triage", "nav_outbox"})
            if (const auto* x = from.get(key)) into.set(key, *x);
    }

    // The lycées page's filter form: the search, the states, the académies and bassins seen.
    static ViewData filters_view(const std::string& q, const std::string& state, const std::string& academie,
                                 const std::string& bassin, const std::set<std::string>& academies,
                                 const std::map<std::string, std::string>& bassins, bool active) {
        ViewData filters;
        filters.set("q", view_text(q));
        ViewList states;
        for (const char* s : {"received", "late", "missing"}) {
            ViewData o;
            o.set("value", view_text(s));
            o.set("label", view_text(workflow::state_label_fr(s)));
            o.set("selected", view_bool(state == s));
            states.push_back(o);
        }
        filters.set("states", states);
        ViewList academie_options;
        for (const auto& a : academies) {
            ViewData o;
            o.set("value", view_text(a));
            o.set("label", view_text(workflow::academie_name(a)));
            o.set("selected", view_bool(academie == a));
            academie_options.push_back(o);
        }
        filters.set("academies", academie_options);
        filters.set("has_academies", view_bool(academies.size() > 1 || !academie.empty()));
        std::vector<std::pair<std::string, std::string>> by_label;
        for (const auto& [code, label] : bassins) by_label.emplace_back(label, code);
        std::sort(by_label.begin(), by_label.end());
        ViewList bassin_options;
        for (const auto& [label, code] : by_label) {
            ViewData o;
            o.set("value", view_text(code));
            o.set("label", view_text(code.empty() ? label : label + " (" + code + ")"));
            o.set("selected", view_bool(bassin == code && !bassin.empty()));
            bassin_options.push_back(o);
        }
        filters.set("bassins", bassin_options);
        filters.set("active", view_bool(active));
        return filters;
    }

    // One row of the lycées page.
    ViewData lycee_row(const Snapshot& snap, const workflow::LyceeStatus& l, const std::string& tz) {
        ViewData r;
        r.set("uai", view_text(l.lycee.uai));
        r.set("name", view_text(l.lycee.name));
        r.set("commune", view_text(l.lycee.commune));
        r.set("bassin", view_text(bassin_label(snap, l.lycee.bassin_code)));
        r.set("state", view_text(l.state));
        r.set("state_fr", view_text(workflow::state_label_fr(l.state)));
        r.set("last", view_text(l.submissions.empty()
                                    ? std::string()
                                    : workflow::french_datetime(l.submissions.back().received_at, tz)));
        r.set("count", view_number(static_cast<std::int64_t>(l.submissions.size())));
        r.set("reminders", view_text(reminders_label(l.reminders_sent)));
        return r;
    }

    // The lycées page's pager: its links keep the filters.
    static ViewData pager_view(std::size_t page_no, std::size_t pages, const std::string& q, const std::string& state,
                               const std::string& bassin, const std::string& academie) {
        auto href = [&](std::size_t p) {
            std::string h = "/lycees?page=" + std::to_string(p);
            if (!q.empty()) h += "&q=" + url_encode(q);
            if (!state.empty()) h += "&state=" + state;
            if (!bassin.empty()) h += "&bassin=" + url_encode(bassin);
            if (!academie.empty()) h += "&academie=" + url_encode(academie);
            return h;
        };
        ViewData pager;
        pager.set("page", view_number(static_cast<std::int64_t>(page_no)));
        pager.set("pages", view_number(static_cast<std::int64_t>(pages)));
        pager.set("has_prev", view_bool(page_no > 1));
        pager.set("prev_href", view_text(href(page_no - 1)));
        pager.set("has_next", view_bool(page_no < pages));
        pager.set("next_href", view_text(href(page_no + 1)));
        return pager;
    }

    WebResponse lycees(const WebRequest& req, const Viewer& viewer) {
        auto snap = current();
        std::optional<workflow::CampaignStatus> holder;
        const auto& status = visible(*snap, viewer, holder);
        const std::string state = req.query_value("state");
        const std::string bassin = req.query_value("bassin");
        const std::string academie = req.query_value("academie");
        const std::string q(trim(req.query_value("q")));
        const std::string folded = workflow::fold_for_search(q);
        const bool state_ok = state == "received" || state == "late" || state == "missing";

        std::vector<const workflow::LyceeStatus*> shown;
        std::map<std::string, std::string> bassins;     // code -> label
        std::set<std::string> academies;
        for (const auto& l : status.lycees) {
            bassins[l.lycee.bassin_code] = bassin_label(*snap, l.lycee.bassin_code);
            academies.insert(l.lycee.academie);
            if (state_ok && l.state != state) continue;
            if (!bassin.empty() && l.lycee.bassin_code != bassin) continue;
            if (!academie.empty() && l.lycee.academie != academie) continue;
            if (!folded.empty()) {
                auto it = snap->search_keys->find(l.lycee.uai);
                if (it == snap->search_keys->end() || it->second.find(folded) == std::string::npos) continue;
            }
            shown.push_back(&l);
        }
        std::size_t pages = std::max<std::size_t>(1, (shown.size() + kLyceesPerPage - 1) / kLyceesPerPage);
        std::size_t page_no = 1;
        if (auto p = parse_id(req.query_value("page"))) page_no = std::min<std::size_t>(static_cast<std::size_t>(*p), pages);

        ViewData d = base(req, viewer, snap.get(), "lycees", "Lycées");
        const bool active = state_ok || !bassin.empty() || !academie.empty() || !q.empty();
        d.set("filters", filters_view(q, state, academie, bassin, academies, bassins, active));

        ViewList rows;
        const std::size_t first = (page_no - 1) * kLyceesPerPage;
        for (std::size_t i = first; i < shown.size() && i < first + kLyceesPerPage; ++i)
            rows.push_back(lycee_row(*snap, *shown[i], status.timezone));
        d.set("rows", rows);
        d.set("has_rows", view_bool(!shown.empty()));
        std::string count = std::to_string(shown.size()) + (shown.size() > 1 ? " lycées" : " lycée");
        if (active) count += " sur " + std::to_string(status.lycees.size());
        if (pages > 1)
            count += " — lycées " + std::to_string(first + 1) + " à " +
                     std::to_string(std::min(shown.size(), first + kLyceesPerPage)) + " affichés";
        d.set("count_label", view_text(count + "."));

        if (pages > 1) d.set("pager", pager_view(page_no, pages, q, state_ok ? state : std::string(), bassin, academie));

        // The latest PPO of each lycée of a bassin, as a ZIP (/export/files.zip).
        ViewList zips;
        std::vector<std::string> zip_codes;
        if (!bassin.empty() && bassins.count(bassin)) zip_codes.push_back(bassin);
        else if (!viewer.is_draio())
            for (const auto& b : viewer.bassins)
                if (bassins.count(b)) zip_codes.push_back(b);
        for (const auto& code : zip_codes) {
            if (code.empty()) continue;
            ViewData z;
            z.set("code", view_text(code));
            z.set("label", view_text(bassin_label(*snap, code)));
            zips.push_back(z);
        }
        d.set("zips", zips);
        return page("lycees", d);
    }

    // What became of a submission's acknowledgement or forward, in French, and its CSS class.
    std::string mail_state_fr(const std::vector<workflow::OutboxMail>& mails, const std::string& kind,
                              const workflow::LyceeStatus& lycee_status, const std::string& tz, std::string& css) const {
        const workflow::OutboxMail* found = nullptr;
        for (const auto& m : mails)
            if (m.kind == kind) found = &m;
        if (!found) {
            css = "";
            if (kind == "forward") {
                if (!config.workflow.forward) return "non transmis : la transmission aux IEN-IO est désactivée";
                return lycee_status.ien_io.empty() ? "non transmis : aucun IEN-IO pour ce bassin" : "non transmis";
            }
            if (!config.intake.acknowledge) return "non envoyé : les accusés de réception sont désactivés";
            return "non envoyé (aucune adresse à qui répondre, ou limite d’envois par heure atteinte)";
        }
        if (found->state == "sent") {
            css = "sent";
            return "envoyé le " + workflow::french_datetime(found->sent_at, tz);
        }
        if (found->state == "failed") {
            css = "failed";
            return "en échec : " + found->last_error;
        }
        if (found->attempts > 0) {
            css = "deferred";
            return "différé (" + std::to_string(found->attempts) + " tentative(s)) : " + found->last_error;
        }
        css = "pending";
        return "en attente d’envoi";
    }

    // The lycée's card: its directory entry, bassin, IEN-IO and state.
    ViewData lycee_view(const Snapshot& snap, const workflow::LyceeStatus& lycee_status) {
        const auto& l = lycee_status.lycee;
        ViewData lv;
        lv.set("uai", view_text(l.uai));
        lv.set("name", view_text(l.name));
        lv.set("commune", view_text(l.commune));
        lv.set("departement", view_text(workflow::departement_name(l.departement).empty()
                                            ? l.departement
                                            : workflow::departement_name(l.departement) + " (" + l.departement + ")"));
        lv.set("academie", view_text(workflow::academie_name(l.academie)));
        lv.set("bassin", view_text(bassin_label(snap, l.bassin_code)));
        lv.set("bassin_code", view_text(l.bassin_code));
        lv.set("has_bassin_code", view_bool(!l.bassin_code.empty()));
        const auto* b = snap.directory.bassin(l.bassin_code);
        lv.set("ien_io", view_text(lycee_status.ien_io.empty() ? std::string() : "<" + lycee_status.ien_io + ">"));
        lv.set("ien_io_name", view_text(b ? b->ien_io_name : std::string()));
        lv.set("has_ien_io", view_bool(!lycee_status.ien_io.empty()));
        lv.set("mail", view_text(l.mail));
        lv.set("has_mail", view_bool(!l.mail.empty()));
        lv.set("statut", view_text(l.statut));
        lv.set("state", view_text(lycee_status.state));
        lv.set("state_fr", view_text(workflow::state_label_fr(lycee_status.state)));
        return lv;
    }

    // The reminders a lycée was sent, each with its planned instant.
    ViewList reminders_view(const std::vector<int>& sent, const std::string& tz) const {
        ViewList reminders;
        for (int off : sent) {
            ViewData r;
            r.set("label", view_text("J" + workflow::offset_label(off)));
            r.set("when", view_text("relance du " + workflow::french_datetime(
                                                       workflow::local_instant(config.campaign.deadline, off,
                                                                               config.campaign.reminder_minutes, tz),
                                                       tz)));
            reminders.push_back(r);
        }
        return reminders;
    }

    // One submission on the lycée's page: when, how it was identified and why, its mails, files and checks.
    ViewData submission_view(const Snapshot& snap, const workflow::LyceeStatus& lycee_status,
                             const workflow::SubmissionStatus& s, bool is_latest, const std::string& evidence,
                             const std::vector<workflow::OutboxMail>& mails) const {
        const auto& tz = snap.status.timezone;
        ViewData sv;
        sv.set("id", view_number(s.id));
        sv.set("is_latest", view_bool(is_latest));
        sv.set("when", view_text(workflow::french_datetime(s.received_at, tz)));
        sv.set("late", view_bool(s.late));
        sv.set("from", view_text(s.from));
        sv.set("identified_by", view_text(workflow::identified_by_fr(s.identified_by)));
        sv.set("evidence", view_text(workflow::evidence_fr(evidence)));
        sv.set("has_evidence", view_bool(!evidence.empty()));
        std::string css;
        sv.set("ack", view_text(mail_state_fr(mails, "ack", lycee_status, tz, css)));
        sv.set("ack_class", view_text(css));
        sv.set("forward", view_text(mail_state_fr(mails, "forward", lycee_status, tz, css)));
        sv.set("forward_class", view_text(css));
        sv.set("files", file_list(s.id, s.files));
        sv.set("has_files", view_bool(!s.files.empty()));
        ViewList checks, remarks;
        for (const auto& line : workflow::french_check_lines(s.checks, snap.directory)) checks.push_back(view_text(line));
        for (const auto& line : workflow::french_remarks(s.checks, snap.directory)) remarks.push_back(view_text(line));
        sv.set("has_checks", view_bool(!checks.empty()));
        sv.set("checks", checks);
        sv.set("has_remarks", view_bool(!remarks.empty()));
        sv.set("remarks", remarks);
        return sv;
    }

    WebResponse lycee(const WebRequest& req, const Viewer& viewer, const std::string& uai_text) {
        auto snap = current();
        const std::string uai = upper_ascii(uai_text);
        const workflow::LyceeStatus* ls = nullptr;
        for (const auto& l : snap->status.lycees)
            if (l.lycee.uai == uai) ls = &l;
        if (!ls || !sees_bassin(viewer, ls->lycee.bassin_code))
            return error_for(req, viewer, 404, "Aucun lycée de la campagne ne porte l’UAI « " + uai_text + " »" +
                                                   (viewer.is_draio() ? "." : " dans vos bassins."));
        const auto& l = ls->lycee;
        const auto& tz = snap->status.timezone;

        // What the status does not keep: the evidence, and the mails' states.
        std::map<std::int64_t, std::string> evidence;
        std::map<std::int64_t, std::vector<workflow::OutboxMail>> mails;
        {
            std::lock_guard lock(db_mutex);
            for (const auto& s : ls->submissions) {
                if (auto m = store->message(s.id)) evidence[s.id] = m->evidence;
                mails[s.id] = store->outbox_for_message(s.id);
            }
        }

        ViewData d = base(req, viewer, snap.get(), "lycees", l.name);
        d.set("lycee", lycee_view(*snap, *ls));

        ViewList subs;
        for (std::size_t i = ls->submissions.size(); i-- > 0;) {   // newest first
            const auto& s = ls->submissions[i];
            const bool is_latest = i + 1 == ls->submissions.size() && ls->submissions.size() > 1;
            subs.push_back(submission_view(*snap, *ls, s, is_latest, evidence[s.id], mails[s.id]));
        }
        d.set("submissions", subs);
        d.set("submission_count", view_number(static_cast<std::int64_t>(ls->submissions.size())));

        d.set("reminders", reminders_view(ls->reminders_sent, tz));
        d.set("has_reminders", view_bool(!ls->reminders_sent.empty()));
        return page("lycee", d);
    }

    // Links to the files of message `id`: /files/ID/NAME, with ?fichier=N
    // when several files share a name.
    static ViewData file_list(std::int64_t id, const std::vector<workflow::FileStatus>& files) {
        ViewList out;
        std::map<std::string, int> seen;
        for (const auto& f : files) {
            const int n = ++seen[f.name];
            ViewData fv;
            fv.set("name", view_text(f.name));
            fv.set("size", view_text(size_fr(f.size)));
            fv.set("href", view_text("/files/" + std::to_string(id) + "/" + url_encode(f.name) +
                                     (n > 1 ? "?fichier=" + std::to_string(n) : "")));
            const bool container = f.name.size() >= 11 && upper_ascii(f.name.substr(f.name.size() - 11)) == "WINMAIL.DAT";
            fv.set("is_container", view_bool(container));
            out.push_back(fv);
        }
        return ViewData(out);
    }

    WebResponse triage(const WebRequest& req, const Viewer& viewer, const std::string& error = "", int status = 200) {
        if (!viewer.is_draio()) return error_for(req, viewer, 403, "La file de tri est réservée à la DRAIO.");
        auto snap = current();
        const auto& st = snap->status;
        const auto& tz = st.timezone;
        ViewData d = base(req, viewer, snap.get(), "triage", "Messages à trier");
        if (!error.empty()) d.set("error", view_text(error));
        else if (auto flash = triage_flash(req, *snap); !flash.empty()) d.set("flash", view_text(flash));
        ViewList messages;
        for (const auto& u : st.unidentified) {
            ViewData m;
            m.set("id", view_number(u.id));
            m.set("when", view_text(workflow::french_datetime(u.received_at, tz)));
            m.set("from", view_text(u.from.empty() ? std::string("(expéditeur inconnu)") : u.from));
            m.set("subject", view_text(u.subject.empty() ? std::string("(sans objet)") : u.subject));
            m.set("reason", view_text(workflow::reason_fr(u.reason)));
            m.set("files", file_list(u.id, u.files));
            m.set("has_files", view_bool(!u.files.empty()));
            ViewList links;
            for (const auto& url : u.links) {
                ViewData lv;
                lv.set("url", view_text(url));
                lv.set("safe", view_bool(url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0));
                links.push_back(lv);
            }
            m.set("links", links);
            m.set("has_links", view_bool(!u.links.empty()));
            const auto* named = u.uai.empty() ? nullptr : snap->directory.by_uai(u.uai);
            m.set("has_named", view_bool(named != nullptr));
            m.set("named_uai", view_text(named ? named->uai : std::string()));
            m.set("named_label", view_text(named ? named->uai + " " + named->name + " (" + named->commune + ")" : std::string()));
            messages.push_back(m);
        }
        d.set("messages", messages);
        d.set("any", view_bool(!st.unidentified.empty()));
        d.set("count", view_number(static_cast<std::int64_t>(st.unidentified.size())));
        auto others = [&](const std::vector<workflow::UnidentifiedStatus>& list, bool duplicates) {
            ViewList items;
            for (const auto& u : list) {
                ViewData r;
                r.set("id", view_number(u.id));
                r.set("when", view_text(workflow::french_datetime(u.received_at, tz)));
                r.set("from", view_text(u.from));
                r.set("subject", view_text(u.subject));
                r.set("reason", view_text(workflow::reason_fr(u.reason)));
                if (duplicates) r.set("duplicate_of", view_number(u.duplicate_of));
                items.push_back(r);
            }
            ViewData v;
            v.set("items", items);
            v.set("any", view_bool(!list.empty()));
            v.set("count", view_number(static_cast<std::int64_t>(list.size())));
            return v;
        };
        d.set("quarantined", others(st.quarantined, false));
        d.set("duplicates", others(st.duplicates, true));
        d.set("has_others", view_bool(!st.quarantined.empty() || !st.duplicates.empty()));
        return page("triage", d, status);
    }

    // The sentence after an action's redirect: built here from a code and a
    // number, never from the query's text.
    std::string triage_flash(const WebRequest& req, const Snapshot& snap) {
        const auto ok = req.query_value("ok");
        const auto id = parse_id(req.query_value("id"));
        if (!id || (ok != "assigned" && ok != "rejected")) return "";
        if (ok == "rejected") return "Le message n° " + std::to_string(*id) + " a été écarté.";
        std::optional<workflow::MessageRecord> m;
        {
            std::lock_guard lock(db_mutex);
            m = store->message(*id);
        }
        if (!m || m->outcome != "submission") return "";
        const auto* l = snap.directory.by_uai(m->uai);
        return "Le message n° " + std::to_string(*id) + " a été attribué au " +
               (l ? l->name + " (" + l->uai + ")" : "lycée " + m->uai) +
               " : son accusé de réception et sa transmission à l’IEN-IO sont dans la file d’envoi.";
    }

    WebResponse triage_action(const WebRequest& req, const Viewer& viewer, const std::string& id_text,
                              const std::string& action) {
        if (!viewer.is_draio()) return error_for(req, viewer, 403, "Le tri des messages est réservé à la DRAIO.");
        auto id = parse_id(id_text);
        if (!id) return error_for(req, viewer, 404, "Ce message n’existe pas.");
        const auto now = epoch_of(clock);
        if (action == "reject") {
            try {
                std::lock_guard lock(db_mutex);
                workflow::reject_from_triage(*store, *id);
                snapshot.reset();
            } catch (const workflow::TriageError&) {
                return triage(req, viewer, "Le message n° " + std::to_string(*id) + " n’attend plus d’être trié : il a "
                                           "déjà été attribué ou écarté.", 409);
            }
            spdlog::info("web: {} rejected message {} from triage", viewer.login, *id);
            return redirect("/triage?ok=rejected&id=" + std::to_string(*id));
        }
        const std::string uai = upper_ascii(std::string(trim(req.form_value("uai"))));
        if (uai.empty())
            return triage(req, viewer, "Indiquez l’UAI du lycée auquel attribuer le message n° " + std::to_string(*id) + ".",
                          400);
        auto tpl = current_templates();
        try {
            std::lock_guard lock(db_mutex);
            auto directory = store->load_directory(config.campaign.academies);
            workflow::assign_from_triage(config, *store, *tpl, directory, *id, uai, now);
            snapshot.reset();
        } catch (const workflow::TriageError& e) {
            using P = workflow::TriageError::Problem;
            switch (e.problem) {
                case P::unknown_lycee:
                    return triage(req, viewer, "L’UAI « " + uai + " » n’est celle d’aucun lycée de la campagne : le message n° " +
                                                   std::to_string(*id) + " n’a pas été attribué.",
                                  400);
                case P::no_document:
                    return triage(req, viewer, "Le message n° " + std::to_string(*id) +
                                                   " n’a aucun document à attribuer (un lien, ou aucune pièce jointe) : "
                                                   "écartez-le, le lycée a été invité à envoyer son fichier.",
                                  409);
                case P::not_waiting:
                default:
                    return triage(req, viewer, "Le message n° " + std::to_string(*id) + " n’attend plus d’être trié : il a "
                                               "déjà été attribué ou écarté.", 409);
            }
        }
        spdlog::info("web: {} assigned message {} to UAI {}", viewer.login, *id, uai);
        mail_queued();
        return redirect("/triage?ok=assigned&id=" + std::to_string(*id));
    }

    WebResponse file(const WebRequest& req, const Viewer& viewer, const std::string& id_text, const std::string& name) {
        const std::string not_found = "Ce fichier n’existe pas, ou vous n’y avez pas accès.";
        auto id = parse_id(id_text);
        if (!id || name.empty()) return error_for(req, viewer, 404, not_found);
        std::optional<workflow::MessageRecord> msg;
        std::vector<workflow::FileRecord> files;
        {
            std::lock_guard lock(db_mutex);
            msg = store->message(*id);
            if (msg) files = store->files_of(*id);
        }
        if (!msg) return error_for(req, viewer, 404, not_found);
        if (!viewer.is_draio()) {
            // An IEN-IO: the submissions of their bassins' lycées only.
            auto snap = current();
            const auto* l = msg->outcome == "submission" ? snap->directory.by_uai(msg->uai) : nullptr;
            if (!l || !sees_bassin(viewer, l->bassin_code)) return error_for(req, viewer, 404, not_found);
        }
        // The name is compared with the names recorded, never used as a path.
        int wanted = 1;
        if (auto n = parse_id(req.query_value("fichier"))) wanted = static_cast<int>(std::min<std::int64_t>(*n, 1000));
        const workflow::FileRecord* found = nullptr;
        int seen = 0;
        for (const auto& f : files)
            if (f.name == name && ++seen == wanted) found = &f;
        if (!found) return error_for(req, viewer, 404, not_found);
        // The recorded path must lie in the archive.
        std::error_code ec;
        const auto root = fs::weakly_canonical(config.storage.archive_dir, ec);
        const auto path = fs::weakly_canonical(found->path, ec);
        const auto rel = path.lexically_relative(root);
        if (ec || rel.empty() || rel.native().rfind("..", 0) == 0 || !fs::is_regular_file(path, ec)) {
            spdlog::error("web: file {} of message {} is not in the archive ({}): not served", found->id, *id, found->path);
            return error_for(req, viewer, 404, not_found);
        }
        WebResponse r;
        r.content_type = content_type_of(found->name);
        r.file_path = path.string();
        r.download_name = found->name;
        spdlog::info("web: {} downloads file {} of message {}", viewer.login, found->id, *id);
        return r;
    }

    WebResponse outbox(const WebRequest& req, const Viewer& viewer, const std::string& error = "", int status = 200) {
        if (!viewer.is_draio()) return error_for(req, viewer, 403, "Les envois sont réservés à la DRAIO.");
        auto snap = current();
        std::vector<workflow::OutboxMail> mails;
        {
            std::lock_guard lock(db_mutex);
            mails = store->outbox_list({"pending", "failed"});
        }
        auto rank = [](const workflow::OutboxMail& m) { return m.state == "failed" ? 0 : m.attempts > 0 ? 1 : 2; };
        std::stable_sort(mails.begin(), mails.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
        std::size_t failed = 0, deferred = 0, pending = 0;
        for (const auto& m : mails) (m.state == "failed" ? failed : m.attempts > 0 ? deferred : pending)++;
        const auto& tz = snap->status.timezone;
        ViewData d = base(req, viewer, snap.get(), "outbox", "Envois");
        if (!error.empty()) d.set("flash_error", view_text(error));
        else if (req.query_value("ok") == "retried") {
            if (auto n = parse_id(req.query_value("n")))
                d.set("flash", view_text(*n == 1 ? "1 envoi remis dans la file d’envoi."
                                                 : std::to_string(*n) + " envois remis dans la file d’envoi."));
            else d.set("flash", view_text("Aucun envoi en échec à remettre dans la file."));
        }
        ViewList rows;
        for (std::size_t i = 0; i < mails.size() && i < kOutboxRows; ++i) {
            const auto& m = mails[i];
            ViewData r;
            const std::string state = m.state == "failed" ? "failed" : m.attempts > 0 ? "deferred" : "pending";
            r.set("id", view_number(m.id));
            r.set("state", view_text(state));
            r.set("state_class", view_text(state));
            r.set("state_fr", view_text(state == "failed" ? "en échec" : state == "deferred" ? "différé" : "en attente"));
            r.set("failed", view_bool(m.state == "failed"));
            r.set("kind", view_text(workflow::mail_kind_fr(m.kind)));
            r.set("uai", view_text(m.uai));
            r.set("has_uai", view_bool(!m.uai.empty()));
            r.set("recipients", view_text(join(m.recipients, ", ")));
            r.set("subject", view_text(subject_of(m.data)));
            r.set("attempts", view_number(m.attempts));
            r.set("error", view_text(m.last_error));
            r.set("created", view_text(workflow::french_datetime(m.created_at, tz)));
            r.set("next", view_text(m.state == "failed" ? std::string("—") : workflow::french_datetime(m.next_attempt_at, tz)));
            rows.push_back(r);
        }
        d.set("rows", rows);
        d.set("has_rows", view_bool(!mails.empty()));
        d.set("truncated", view_bool(mails.size() > kOutboxRows));
        d.set("shown", view_number(static_cast<std::int64_t>(std::min(mails.size(), kOutboxRows))));
        d.set("total", view_number(static_cast<std::int64_t>(mails.size())));
        d.set("has_failed", view_bool(failed > 0));
        d.set("failed_count", view_number(static_cast<std::int64_t>(failed)));
        d.set("summary", view_text(std::to_string(pending) + " en attente, " + std::to_string(deferred) +
                                   " différé(s) après un échec temporaire, " + std::to_string(failed) +
                                   " en échec définitif."));
        return page("outbox", d, status);
    }

    WebResponse outbox_retry(const WebRequest& req, const Viewer& viewer, const std::string& id_text) {
        if (!viewer.is_draio()) return error_for(req, viewer, 403, "Les envois sont réservés à la DRAIO.");
        std::int64_t id = 0;
        if (!id_text.empty()) {
            auto parsed = parse_id(id_text);
            if (!parsed) return error_for(req, viewer, 404, "Cet envoi n’existe pas.");
            id = *parsed;
        }
        std::size_t n = 0;
        {
            std::lock_guard lock(db_mutex);
            n = store->retry_outbox(id, epoch_of(clock));
            snapshot.reset();
        }
        if (id != 0 && n == 0)
            return outbox(req, viewer, "L’envoi n° " + std::to_string(id) + " n’est pas en échec : il n’y a rien à renvoyer.",
                          409);
        spdlog::info("web: {} put {} failed mail(s) back in the outbox", viewer.login, n);
        if (n > 0) mail_queued();
        return redirect("/outbox?ok=retried&n=" + std::to_string(n));
    }

    WebResponse export_csv(const Viewer& viewer) {
        auto snap = current();
        WebResponse r;
        r.content_type = "text/csv; charset=utf-8";
        if (viewer.is_draio())
            r.body = *snap->derived(snap->csv, [&] { return workflow::status_csv(snap->status); });
        else r.body = workflow::status_csv(visible_status(*snap, viewer));
        r.download_name = "etat-ppo-" + workflow::local_date(epoch_of(clock), config.campaign.timezone) + ".csv";
        return r;
    }

    WebResponse export_xlsx(const Viewer& viewer) {
        auto snap = current();
        WebResponse r;
        r.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        // The workbook of one snapshot and one set of bassins is kept until the
        // status changes: writing it (libxlsxwriter, a temporary file) is the
        // slowest thing the application does.
        const std::string key = viewer.is_draio() ? std::string("*") : join_bassins(viewer.bassins);
        {
            std::lock_guard lock(xlsx_mutex);
            if (xlsx_snapshot.lock() != snap) xlsx_cache.clear();
            if (auto it = xlsx_cache.find(key); it != xlsx_cache.end()) r.body = it->second;
        }
        if (r.body.empty()) {
            r.body = workflow::status_xlsx(visible_status(*snap, viewer));
            std::lock_guard lock(xlsx_mutex);
            if (xlsx_snapshot.lock() != snap) xlsx_cache.clear();
            xlsx_snapshot = snap;
            if (xlsx_cache.size() < 64) xlsx_cache[key] = r.body;
        }
        r.download_name = "etat-ppo-" + workflow::local_date(epoch_of(clock), config.campaign.timezone) + ".xlsx";
        return r;
    }

    // The latest PPO of each lycée of one bassin (an IEN-IO: one of theirs).
    // Built in a private temporary file that the server streams and removes.
    WebResponse export_zip(const WebRequest& req, const Viewer& viewer) {
        const std::string code = req.query_value("bassin");
        auto snap = current();
        const bool known = std::any_of(snap->status.lycees.begin(), snap->status.lycees.end(),
                                       [&](const workflow::LyceeStatus& l) { return l.lycee.bassin_code == code; });
        if (code.empty() || !known || !sees_bassin(viewer, code))
            return error_for(req, viewer, 404, "Ce bassin n’existe pas, ou vous n’y avez pas accès.");
        const char* tmpdir = std::getenv("TMPDIR");
        std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/ppo-files-XXXXXX";
        const int fd = ::mkstemp(path.data());
        if (fd < 0) throw ppo::Error(ppo::ErrorKind::transient, "cannot create a temporary file for files.zip");
        ::close(fd);
        try {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            workflow::FilesZip zip;
            {
                std::lock_guard lock(db_mutex);
                zip = workflow::write_files_zip(*store, visible_status(*snap, viewer), code, out);
            }
            out.close();
            if (!out) throw ppo::Error(ppo::ErrorKind::transient, "cannot write the temporary files.zip");
            spdlog::info("web: {} exports files.zip of bassin {} ({} files)", viewer.login, code, zip.entries.size());
        } catch (...) {
            ::unlink(path.c_str());
            throw;
        }
        WebResponse r;
        r.content_type = "application/zip";
        r.file_path = path;
        r.remove_file = true;
        r.download_name = "ppo-" + code + ".zip";
        return r;
    }

    WebResponse api_status(const Viewer& viewer) {
        auto snap = current();
        if (viewer.is_draio())
            return json_response(200, *snap->derived(snap->json, [&] { return workflow::status_json(snap->status); }));
        return json_response(200, workflow::status_json(visible_status(*snap, viewer)));
    }

    WebResponse route(const WebRequest& req, const Viewer& viewer) {
        const auto parts = split_path(req.path);
        const bool get = req.method == "GET" || req.method == "HEAD";
        const bool post = req.method == "POST";
        auto wrong_method = [&] { return error_for(req, viewer, 405, "Cette adresse ne s’utilise pas ainsi."); };
        const auto n = parts.size();
        if (n == 0) return get ? dashboard(req, viewer) : wrong_method();
        const auto& top = parts[0];
        if (top == "lycees" && n == 1) return get ? lycees(req, viewer) : wrong_method();
        if (top == "lycees" && n == 2) return get ? lycee(req, viewer, parts[1]) : wrong_method();
        if (top == "triage" && n == 1) return get ? triage(req, viewer) : wrong_method();
        if (top == "triage" && n == 3 && (parts[2] == "assign" || parts[2] == "reject"))
            return post ? triage_action(req, viewer, parts[1], parts[2]) : wrong_method();
        if (top == "files" && n == 3) return get ? file(req, viewer, parts[1], parts[2]) : wrong_method();
        if (top == "outbox" && n == 1) return get ? outbox(req, viewer) : wrong_method();
        if (top == "outbox" && n == 2 && parts[1] == "retry") return post ? outbox_retry(req, viewer, "") : wrong_method();
        if (top == "outbox" && n == 3 && parts[2] == "retry") return post ? outbox_retry(req, viewer, parts[1]) : wrong_method();
        if (top == "export" && n == 2 && parts[1] == "status.csv") return get ? export_csv(viewer) : wrong_method();
        if (top == "export" && n == 2 && parts[1] == "status.xlsx") return get ? export_xlsx(viewer) : wrong_method();
        if (top == "export" && n == 2 && parts[1] == "files.zip") return get ? export_zip(req, viewer) : wrong_method();
        if (top == "api" && n == 2 && parts[1] == "status") return get ? api_status(viewer) : wrong_method();
        return error_for(req, viewer, 404, "Cette page n’existe pas.");
    }
};

WebApp::WebApp(Context& ctx) : impl_(std::make_unique<Impl>(ctx)) {}

WebApp::~WebApp() = default;

void WebApp::set_on_mail_queued(std::function<void()> callback) {
    std::lock_guard lock(impl_->callback_mutex);
    impl_->on_mail_queued = std::move(callback);
}

WebResponse WebApp::handle(const WebRequest& request, const Viewer& viewer) {
    try {
        const auto t0 = std::chrono::steady_clock::now();
        impl_->reopen_if_needed();
        auto r = impl_->route(request, viewer);
        spdlog::debug("web: {} {} ({}): {} in {} ms", request.method, request.path, viewer.login, r.status,
                      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
        return r;
    } catch (const std::exception& e) {
        spdlog::error("web: {} {} ({}): {}", request.method, request.path, viewer.login, e.what());
        const auto* pe = dynamic_cast<const ppo::Error*>(&e);
        const bool transient = pe && pe->kind() == ErrorKind::transient;
        if (transient) impl_->reopen = true;
        try {
            return impl_->error_for(request, viewer, transient ? 503 : 500,
                                    transient ? "La base de données est momentanément occupée ou injoignable ; "
                                                "réessayez dans quelques instants."
                                              : "Une erreur interne est survenue ; elle est consignée dans le journal "
                                                "du service.");
        } catch (const std::exception&) {
            WebResponse r;
            r.status = 500;
            r.content_type = "text/plain; charset=utf-8";
            r.body = "Erreur interne.\n";
            return r;
        }
    }
}

WebResponse WebApp::login_page(const std::string& csrf, const std::string& error, const std::string& login) {
    ViewData d;
    d.set("page_title", view_text("Connexion"));
    d.set("campaign", view_text(impl_->config.campaign.name));
    d.set("csrf", view_text(csrf));
    d.set("login", view_text(login));
    if (!error.empty()) d.set("login_error", view_text(error));
    return impl_->page("login", d);
}

WebResponse WebApp::error_page(int status, const std::string& message) {
    ViewData d;
    d.set("page_title", view_text(Impl::error_title(status)));
    d.set("campaign", view_text(impl_->config.campaign.name));
    d.set("error_title", view_text(Impl::error_title(status)));
    d.set("error_message", view_text(message));
    return impl_->page("error", d, status);
}

std::unique_ptr<web::WebHandler> make_web_app(Context& ctx) { return std::make_unique<WebApp>(ctx); }

}  // namespace ppo::daemon
