#include "workflow/intake/identification.h"
#include "parsers/text/strings.h"

#include "parsers/text/uai.h"
#include "parsers/text/utf8.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <cstddef>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

namespace ppo::workflow {

namespace {

enum class Kind { sender = 0, uai = 1, name = 2 };

std::string_view kind_label(Kind k) {
    switch (k) {
        case Kind::sender: return "sender";
        case Kind::uai: return "uai";
        case Kind::name: return "name";
    }
    return "";
}

// One lycée indicated by one piece of evidence.
struct Vote {
    std::string uai;
    Kind kind;
    std::string short_label;  // for the ambiguity reason: "sender", "UAI in body", "name in subject"
};

std::string ascii_lower(std::string_view s) { return text::lower(s); }

std::string trim(std::string_view s) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    std::size_t b = 0, e = s.size();
    while (b < e && is_space(s[b])) ++b;
    while (e > b && is_space(s[e - 1])) --e;
    return std::string(s.substr(b, e - b));
}

// ---------------------------------------------------------------------------
// Accent folding.
//
// Text is reduced to lower-case ASCII words separated by single spaces, with a
// space at both ends so that " phrase " finds a phrase on word boundaries.
// Latin-1 letters and œ/Œ/Ÿ are folded to ASCII; every other character
// (punctuation, apostrophes, hyphens, underscores, typographic quotes,
// non-breaking spaces, invalid UTF-8) is a word separator.

// U+00C0..U+00FF. Empty: not a letter.
constexpr std::array<std::string_view, 64> kLatin1 = {
    "a", "a", "a", "a", "a", "a", "ae", "c",   // C0-C7  À Á Â Ã Ä Å Æ Ç
    "e", "e", "e", "e", "i", "i", "i", "i",    // C8-CF  È É Ê Ë Ì Í Î Ï
    "d", "n", "o", "o", "o", "o", "o", "",     // D0-D7  Ð Ñ Ò Ó Ô Õ Ö ×
    "o", "u", "u", "u", "u", "y", "th", "ss",  // D8-DF  Ø Ù Ú Û Ü Ý Þ ß
    "a", "a", "a", "a", "a", "a", "ae", "c",   // E0-E7
    "e", "e", "e", "e", "i", "i", "i", "i",    // E8-EF
    "d", "n", "o", "o", "o", "o", "o", "",     // F0-F7  ... ÷
    "o", "u", "u", "u", "u", "y", "th", "y",   // F8-FF
};

std::string_view fold_code_point(char32_t cp) {
    if (cp >= 0xC0 && cp <= 0xFF) return kLatin1[cp - 0xC0];
    if (cp == 0x152 || cp == 0x153) return "oe";  // Œ œ
    if (cp == 0x178) return "y";                   // Ÿ
    return {};
}

struct Folded {
    std::string text;               // " lycee camille claudel "
    std::vector<std::size_t> src;   // for each byte of text, the offset in the source it came from
};

Folded fold(std::string_view s) {
    Folded f;
    f.text.reserve(s.size() + 2);
    f.src.reserve(s.size() + 2);
    f.text += ' ';
    f.src.push_back(0);
    const auto put_space = [&](std::size_t off) {
        if (f.text.back() != ' ') {
            f.text += ' ';
            f.src.push_back(off);
        }
    };
    const auto put = [&](std::string_view ascii, std::size_t off) {
        for (char c : ascii) {
            f.text += c;
            f.src.push_back(off);
        }
    };
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c >= 'A' && c <= 'Z')
                put(std::string_view(&"abcdefghijklmnopqrstuvwxyz"[c - 'A'], 1), i);
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
                put(std::string_view(&s[i], 1), i);
            else
                put_space(i);
            ++i;
            continue;
        }
        std::size_t len = 0;
        char32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        }
        bool ok = len != 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (!ok) {  // invalid UTF-8: one byte, treated as a separator
            put_space(i);
            ++i;
            continue;
        }
        const std::string_view ascii = fold_code_point(cp);
        if (ascii.empty())
            put_space(i);
        else
            put(ascii, i);
        i += len;
    }
    put_space(s.size());
    return f;
}

