#include "workflow/status/dashboard.h"
#include "parsers/text/strings.h"

#include "workflow/campaign/campaign_time.h"
#include "workflow/intake/document_check.h"
#include "workflow/intake/reasons.h"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace ppo::workflow {

namespace {

using text::join;

// Longer lists are cut in the digest (the CSV attachment and the web pages have everything).
constexpr std::size_t kMaxRows = 100;

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

std::string departement_of(const Lycee& l) {
    std::string d = l.departement;
    if (all_digits(d) && d.size() < 3) d = std::string(3 - d.size(), '0') + d;
    if (d.empty() && l.uai.size() >= 3) d = l.uai.substr(0, 3);
    return d;
}

std::string bassin_label_of(const Lycee& l, const Directory& directory) {
    if (!l.bassin_label.empty()) return l.bassin_label;
    if (const auto* b = directory.bassin(l.bassin_code); b && !b->label.empty()) return b->label;
    if (!l.bassin_code.empty()) return "Bassin " + l.bassin_code;
    return "Sans bassin";
}

void add(DigestCounts& c, const std::string& state) {
    ++c.expected;
    if (state == "received") ++c.received;
    else if (state == "late") ++c.late;
    else ++c.missing;
}

std::string offsets_label(const std::vector<int>& offsets) {
    std::vector<std::string> labels;
    for (int o : offsets) labels.push_back("J" + offset_label(o));
    return join(labels, ", ");
}

std::string pad_left(const std::string& s, std::size_t w) {
    std::size_t cur = text_width(s);
    return cur >= w ? s : std::string(w - cur, ' ') + s;
}

std::string pct_label(std::size_t part, std::size_t whole) { return std::to_string(percent(part, whole)) + " %"; }

std::string weekday_name(int wd) {
    static const std::array<const char*, 7> names = {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"};
    return names[static_cast<std::size_t>(((wd % 7) + 7) % 7)];
}

// Whole days from the local date of `now` to the deadline (negative once it has passed).
long days_to_deadline(const DigestData& d, std::int64_t now) {
    auto a = local_instant(local_date(now, d.timezone), 0, 12 * 60, d.timezone);
    auto b = local_instant(d.deadline, 0, 12 * 60, d.timezone);
    return std::lround(static_cast<double>(b - a) / 86400.0);
}

std::string deadline_phrase(const DigestData& d, std::int64_t now) {
    long days = days_to_deadline(d, now);
    std::string s = "Date limite : " + french_date(d.deadline);
    if (days > 1) return s + " (dans " + std::to_string(days) + " jours)";
    if (days == 1) return s + " (demain)";
    if (days == 0) return s + " (aujourd’hui)";
    if (days == -1) return s + " (dépassée depuis 1 jour)";
    return s + " (dépassée depuis " + std::to_string(-days) + " jours)";
}

std::string since_phrase(const DigestData& d) {
    return d.since > 0 ? "depuis le point précédent (" + french_datetime(d.since, d.timezone) + ")"
                       : "depuis le début de la campagne";
}

std::string lycee_label(const std::string& uai, const std::string& name, const std::string& commune) {
    std::string s = uai;
    if (!name.empty()) s += " " + name;
    if (!commune.empty()) s += " (" + commune + ")";
    return s;
}

std::string arrival_details(const DigestArrival& a) {
    std::string s = "dépôt n° " + std::to_string(a.id);
    if (a.version > 1) s += ", version n° " + std::to_string(a.version);
    if (a.late) s += ", en retard";
    if (!a.from.empty()) s += ", de " + a.from;
    return s;
}

std::string failure_state(const DigestFailure& f) {
    return f.state == "failed" ? "abandonné" : "nouvel essai prévu";
}

std::string failure_details(const DigestFailure& f) {
    std::string s = mail_kind_fr(f.kind) + " n° " + std::to_string(f.id);
    if (!f.uai.empty()) s += " (" + f.uai + ")";
    if (!f.recipients.empty()) s += " à " + f.recipients;
    s += " : " + std::to_string(f.attempts) + " tentative(s), " + failure_state(f);
    if (!f.last_error.empty()) s += " — " + f.last_error;
    return s;
}

ViewData num(std::size_t n) { return view_number(static_cast<std::int64_t>(n)); }

// A progress bar's three widths in percent: on time, late, missing.
ViewData bar(const DigestCounts& c) {
    int on_time = percent(c.received, c.expected);
    int late = std::max(0, percent(c.submitted(), c.expected) - on_time);
    int rest = std::max(0, 100 - on_time - late);
    if (on_time + late + rest == 0) rest = 100;
    ViewData b;
    b.set("on_time", view_number(on_time));
    b.set("late", view_number(late));
    b.set("rest", view_number(rest));
    b.set("has_on_time", view_bool(on_time > 0));
    b.set("has_late", view_bool(late > 0));
    b.set("has_rest", view_bool(rest > 0));
    return b;
}

ViewData counts_view(const DigestCounts& c) {
    ViewData v;
    v.set("expected", num(c.expected));
    v.set("received", num(c.received));
    v.set("late", num(c.late));
    v.set("missing", num(c.missing));
    v.set("submitted", num(c.submitted()));
    v.set("pct", view_number(percent(c.submitted(), c.expected)));
    v.set("pct_missing", view_number(percent(c.missing, c.expected)));
    v.set("bar", bar(c));
    return v;
}

// One breakdown table: its id, title, first column and rows (with the text
// digest's padded columns, t_*).
ViewData groups_view(const std::string& id, const std::string& title, const std::string& head,
                     const std::vector<DigestGroup>& groups, bool show_code) {
    std::vector<std::string> labels;
    std::size_t w = text_width("Total");
    for (const auto& g : groups) {
        labels.push_back(show_code && !g.code.empty() ? g.label + " (" + g.code + ")" : g.label);
        w = std::max(w, text_width(labels.back()));
    }
    w = std::min<std::size_t>(w, 40);
    ViewList rows;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto& c = groups[i].counts;
        ViewData r = counts_view(c);
        r.set("label", view_text(labels[i]));
        r.set("code", view_text(groups[i].code));
        r.set("t_label", view_text(pad_right(labels[i], w)));
        r.set("t_expected", view_text(pad_left(std::to_string(c.expected), 8)));
        r.set("t_submitted", view_text(pad_left(std::to_string(c.submitted()), 5)));
        r.set("t_late", view_text(pad_left(std::to_string(c.late), 11)));
        r.set("t_missing", view_text(pad_left(std::to_string(c.missing), 9)));
        r.set("t_pct", view_text(pad_left(pct_label(c.submitted(), c.expected), 5)));
        rows.push_back(r);
    }
    ViewData v;
    v.set("id", view_text(id));
    v.set("title", view_text(title));
    v.set("head", view_text(head));
    v.set("t_head", view_text(pad_right("", w) + "  Attendus  Reçus  dont retard  Manquants   Taux"));
    v.set("t_underline", view_text(std::string(text_width(title), '=')));
    v.set("rows", rows);
    v.set("has_rows", view_bool(!rows.empty()));
    return v;
}

// A list cut to kMaxRows, with "more" (the count left out) and "none".
template <class T, class F>
ViewData list_view(const std::vector<T>& items, F&& row) {
    ViewList l;
    for (std::size_t i = 0; i < items.size() && i < kMaxRows; ++i) l.push_back(row(items[i]));
    ViewData v;
    v.set("items", l);
    v.set("count", num(items.size()));
    v.set("any", view_bool(!items.empty()));
    v.set("more", view_bool(items.size() > kMaxRows));
    v.set("more_count", num(items.size() > kMaxRows ? items.size() - kMaxRows : 0));
    return v;
}

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

date::sys_days day_of(const std::string& iso) {
    int y = 0;
    unsigned m = 1, d = 1;
    std::sscanf(iso.c_str(), "%d-%u-%u", &y, &m, &d);
    return date::sys_days(date::year(y) / date::month(m) / date::day(d));
}

std::string iso_of(date::sys_days day) { return date::format("%F", day); }

// A round step for about `n` ticks over `max`: 1, 2, 5, 10, 20, 50, ...
std::size_t nice_step(std::size_t max, std::size_t n) {
    std::size_t raw = std::max<std::size_t>(1, (max + n - 1) / n);
    std::size_t p = 1;
    while (p * 10 <= raw) p *= 10;
    for (std::size_t f : {1u, 2u, 5u, 10u})
        if (f * p >= raw) return f * p;
    return 10 * p;
}

}  // namespace

