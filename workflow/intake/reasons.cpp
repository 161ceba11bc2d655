#include "workflow/intake/reasons.h"
#include "parsers/text/strings.h"

#include <string_view>
#include <vector>

namespace ppo::workflow {

namespace {

using text::join;

bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Splits at `sep` outside parentheses and quotes ('...'), so that a file name
// "a; b (1).pdf" stays whole.
std::vector<std::string> split_top(std::string_view s, std::string_view sep) {
    std::vector<std::string> out;
    int depth = 0;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\'' && (quoted || i == 0 || s[i - 1] == ' ')) quoted = !quoted;
        else if (!quoted && c == '(') ++depth;
        else if (!quoted && c == ')' && depth > 0) --depth;
        else if (!quoted && depth == 0 && s.substr(i, sep.size()) == sep) {
            out.emplace_back(s.substr(start, i - start));
            start = i + sep.size();
            i = start - 1;
        }
    }
    out.emplace_back(s.substr(start));
    return out;
}

// "'x.pdf'" -> "« x.pdf »"
std::string quoted_fr(std::string_view s) {
    if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') s = s.substr(1, s.size() - 2);
    return "« " + std::string(s) + " »";
}

// Where a UAI or a name was read: "subject", "body", "file name 'x.pdf'".
std::string location_fr(std::string_view loc) {
    if (loc == "subject") return "l’objet";
    if (loc == "body") return "le corps du message";
    if (starts(loc, "file name ")) return "le nom de fichier " + quoted_fr(loc.substr(10));
    if (starts(loc, "letterhead")) {
        // "letterhead", "letterhead, page 1, line 3", "letterhead, line 3"
        std::string out = "l’en-tête du document";
        std::string_view rest = loc.substr(10);
        if (starts(rest, ", page ")) {
            const auto comma = rest.find(',', 7);
            out += ", page " + std::string(rest.substr(7, comma == std::string_view::npos ? std::string_view::npos : comma - 7));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma);
        }
        if (starts(rest, ", line ")) out += ", ligne " + std::string(rest.substr(7));
        return out;
    }
    return std::string(loc);
}

// What pointed at a lycée: "sender", "UAI in subject", "name in body", "forwarded", ...
std::string label_fr(std::string_view label) {
    if (label == "sender") return "expéditeur";
    if (label == "forwarded") return "message transféré";
    if (label == "thread") return "réponse à l’un de nos messages";
    if (label == "document") return "en-tête du document";
    if (label == "uai") return "UAI";
    if (label == "name") return "nom";
    if (starts(label, "UAI in ")) return "UAI dans " + location_fr(label.substr(7));
    if (starts(label, "name in ")) return "nom dans " + location_fr(label.substr(8));
    if (starts(label, "address in ")) return "adresse dans " + location_fr(label.substr(11));
    return std::string(label);
}

// "0590072H (sender, UAI in body), 0596082R (name in subject)"
std::string lycees_fr(std::string_view list) {
    std::vector<std::string> out;
    for (const auto& item : split_top(list, ", ")) {
        const auto open = item.find(" (");
        if (open == std::string::npos || item.back() != ')') {
            out.push_back(item);
            continue;
        }
        std::vector<std::string> labels;
        for (const auto& l : split_top(std::string_view(item).substr(open + 2, item.size() - open - 3), ", "))
            labels.push_back(label_fr(l));
        out.push_back(item.substr(0, open) + " (" + join(labels, ", ") + ")");
    }
    return join(out, ", ");
}

// The detail of a sender authentication (sender_auth.cpp).
std::string auth_fr(std::string_view d) {
    if (starts(d, "no Authentication-Results from "))
        return "aucun résultat d’authentification de " + std::string(d.substr(31));
    if (starts(d, "no DMARC, DKIM or SPF result from "))
        return "aucun résultat DMARC, DKIM ni SPF de " + std::string(d.substr(34));
    if (d == "no From address") return "pas d’adresse d’expéditeur";
    if (auto p = d.rfind(", not "); p != std::string_view::npos && (starts(d, "dkim=pass") || starts(d, "spf=pass") ||
                                                                      starts(d, "dmarc=pass")))
    {
        std::string head(d.substr(0, p));
        if (auto f = head.find(" for "); f != std::string::npos) head.replace(f, 5, " pour ");
        return head + ", et non " + std::string(d.substr(p + 6));
    }
    return std::string(d);
}

