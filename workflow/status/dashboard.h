// The dashboard's view model: what the web page "/" and the DRAIO digest
// show, from one status (workflow/status/status.h), rendered by the same templates
// (workflow/status/views.h: web/dashboard.html and digest.html share the partials
// figures, groups and attention). The counts come from build_status, so they
// equal `status --json` (for an IEN-IO: filter_status first).
#pragma once

#include "workflow/status/digest.h"
#include "workflow/status/views.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ppo::workflow {

// The figures of a status: counts, breakdowns per académie, department and
// bassin, missing lycées, documents to check, bassins without IEN-IO, triage
// and quarantine (d.status must be set; d.now, d.timezone, d.deadline too).
// Arrivals and failed mails come from the store (collect_digest, the web app).
void summarise_status(DigestData& d, const Directory& directory);

struct DashboardOptions {
    bool draio = true;          // triage, outbox and failures shown
    std::string base_url;       // "https://ppo.example.fr": links in mails; "" none
    bool web = false;           // a web page: links relative to the site
    std::int64_t now = 0;       // the instant shown, when not the data's own (d.now)
};

// The mustache data of the dashboard and the digest (see etc/templates/web/
// _figures.html, _groups.html, _attention.html, _chart.html, dashboard.html,
// digest.html, digest.txt for the names).
ViewData dashboard_view(const DigestData& d, const DashboardOptions& options);

// The chart of arrivals: the cumulative count of lycées having sent a PPO
// (their first submission) per local day, against the deadline. Geometry in
// SVG user units, computed here so that the template only draws.
struct ArrivalChart {
    int width = 720, height = 280;
    int left = 56, right = 20, top = 20, bottom = 56;
    std::string points;                         // "x,y x,y ...": the curve
    std::string area;                           // the same, closed on the axis
    struct Tick {
        double pos = 0;                         // x (dates) or y (counts)
        std::string label;
    };
    std::vector<Tick> x_ticks, y_ticks;
    double deadline_x = 0;                      // the vertical line
    double expected_y = 0;                      // the horizontal line of the lycées expected
    double today_x = -1;                        // -1: today is outside the chart
    std::size_t expected = 0, submitted = 0;
    std::string first_day, last_day;            // ISO dates of the axis
};
ArrivalChart arrival_chart(const CampaignStatus& status, std::int64_t now);

// "4 mars" for "2022-03-04".
std::string french_short_date(const std::string& iso_date);
// French words for an outbox kind ("accusé de réception", ...).
std::string mail_kind_fr(const std::string& kind);
// French words for identified_by ("adresse de l'expéditeur", ..., "attribué à la main").
std::string identified_by_fr(const std::string& identified_by);

}  // namespace ppo::workflow