std::string french_short_date(const std::string& iso_date) {
    auto full = french_date(iso_date);   // "4 mars 2022"
    auto last = full.rfind(' ');
    return last == std::string::npos ? full : full.substr(0, last);
}

std::string mail_kind_fr(const std::string& kind) {
    if (kind == "ack") return "accusé de réception";
    if (kind == "forward") return "transmission à l’IEN-IO";
    if (kind == "reminder") return "relance";
    if (kind == "digest") return "point quotidien";
    if (kind == "link") return "demande du fichier (lien reçu)";
    return kind;
}

std::string identified_by_fr(const std::string& by) {
    if (by == "sender") return "adresse de l’expéditeur";
    if (by == "forwarded") return "message du lycée transféré";
    if (by == "thread") return "réponse à l’un de nos messages";
    if (by == "uai") return "UAI cité dans le message";
    if (by == "name") return "nom et commune du lycée cités dans le message";
    if (by == "document") return "en-tête du document";
    if (by == "manual") return "attribué à la main (tri)";
    return by;
}

void summarise_status(DigestData& d, const Directory& directory) {
    std::map<std::string, DigestGroup> academies;
    std::map<std::pair<std::string, std::string>, DigestGroup> departements;
    std::map<std::tuple<std::string, std::string, std::string>, DigestGroup> bassins;
    std::map<std::string, DigestBassinWithoutIenIo> without;
    for (const auto& ls : d.status.lycees) {
        const Lycee& l = ls.lycee;
        add(d.total, ls.state);

        auto& a = academies[l.academie];
        a.code = l.academie;
        const std::string an = academie_name(l.academie);
        a.label = std::string("Académie ") +
                  (std::string("AEIOU").find(an.empty() ? 'x' : an[0]) != std::string::npos ? "d'" : "de ") + an;
        add(a.counts, ls.state);

        std::string dep = departement_of(l);
        auto& g = departements[{l.academie, dep}];
        g.code = dep;
        g.label = departement_name(dep).empty() ? "Département " + dep : departement_name(dep);
        add(g.counts, ls.state);

        std::string blabel = bassin_label_of(l, directory);
        auto& b = bassins[{l.academie, blabel, l.bassin_code}];
        b.code = l.bassin_code;
        b.label = blabel;
        add(b.counts, ls.state);

        if (ls.state == "missing") d.missing.push_back({l.uai, l.name, l.commune, blabel, ls.reminders_sent});
        if (!ls.submissions.empty()) {
            // The latest version only: an earlier one flagged and replaced since is settled.
            auto remarks = french_remarks(ls.submissions.back().checks, directory);
            if (!remarks.empty()) d.to_check.push_back({ls.submissions.back().id, l.uai, l.name, l.commune, remarks});
        }
        if (ls.ien_io.empty()) {
            auto& w = without[l.bassin_code];
            w.code = l.bassin_code;
            w.label = blabel;
            w.lycees.push_back(l.uai + " " + l.name);
        }
    }
    for (auto& [_, g] : academies) d.academies.push_back(std::move(g));
    for (auto& [_, g] : departements) d.departements.push_back(std::move(g));
    for (auto& [_, g] : bassins) d.bassins.push_back(std::move(g));
    for (auto& [_, w] : without) d.without_ien_io.push_back(std::move(w));

    // Most urgent first: those already reminded most often, then by name.
    std::stable_sort(d.missing.begin(), d.missing.end(), [](const DigestMissing& x, const DigestMissing& y) {
        if (x.reminders.size() != y.reminders.size()) return x.reminders.size() > y.reminders.size();
        return std::tie(x.name, x.uai) < std::tie(y.name, y.uai);
    });

    d.triage = d.status.unidentified;
    for (const auto& q : d.status.quarantined) d.quarantined.push_back({q.id, q.received_at, q.from, q.subject, q.reason});
}

