#include "workflow/status/status.h"

#include "parsers/text/csv.h"
#include "workflow/campaign/campaign_time.h"

#include <Poco/JSONString.h>

#include <algorithm>
#include <sstream>
#include <unordered_map>

namespace ppo::workflow {

namespace {

std::vector<FileStatus> file_statuses(const std::vector<FileRecord>& files) {
    std::vector<FileStatus> out;
    out.reserve(files.size());
    for (const auto& f : files) out.push_back({f.name, f.size, f.sha256});
    return out;
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < s.size()) {
        auto nl = s.find('\n', pos);
        if (nl == std::string::npos) nl = s.size();
        if (nl > pos) out.push_back(s.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return out;
}

std::string checks_json(const std::vector<DocumentCheck>& checks) {
    std::string out = "[";
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const auto& c = checks[i];
        out += std::string(i ? ",\n" : "\n") + "          {\"file\": " + json_string(c.file) +
               ", \"looks_like_ppo\": " + json_string(c.looks_like_ppo.empty() ? "unchecked" : c.looks_like_ppo) +
               ", \"lycee\": " + json_string(c.lycee.empty() ? "unchecked" : c.lycee) +
               ", \"named_uais\": " + json_strings(c.named_uais) + ", \"school_years\": " + json_strings(c.school_years) +
               ", \"outdated\": " + (c.outdated ? "true" : "false") + ", \"flagged\": " + (c.flagged() ? "true" : "false") +
               ", \"detail\": " + json_string(c.detail) + "}";
    }
    return out + "]";
}

std::string files_json(const std::vector<FileStatus>& files) {
    std::string out = "[";
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (i) out += ", ";
        out += "{\"name\": " + json_string(files[i].name) + ", \"size\": " + std::to_string(files[i].size) +
               ", \"sha256\": " + json_string(files[i].sha256) + "}";
    }
    return out + "]";
}

// A JSON array of messages: id, received_at, from and subject, then what
// `rest` writes for the kind of list (reason and files, or the first copy).
template <class Rest>
std::string messages_json(const std::vector<UnidentifiedStatus>& list, const std::string& timezone, Rest&& rest) {
    std::ostringstream o;
    o << "[";
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& u = list[i];
        o << (i ? ",\n" : "\n") << "    {\"id\": " << u.id << ", \"received_at\": "
          << json_string(iso_local(u.received_at, timezone)) << ", \"from\": " << json_string(u.from)
          << ", \"subject\": " << json_string(u.subject);
        rest(o, u);
        o << "}";
    }
    o << (list.empty() ? "]" : "\n  ]");
    return o.str();
}

}  // namespace

