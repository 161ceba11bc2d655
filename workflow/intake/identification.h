// Works out which lycée sent a message, from evidence only: it never guesses
// between two lycées. Pure: the directory is passed in.
//
// Evidence, strongest first:
//   sender   the From address is ce.<UAI>@<académie domain> (any case) or a
//            lycée's directory Mail, and the sender is authenticated
//            (sender_auth.h);
//   uai      UAI codes with a valid check letter in the subject, body, file names or
//            letterhead, written together or apart ("0 807 463 C": parsers/text/uai.h);
//   name     the lycée's distinctive name together with its town, in the subject,
//            body, file names or a document's letterhead, where it names a lycée:
//            - never inside a postal address (after a street word, "rue",
//              "avenue", "place"..., or after a street number), never as the
//              académie's, rectorat's or région's ("Académie de Lille" is not
//              the town of Lille, "Région Hauts-de-France" names no lycée);
//            - a single common word ("salle" left from "Lycée privé La Salle")
//              only right after "lycée", "LGT", "LPO", "lycée privé"...;
//            - in a letterhead, only right after such words ("Lycée
//              Saint-Exupéry", "LPO Jean Moulin", "Ensemble scolaire X") or as
//              the directory's full name: the rest of a letterhead is
//              addresses, partners and signatures;
//            - a name that two lycées of one town share is no evidence for
//              either (the UAI must settle it); one contained in a longer
//              name ("Jean Moulin" / "Jean Moulin de la Mer") counts for the
//              longer one only.
//   address  in a letterhead, the lycée's street address from the annuaire
//            (adresse, with a number) and its postcode: it settles a name two
//            lycées of one town share, and a shortened name (labelled "name").
// In a letterhead a UAI decides: the names and addresses found beside it are
// not counted, so a document carrying its lycée's UAI names that lycée alone.
// All text is NFC-normalised and its ligatures folded first (parsers/text/utf8.h).
// A lycée's address that is not authenticated (an official ce.<UAI>@ac-*.fr
// address or a directory Mail, when a trusted authserv-id is configured) is not
// evidence against the rest: such a message is never identified, whatever its
// subject says, so that nothing is acknowledged or forwarded in a lycée's name
// on a forged From; reason "sender not authenticated (<detail>)".
// Identified when every piece of evidence points at the same single lycée of the
// campaign. Unidentified (with a reason, in English, for the triage list) when
// there is none, when two lycées are named, when a UAI has a wrong check letter,
// or when a UAI is not one of the campaign's lycées.
#pragma once

#include "workflow/campaign/directory.h"
#include "workflow/intake/sender_auth.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::workflow {

struct IdentificationInput {
    std::string from_address;            // addr-spec, any case
    bool sender_authenticated = true;    // false: the From address is not evidence, and a
                                         //   lycée's address blocks identification
    std::string sender_auth_detail;      // why not authenticated (SenderAuth::reason), for the reason
    std::string subject;                 // UTF-8
    std::string body_text;               // UTF-8
    std::vector<std::string> filenames;  // UTF-8
    // A document's letterhead (DocumentText::head: lines separated by '\n'),
    // read by the letterhead rules above; its evidence says where, by line
    // ("in letterhead, page 1, line 3").
    std::string letterhead{};            // UTF-8
    int letterhead_page = 0;             // the page the letterhead is (a PDF's first: 1), 0 when the
                                         //   format has no pages
};

struct Identification {
    bool identified = false;
    std::string uai;                     // when identified
    std::string identified_by;           // "sender" | "uai" | "name" (the strongest evidence used); the
                                         //   intake relabels a document's as "document"
    std::vector<std::string> evidence;   // e.g. "sender ce.0590072h@ac-lille.fr", "UAI 0590072H in subject",
                                         //   "name 'Saint-Exupéry' (line 2) + town 'Noyon' (line 4) in letterhead, page 1"
    std::string reason;                  // when unidentified
    std::vector<std::string> lycees{};     // every lycée the evidence points at, in order (even when unidentified)
};

// The lycées' distinctive names and towns, folded once for a directory rather
// than for every message. Refers to the directory's lycées: it must not
// outlive the Directory it was made from.
class NameIndex {
public:
    explicit NameIndex(const Directory& directory);
    ~NameIndex();
    NameIndex(NameIndex&&) noexcept;
    NameIndex& operator=(NameIndex&&) noexcept;
    struct Impl;
    const Impl& impl() const { return *impl_; }

private:
    std::unique_ptr<Impl> impl_;
};

// `text` as lower-case ASCII words separated by single spaces, with a space at
// both ends (NFC-normalised and ligatures folded first, then accents folded; punctuation, apostrophes and hyphens are
// separators), so that " programme pluriannuel d orientation " finds the
// phrase however it was typed.
std::string fold_for_search(std::string_view text);

// `names`, when given, must have been made from `directory`.
Identification identify(const IdentificationInput& input, const Directory& directory,
                        const std::vector<std::string>& academie_domains = {"ac-lille.fr", "ac-amiens.fr"},
                        const NameIndex* names = nullptr);

}  // namespace ppo::workflow
