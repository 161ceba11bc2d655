#include "workflow/intake/document_check.h"
#include "parsers/text/strings.h"

#include "workflow/intake/identification.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

namespace ppo::workflow {

namespace {

// The name of the document, folded (identification.h): one phrase is proof.
const std::vector<std::string> kPpoPhrases = {
    " programme pluriannuel d orientation ", " programmes pluriannuels d orientation ",
    " programme pluri annuel d orientation ", " programme pluriannuel de l orientation ",
    " ppo ",
};

// What a PPO is about, by the three axes of the regional letter (discover the
// world of work, know the courses and higher education, build one's choice),
// plus the vocabulary every PPO uses. Folded, on word boundaries.
struct Axis {
    const char* name;
    std::vector<std::string> words;
};
const std::vector<Axis> kAxes = {
    {"world of work", {" metiers ", " monde professionnel ", " entreprises ", " stage ", " stages ", " immersion ",
                       " professionnels "}},
    {"courses and higher education", {" formations ", " enseignement superieur ", " parcoursup ", " bts ", " licence ",
                                      " cpge ", " salon ", " forum ", " portes ouvertes "}},
    {"building the choice", {" projet d orientation ", " choix d orientation ", " accompagnement ", " psy en ",
                             " professeur principal ", " professeurs principaux ", " heures dediees ",
                             " parcours avenir ", " voie generale ", " voie technologique "}},
};

std::size_t count_occurrences(const std::string& folded, const std::string& needle, std::size_t cap) {
    std::size_t n = 0;
    for (auto at = folded.find(needle); at != std::string::npos && n < cap; at = folded.find(needle, at + 1)) ++n;
    return n;
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

// "2021-2022", "2021/2022", "2021 - 22", "2021-22": two numbers whose second is
// the next year. In folded text every separator is one space.
std::vector<std::string> years_in(const std::string& folded) {
    std::vector<std::string> out;
    std::istringstream words(folded);
    std::string prev, word;
    while (words >> word) {
        if (prev.size() == 4 && all_digits(prev) && prev.rfind("20", 0) == 0 && all_digits(word) &&
            (word.size() == 4 || word.size() == 2)) {
            const int first = std::stoi(prev);
            const int second = word.size() == 4 ? std::stoi(word) : (first / 100) * 100 + std::stoi(word);
            if (second == first + 1) {
                auto y = prev + "-" + std::to_string(second);
                if (std::find(out.begin(), out.end(), y) == out.end()) out.push_back(y);
            }
        }
        prev = word;
    }
    return out;
}

// Words separated by white space (the status splits two fields of every
// file: no stream, which costs a locale each time).
std::vector<std::string> split_words(const std::string& s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        std::size_t j = i;
        while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
        if (j > i) out.emplace_back(s, i, j - i);
        i = j;
    }
    return out;
}

using text::join;

std::string lycee_label(const Directory& directory, const std::string& uai) {
    if (const Lycee* l = directory.by_uai(uai)) return l->name + " (" + uai + ", " + l->commune + ")";
    return uai;
}

}  // namespace

std::vector<std::string> campaign_school_years(const CampaignConfig& campaign) {
    std::vector<std::string> out = years_in(fold_for_search(campaign.name));
    if (campaign.deadline.size() >= 4 && all_digits(campaign.deadline.substr(0, 4))) {
        const int y = std::stoi(campaign.deadline.substr(0, 4));
        for (const auto& s : {std::to_string(y - 1) + "-" + std::to_string(y), std::to_string(y) + "-" + std::to_string(y + 1)})
            if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    return out;
}

namespace {

std::size_t word_count(const std::string& folded) {
    return static_cast<std::size_t>(std::count(folded.begin(), folded.end(), ' ')) - (folded.size() > 1 ? 1 : 0);
}

// The lines of a '\n'-separated text as they are, the first `max` non-empty ones.
std::vector<std::string> raw_lines(const std::string& text, std::size_t max) {
    std::vector<std::string> out;
    std::size_t b = 0;
    while (b <= text.size() && out.size() < max) {
        std::size_t e = text.find('\n', b);
        if (e == std::string::npos) e = text.size();
        std::string line = text.substr(b, e - b);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
        if (!line.empty()) out.push_back(std::move(line));
        b = e + 1;
    }
    return out;
}

// Whether a line stands as a title: short, begins with a capital or a
// number (not a sentence wrapped onto it), does not end like a sentence.
bool title_like_line(const std::string& raw, const std::string& folded) {
    if (word_count(folded) > 12) return false;
    const char last = raw.back();
    if (last == '.' || last == ',' || last == ';') return false;
    for (const char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (c == ' ' || c == '-' || c == '\t' || c == '*' || c == '(' || u == 0xE2) continue;   // list marks, dashes
        if (u >= 0xC3 && u <= 0xC5) return true;   // an accented letter: let the phrase decide
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
    return false;
}

// Another kind of document, by its title ("Compte rendu du conseil
// d'administration", "Convocation") or a letter's "Objet :" line.
const std::vector<std::string> kOtherKinds = {
    " compte rendu ", " proces verbal ", " convocation ", " ordre du jour ", " releve de decisions ", " invitation ",
    " courrier ", " lettre ", " note d information ", " deliberation ",
};

std::string other_kind(const std::string& folded_title) {
    for (const auto& k : kOtherKinds)
        if (folded_title.starts_with(k)) return k.substr(1, k.size() - 2);
    return {};
}

struct TitleReading {
    std::vector<std::string> ppo;   // PPO phrases standing as the title
    std::string other;              // another kind of document named by the title, "" when none
};

TitleReading read_title(const std::string& title, const std::string& head, const std::string& text) {
    TitleReading r;
    const auto note = [&](const std::string& p) {
        const std::string q = "\"" + p.substr(1, p.size() - 2) + "\"";
        if (std::find(r.ppo.begin(), r.ppo.end(), q) == r.ppo.end()) r.ppo.push_back(q);
    };
    if (!title.empty()) {
        // The format says which lines are the title: only these (a title may
        // run over two lines).
        const std::string folded = fold_for_search(title);
        for (const auto& p : kPpoPhrases)
            if (folded.find(p) != std::string::npos) note(p);
        r.other = other_kind(folded);
        return r;
    }
    // No title given: a title-like line of the head (or of the text's start)
    // that begins with the phrase, after at most a few words that do not make
    // it a sentence ("Le", "Notre", "Annexe :", "Projet de"); a letter's
    // "Objet :" line, or a title-like line naming another kind of document.
    for (const auto& raw : raw_lines(head.empty() ? text : head, 60)) {
        const std::string line = fold_for_search(raw);
        if (line.size() <= 1) continue;
        if (line.starts_with(" objet ")) {
            if (r.other.empty()) r.other = "letter";
            continue;
        }
        if (!title_like_line(raw, line)) continue;
        if (r.other.empty()) r.other = other_kind(line);
        for (const auto& p : kPpoPhrases) {
            const auto at = line.find(p);
            if (at == std::string::npos) continue;
            std::string_view before = std::string_view(line).substr(0, at + 1);
            bool title_words = true;
            std::size_t b = 1;
            while (b < before.size()) {
                const auto e = before.find(' ', b);
                const std::string_view w = before.substr(b, e - b);
                if (!(w == "le" || w == "la" || w == "les" || w == "notre" || w == "annexe" || w == "projet" || w == "de" ||
                      w == "du" || w == "l" || w == "document" || w == "nouveau" || w == "lycee" ||
                      std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; })))
                    title_words = false;
                b = e + 1;
            }
            if (title_words) note(p);
        }
    }
    return r;
}

}  // namespace

PpoSignals ppo_signals(const std::string& text, bool image_only, const std::string& text_error,
                       const CampaignConfig& campaign, const std::string& title, const std::string& head) {
    PpoSignals s;
    const std::string folded = fold_for_search(text);
    s.school_years = years_in(folded);
    std::size_t letters = 0;
    for (char c : folded) letters += c != ' ';
    if (!text_error.empty() || image_only || letters < 150) {
        s.looks_like_ppo = "unknown";
        s.detail = !text_error.empty() ? "no text: " + text_error
                   : image_only        ? "no text: a scanned image"
                                       : "too little text to judge (" + std::to_string(letters) + " letters)";
        return s;
    }
    const TitleReading title_reading = read_title(title, head, text);
    const std::vector<std::string>& found = title_reading.ppo;
    std::vector<std::string> mentioned;   // in the text, not as its title
    if (found.empty())
        for (const auto& p : kPpoPhrases)
            if (folded.find(p) != std::string::npos) mentioned.push_back("\"" + p.substr(1, p.size() - 2) + "\"");
    const std::size_t orientation = count_occurrences(folded, " orientation ", 100);
    std::vector<std::string> axes;
    for (const auto& a : kAxes)
        if (std::any_of(a.words.begin(), a.words.end(), [&](const std::string& w) { return folded.find(w) != std::string::npos; }))
            axes.push_back(a.name);
    const auto campaign_years = campaign_school_years(campaign);
    const bool campaign_year = std::any_of(s.school_years.begin(), s.school_years.end(), [&](const std::string& y) {
        return std::find(campaign_years.begin(), campaign_years.end(), y) != campaign_years.end();
    });

    if (!found.empty())
        s.looks_like_ppo = "yes";
    else if (!title_reading.other.empty())
        s.looks_like_ppo = "no";   // the title says what it is: minutes, a convocation, a letter
    else if ((orientation >= 3 && axes.size() >= 2) || (orientation >= 2 && axes.size() == 3 && campaign_year))
        s.looks_like_ppo = "yes";
    else if (orientation == 0 || (orientation < 2 && axes.size() < 2))
        s.looks_like_ppo = "no";
    else
        s.looks_like_ppo = "unknown";
    std::string d = found.empty() ? "no PPO title" : "title " + join(found, ", ");
    if (!mentioned.empty()) d += " (mentioned in the text: " + join(mentioned, ", ") + ")";
    if (found.empty() && !title_reading.other.empty()) d += "; the title says: " + title_reading.other;
    d += "; \"orientation\" " + std::to_string(orientation) + (orientation >= 100 ? "+" : "") + " time(s)";
    d += "; axes: " + (axes.empty() ? std::string("none") : join(axes, ", "));
    if (!s.school_years.empty()) d += "; school years " + join(s.school_years, ", ");
    s.detail = d;
    return s;
}

std::vector<DocumentCheck> document_checks(const std::vector<FileRecord>& files, const std::string& credited_uai,
                                           const CampaignConfig& campaign) {
    // The status checks every submission of the campaign: its first school
    // year is worked out once per campaign, not once per submission.
    thread_local std::string memo_key;
    thread_local int first_campaign_year = 9999;
    if (const std::string key = campaign.name + '\n' + campaign.deadline; key != memo_key) {
        first_campaign_year = 9999;
        for (const auto& y : campaign_school_years(campaign))
            first_campaign_year = std::min(first_campaign_year, std::stoi(y.substr(0, 4)));
        memo_key = key;
    }
    std::vector<DocumentCheck> out;
    for (const auto& f : files) {
        if (f.kind == "tnef") continue;
        DocumentCheck c;
        c.file = f.name;
        c.looks_like_ppo = f.looks_like_ppo;
        c.detail = f.check_detail;
        c.named_uais = split_words(f.named_uais);
        c.school_years = split_words(f.school_years);
        if (!f.looks_like_ppo.empty()) {
            if (c.named_uais.empty()) c.lycee = "none";
            else if (c.named_uais.size() > 1) c.lycee = "several";
            else c.lycee = c.named_uais.front() == credited_uai ? "same" : "other";
        }
        c.outdated = !c.school_years.empty() && std::all_of(c.school_years.begin(), c.school_years.end(), [&](const std::string& y) {
            return std::stoi(y.substr(0, 4)) < first_campaign_year;
        });
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<std::string> french_remarks(const std::vector<DocumentCheck>& checks, const Directory& directory) {
    std::vector<std::string> out;
    for (const auto& c : checks) {
        const std::string doc = "Le document « " + c.file + " »";
        if (c.looks_like_ppo == "no")
            out.push_back(doc + " ne semble pas être un programme pluriannuel d'orientation.");
        if (c.lycee == "other")
            out.push_back(doc + " semble concerner un autre établissement : " + lycee_label(directory, c.named_uais.front()) + ".");
        if (c.lycee == "several") {
            std::vector<std::string> names;
            for (const auto& u : c.named_uais) names.push_back(lycee_label(directory, u));
            out.push_back(doc + " mentionne plusieurs établissements : " + join(names, ", ") + ".");
        }
        if (c.outdated)
            out.push_back(doc + " semble porter sur l'année scolaire " + join(c.school_years, ", ") +
                          ", et non sur celle de la campagne en cours.");
    }
    return out;
}

std::vector<std::string> french_check_lines(const std::vector<DocumentCheck>& checks, const Directory& directory) {
    std::vector<std::string> out;
    for (const auto& c : checks) {
        if (c.looks_like_ppo.empty()) continue;
        std::string line = "« " + c.file + " » : ";
        line += c.looks_like_ppo == "yes"  ? "ressemble à un PPO"
                : c.looks_like_ppo == "no" ? "ne ressemble pas à un PPO"
                                           : "contenu non vérifiable (document scanné ou illisible)";
        if (c.lycee == "same") line += " ; établissement : celui-ci";
        else if (c.lycee == "other") line += " ; établissement mentionné : " + lycee_label(directory, c.named_uais.front());
        else if (c.lycee == "several") line += " ; plusieurs établissements mentionnés";
        if (!c.school_years.empty()) line += " ; année(s) scolaire(s) : " + join(c.school_years, ", ");
        if (c.outdated) line += " (antérieure à la campagne)";
        out.push_back(line);
    }
    return out;
}

}  // namespace ppo::workflow