// ---------------------------------------------------------------------------
// Distinctive names.

// Generic leading words of a directory name (folded). Stripped repeatedly from
// the front, longest first, until none applies: "Lycée privé polyvalent Le X"
// -> "X".
constexpr std::array<std::string_view, 30> kGenericPrefixes = {
    "lycee d enseignement general et technologique",
    "lycee d enseignement general",
    "lycee general et technologique",
    "general et technologique",
    "lycee professionnel",
    "lycee technologique",
    "lycee polyvalent",
    "lycee general",
    "lycee privee",
    "lycee prive",
    "professionnel",
    "technologique",
    "polyvalent",
    "general",
    "privee",
    "prive",
    "lycee",
    "legt",
    "lgt",
    "lpo",
    "lp",
    // articles
    "de la",
    "de l",
    "des",
    "les",
    "de",
    "du",
    "la",
    "le",
    "l",
};

struct NameKey {
    std::string phrase;   // folded, no padding: "camille claudel"
    std::string display;  // as in the directory: "Camille Claudel"
};

std::optional<NameKey> distinctive_name(const std::string& name) {
    const Folded f = fold(name);
    const std::string_view t = f.text;
    std::size_t pos = 1;  // start of the remaining words in t (t[0] is the padding space)
    for (bool changed = true; changed && pos < t.size();) {
        changed = false;
        for (std::string_view prefix : kGenericPrefixes) {
            if (t.substr(pos).starts_with(prefix) && pos + prefix.size() < t.size() &&
                t[pos + prefix.size()] == ' ') {
                pos += prefix.size() + 1;
                changed = true;
                break;
            }
        }
    }
    if (pos >= t.size()) return std::nullopt;
    std::string phrase(t.substr(pos, t.size() - 1 - pos));
    if (phrase.empty()) return std::nullopt;
    // At least one significant word: "Lycée du Pré" has none, it would match too much.
    bool significant = false;
    std::size_t word = 0;
    for (std::size_t i = 0; i <= phrase.size(); ++i) {
        if (i == phrase.size() || phrase[i] == ' ') {
            if (i - word >= 4) significant = true;
            word = i + 1;
        }
    }
    if (!significant) return std::nullopt;
    return NameKey{std::move(phrase), trim(std::string_view(name).substr(f.src[pos]))};
}

// Start offsets (in the padded folded text, of the phrase's first letter) of every
// word-bounded occurrence of a phrase, given padded: " phrase ".
std::vector<std::size_t> padded_occurrences(const std::string& text, const std::string& needle) {
    std::vector<std::size_t> out;
    for (std::size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1))
        out.push_back(p + 1);
    return out;
}

std::vector<std::size_t> occurrences(const std::string& text, const std::string& phrase) {
    if (phrase.empty()) return {};
    return padded_occurrences(text, " " + phrase + " ");
}

// ---------------------------------------------------------------------------

struct Location {
    std::string label;        // "subject", "body", "file name 'x.pdf'", "letterhead"
    std::string raw;          // NFC-normalised, ligatures folded
    Folded folded;
    bool letterhead = false;  // read by the letterhead rules
    int page = 0;             // letterhead: its page, 0 when none

    // Where a byte of `folded` was read: the label, and in a letterhead its
    // page and line ("letterhead, page 1, line 3").
    std::string where(std::size_t folded_offset) const {
        if (!letterhead) return label;
        const std::size_t raw_offset = folded.src[std::min(folded_offset, folded.src.size() - 1)];
        const auto line = 1 + std::count(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(std::min(raw_offset, raw.size())), '\n');
        return label + (page > 0 ? ", page " + std::to_string(page) : std::string()) + ", line " + std::to_string(line);
    }
};

Location make_location(std::string label, std::string_view text, bool letterhead = false, int page = 0) {
    Location l;
    l.label = std::move(label);
    l.raw = parsers::normalize_text(text);
    l.folded = fold(l.raw);
    l.letterhead = letterhead;
    l.page = page;
    return l;
}

