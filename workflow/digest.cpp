#include "workflow/digest.h"

#include "workflow/campaign_time.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <sstream>
#include <tuple>

namespace ppo::workflow {

namespace {

// Longer lists are cut in the mail (the CSV attachment has everything).
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

std::string kind_label(const std::string& kind) {
    if (kind == "ack") return "accusé de réception";
    if (kind == "forward") return "transmission à l'IEN-IO";
    if (kind == "reminder") return "relance";
    if (kind == "digest") return "point quotidien";
    if (kind == "link") return "demande du fichier (lien reçu)";
    return kind;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
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

// Whole days from the slot to the deadline (negative once it has passed).
long days_to_deadline(const DigestData& d) {
    auto a = local_instant(d.slot, 0, 12 * 60, d.timezone);
    auto b = local_instant(d.deadline, 0, 12 * 60, d.timezone);
    return std::lround(static_cast<double>(b - a) / 86400.0);
}

std::string deadline_phrase(const DigestData& d) {
    long days = days_to_deadline(d);
    std::string s = "Date limite : " + french_date(d.deadline);
    if (days > 1) return s + " (dans " + std::to_string(days) + " jours)";
    if (days == 1) return s + " (demain)";
    if (days == 0) return s + " (aujourd'hui)";
    if (days == -1) return s + " (dépassée depuis 1 jour)";
    return s + " (dépassée depuis " + std::to_string(-days) + " jours)";
}

std::string title(const DigestData& d) {
    return d.campaign + " — point du " + weekday_name(local_weekday(d.now, d.timezone)) + " " +
           french_datetime(d.now, d.timezone);
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

std::string failure_details(const DigestFailure& f) {
    std::string s = kind_label(f.kind) + " n° " + std::to_string(f.id);
    if (!f.uai.empty()) s += " (" + f.uai + ")";
    if (!f.recipients.empty()) s += " à " + f.recipients;
    s += " : " + std::to_string(f.attempts) + " tentative(s), " +
         (f.state == "failed" ? std::string("abandonné") : std::string("nouvel essai prévu"));
    if (!f.last_error.empty()) s += " — " + f.last_error;
    return s;
}

std::size_t anomalies(const DigestData& d) { return d.failures.size() + d.quarantined.size() + d.without_ien_io.size(); }

// ---- text ----

void text_heading(std::ostringstream& o, const std::string& h) {
    o << "\n" << h << "\n" << std::string(text_width(h), '=') << "\n";
}

void text_groups(std::ostringstream& o, const std::string& heading, const std::vector<DigestGroup>& groups,
                 bool show_code) {
    text_heading(o, heading);
    std::vector<std::string> labels;
    std::size_t w = text_width("Total");
    for (const auto& g : groups) {
        labels.push_back(show_code && !g.code.empty() ? g.label + " (" + g.code + ")" : g.label);
        w = std::max(w, text_width(labels.back()));
    }
    w = std::min<std::size_t>(w, 40);
    o << pad_right("", w) << "  Attendus  Reçus  dont retard  Manquants   Taux\n";
    for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto& c = groups[i].counts;
        o << pad_right(labels[i], w) << "  " << pad_left(std::to_string(c.expected), 8) << "  "
          << pad_left(std::to_string(c.submitted()), 5) << "  " << pad_left(std::to_string(c.late), 11) << "  "
          << pad_left(std::to_string(c.missing), 9) << "  " << pad_left(pct_label(c.submitted(), c.expected), 5) << "\n";
    }
}

template <class T, class F>
void text_list(std::ostringstream& o, const std::vector<T>& items, F line, const std::string& none) {
    if (items.empty()) {
        o << none << "\n";
        return;
    }
    for (std::size_t i = 0; i < items.size() && i < kMaxRows; ++i) o << "- " << line(items[i]) << "\n";
    if (items.size() > kMaxRows)
        o << "… et " << (items.size() - kMaxRows) << " autre(s) (voir le fichier joint ou la commande status).\n";
}

// ---- HTML ----

const char* const kTable = "border-collapse:collapse;margin:4px 0 12px 0;font-size:13px";
const char* const kTh = "text-align:left;padding:4px 8px;border-bottom:2px solid #003a80;background:#e8eef7;color:#003a80";
const char* const kThNum =
    "text-align:right;padding:4px 8px;border-bottom:2px solid #003a80;background:#e8eef7;color:#003a80";
const char* const kTd = "padding:4px 8px;border-bottom:1px solid #e5e5e5;vertical-align:top";
const char* const kTdNum = "padding:4px 8px;border-bottom:1px solid #e5e5e5;text-align:right;vertical-align:top";
const char* const kH2 = "font-size:16px;color:#003a80;margin:20px 0 6px 0;border-bottom:1px solid #c5d3e8;padding-bottom:2px";
const char* const kGreen = "#2e7d32";
const char* const kAmber = "#f9a825";
const char* const kGrey = "#e0e0e0";

// A progress bar as a one-row table: on time (green), late (amber), missing (grey).
std::string html_bar(const DigestCounts& c, int width_px) {
    int on_time = percent(c.received, c.expected);
    int late = percent(c.submitted(), c.expected) - on_time;
    if (late < 0) late = 0;
    int rest = 100 - on_time - late;
    if (rest < 0) rest = 0;
    std::string cells;
    auto cell = [&](int w, const char* colour) {
        if (w <= 0) return;
        cells += "<td style=\"width:" + std::to_string(w) + "%;background:" + colour +
                 ";height:10px;padding:0;font-size:1px;line-height:1px\">&nbsp;</td>";
    };
    cell(on_time, kGreen);
    cell(late, kAmber);
    cell(rest, kGrey);
    if (cells.empty()) cell(100, kGrey);
    return "<table role=\"presentation\" cellspacing=\"0\" cellpadding=\"0\" style=\"width:" + std::to_string(width_px) +
           "px;border-collapse:collapse;border:1px solid #bdbdbd\"><tr>" + cells + "</tr></table>";
}

void html_groups(std::ostringstream& o, const std::string& heading, const std::vector<DigestGroup>& groups,
                 bool show_code) {
    o << "<h2 style=\"" << kH2 << "\">" << html_escape(heading) << "</h2>\n";
    o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\"></th><th style=\"" << kThNum
      << "\">Attendus</th><th style=\"" << kThNum << "\">Reçus</th><th style=\"" << kThNum
      << "\">dont en retard</th><th style=\"" << kThNum << "\">Manquants</th><th style=\"" << kThNum
      << "\">Taux</th><th style=\"" << kTh << "\">Avancement</th></tr>\n";
    for (const auto& g : groups) {
        const auto& c = g.counts;
        std::string label = show_code && !g.code.empty() ? g.label + " (" + g.code + ")" : g.label;
        o << "<tr><td style=\"" << kTd << "\">" << html_escape(label) << "</td><td style=\"" << kTdNum << "\">" << c.expected
          << "</td><td style=\"" << kTdNum << "\">" << c.submitted() << "</td><td style=\"" << kTdNum << "\">" << c.late
          << "</td><td style=\"" << kTdNum << "\">" << c.missing << "</td><td style=\"" << kTdNum << "\">"
          << html_escape(pct_label(c.submitted(), c.expected)) << "</td><td style=\"" << kTd << "\">" << html_bar(c, 160)
          << "</td></tr>\n";
    }
    o << "</table>\n";
}

void html_more(std::ostringstream& o, std::size_t n) {
    if (n > kMaxRows)
        o << "<p style=\"margin:0 0 12px 0;color:#555\">… et " << (n - kMaxRows)
          << " autre(s) (voir le fichier joint ou la commande status).</p>\n";
}

void html_none(std::ostringstream& o, const std::string& text) {
    o << "<p style=\"margin:0 0 12px 0;color:#555\">" << html_escape(text) << "</p>\n";
}

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

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
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

DigestData collect_digest(const Config& config, Store& store, const Directory& directory, std::int64_t campaign_id,
                          std::int64_t now, std::int64_t since) {
    DigestData d;
    d.campaign = config.campaign.name;
    d.deadline = config.campaign.deadline;
    d.timezone = config.campaign.timezone;
    d.slot = local_date(now, d.timezone);
    d.now = now;
    d.since = since;
    d.status = build_status(store, config, campaign_id, directory);

    // Counts and breakdowns: from the status, so they equal `status --json`.
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
        a.label = std::string("Académie ") + (std::string("AEIOU").find(an.empty() ? 'x' : an[0]) != std::string::npos ? "d'" : "de ") + an;
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

        if (ls.state == "missing")
            d.missing.push_back({l.uai, l.name, l.commune, blabel, ls.reminders_sent});
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

    d.triage = d.status.unidentified;

    for (const char* kind : {"ack", "forward", "reminder", "digest", "link"}) {
        for (const auto& m : store.outbox_of_kind(campaign_id, kind)) {
            if (m.state == "failed" || (m.state == "pending" && m.attempts > 0))
                d.failures.push_back({m.id, m.kind, m.uai, join(m.recipients, ", "), m.state, m.attempts, m.last_error,
                                      m.created_at});
        }
    }
    std::sort(d.failures.begin(), d.failures.end(),
              [](const DigestFailure& x, const DigestFailure& y) { return x.id < y.id; });

    for (const auto& m : store.messages_with_outcome(campaign_id, "quarantined"))
        d.quarantined.push_back({m.id, m.received_at, m.from, m.subject, m.reason});
    return d;
}

std::string digest_subject(const DigestData& d) {
    return d.campaign + " — point quotidien du " + french_date(d.slot) + " : " + std::to_string(d.total.submitted()) +
           "/" + std::to_string(d.total.expected) + " reçus (" + pct_label(d.total.submitted(), d.total.expected) + ")";
}

std::string digest_csv_name(const DigestData& d) { return "etat-ppo-" + d.slot + ".csv"; }

std::string digest_text(const DigestData& d) {
    const auto& t = d.total;
    const auto& tz = d.timezone;
    std::ostringstream o;
    o << title(d) << "\n" << deadline_phrase(d) << "\n";

    text_heading(o, "Vue d'ensemble");
    o << "Lycées attendus : " << t.expected << "\n";
    o << "PPO reçus       : " << t.submitted() << " (" << pct_label(t.submitted(), t.expected) << "), dont "
      << t.received << " dans les délais et " << t.late << " en retard\n";
    o << "PPO manquants   : " << t.missing << " (" << pct_label(t.missing, t.expected) << ")\n";
    o << "À trier         : " << d.triage.size() << " message(s)\n";
    if (anomalies(d)) o << "Anomalies       : " << anomalies(d) << " (voir plus bas)\n";

    text_groups(o, "Par académie", d.academies, true);
    text_groups(o, "Par département", d.departements, true);
    text_groups(o, "Par bassin", d.bassins, false);

    text_heading(o, "Reçus " + since_phrase(d) + " : " + std::to_string(d.arrivals.size()));
    text_list(
        o, d.arrivals,
        [&](const DigestArrival& a) {
            return french_datetime(a.received_at, tz) + " — " + lycee_label(a.uai, a.name, a.commune) + " — " +
                   arrival_details(a);
        },
        "Aucun nouvel envoi.");

    text_heading(o, "Lycées sans PPO : " + std::to_string(d.missing.size()) + " (les plus relancés d'abord)");
    text_list(
        o, d.missing,
        [](const DigestMissing& m) {
            return lycee_label(m.uai, m.name, m.commune) + " — " + m.bassin + " — " +
                   (m.reminders.empty() ? std::string("aucune relance") : "relances : " + offsets_label(m.reminders));
        },
        "Aucun : tous les lycées attendus ont déposé leur PPO.");

    text_heading(o, "Documents à vérifier : " + std::to_string(d.to_check.size()));
    text_list(
        o, d.to_check,
        [](const DigestToCheck& c) {
            return lycee_label(c.uai, c.name, c.commune) + " — dépôt n° " + std::to_string(c.id) + " — " + join(c.remarks, " ");
        },
        "Aucun : chaque dernier dépôt ressemble à un PPO du bon lycée (ou n'a pu être lu).");

    text_heading(o, "À trier : " + std::to_string(d.triage.size()));
    text_list(
        o, d.triage,
        [&](const UnidentifiedStatus& u) {
            std::string s = "message n° " + std::to_string(u.id) + ", reçu le " + french_datetime(u.received_at, tz) +
                            ", de " + (u.from.empty() ? std::string("(expéditeur inconnu)") : u.from) + " : « " +
                            u.subject + " »";
            if (!u.reason.empty()) s += " — " + u.reason;
            return s;
        },
        "Rien à trier.");

    text_heading(o, "Anomalies");
    if (!anomalies(d)) o << "Aucune anomalie.\n";
    if (!d.failures.empty()) {
        o << "Envois en échec (" << d.failures.size() << ") :\n";
        text_list(o, d.failures, failure_details, "");
    }
    if (!d.quarantined.empty()) {
        o << "Messages en quarantaine (" << d.quarantined.size() << ") :\n";
        text_list(
            o, d.quarantined,
            [&](const DigestQuarantined& q) {
                return "message n° " + std::to_string(q.id) + ", reçu le " + french_datetime(q.received_at, tz) +
                       (q.from.empty() ? std::string() : ", de " + q.from) + " : « " + q.subject + " » — " + q.reason;
            },
            "");
    }
    if (!d.without_ien_io.empty()) {
        o << "Bassins sans IEN-IO (" << d.without_ien_io.size() << ") : les PPO de leurs lycées ne sont pas transmis\n";
        text_list(
            o, d.without_ien_io,
            [](const DigestBassinWithoutIenIo& b) {
                return b.label + (b.code.empty() ? std::string() : " (" + b.code + ")") + " : " +
                       std::to_string(b.lycees.size()) + " lycée(s) — " + join(b.lycees, ", ");
            },
            "");
    }

    o << "\nL'état complet par lycée est joint (" << digest_csv_name(d) << ", à ouvrir avec un tableur).\n";
    o << "\n-- \nMessage envoyé automatiquement par la plateforme de collecte des PPO de la DRAIO\n"
         "Hauts-de-France.\n";
    return o.str();
}

std::string digest_html(const DigestData& d) {
    const auto& t = d.total;
    const auto& tz = d.timezone;
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>" << html_escape(digest_subject(d))
      << "</title></head>\n"
      << "<body style=\"margin:0;padding:16px;background:#f4f6f9;font-family:Arial,Helvetica,sans-serif;font-size:14px;"
         "color:#222\">\n"
      << "<div style=\"max-width:960px;margin:0 auto;background:#ffffff;padding:16px 24px;border:1px solid #d9dee6\">\n"
      << "<h1 style=\"font-size:20px;color:#003a80;margin:0 0 4px 0\">" << html_escape(title(d)) << "</h1>\n"
      << "<p style=\"margin:0 0 12px 0;color:#555\">" << html_escape(deadline_phrase(d)) << "</p>\n";

    // Overview: three big numbers and the overall bar.
    auto box = [&](const std::string& label, const std::string& value, const std::string& sub, const char* colour) {
        o << "<td style=\"padding:8px 16px 8px 0;vertical-align:top\"><div style=\"font-size:26px;font-weight:bold;color:"
          << colour << "\">" << html_escape(value) << "</div><div style=\"font-size:12px;color:#555\">"
          << html_escape(label) << "<br>" << html_escape(sub) << "</div></td>";
    };
    o << "<table role=\"presentation\" style=\"border-collapse:collapse\"><tr>";
    box("lycées attendus", std::to_string(t.expected), "", "#003a80");
    box("PPO reçus", std::to_string(t.submitted()) + " (" + pct_label(t.submitted(), t.expected) + ")",
        std::to_string(t.received) + " dans les délais, " + std::to_string(t.late) + " en retard", kGreen);
    box("PPO manquants", std::to_string(t.missing) + " (" + pct_label(t.missing, t.expected) + ")", "", "#c62828");
    box("à trier", std::to_string(d.triage.size()), "message(s)", "#6a1b9a");
    o << "</tr></table>\n" << html_bar(t, 480) << "\n";
    o << "<p style=\"margin:4px 0 0 0;font-size:12px;color:#555\"><span style=\"color:" << kGreen
      << "\">&#9632;</span> dans les délais &nbsp; <span style=\"color:" << kAmber
      << "\">&#9632;</span> en retard &nbsp; <span style=\"color:#9e9e9e\">&#9632;</span> manquants</p>\n";

    html_groups(o, "Par académie", d.academies, true);
    html_groups(o, "Par département", d.departements, true);
    html_groups(o, "Par bassin", d.bassins, false);

    o << "<h2 style=\"" << kH2 << "\">" << html_escape("Reçus " + since_phrase(d) + " : " + std::to_string(d.arrivals.size()))
      << "</h2>\n";
    if (d.arrivals.empty()) {
        html_none(o, "Aucun nouvel envoi.");
    } else {
        o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\">Reçu le</th><th style=\"" << kTh
          << "\">Lycée</th><th style=\"" << kTh << "\">Dépôt</th></tr>\n";
        for (std::size_t i = 0; i < d.arrivals.size() && i < kMaxRows; ++i) {
            const auto& a = d.arrivals[i];
            o << "<tr><td style=\"" << kTd << "\">" << html_escape(french_datetime(a.received_at, tz)) << "</td><td style=\""
              << kTd << "\">" << html_escape(lycee_label(a.uai, a.name, a.commune)) << "</td><td style=\"" << kTd
              << (a.late ? ";color:#e65100" : "") << "\">" << html_escape(arrival_details(a)) << "</td></tr>\n";
        }
        o << "</table>\n";
        html_more(o, d.arrivals.size());
    }

    o << "<h2 style=\"" << kH2 << "\">"
      << html_escape("Lycées sans PPO : " + std::to_string(d.missing.size()) + " (les plus relancés d'abord)") << "</h2>\n";
    if (d.missing.empty()) {
        html_none(o, "Aucun : tous les lycées attendus ont déposé leur PPO.");
    } else {
        o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\">UAI</th><th style=\"" << kTh
          << "\">Lycée</th><th style=\"" << kTh << "\">Commune</th><th style=\"" << kTh << "\">Bassin</th><th style=\""
          << kTh << "\">Relances</th></tr>\n";
        for (std::size_t i = 0; i < d.missing.size() && i < kMaxRows; ++i) {
            const auto& m = d.missing[i];
            o << "<tr><td style=\"" << kTd << "\">" << html_escape(m.uai) << "</td><td style=\"" << kTd << "\">"
              << html_escape(m.name) << "</td><td style=\"" << kTd << "\">" << html_escape(m.commune) << "</td><td style=\""
              << kTd << "\">" << html_escape(m.bassin) << "</td><td style=\"" << kTd << "\">"
              << html_escape(m.reminders.empty() ? std::string("aucune") : offsets_label(m.reminders)) << "</td></tr>\n";
        }
        o << "</table>\n";
        html_more(o, d.missing.size());
    }

    o << "<h2 style=\"" << kH2 << "\">" << html_escape("Documents à vérifier : " + std::to_string(d.to_check.size()))
      << "</h2>\n";
    if (d.to_check.empty()) {
        html_none(o, "Aucun : chaque dernier dépôt ressemble à un PPO du bon lycée (ou n'a pu être lu).");
    } else {
        o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\">Lycée</th><th style=\"" << kTh
          << "\">Dépôt</th><th style=\"" << kTh << "\">Remarques</th></tr>\n";
        for (std::size_t i = 0; i < d.to_check.size() && i < kMaxRows; ++i) {
            const auto& c = d.to_check[i];
            o << "<tr><td style=\"" << kTd << "\">" << html_escape(lycee_label(c.uai, c.name, c.commune))
              << "</td><td style=\"" << kTdNum << "\">" << c.id << "</td><td style=\"" << kTd << "\">"
              << html_escape(join(c.remarks, " ")) << "</td></tr>\n";
        }
        o << "</table>\n";
        html_more(o, d.to_check.size());
    }

    o << "<h2 style=\"" << kH2 << "\">" << html_escape("À trier : " + std::to_string(d.triage.size())) << "</h2>\n";
    if (d.triage.empty()) {
        html_none(o, "Rien à trier.");
    } else {
        o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\">N°</th><th style=\"" << kTh
          << "\">Reçu le</th><th style=\"" << kTh << "\">Expéditeur</th><th style=\"" << kTh << "\">Objet</th><th style=\""
          << kTh << "\">Motif</th></tr>\n";
        for (std::size_t i = 0; i < d.triage.size() && i < kMaxRows; ++i) {
            const auto& u = d.triage[i];
            o << "<tr><td style=\"" << kTdNum << "\">" << u.id << "</td><td style=\"" << kTd << "\">"
              << html_escape(french_datetime(u.received_at, tz)) << "</td><td style=\"" << kTd << "\">"
              << html_escape(u.from) << "</td><td style=\"" << kTd << "\">" << html_escape(u.subject) << "</td><td style=\""
              << kTd << "\">" << html_escape(u.reason) << "</td></tr>\n";
        }
        o << "</table>\n";
        html_more(o, d.triage.size());
    }

    o << "<h2 style=\"" << kH2 << "\">Anomalies</h2>\n";
    if (!anomalies(d)) html_none(o, "Aucune anomalie.");
    if (!d.failures.empty()) {
        o << "<p style=\"margin:8px 0 2px 0;font-weight:bold;color:#c62828\">"
          << html_escape("Envois en échec (" + std::to_string(d.failures.size()) + ")") << "</p>\n";
        o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\">N°</th><th style=\"" << kTh
          << "\">Type</th><th style=\"" << kTh << "\">UAI</th><th style=\"" << kTh << "\">Destinataires</th><th style=\""
          << kThNum << "\">Tentatives</th><th style=\"" << kTh << "\">État</th><th style=\"" << kTh
          << "\">Dernière erreur</th></tr>\n";
        for (std::size_t i = 0; i < d.failures.size() && i < kMaxRows; ++i) {
            const auto& f = d.failures[i];
            o << "<tr><td style=\"" << kTdNum << "\">" << f.id << "</td><td style=\"" << kTd << "\">"
              << html_escape(kind_label(f.kind)) << "</td><td style=\"" << kTd << "\">" << html_escape(f.uai)
              << "</td><td style=\"" << kTd << "\">" << html_escape(f.recipients) << "</td><td style=\"" << kTdNum << "\">"
              << f.attempts << "</td><td style=\"" << kTd << "\">"
              << (f.state == "failed" ? "abandonné" : "nouvel essai prévu") << "</td><td style=\"" << kTd << "\">"
              << html_escape(f.last_error) << "</td></tr>\n";
        }
        o << "</table>\n";
        html_more(o, d.failures.size());
    }
    if (!d.quarantined.empty()) {
        o << "<p style=\"margin:8px 0 2px 0;font-weight:bold;color:#c62828\">"
          << html_escape("Messages en quarantaine (" + std::to_string(d.quarantined.size()) + ")") << "</p>\n";
        o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\">N°</th><th style=\"" << kTh
          << "\">Reçu le</th><th style=\"" << kTh << "\">Expéditeur</th><th style=\"" << kTh << "\">Objet</th><th style=\""
          << kTh << "\">Motif</th></tr>\n";
        for (std::size_t i = 0; i < d.quarantined.size() && i < kMaxRows; ++i) {
            const auto& q = d.quarantined[i];
            o << "<tr><td style=\"" << kTdNum << "\">" << q.id << "</td><td style=\"" << kTd << "\">"
              << html_escape(french_datetime(q.received_at, tz)) << "</td><td style=\"" << kTd << "\">"
              << html_escape(q.from) << "</td><td style=\"" << kTd << "\">" << html_escape(q.subject) << "</td><td style=\""
              << kTd << "\">" << html_escape(q.reason) << "</td></tr>\n";
        }
        o << "</table>\n";
        html_more(o, d.quarantined.size());
    }
    if (!d.without_ien_io.empty()) {
        o << "<p style=\"margin:8px 0 2px 0;font-weight:bold;color:#c62828\">"
          << html_escape("Bassins sans IEN-IO (" + std::to_string(d.without_ien_io.size()) +
                         ") : les PPO de leurs lycées ne sont pas transmis")
          << "</p>\n";
        o << "<table style=\"" << kTable << "\"><tr><th style=\"" << kTh << "\">Bassin</th><th style=\"" << kThNum
          << "\">Lycées</th><th style=\"" << kTh << "\">Établissements</th></tr>\n";
        for (std::size_t i = 0; i < d.without_ien_io.size() && i < kMaxRows; ++i) {
            const auto& b = d.without_ien_io[i];
            o << "<tr><td style=\"" << kTd << "\">"
              << html_escape(b.label + (b.code.empty() ? std::string() : " (" + b.code + ")")) << "</td><td style=\""
              << kTdNum << "\">" << b.lycees.size() << "</td><td style=\"" << kTd << "\">"
              << html_escape(join(b.lycees, ", ")) << "</td></tr>\n";
        }
        o << "</table>\n";
        html_more(o, d.without_ien_io.size());
    }

    o << "<p style=\"margin:16px 0 0 0\">" << html_escape("L'état complet par lycée est joint (" + digest_csv_name(d) +
                                                          ", à ouvrir avec un tableur).")
      << "</p>\n"
      << "<p style=\"margin:16px 0 0 0;font-size:12px;color:#777\">"
      << html_escape("Message envoyé automatiquement par la plateforme de collecte des PPO de la DRAIO Hauts-de-France.")
      << "</p>\n</div>\n</body></html>\n";
    return o.str();
}

}  // namespace ppo::workflow