// What the MIME parser found wrong (parsers/mime/mime_message.cpp).
std::string malformed_fr(std::string_view d) {
    if (d == "empty message") return "message vide";
    if (d == "nothing readable in the message") return "rien de lisible dans le message";
    return std::string(d);
}

// "Text: detail" reasons whose detail stays as written, in parentheses.
struct Prefixed {
    std::string_view english;
    std::string_view french;
};
constexpr Prefixed kWithDetail[] = {
    {"cannot handle the message: ", "le message n’a pas pu être traité"},
    {"internal error while reading the message: ", "erreur interne à la lecture du message"},
    {"cannot judge the message: ", "le message n’a pas pu être examiné"},
    {"internal error while judging the message: ", "erreur interne à l’examen du message"},
    {"cannot archive the files: ", "les fichiers n’ont pas pu être archivés"},
    {"internal error while archiving the files: ", "erreur interne à l’archivage des fichiers"},
    {"cannot record the message: ", "le message n’a pas pu être enregistré"},
};

// "text (detail)" reasons: the French text, the detail kept.
constexpr Prefixed kWithParenthesis[] = {
    {"auto-submitted message (", "message automatique ("},
    {"bulk mail (", "envoi en nombre ("},
    {"bounce (from ", "avis de non-remise (de "},
    {"our own message (", "l’un de nos propres messages ("},
};

constexpr Prefixed kExact[] = {
    {"mailing-list message (List-Id)", "message d’une liste de diffusion (List-Id)"},
    {"bounce (empty Return-Path)", "avis de non-remise (Return-Path vide)"},
    {"auto-reply (X-Autoreply)", "réponse automatique (X-Autoreply)"},
    {"mail loop (X-Loop)", "boucle de messagerie (X-Loop)"},
    {"our own address as sender", "notre propre adresse comme expéditeur"},
    {"sender not authenticated", "l’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée"},
};

std::string one_fr(std::string_view r);

// Several reasons joined by "; ", each translated.
std::string compound_fr(std::string_view r) {
    std::vector<std::string> parts;
    for (const auto& p : split_top(r, "; ")) parts.push_back(one_fr(p));
    return join(parts, " ; ");
}

// "UAI X is not a lycée of this campaign (context)"
std::string not_in_campaign_fr(std::string_view r) {
    const std::string uai(r.substr(4, r.find(' ', 4) - 4));
    std::string out = "l’UAI " + uai + " n’est celle d’aucun lycée de la campagne";
    const auto open = r.find(" (");
    if (open == std::string_view::npos || r.back() != ')') return out;
    std::string_view context = r.substr(open + 2, r.size() - open - 3);
    if (starts(context, "sender ")) return out + " (adresse de l’expéditeur " + std::string(context.substr(7)) + ")";
    if (starts(context, "in ")) return out + " (dans " + location_fr(context.substr(3)) + ")";
    return out + " (" + std::string(context) + ")";
}

// "UAI X in <where> has a wrong check letter (expected Y)"
std::string wrong_letter_fr(std::string_view r) {
    const auto in = r.find(" in ");
    const auto has = r.rfind(" has a wrong check letter (expected ");
    const std::string uai(r.substr(4, in - 4));
    std::string_view where = r.substr(in + 4, has - in - 4);
    std::string_view expected = r.substr(has + 36, r.size() - has - 37);
    std::string place = starts(where, "sender address ") ? "l’adresse de l’expéditeur " + std::string(where.substr(15))
                                                         : location_fr(where);
    return "l’UAI " + uai + " dans " + place + " a une lettre clé erronée (UAI attendue : " + std::string(expected) + ")";
}

