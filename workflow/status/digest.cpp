#include "workflow/status/digest.h"
#include "parsers/text/strings.h"

#include "workflow/campaign/campaign_time.h"
#include "workflow/status/dashboard.h"
#include "workflow/status/views.h"

#include <algorithm>
#include <map>

namespace ppo::workflow {

namespace {

using text::join;

std::string pct_label(std::size_t part, std::size_t whole) { return std::to_string(percent(part, whole)) + " %"; }

}  // namespace

int percent(std::size_t part, std::size_t whole) {
    if (whole == 0) return 0;
    return static_cast<int>((part * 200 + whole) / (2 * whole));   // rounded half up
}

std::string departement_name(const std::string& code) {
    static const std::map<std::string, std::string> names = {
        {"059", "Nord"}, {"062", "Pas-de-Calais"}, {"080", "Somme"}, {"002", "Aisne"}, {"060", "Oise"}};
    auto it = names.find(code);
    return it == names.end() ? std::string() : it->second;
}

std::string academie_name(const std::string& code) {
    if (code == "09") return "Lille";
    if (code == "20") return "Amiens";
    return code;
}

DigestData collect_digest(const Config& config, Store& store, const Directory& directory, std::int64_t campaign_id,
                          std::int64_t now, std::int64_t since) {
    DigestData d;
    d.campaign = config.campaign.name;
    d.deadline = config.campaign.deadline;
    d.timezone = config.campaign.timezone;
    d.slot = local_date(now, d.timezone);
    d.now = now;
    d.since = since;
    d.base_url = config.web.base_url;
    d.status = build_status(store, config, campaign_id, directory);
    // Counts and breakdowns: from the status, so they equal `status --json`.
    summarise_status(d, directory);

    // Arrivals since the previous digest, with their version number per lycée.
    std::map<std::string, std::size_t> versions;
    for (const auto& m : store.submissions(campaign_id)) {
        std::size_t version = ++versions[m.uai];
        if (m.received_at <= since || m.received_at > now) continue;
        DigestArrival a;
        a.id = m.id;
        a.received_at = m.received_at;
        a.uai = m.uai;
        if (const auto* l = directory.by_uai(m.uai)) {
            a.name = l->name;
            a.commune = l->commune;
        }
        a.from = m.from;
        a.late = m.late;
        a.version = version;
        d.arrivals.push_back(std::move(a));
    }
    std::stable_sort(d.arrivals.begin(), d.arrivals.end(),
                     [](const DigestArrival& x, const DigestArrival& y) { return x.received_at < y.received_at; });

    d.failures = outbox_failures(store, campaign_id);
    return d;
}

std::vector<DigestFailure> outbox_failures(Store& store, std::int64_t campaign_id) {
    std::vector<DigestFailure> out;
    for (const auto& m : store.outbox_list({"failed", "pending"})) {
        if (m.campaign_id != campaign_id) continue;
        if (m.state == "failed" || (m.state == "pending" && m.attempts > 0))
            out.push_back({m.id, m.kind, m.uai, join(m.recipients, ", "), m.state, m.attempts, m.last_error, m.created_at});
    }
    std::sort(out.begin(), out.end(), [](const DigestFailure& x, const DigestFailure& y) { return x.id < y.id; });
    return out;
}

std::string digest_subject(const DigestData& d) {
    return d.campaign + " — point quotidien du " + french_date(d.slot) + " : " + std::to_string(d.total.submitted()) +
           "/" + std::to_string(d.total.expected) + " reçus (" + pct_label(d.total.submitted(), d.total.expected) + ")";
}

std::string digest_csv_name(const DigestData& d) { return "etat-ppo-" + d.slot + ".csv"; }

std::string digest_text(const DigestData& d, const ViewTemplates& templates) {
    auto view = dashboard_view(d, {true, d.base_url});
    // {{#underline}}Heading{{/underline}}: the heading, then a line of "=" as wide.
    view.set("underline", ViewData(kainjow::mustache::lambda2(
                              [](const std::string& text, const kainjow::mustache::renderer& render) {
                                  const auto heading = render(text);
                                  return heading + "\n" + std::string(text_width(heading), '=');
                              })));
    return templates.render("digest.txt", view);
}

std::string digest_html(const DigestData& d, const ViewTemplates& templates) {
    return templates.render("digest.html", dashboard_view(d, {true, d.base_url}));
}

}  // namespace ppo::workflow