// ---------------------------------------------------------------------------
// What a name's neighbours say (folded words, nearest first).

// Up to `n` words of a padded folded text before the one starting at `start`.
std::vector<std::string_view> words_before(std::string_view t, std::size_t start, std::size_t n) {
    std::vector<std::string_view> out;
    std::size_t end = start;   // t[end - 1] is the space before the next word
    while (out.size() < n && end > 1) {
        const std::size_t e = end - 1;
        std::size_t b = e;
        while (b > 0 && t[b - 1] != ' ') --b;
        if (b == e) break;
        out.push_back(t.substr(b, e - b));
        end = b;
    }
    return out;
}

bool in(std::string_view w, std::initializer_list<std::string_view> set) {
    return std::find(set.begin(), set.end(), w) != set.end();
}

bool is_article(std::string_view w) { return in(w, {"de", "la", "le", "l", "du", "des", "d", "les"}); }

// Right after a word that says "lycée" ("Lycée", "LGT", "LPO", "Ensemble
// scolaire"...), with only its qualifiers between ("lycée privé polyvalent
// de la"...).
bool lycee_context(std::string_view t, std::size_t start) {
    const auto words = words_before(t, start, 10);
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view w = words[i];
        if (in(w, {"lycee", "lycees", "lgt", "legt", "lpo", "lp", "lpa", "lta", "lycee", "institution"})) return true;
        if (w == "scolaire" && i + 1 < words.size() && in(words[i + 1], {"ensemble", "cite", "groupe"})) return true;
        if (w == "metiers" && i + 2 < words.size() && words[i + 1] == "des" && words[i + 2] == "lycee") return true;
        if (is_article(w) ||
            in(w, {"general", "generale", "generaux", "et", "technologique", "technologiques", "polyvalent", "polyvalente",
                   "professionnel", "professionnelle", "prive", "privee", "public", "publique", "agricole", "metiers",
                   "enseignement", "international", "internationale", "horticole", "hotelier", "maritime", "catholique",
                   "sous", "contrat", "d", "agro", "technique", "industriel", "industrielle", "lycee"}))
            continue;
        return false;
    }
    return false;
}

// A year, not a street number: 19xx and 20xx.
bool year_like(std::string_view w) { return w.size() == 4 && (w.starts_with("19") || w.starts_with("20")); }

// Inside a postal address: after a street word ("rue", "avenue du Général",
// "place de la") or a street number ("171", "12 bis").
bool street_context(std::string_view t, std::size_t start) {
    const auto words = words_before(t, start, 6);
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string_view w = words[i];
        if (in(w, {"rue", "r", "av", "ave", "avenue", "bd", "bld", "boulevard", "place", "pl", "allee", "allees", "chemin",
                   "ch", "impasse", "imp", "quai", "square", "sq", "cours", "route", "rte", "parvis", "esplanade",
                   "residence", "res", "voie", "sentier", "passage", "faubourg", "fbg", "promenade", "chaussee",
                   "lotissement", "hameau", "carrefour", "rocade", "mail", "ruelle", "venelle", "sente", "cite", "villa",
                   "domaine", "clos", "parc", "zac", "zi", "za"}))
            return w != "cite" || i == 0 || words[i - 1] != "scolaire";
        if (w == "point" && i + 1 < words.size() && words[i + 1] == "rond") return true;
        if (!w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return w.size() <= 4 && !year_like(w);
        if (in(w, {"bis", "ter", "quater"})) return true;
        if (is_article(w) || in(w, {"general", "gal", "marechal", "mal", "docteur", "dr", "president", "pdt",
                                       "professeur", "pr", "abbe", "commandant", "cdt", "colonel", "col", "capitaine",
                                       "lieutenant", "pere", "mgr", "monseigneur", "amiral", "saint", "sainte", "st",
                                       "ste", "et", "freres"}))
            continue;
        return false;
    }
    return false;
}