// "no evidence: sender ... , no UAI, no lycée name with its town (name 'x' without 'y', ...)"
std::string no_evidence_fr(std::string_view r) {
    std::string out = "aucun indice : ";
    std::string_view rest = r.substr(13);
    const std::string_view tail = ", no UAI, no lycée name with its town";
    const auto t = rest.find(tail);
    if (t == std::string_view::npos) return out + std::string(rest);
    std::string_view sender = rest.substr(0, t);
    if (sender == "sender not a lycée address") out += "l’expéditeur n’est pas l’adresse d’un lycée";
    else if (starts(sender, "sender ") && ends(sender, " not authenticated"))
        out += "l’expéditeur " + std::string(sender.substr(7, sender.size() - 7 - 18)) + " n’est pas authentifié";
    else out += std::string(sender);
    out += ", ni UAI, ni nom de lycée accompagné de sa commune";
    std::string_view names = rest.substr(t + tail.size());
    if (starts(names, " (name ") && ends(names, ")")) {
        std::vector<std::string> each;
        for (const auto& n : split_top(names.substr(7, names.size() - 8), ", ")) {
            const auto w = n.find(" without ");
            const auto shared = n.find(" shared by ");
            const auto of = n.find("' of '");
            if (w == std::string::npos && shared != std::string::npos && of != std::string::npos && of < shared) {
                std::string uais(std::string_view(n).substr(shared + 11));
                for (auto a = uais.find(" and "); a != std::string::npos; a = uais.find(" and ")) uais.replace(a, 5, " et ");
                each.push_back("le nom " + quoted_fr(std::string_view(n).substr(0, of + 1)) + " à " +
                               quoted_fr(std::string_view(n).substr(of + 5, shared - of - 5)) + ", commun à " + uais);
            } else if (w == std::string::npos) each.push_back(n);
            else each.push_back("le nom " + quoted_fr(std::string_view(n).substr(0, w)) + " sans la commune " +
                                quoted_fr(std::string_view(n).substr(w + 9)));
        }
        out += " (" + join(each, ", ") + ")";
    }
    return out;
}

std::string one_fr(std::string_view r) {
    for (const auto& e : kExact)
        if (r == e.english) return std::string(e.french);
    if (starts(r, "sender not authenticated (") && ends(r, ")"))
        return "l’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée (" + auth_fr(r.substr(26, r.size() - 27)) +
               ")";
    if (starts(r, "no document attached (") && ends(r, " other attachment(s))")) {
        const std::string n(r.substr(22, r.size() - 22 - 21));
        if (n == "0") return "aucun document joint";
        if (n == "1") return "aucun document joint (seulement 1 pièce jointe qui n’est pas un document)";
        return "aucun document joint (seulement " + n + " pièces jointes qui ne sont pas des documents)";
    }
    if (starts(r, "download link: "))
        return "un lien de téléchargement au lieu du fichier (" + std::string(r.substr(15)) + ")";
    if (starts(r, "forwarded message: ")) return "message transféré : " + one_fr(r.substr(19));
    if (starts(r, "document: ")) return "document joint : " + one_fr(r.substr(10));
    if (starts(r, "UAI ") && r.find(" is not a lycée of this campaign") != std::string_view::npos)
        return not_in_campaign_fr(r);
    if (starts(r, "UAI ") && r.find(" in ") != std::string_view::npos &&
        r.find(" has a wrong check letter (expected ") != std::string_view::npos && ends(r, ")"))
        return wrong_letter_fr(r);
    if (starts(r, "evidence for ")) {
        constexpr std::string_view sep = " lycées: ";
        const auto colon = r.find(sep);
        if (colon != std::string_view::npos) {
            std::string count(r.substr(13, colon - 13));
            if (count == "two") count = "deux";
            return "indices pour " + count + " lycées : " + lycees_fr(r.substr(colon + sep.size()));
        }
    }
    if (starts(r, "no evidence: ")) return no_evidence_fr(r);
    if (starts(r, "malformed message: ")) return "message mal formé (" + malformed_fr(r.substr(19)) + ")";
    if (starts(r, "message of ") && r.find(" bytes exceeds max_message_size (") != std::string_view::npos) {
        const auto b = r.find(" bytes exceeds max_message_size (");
        return "message de " + std::string(r.substr(11, b - 11)) + " octets, au-delà de la taille maximale acceptée (" +
               std::string(r.substr(b + 33, r.size() - b - 34)) + " octets, max_message_size)";
    }
    constexpr std::string_view imap = "the IMAP server cannot deliver this message (uid ";
    if (starts(r, imap)) {
        const auto close = r.find("): ");
        if (close != std::string_view::npos)
            return "le serveur IMAP ne peut pas fournir ce message (uid " +
                   std::string(r.substr(imap.size(), close - imap.size())) + " : " +
                   std::string(r.substr(close + 3)) + ")";
    }
    for (const auto& e : kWithDetail)
        if (starts(r, e.english)) return std::string(e.french) + " (" + std::string(r.substr(e.english.size())) + ")";
    for (const auto& e : kWithParenthesis)
        if (starts(r, e.english)) return std::string(e.french) + std::string(r.substr(e.english.size()));
    if (starts(r, "same content as message ") && ends(r, " (delivered again)"))
        return "même contenu que le message n° " + std::string(r.substr(24, r.size() - 24 - 18)) +
               " (distribué une seconde fois)";
    if (starts(r, "rejected by hand (was: ") && ends(r, ")"))
        return "écarté à la main (motif initial : " + compound_fr(r.substr(23, r.size() - 24)) + ")";
    return "motif non répertorié (" + std::string(r) + ")";
}