ArrivalChart arrival_chart(const CampaignStatus& status, std::int64_t now) {
    ArrivalChart c;
    const std::string& tz = status.timezone;
    // The day each lycée first sent its PPO.
    std::map<date::sys_days, std::size_t> firsts;
    for (const auto& l : status.lycees) {
        ++c.expected;
        if (l.submissions.empty()) continue;
        std::int64_t first = l.submissions.front().received_at;
        for (const auto& s : l.submissions) first = std::min(first, s.received_at);
        ++firsts[day_of(local_date(first, tz))];
        ++c.submitted;
    }
    const auto deadline = day_of(status.deadline);
    const auto today = day_of(local_date(now, tz));
    // Four weeks before the deadline, or the first arrival if earlier; up to
    // two days after the deadline, or today if later.
    auto start = deadline - date::days(28);
    if (!firsts.empty()) start = std::min(start, firsts.begin()->first);
    start = std::min(start, today);
    auto end = std::max(deadline + date::days(2), today + date::days(1));
    const double span = std::max(1, static_cast<int>((end - start).count()));
    const double plot_w = c.width - c.left - c.right, plot_h = c.height - c.top - c.bottom;
    const double y_max = static_cast<double>(std::max<std::size_t>(c.expected, 1));
    auto x_of = [&](date::sys_days day) { return c.left + plot_w * static_cast<double>((day - start).count()) / span; };
    auto y_of = [&](double n) { return c.top + plot_h * (1.0 - n / y_max); };
    c.first_day = iso_of(start);
    c.last_day = iso_of(end);

    // The curve: a step per day, up to today (never into the future).
    std::size_t cumulative = 0;
    auto it = firsts.begin();
    std::string pts;
    for (auto day = start; day <= std::min(today, end); day += date::days(1)) {
        while (it != firsts.end() && it->first < day) cumulative += (it++)->second;   // before the chart
        std::size_t before = cumulative;
        while (it != firsts.end() && it->first == day) cumulative += (it++)->second;
        const double x0 = x_of(day), x1 = x_of(day + date::days(1));
        if (pts.empty()) pts = fmt(x0) + "," + fmt(y_of(static_cast<double>(before)));
        pts += " " + fmt(x0) + "," + fmt(y_of(static_cast<double>(cumulative))) + " " +
               fmt(std::min(x1, x_of(end))) + "," + fmt(y_of(static_cast<double>(cumulative)));
    }
    c.points = pts;
    if (!pts.empty()) {
        const auto last_x = pts.substr(pts.rfind(' ') + 1, pts.rfind(',') - pts.rfind(' ') - 1);
        c.area = fmt(x_of(start)) + "," + fmt(y_of(0)) + " " + pts + " " + last_x + "," + fmt(y_of(0));
    }

    // Date ticks: about seven, every n days.
    const int days = static_cast<int>(span);
    const int step = days <= 8 ? 1 : days <= 16 ? 2 : days <= 35 ? 7 : days <= 70 ? 14 : 28;
    for (auto day = start; day <= end; day += date::days(step))
        c.x_ticks.push_back({x_of(day), french_short_date(iso_of(day))});
    // Count ticks: round steps up to the lycées expected.
    const std::size_t ystep = nice_step(c.expected, 5);
    for (std::size_t n = 0; n <= c.expected; n += ystep) c.y_ticks.push_back({y_of(static_cast<double>(n)), std::to_string(n)});
    c.deadline_x = x_of(deadline + date::days(1));   // the deadline day counts: the line at its end
    c.expected_y = y_of(static_cast<double>(c.expected));
    if (today >= start && today < end) c.today_x = x_of(today + date::days(1));
    return c;
}