// The académie's, rectorat's or région's: "Académie de Lille", "Rectorat de
// l'académie d'Amiens", "Région académique Hauts-de-France".
bool academie_context(std::string_view t, std::size_t start) {
    const auto words = words_before(t, start, 4);
    for (const std::string_view w : words) {
        if (in(w, {"academie", "academique", "rectorat", "region", "dsden", "ministere", "inspection", "departementale",
                   "departementaux"}))
            return true;
        if (is_article(w)) continue;
        return false;
    }
    return false;
}

// Words too common to be a lycée's name on their own ("salle" left from
// "Lycée privé La Salle", "mer", "sources"): they name a lycée only right
// after "lycée".
bool common_word(std::string_view w) {
    static const std::set<std::string_view> kCommon = {
        "abbaye", "agricole", "arts", "avenir", "bois", "campagne", "campus", "cathedrale", "cedres", "centre", "champs",
        "chateau", "chenes", "college", "colline", "commerce", "dame", "ecole", "eglise", "environnement", "etoile",
        "europe", "ferme", "fontaine", "fontaines", "foret", "gare", "hetre", "horizon", "horizons", "horticole",
        "hotellerie", "iles", "industrie", "international", "jardin", "jardins", "lac", "lumiere", "lumieres", "marine",
        "maritime", "mer", "metiers", "mont", "montagne", "monts", "moulin", "moulins", "nature", "nord", "notre",
        "oiseaux", "orme", "ormes", "ouest", "paix", "parc", "pins", "plaine", "plateau", "pont", "port", "pre",
        "providence", "prieure", "rive", "rives", "rivages", "saint", "sainte", "salle", "sante", "sapins", "sciences",
        "social", "soleil", "source", "sources", "sud", "technique", "terres", "tilleuls", "val", "vallee", "vignes",
        "ville", "cours", "est"};
    return kCommon.count(w) != 0;
}

struct Collector {
    std::vector<Vote> votes;
    std::vector<std::string> evidence;
    std::vector<std::string> blockers;  // wrong check letters, UAIs outside the campaign

    void vote(std::string uai, Kind kind, std::string short_label, std::string evidence_line) {
        votes.push_back({std::move(uai), kind, std::move(short_label)});
        evidence.push_back(std::move(evidence_line));
    }
};

// A UAI (valid check letter) that is not a lycée of the campaign is a blocker;
// otherwise a vote for it.
void uai_vote(Collector& c, const Directory& directory, const std::string& uai, Kind kind,
              const std::string& where_short, const std::string& evidence_line, const std::string& context) {
    const Lycee* lycee = directory.by_uai(uai);
    if (lycee == nullptr) {
        c.blockers.push_back("UAI " + uai + " is not a lycée of this campaign (" + context + ")");
        return;
    }
    c.vote(lycee->uai, kind, where_short, evidence_line);
}