// One piece of evidence (identification.cpp, judge.cpp, intake.cpp).
std::string evidence_piece_fr(std::string_view e) {
    if (starts(e, "forwarded: ")) return "message transféré : " + evidence_piece_fr(e.substr(11));
    if (starts(e, "document: ")) return "document joint : " + evidence_piece_fr(e.substr(10));
    if (starts(e, "thread: replies to our mail to "))
        return "réponse à notre message au lycée " + std::string(e.substr(31));
    if (starts(e, "'")) {
        // "'x.pdf': <evidence read in that document>"
        const auto close = e.find("': ", 1);
        if (close != std::string_view::npos)
            return quoted_fr(e.substr(0, close + 1)) + " : " + evidence_piece_fr(e.substr(close + 3));
    }
    if (starts(e, "sender ") && ends(e, " not authenticated"))
        return "expéditeur " + std::string(e.substr(7, e.size() - 7 - 18)) + " (non authentifié)";
    if (starts(e, "sender ")) return "expéditeur " + std::string(e.substr(7));
    if (starts(e, "UAI ")) {
        const auto in = e.find(" in ");
        if (in != std::string_view::npos)
            return "UAI " + std::string(e.substr(4, in - 4)) + " dans " + location_fr(e.substr(in + 4));
    }
    if (starts(e, "address '")) {
        // "address 'A, CP' in LOC"
        const auto close = e.find("' in ", 9);
        if (close != std::string_view::npos)
            return "adresse " + quoted_fr(e.substr(8, close - 7)) + " dans " + location_fr(e.substr(close + 5));
    }
    if (starts(e, "name '")) {
        // "name 'N' + town 'T' in LOC" or "name 'N' in LOC1 + town 'T' in LOC2"
        const auto plus = e.find(" + town '");
        if (plus != std::string_view::npos) {
            std::string_view name_part = e.substr(5, plus - 5);          // "'N'" or "'N' in LOC1"
            std::string_view town_part = e.substr(plus + 8);             // "'T' in LOC"
            auto split_in = [](std::string_view part) {
                const auto close = part.find("' in ", 1);
                if (close == std::string_view::npos) return std::pair{quoted_fr(part), std::string()};
                return std::pair{quoted_fr(part.substr(0, close + 1)), location_fr(part.substr(close + 5))};
            };
            auto [name, name_loc] = split_in(name_part);
            auto [town, town_loc] = split_in(town_part);
            if (name_loc.empty()) return "nom " + name + " et commune " + town + (town_loc.empty() ? "" : " dans " + town_loc);
            return "nom " + name + " dans " + name_loc + " et commune " + town +
                   (town_loc.empty() ? "" : " dans " + town_loc);
        }
    }
    return std::string(e);
}

}  // namespace

std::string evidence_fr(const std::string& evidence) {
    std::vector<std::string> parts;
    for (const auto& p : split_top(evidence, "; "))
        if (!p.empty()) parts.push_back(evidence_piece_fr(p));
    return join(parts, " ; ");
}

std::string reason_fr(const std::string& reason) {
    if (reason.empty()) return reason;
    std::string out = compound_fr(reason);
    // A capital first letter: ASCII, or é / è / à (U+00E9, U+00E8, U+00E0: 0xC3 0xA9, 0xA8, 0xA0).
    if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
    else if (out.size() >= 2 && static_cast<unsigned char>(out[0]) == 0xC3) {
        const auto c = static_cast<unsigned char>(out[1]);
        if (c == 0xA9 || c == 0xA8 || c == 0xA0) out[1] = static_cast<char>(c - 0x20);
    }
    return out;
}

}  // namespace ppo::workflow
