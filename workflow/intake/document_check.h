// What a document's text says about it, never blocking: whether it looks like
// a PPO, which school years it names, and (with the lycées its letterhead
// names, found by identify() on its head) whether it is the credited lycée's.
// The findings go to status --json (`checks`), the IEN-IO's forward, the
// digest and, when a document clearly is not a PPO, names another lycée or an
// earlier school year, a polite paragraph of the acknowledgement. Pure.
#pragma once

#include "workflow/config/config.h"
#include "workflow/campaign/directory.h"
#include "workflow/ports/store.h"

#include <string>
#include <vector>

namespace ppo::workflow {

struct PpoSignals {
    std::string looks_like_ppo;              // "yes" | "no" | "unknown" (no text to judge: a scan, an error, too short)
    std::vector<std::string> school_years;   // "2021-2022", in order of appearance, distinct
    std::string detail;                      // English: what was found
};

// `text` is the document's text (UTF-8); `text_error` why there is none;
// `title` its title lines (DocumentText::title: the largest type of a PDF's
// first page, a DOCX's or ODT's headings), `head` its letterhead
// (DocumentText::head), both '\n'-separated.
//
// The name of the document ("programme pluriannuel d'orientation", "PPO")
// proves it only where it is the document's title: in a title line, or, when
// the format gives no title, at the start of one of the head's short lines
// (or of the text's first lines) — never in a sentence, so a convocation that
// lists "vote du PPO" is judged on its content like any other text. A title
// that names another kind of document ("Compte rendu", "Convocation", "Ordre
// du jour", a letter's "Objet :" line) makes it "no". Otherwise "yes" takes "orientation" three times and two of the three axes (or
// twice, the three axes and a school year of the campaign); "no" when
// "orientation" is missing, or once with fewer than two axes.
PpoSignals ppo_signals(const std::string& text, bool image_only, const std::string& text_error,
                       const CampaignConfig& campaign, const std::string& title = {}, const std::string& head = {});

// The school years a PPO of this campaign is about: the one the deadline falls
// in and the next (a PPO written in March 2022 plans 2022-2023), plus any the
// campaign's name spells out.
std::vector<std::string> campaign_school_years(const CampaignConfig& campaign);

// How one archived file compares with the lycée it was credited to.
struct DocumentCheck {
    std::string file;
    std::string looks_like_ppo;              // as stored; "" for files not checked (before version 005)
    std::string lycee;                       // "same" | "other" | "several" | "none" (names no lycée) | "" (not checked)
    std::vector<std::string> named_uais;
    std::vector<std::string> school_years;
    bool outdated = false;                   // names school years, all before the campaign's
    std::string detail;
    // Worth telling the lycée: clearly not a PPO, another lycée, an earlier year.
    bool flagged() const { return looks_like_ppo == "no" || lycee == "other" || lycee == "several" || outdated; }
};

// The checks of a submission's files (winmail.dat containers left out).
std::vector<DocumentCheck> document_checks(const std::vector<FileRecord>& files, const std::string& credited_uai,
                                           const CampaignConfig& campaign);

// One French sentence per flagged check, for the acknowledgement, the forward
// and the digest: « Le document « x.pdf » ne semble pas être un programme
// pluriannuel d'orientation. »
std::vector<std::string> french_remarks(const std::vector<DocumentCheck>& checks, const Directory& directory);

// One French line per check (flagged or not), for the IEN-IO's forward.
std::vector<std::string> french_check_lines(const std::vector<DocumentCheck>& checks, const Directory& directory);

}  // namespace ppo::workflow