void sender_evidence(Collector& c, const IdentificationInput& input, const Directory& directory,
                     const std::vector<std::string>& academie_domains) {
    std::string address = ascii_lower(trim(input.from_address));
    // An addr-spec is expected; tolerate "Name <addr>" all the same.
    if (const auto lt = address.rfind('<'), gt = address.rfind('>'); lt != std::string::npos && gt != std::string::npos && lt < gt)
        address = trim(std::string_view(address).substr(lt + 1, gt - lt - 1));
    const auto at = address.rfind('@');
    if (at == std::string::npos || at == 0) return;
    const std::string local = address.substr(0, at);
    const std::string domain = address.substr(at + 1);
    const std::string evidence_line = "sender " + address;

    bool academie = false;
    for (const auto& d : academie_domains)
        if (ascii_lower(d) == domain) academie = true;

    std::vector<std::string> uais;  // lycées this address belongs to
    if (academie && local.size() == 11 && local.starts_with("ce.")) {
        const std::string code = local.substr(3);
        const bool shaped = std::all_of(code.begin(), code.begin() + 7, [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                            code[7] >= 'a' && code[7] <= 'z';
        if (shaped) {
            if (auto uai = parsers::normalize_uai(code)) {
                const Lycee* lycee = directory.by_uai(*uai);
                if (lycee == nullptr) {
                    c.blockers.push_back("UAI " + *uai + " is not a lycée of this campaign (" + evidence_line + ")");
                    return;
                }
                uais.push_back(lycee->uai);
            } else {
                std::string upper_code = code;
                upper_code[7] = static_cast<char>(upper_code[7] - 'a' + 'A');
                c.blockers.push_back("UAI " + upper_code + " in sender address " + address +
                                     " has a wrong check letter (expected " + upper_code.substr(0, 7) +
                                     parsers::uai_check_letter(upper_code) + ")");
                return;
            }
        }
    }
    // Directory Mail, exact address only: a shared domain (orange.fr, wanadoo.fr,
    // the académie's own) says nothing by itself. Two lycées may share one
    // address (cité scolaire): each gets a vote, and the message goes to triage.
    for (const Lycee* lycee : directory.by_mail_domain(domain))
        if (ascii_lower(lycee->mail) == address &&
            std::find(uais.begin(), uais.end(), lycee->uai) == uais.end())
            uais.push_back(lycee->uai);
    for (const auto& uai : uais) c.vote(uai, Kind::sender, "sender", evidence_line);
}

// A lycée's own address: an official one (ce.<7 digits><letter> at an académie
// domain, or at any ac-*.fr, check letter right or wrong) or a lycée's
// directory Mail. Such a From, when not authenticated, is a forgery until shown
// otherwise.
bool lycee_address(const IdentificationInput& input, const Directory& directory,
                   const std::vector<std::string>& academie_domains) {
    std::string address = ascii_lower(trim(input.from_address));
    if (const auto lt = address.rfind('<'), gt = address.rfind('>'); lt != std::string::npos && gt != std::string::npos && lt < gt)
        address = trim(std::string_view(address).substr(lt + 1, gt - lt - 1));
    const auto at = address.rfind('@');
    if (at == std::string::npos || at == 0) return false;
    const std::string local = address.substr(0, at);
    const std::string domain = address.substr(at + 1);
    bool academie = domain.starts_with("ac-") && domain.ends_with(".fr");
    for (const auto& d : academie_domains)
        if (ascii_lower(d) == domain) academie = true;
    if (academie && local.size() == 11 && local.starts_with("ce.") &&
        std::all_of(local.begin() + 3, local.begin() + 10, [](char ch) { return ch >= '0' && ch <= '9'; }) &&
        local[10] >= 'a' && local[10] <= 'z')
        return true;
    for (const Lycee* lycee : directory.by_mail_domain(domain))
        if (ascii_lower(trim(lycee->mail)) == address) return true;
    return false;
}

void uai_mentions(Collector& c, const std::vector<Location>& locations, const Directory& directory) {
    for (const auto& loc : locations) {
        for (const auto& m : parsers::find_uai_mentions(loc.raw)) {
            std::string where = loc.label;
            if (loc.letterhead) {
                const auto at = loc.raw.find(m.written);
                // The folded offset of the raw offset: the first folded byte read at or after it.
                std::size_t folded_at = 0;
                while (at != std::string::npos && folded_at + 1 < loc.folded.src.size() && loc.folded.src[folded_at] < at)
                    ++folded_at;
                where = loc.where(folded_at);
            }
            const std::string shown = m.written.size() <= 8 ? m.code : m.code + " ('" + m.written + "')";
            if (!m.valid) {
                c.blockers.push_back("UAI " + m.code + " in " + where + " has a wrong check letter (expected " +
                                     m.code.substr(0, 7) + parsers::uai_check_letter(m.code) + ")");
                continue;
            }
            uai_vote(c, directory, m.code, Kind::uai, "UAI in " + loc.label, "UAI " + shown + " in " + where,
                     "in " + where);
        }
    }
}

// Name evidence. A lycée is named when its distinctive name and its town both
// appear in the subject, body, file names or letterhead (not necessarily in the
// same one), each where it names a lycée or a town (identification.h): not in a
// postal address, not as the académie's, a common word only after "lycée", and
// in a letterhead only after "lycée" or as the directory's full name.
// When one lycée's distinctive name is contained in another's ("Jean Moulin" /
// "Jean Moulin de la Mer"), an occurrence that lies inside an occurrence of the
// longer name counts for the longer name only. A name that two lycées of one
// town share counts for neither.
//
// Decision: name evidence always counts as a vote, whatever else was found. A
// message from lycée A (sender or UAI) that names lycée B with its town is
// ambiguous and goes to triage: it may be A forwarding B's document, and crediting
// a file to the wrong lycée is worse than asking a human.
}  // namespace

struct NameIndex::Impl {
    struct Key {
        const Lycee* lycee;
        NameKey name;
        std::string needle;        // " phrase ": word-bounded in the padded folded text
        std::string town_phrase;   // the commune, folded, no padding
        std::string full_needle;   // " the directory's full name ", folded
        bool common = false;       // a single common word
        std::vector<const Lycee*> namesakes{};   // other lycées of the same town with the same name
    };
    std::vector<Key> keys;
    // The lycées' street addresses, folded: " 162 rue anatole france " with " 62500 ".
    struct Address {
        const Lycee* lycee;
        std::string street;        // padded
        std::string postcode;      // padded
    };
    std::vector<Address> addresses;
};

NameIndex::NameIndex(const Directory& directory) : impl_(std::make_unique<Impl>()) {
    for (const auto& lycee : directory.lycees()) {
        auto k = distinctive_name(lycee.name);
        if (!k) continue;
        std::string needle = " " + k->phrase + " ";
        const std::string town = fold(parsers::normalize_text(lycee.commune)).text;
        const bool common = k->phrase.find(' ') == std::string::npos && common_word(k->phrase);
        std::string full = fold(parsers::normalize_text(lycee.name)).text;
        impl_->keys.push_back({&lycee, std::move(*k), std::move(needle),
                               town.size() > 2 ? town.substr(1, town.size() - 2) : std::string(), std::move(full), common});
    }
    for (const auto& lycee : directory.lycees()) {
        // A street address settles only with a number and a street: "162 rue Anatole France".
        const std::string street = fold(parsers::normalize_text(lycee.adresse)).text;
        const std::string postcode = fold(lycee.code_postal).text;
        const bool numbered = std::any_of(street.begin(), street.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        if (numbered && std::count(street.begin(), street.end(), ' ') >= 4 && postcode.size() == 7)
            impl_->addresses.push_back({&lycee, street, postcode});
    }
    for (auto& a : impl_->keys)
        for (const auto& b : impl_->keys)
            if (&a != &b && a.name.phrase == b.name.phrase && a.town_phrase == b.town_phrase)
                a.namesakes.push_back(b.lycee);
}

NameIndex::~NameIndex() = default;
NameIndex::NameIndex(NameIndex&&) noexcept = default;
NameIndex& NameIndex::operator=(NameIndex&&) noexcept = default;

namespace {

void name_mentions(Collector& c, const std::vector<Location>& locations, const NameIndex::Impl& index,
                   std::vector<std::string>& names_without_town) {
    const auto& keys = index.keys;
    // The keys found somewhere, with their occurrences in each location
    // (almost always none: most messages name no lycée at all).
    struct Hit {
        std::size_t key;
        std::vector<std::vector<std::size_t>> occ;   // per location
    };
    std::vector<Hit> hits;
    for (std::size_t k = 0; k < keys.size(); ++k) {
        for (std::size_t l = 0; l < locations.size(); ++l) {
            auto found = padded_occurrences(locations[l].folded.text, keys[k].needle);
            if (found.empty()) continue;
            if (hits.empty() || hits.back().key != k) hits.push_back({k, std::vector<std::vector<std::size_t>>(locations.size())});
            hits.back().occ[l] = std::move(found);
        }
    }

    // An occurrence inside a longer name's occurrence does not count.
    const auto covered = [&](const Hit& h, std::size_t l, std::size_t start) {
        const std::size_t len = keys[h.key].name.phrase.size();
        for (const Hit& o : hits) {
            const std::size_t olen = keys[o.key].name.phrase.size();
            if (o.key == h.key || olen <= len) continue;
            for (std::size_t ostart : o.occ[l])
                if (ostart <= start && start + len <= ostart + olen) return true;
        }
        return false;
    };
    // Inside an occurrence of the lycée's full directory name.
    const auto in_full_name = [&](const NameIndex::Impl::Key& key, const Location& loc, std::size_t start) {
        if (key.full_needle.size() <= key.needle.size()) return false;   // the full name is the distinctive one
        for (std::size_t f : padded_occurrences(loc.folded.text, key.full_needle))
            if (f <= start && start + key.name.phrase.size() <= f + key.full_needle.size() - 2) return true;
        return false;
    };
    // Where the name names a lycée.
    const auto counts = [&](const NameIndex::Impl::Key& key, const Location& loc, std::size_t start) {
        const std::string_view t = loc.folded.text;
        if (lycee_context(t, start) || in_full_name(key, loc, start)) return true;
        if (loc.letterhead || key.common) return false;
        return !street_context(t, start) && !academie_context(t, start);
    };

    for (const Hit& h : hits) {
        const std::size_t k = h.key;
        const auto& key = keys[k];
        std::optional<std::size_t> first_name_loc, first_name_at;
        std::vector<bool> name_in(locations.size(), false);
        for (std::size_t l = 0; l < locations.size(); ++l) {
            for (std::size_t start : h.occ[l]) {
                if (!covered(h, l, start) && counts(key, locations[l], start)) {
                    name_in[l] = true;
                    if (!first_name_loc) {
                        first_name_loc = l;
                        first_name_at = start;
                    }
                    break;
                }
            }
        }
        if (!first_name_loc) continue;

        const Lycee& lycee = *key.lycee;
        const std::string& town_phrase = key.town_phrase;
        std::optional<std::size_t> first_town_loc, same_loc, first_town_at;
        for (std::size_t l = 0; l < locations.size(); ++l) {
            for (std::size_t at : occurrences(locations[l].folded.text, town_phrase)) {
                if (academie_context(locations[l].folded.text, at)) continue;   // "Académie de Lille"
                if (!first_town_loc) {
                    first_town_loc = l;
                    first_town_at = at;
                }
                if (name_in[l] && !same_loc && !locations[l].letterhead) same_loc = l;
                break;
            }
        }
        if (!first_town_loc) {
            names_without_town.push_back("'" + key.name.display + "' without '" + lycee.commune + "'");
            continue;
        }
        if (!key.namesakes.empty()) {
            // Two lycées of one town, one name: the name says nothing.
            std::string others;
            for (const Lycee* o : key.namesakes) others += " and " + o->uai;
            names_without_town.push_back("'" + key.name.display + "' of '" + lycee.commune + "' shared by " + lycee.uai + others);
            continue;
        }
        const std::string name_part = "name '" + key.name.display + "'";
        const std::string town_part = "town '" + lycee.commune + "'";
        if (same_loc) {
            const auto& label = locations[*same_loc].label;
            c.vote(lycee.uai, Kind::name, "name in " + label, name_part + " + " + town_part + " in " + label);
        } else {
            const auto& name_loc = locations[*first_name_loc];
            const auto& town_loc = locations[*first_town_loc];
            c.vote(lycee.uai, Kind::name, "name in " + name_loc.label,
                   name_part + " in " + name_loc.where(*first_name_at) + " + " + town_part + " in " +
                       town_loc.where(*first_town_at));
        }
    }
}

// A letterhead that gives a lycée's street address from the annuaire, with
// its postcode: what settles two lycées of one name in one town, or a
// letterhead that shortens the name ("Lycée Branly" for "Lycée Édouard
// Branly"). Letterheads only: a message's signature may quote any address.
void address_mentions(Collector& c, const std::vector<Location>& locations, const NameIndex::Impl& index) {
    for (const auto& loc : locations) {
        if (!loc.letterhead) continue;
        for (const auto& a : index.addresses) {
            const auto at = loc.folded.text.find(a.street);
            if (at == std::string::npos || loc.folded.text.find(a.postcode) == std::string::npos) continue;
            const std::string shown = trim(a.lycee->adresse) + ", " + trim(a.lycee->code_postal);
            c.vote(a.lycee->uai, Kind::name, "address in " + loc.label,
                   "address '" + shown + "' in " + loc.where(at + 1));
        }
    }
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) out += sep;
        out += parts[i];
    }
    return out;
}

}  // namespace