namespace {

// The page's and the mail's head: campaign, dates, title, links.
void set_header_view(ViewData& v, const DigestData& d, const DashboardOptions& o, std::int64_t now) {
    const auto& tz = d.timezone;
    v.set("campaign", view_text(d.campaign));
    v.set("draio", view_bool(o.draio));
    v.set("deadline_fr", view_text(french_date(d.deadline)));
    v.set("deadline_phrase", view_text(deadline_phrase(d, now)));
    v.set("now_fr", view_text(french_datetime(now, tz)));
    v.set("title", view_text(d.campaign + " — point du " + weekday_name(local_weekday(now, tz)) + " " +
                             french_datetime(now, tz)));
    if (!d.slot.empty()) v.set("subject", view_text(digest_subject(d)));
    v.set("csv_name", view_text("etat-ppo-" + local_date(now, tz) + ".csv"));
    v.set("has_base_url", view_bool(!o.base_url.empty()));
    std::string base = o.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    v.set("dashboard_url", view_text(base + "/"));
    v.set("triage_url", view_text(base + "/triage"));
    v.set("linkable", view_bool(o.web || !base.empty()));
    v.set("link_base", view_text(o.web ? std::string() : base));
}

// What needs attention (the DRAIO's actions only for the DRAIO).
ViewData attention_view(const DigestData& d, const DashboardOptions& o, std::size_t failed, std::size_t deferred) {
    ViewData a;
    a.set("triage", num(d.triage.size()));
    a.set("has_triage", view_bool(o.draio && !d.triage.empty()));
    a.set("failed", num(failed));
    a.set("has_failed", view_bool(o.draio && failed > 0));
    a.set("deferred", num(deferred));
    a.set("has_deferred", view_bool(o.draio && deferred > 0));
    a.set("without_ien_io", list_view(d.without_ien_io, [](const DigestBassinWithoutIenIo& b) {
              ViewData r;
              r.set("label", view_text(b.label));
              r.set("code", view_text(b.code));
              r.set("has_code", view_bool(!b.code.empty()));
              r.set("count", num(b.lycees.size()));
              r.set("lycees", view_text(join(b.lycees, ", ")));
              return r;
          }));
    a.set("to_check", list_view(d.to_check, [](const DigestToCheck& c) {
              ViewData r;
              r.set("id", view_number(c.id));
              r.set("uai", view_text(c.uai));
              r.set("name", view_text(c.name));
              r.set("commune", view_text(c.commune));
              r.set("label", view_text(lycee_label(c.uai, c.name, c.commune)));
              r.set("remarks", view_text(join(c.remarks, " ")));
              return r;
          }));
    const bool nothing = !(o.draio && (!d.triage.empty() || failed > 0 || deferred > 0)) && d.without_ien_io.empty() &&
                         d.to_check.empty();
    a.set("nothing", view_bool(nothing));
    return a;
}

// The arrivals chart's coordinates as the SVG template wants them.
ViewData chart_view(const DigestData& d, std::int64_t now) {
    const auto chart = arrival_chart(d.status, now);
    ViewData c;
    c.set("width", view_number(chart.width));
    c.set("height", view_number(chart.height));
    c.set("left", view_number(chart.left));
    c.set("right_x", view_number(chart.width - chart.right));
    c.set("top", view_number(chart.top));
    c.set("bottom_y", view_number(chart.height - chart.bottom));
    c.set("points", view_text(chart.points));
    c.set("area", view_text(chart.area));
    c.set("has_curve", view_bool(!chart.points.empty()));
    ViewList xt, yt;
    for (const auto& t : chart.x_ticks) {
        ViewData x;
        x.set("x", view_text(fmt(t.pos)));
        x.set("label", view_text(t.label));
        xt.push_back(x);
    }
    for (const auto& t : chart.y_ticks) {
        ViewData y;
        y.set("y", view_text(fmt(t.pos)));
        y.set("label", view_text(t.label));
        yt.push_back(y);
    }
    c.set("x_ticks", xt);
    c.set("y_ticks", yt);
    c.set("deadline_x", view_text(fmt(chart.deadline_x)));
    c.set("expected_y", view_text(fmt(chart.expected_y)));
    c.set("has_today", view_bool(chart.today_x >= 0));
    c.set("today_x", view_text(fmt(chart.today_x)));
    c.set("label_x", view_text(fmt((chart.left + chart.width - chart.right) / 2.0)));
    c.set("label_y", view_text(fmt((chart.top + chart.height - chart.bottom) / 2.0)));
    c.set("axis_x_label_y", view_number(chart.height - 12));
    c.set("tick_label_y", view_number(chart.height - chart.bottom + 18));
    c.set("tick_end_y", view_number(chart.height - chart.bottom + 5));
    c.set("expected", num(chart.expected));
    c.set("submitted", num(chart.submitted));
    c.set("summary", view_text(std::to_string(chart.submitted) + " lycée(s) sur " + std::to_string(chart.expected) +
                               " ont envoyé leur PPO ; date limite le " + french_date(d.deadline) + "."));
    return c;
}

// The digest's lists: arrivals, missing lycées, triage, failed mails, quarantine.
void set_digest_lists(ViewData& v, const DigestData& d) {
    const auto& tz = d.timezone;
    v.set("since_phrase", view_text(since_phrase(d)));
    v.set("arrivals", list_view(d.arrivals, [&](const DigestArrival& x) {
              ViewData r;
              r.set("when", view_text(french_datetime(x.received_at, tz)));
              r.set("lycee", view_text(lycee_label(x.uai, x.name, x.commune)));
              r.set("details", view_text(arrival_details(x)));
              r.set("late", view_bool(x.late));
              return r;
          }));
    v.set("missing", list_view(d.missing, [](const DigestMissing& m) {
              ViewData r;
              r.set("uai", view_text(m.uai));
              r.set("name", view_text(m.name));
              r.set("commune", view_text(m.commune));
              r.set("bassin", view_text(m.bassin));
              r.set("lycee", view_text(lycee_label(m.uai, m.name, m.commune)));
              r.set("reminders", view_text(m.reminders.empty() ? std::string("aucune") : offsets_label(m.reminders)));
              r.set("has_reminders", view_bool(!m.reminders.empty()));
              return r;
          }));
    v.set("triage", list_view(d.triage, [&](const UnidentifiedStatus& u) {
              ViewData r;
              r.set("id", view_number(u.id));
              r.set("when", view_text(french_datetime(u.received_at, tz)));
              r.set("from", view_text(u.from.empty() ? std::string("(expéditeur inconnu)") : u.from));
              r.set("subject", view_text(u.subject));
              r.set("reason", view_text(reason_fr(u.reason)));
              r.set("has_reason", view_bool(!u.reason.empty()));
              return r;
          }));
    v.set("failures", list_view(d.failures, [](const DigestFailure& x) {
              ViewData r;
              r.set("id", view_number(x.id));
              r.set("kind", view_text(mail_kind_fr(x.kind)));
              r.set("uai", view_text(x.uai));
              r.set("recipients", view_text(x.recipients));
              r.set("attempts", view_number(x.attempts));
              r.set("state", view_text(failure_state(x)));
              r.set("error", view_text(x.last_error));
              r.set("details", view_text(failure_details(x)));
              return r;
          }));
    v.set("quarantined", list_view(d.quarantined, [&](const DigestQuarantined& q) {
              ViewData r;
              r.set("id", view_number(q.id));
              r.set("when", view_text(french_datetime(q.received_at, tz)));
              r.set("from", view_text(q.from));
              r.set("has_from", view_bool(!q.from.empty()));
              r.set("subject", view_text(q.subject));
              r.set("reason", view_text(reason_fr(q.reason)));
              return r;
          }));
    const std::size_t anomalies = d.failures.size() + d.quarantined.size() + d.without_ien_io.size();
    v.set("anomalies", num(anomalies));
    v.set("has_anomalies", view_bool(anomalies > 0));
}

}  // namespace

ViewData dashboard_view(const DigestData& d, const DashboardOptions& o) {
    const std::int64_t now = o.now != 0 ? o.now : d.now;
    ViewData v;
    set_header_view(v, d, o, now);

    // Figures.
    ViewData f = counts_view(d.total);
    f.set("triage", num(d.triage.size()));
    std::size_t failed = 0, deferred = 0;
    for (const auto& x : d.failures) (x.state == "failed" ? failed : deferred)++;
    f.set("failed", num(failed));
    f.set("deferred", num(deferred));
    f.set("pct_on_time", view_number(percent(d.total.received, d.total.expected)));
    v.set("figures", f);

    v.set("by_academie", groups_view("by-academie", "Par académie", "Académie", d.academies, true));
    v.set("by_departement", groups_view("by-departement", "Par département", "Département", d.departements, true));
    v.set("by_bassin", groups_view("by-bassin", "Par bassin", "Bassin", d.bassins, false));
    v.set("attention", attention_view(d, o, failed, deferred));
    v.set("chart", chart_view(d, now));
    set_digest_lists(v, d);
    return v;
}

}  // namespace ppo::workflow