std::size_t text_width(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

std::string pad_right(const std::string& s, std::size_t w) {
    std::size_t cur = text_width(s);
    if (cur > w) {
        // Cut on a code point boundary, keep room for the ellipsis.
        std::string out;
        std::size_t n = 0;
        for (std::size_t i = 0; i < s.size() && n + 1 < w; ++i) {
            out += s[i];
            if (i + 1 >= s.size() || (static_cast<unsigned char>(s[i + 1]) & 0xC0) != 0x80) ++n;
        }
        return out + "…";
    }
    return s + std::string(w - cur, ' ');
}

std::string offset_label(int offset_days) {
    return (offset_days > 0 ? "+" : "") + std::to_string(offset_days);
}

std::string json_string(const std::string& s) {
    // Poco's JSON string writer (Poco::JSON's own): quotes, backslashes and
    // the controls escaped, UTF-8 as it is.
    return Poco::toJSON(s, Poco::JSON_WRAP_STRINGS);
}

std::string json_strings(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + json_string(items[i]);
    return out + "]";
}

CampaignStatus build_status(Store& store, const Config& config, std::int64_t campaign_id, const Directory& directory) {
    FilesByMessage files;
    for (auto& f : store.campaign_files(campaign_id, 0)) files[f.message_ref].push_back(std::move(f));
    return build_status(store, config, campaign_id, directory, files);
}

CampaignStatus build_status(Store& store, const Config& config, std::int64_t campaign_id, const Directory& directory,
                            const FilesByMessage& files) {
    CampaignStatus st;
    st.name = config.campaign.name;
    st.deadline = config.campaign.deadline;
    st.timezone = config.campaign.timezone;

    // A constant number of queries, whatever the number of lycées and
    // messages: submissions, (files,) mail states, reminders, then the three
    // lists of messages that are no submission.
    std::unordered_map<std::string, std::vector<MessageRecord>> submissions;
    for (auto& m : store.submissions(campaign_id)) submissions[m.uai].push_back(std::move(m));
    std::unordered_map<std::int64_t, std::pair<bool, bool>> sent;   // message -> (ack sent, forward sent)
    for (const auto& m : store.message_mail_states(campaign_id)) {
        if (m.state != "sent") continue;
        if (m.kind == "ack") sent[m.message_ref].first = true;
        if (m.kind == "forward") sent[m.message_ref].second = true;
    }
    std::unordered_map<std::string, std::vector<int>> reminders;
    for (const auto& r : store.campaign_reminders(campaign_id)) reminders[r.uai].push_back(r.offset_days);
    static const std::vector<FileRecord> kNoFiles;
    auto files_of = [&](std::int64_t id) -> const std::vector<FileRecord>& {
        auto it = files.find(id);
        return it == files.end() ? kNoFiles : it->second;
    };

    st.lycees.reserve(directory.lycees().size());
    for (const auto& l : directory.lycees()) {
        LyceeStatus ls;
        ls.lycee = l;
        if (const auto* b = directory.bassin(l.bassin_code)) ls.ien_io = b->ien_io_mail;
        bool on_time = false, late = false;
        if (auto it = submissions.find(l.uai); it != submissions.end()) {
            ls.submissions.reserve(it->second.size());
            for (auto& m : it->second) {
                SubmissionStatus s;
                s.id = m.id;
                s.received_at = m.received_at;
                s.from = std::move(m.from);
                s.message_id = std::move(m.message_id);
                s.identified_by = std::move(m.identified_by);
                s.late = m.late;
                const auto& fs = files_of(m.id);
                s.files = file_statuses(fs);
                s.checks = document_checks(fs, l.uai, config.campaign);
                if (auto sm = sent.find(m.id); sm != sent.end()) {
                    s.acknowledged = sm->second.first;
                    s.forwarded = sm->second.second;
                }
                (m.late ? late : on_time) = true;
                ls.submissions.push_back(std::move(s));
            }
        }
        ls.state = on_time ? "received" : late ? "late" : "missing";
        if (auto it = reminders.find(l.uai); it != reminders.end()) ls.reminders_sent = it->second;
        st.lycees.push_back(std::move(ls));
    }
    std::stable_sort(st.lycees.begin(), st.lycees.end(), [](const LyceeStatus& a, const LyceeStatus& b) {
        return std::tie(a.lycee.academie, a.lycee.bassin_code, a.lycee.uai) <
               std::tie(b.lycee.academie, b.lycee.bassin_code, b.lycee.uai);
    });
    for (const auto& m : store.messages_with_outcome(campaign_id, "unidentified"))
        st.unidentified.push_back({m.id, m.received_at, m.from, m.subject, m.reason, file_statuses(files_of(m.id)), 0,
                                   lines_of(m.links), m.uai});
    for (const auto& m : store.messages_with_outcome(campaign_id, "quarantined"))
        st.quarantined.push_back({m.id, m.received_at, m.from, m.subject, m.reason, {}, 0});
    for (const auto& m : store.messages_with_outcome(campaign_id, "duplicate"))
        st.duplicates.push_back({m.id, m.received_at, m.from, m.subject, m.reason, {}, m.duplicate_of});
    return st;
}

CampaignStatus filter_status(const CampaignStatus& status, const std::vector<std::string>& bassins) {
    CampaignStatus out;
    out.name = status.name;
    out.deadline = status.deadline;
    out.timezone = status.timezone;
    for (const auto& l : status.lycees)
        if (std::find(bassins.begin(), bassins.end(), l.lycee.bassin_code) != bassins.end()) out.lycees.push_back(l);
    return out;
}

std::string state_label_fr(const std::string& state) {
    if (state == "received") return "reçu";
    if (state == "late") return "en retard";
    if (state == "missing") return "manquant";
    return state;
}

std::string status_json(const CampaignStatus& st) {
    std::ostringstream o;
    o << "{\n  \"campaign\": {\"name\": " << json_string(st.name) << ", \"deadline\": " << json_string(st.deadline)
      << "},\n  \"lycees\": [";
    for (std::size_t i = 0; i < st.lycees.size(); ++i) {
        const auto& l = st.lycees[i];
        o << (i ? ",\n" : "\n") << "    {\"uai\": " << json_string(l.lycee.uai) << ", \"name\": " << json_string(l.lycee.name)
          << ", \"commune\": " << json_string(l.lycee.commune) << ",\n     \"academie\": " << json_string(l.lycee.academie)
          << ", \"bassin\": " << json_string(l.lycee.bassin_code) << ", \"ien_io\": " << json_string(l.ien_io)
          << ",\n     \"state\": " << json_string(l.state) << ",\n     \"submissions\": [";
        for (std::size_t j = 0; j < l.submissions.size(); ++j) {
            const auto& s = l.submissions[j];
            o << (j ? ",\n" : "\n") << "       {\"id\": " << s.id << ", \"received_at\": "
              << json_string(iso_local(s.received_at, st.timezone)) << ", \"from\": " << json_string(s.from)
              << ",\n        \"message_id\": " << json_string(s.message_id)
              << ", \"identified_by\": " << json_string(s.identified_by) << ",\n        \"files\": " << files_json(s.files)
              << ",\n        \"checks\": " << checks_json(s.checks)
              << ",\n        \"late\": " << (s.late ? "true" : "false")
              << ", \"acknowledged\": " << (s.acknowledged ? "true" : "false")
              << ", \"forwarded\": " << (s.forwarded ? "true" : "false") << "}";
        }
        o << (l.submissions.empty() ? "]" : "]") << ",\n     \"reminders_sent\": [";
        for (std::size_t j = 0; j < l.reminders_sent.size(); ++j)
            o << (j ? ", " : "") << json_string(offset_label(l.reminders_sent[j]));
        o << "]}";
    }
    o << "\n  ],\n  \"unidentified\": " << unidentified_json(st);
    o << ",\n  \"quarantined\": " << messages_json(st.quarantined, st.timezone, [](std::ostream& out, const UnidentifiedStatus& q) {
        out << ",\n     \"reason\": " << json_string(q.reason);
    });
    o << ",\n  \"duplicates\": " << messages_json(st.duplicates, st.timezone, [](std::ostream& out, const UnidentifiedStatus& d) {
        out << ", \"duplicate_of\": " << d.duplicate_of;
    });
    o << "\n}\n";
    return o.str();
}

std::string unidentified_json(const CampaignStatus& st) {
    return messages_json(st.unidentified, st.timezone, [](std::ostream& out, const UnidentifiedStatus& u) {
        out << ",\n     \"reason\": " << json_string(u.reason) << ", \"files\": " << files_json(u.files)
            << ", \"links\": " << json_strings(u.links) << ", \"uai\": " << json_string(u.uai);
    });
}

std::string status_csv(const CampaignStatus& st) {
    // Every field written from data goes through csv_text_field: a lycée name,
    // a file name or an address starting with '=' stays text in a spreadsheet.
    const auto field = [](const std::string& v) { return parsers::csv_text_field(v); };
    std::ostringstream o;
    o << "\xEF\xBB\xBF";
    o << "uai;nom;commune;academie;bassin;ien_io;etat;nb_envois;dernier_envoi;fichiers;accuse_envoye;transmis_ien_io;"
         "relances\r\n";
    for (const auto& l : st.lycees) {
        std::string last, files, reminders;
        bool ack = false, fwd = false;
        if (!l.submissions.empty()) {
            const auto& s = l.submissions.back();
            last = iso_local(s.received_at, st.timezone);
            for (const auto& f : s.files) files += (files.empty() ? "" : ", ") + f.name;
            ack = s.acknowledged;
            fwd = s.forwarded;
        }
        for (int r : l.reminders_sent) reminders += (reminders.empty() ? "" : " ") + ("J" + offset_label(r));
        o << field(l.lycee.uai) << ';' << field(l.lycee.name) << ';' << field(l.lycee.commune) << ';'
          << field(l.lycee.academie) << ';' << field(l.lycee.bassin_label.empty() ? l.lycee.bassin_code : l.lycee.bassin_label)
          << ';' << field(l.ien_io) << ';' << field(state_label_fr(l.state)) << ';' << l.submissions.size() << ';'
          << field(last) << ';' << field(files) << ';' << (ack ? "oui" : "non") << ';' << (fwd ? "oui" : "non") << ';'
          << field(reminders) << "\r\n";
    }
    return o.str();
}

std::string status_table(const CampaignStatus& st) {
    std::ostringstream o;
    std::size_t received = 0, late = 0, missing = 0;
    for (const auto& l : st.lycees) (l.state == "received" ? received : l.state == "late" ? late : missing)++;
    o << st.name << " — deadline " << st.deadline << " (" << st.timezone << ")\n";
    o << pad_right("UAI", 9) << "  " << pad_right("Lycée", 44) << "  " << pad_right("Commune", 18) << "  " << pad_right("Bassin", 8) << "  "
      << pad_right("State", 8) << "  " << pad_right("Sub.", 4) << "  Last received\n";
    o << std::string(9 + 44 + 18 + 8 + 8 + 4 + 12 + 25, '-') << "\n";
    for (const auto& l : st.lycees) {
        std::string last = l.submissions.empty() ? "" : iso_local(l.submissions.back().received_at, st.timezone);
        o << pad_right(l.lycee.uai, 9) << "  " << pad_right(l.lycee.name, 44) << "  " << pad_right(l.lycee.commune, 18) << "  "
          << pad_right(l.lycee.bassin_code, 8) << "  " << pad_right(l.state, 8) << "  " << pad_right(std::to_string(l.submissions.size()), 4)
          << "  " << last << (l.ien_io.empty() ? "  (no IEN-IO for this bassin)" : "") << "\n";
    }
    o << "\n" << st.lycees.size() << " lycées expected: " << received << " received, " << late << " late, " << missing
      << " missing; " << st.unidentified.size() << " message(s) waiting in triage.\n";
    return o.str();
}

std::string unidentified_table(const CampaignStatus& st) {
    std::ostringstream o;
    auto row = [&](const UnidentifiedStatus& u, const std::string& last) {
        o << pad_right(std::to_string(u.id), 6) << "  " << pad_right(iso_local(u.received_at, st.timezone), 25) << "  "
          << pad_right(u.from, 32) << "  " << pad_right(u.subject, 30) << "  " << last << "\n";
    };
    if (st.unidentified.empty()) o << "The triage queue is empty.\n";
    else o << pad_right("ID", 6) << "  " << pad_right("Received", 25) << "  " << pad_right("From", 32) << "  " << pad_right("Subject", 30) << "  Reason\n";
    for (const auto& u : st.unidentified) {
        row(u, u.reason + (u.uai.empty() ? "" : " (lycée " + u.uai + ")"));
        for (const auto& link : u.links) o << "        link: " << link << "\n";
    }
    // Not to assign, but a person may want to look: in the triage folder with
    // their reason, or set aside as a second delivery.
    if (!st.quarantined.empty()) {
        o << "\nQuarantined (kept in the triage folder, nothing sent):\n";
        for (const auto& q : st.quarantined) row(q, q.reason);
    }
    if (!st.duplicates.empty()) {
        o << "\nDuplicates (delivered again; recorded once, acknowledged once):\n";
        for (const auto& d : st.duplicates) row(d, "same as " + std::to_string(d.duplicate_of));
    }
    return o.str();
}

}  // namespace ppo::workflow