std::string fold_for_search(std::string_view text) { return fold(parsers::normalize_text(text)).text; }

Identification identify(const IdentificationInput& input, const Directory& directory,
                        const std::vector<std::string>& academie_domains, const NameIndex* names) {
    Collector c;
    if (input.sender_authenticated) sender_evidence(c, input, directory, academie_domains);

    std::vector<Location> locations;
    locations.push_back(make_location("subject", input.subject));
    locations.push_back(make_location("body", input.body_text));
    for (const auto& name : input.filenames) locations.push_back(make_location("file name '" + name + "'", name));
    if (!input.letterhead.empty())
        locations.push_back(make_location("letterhead", input.letterhead, true, input.letterhead_page));

    uai_mentions(c, locations, directory);
    std::vector<std::string> names_without_town;
    std::optional<NameIndex> own;
    if (names == nullptr) names = &own.emplace(directory);
    name_mentions(c, locations, names->impl(), names_without_town);
    address_mentions(c, locations, names->impl());

    // A letterhead's UAI decides: the names beside it (partners, the street,
    // a namesake in the same town) are not counted.
    if (!input.letterhead.empty() &&
        std::any_of(c.votes.begin(), c.votes.end(), [](const Vote& v) { return v.kind == Kind::uai; })) {
        Collector kept;
        kept.blockers = std::move(c.blockers);
        for (std::size_t i = 0; i < c.votes.size(); ++i)
            if (c.votes[i].kind != Kind::name) kept.vote(c.votes[i].uai, c.votes[i].kind, c.votes[i].short_label, c.evidence[i]);
        c = std::move(kept);
    }

    // The lycées indicated, in order of first evidence, with what indicated them.
    std::vector<std::pair<std::string, std::vector<std::string>>> lycees;
    for (const auto& v : c.votes) {
        auto it = std::find_if(lycees.begin(), lycees.end(), [&](const auto& p) { return p.first == v.uai; });
        if (it == lycees.end()) {
            lycees.push_back({v.uai, {}});
            it = std::prev(lycees.end());
        }
        if (std::find(it->second.begin(), it->second.end(), v.short_label) == it->second.end())
            it->second.push_back(v.short_label);
    }

    Identification result;
    result.evidence = c.evidence;
    for (const auto& [uai, labels] : lycees) result.lycees.push_back(uai);

    std::vector<std::string> reasons = c.blockers;
    if (!input.sender_authenticated && lycee_address(input, directory, academie_domains))
        reasons.insert(reasons.begin(), "sender not authenticated" +
                                            (input.sender_auth_detail.empty() ? std::string()
                                                                              : " (" + input.sender_auth_detail + ")"));
    if (lycees.size() >= 2) {
        std::vector<std::string> each;
        for (const auto& [uai, labels] : lycees) each.push_back(uai + " (" + join(labels, ", ") + ")");
        const std::string count = lycees.size() == 2 ? "two" : std::to_string(lycees.size());
        reasons.push_back("evidence for " + count + " lycées: " + join(each, ", "));
    }
    if (!reasons.empty()) {
        result.reason = join(reasons, "; ");
        return result;
    }
    if (lycees.empty()) {
        result.reason = std::string("no evidence: ") +
                        (input.sender_authenticated || trim(input.from_address).empty()
                             ? "sender not a lycée address"
                             : "sender " + ascii_lower(trim(input.from_address)) + " not authenticated") +
                        ", no UAI, no lycée name with its town";
        if (!names_without_town.empty()) result.reason += " (name " + join(names_without_town, ", ") + ")";
        return result;
    }

    result.identified = true;
    result.uai = lycees.front().first;
    Kind strongest = Kind::name;
    for (const auto& v : c.votes) strongest = std::min(strongest, v.kind);
    result.identified_by = std::string(kind_label(strongest));
    return result;
}

}  // namespace ppo::workflow
