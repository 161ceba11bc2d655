// The campaign's status as users see it: one row per expected lycée with its
// submissions, and the unidentified messages. Built from the store; rendered
// as the JSON of doc/design.md ("Contracts"), a CSV for French Excel (UTF-8 BOM, ';'), or a text
// table for a terminal.
#pragma once

#include "workflow/config/config.h"
#include "workflow/intake/document_check.h"
#include "workflow/ports/store.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace ppo::workflow {

struct FileStatus {
    std::string name;
    std::int64_t size = 0;
    std::string sha256;
};

struct SubmissionStatus {
    std::int64_t id = 0;
    std::int64_t received_at = 0;
    std::string from;
    std::string message_id;
    std::string identified_by;
    std::vector<FileStatus> files;
    std::vector<DocumentCheck> checks{};  // one per document (winmail.dat containers left out)
    bool late = false;
    bool acknowledged = false;
    bool forwarded = false;
};

struct LyceeStatus {
    Lycee lycee;
    std::string ien_io;                 // "" when the bassin has no IEN-IO
    std::string state;                  // "missing" | "received" | "late"
    std::vector<SubmissionStatus> submissions;
    std::vector<int> reminders_sent;
};

struct UnidentifiedStatus {
    std::int64_t id = 0;
    std::int64_t received_at = 0;
    std::string from;
    std::string subject;
    std::string reason;
    std::vector<FileStatus> files;
    std::int64_t duplicate_of = 0;      // duplicates only
    std::vector<std::string> links{};     // download links given instead of a file
    std::string uai{};                    // the lycée the message names, when it was not credited (a link)
};

struct CampaignStatus {
    std::string name;
    std::string deadline;
    std::string timezone;
    std::vector<LyceeStatus> lycees;    // ordered by académie, bassin, UAI
    std::vector<UnidentifiedStatus> unidentified;
    // Kept in the triage folder with their reason (malformed, oversized, a
    // failure of their own); no lycée credited, no mail sent.
    std::vector<UnidentifiedStatus> quarantined;
    // Delivered again (same content as an earlier message): never a second submission.
    std::vector<UnidentifiedStatus> duplicates;
};

CampaignStatus build_status(Store& store, const Config& config, std::int64_t campaign_id, const Directory& directory);

// The files of the campaign's messages by message id (store.campaign_files).
using FilesByMessage = std::unordered_map<std::int64_t, std::vector<FileRecord>>;
// The same with the files already read (a reader that keeps them between
// two builds and reads only the new ones): the other queries only.
CampaignStatus build_status(Store& store, const Config& config, std::int64_t campaign_id, const Directory& directory,
                            const FilesByMessage& files);

std::string status_json(const CampaignStatus& status);
// For French Excel: UTF-8 BOM, ';', CRLF; states in French ("reçu", "en
// retard", "manquant"); a value from data starting with = + - @ (or a tab, a
// CR) is neutralised with a leading apostrophe (parsers::csv_text_field).
std::string status_csv(const CampaignStatus& status);
std::string status_table(const CampaignStatus& status);
std::string unidentified_json(const CampaignStatus& status);
std::string unidentified_table(const CampaignStatus& status);

// The part of the status an IEN-IO sees: the lycées of these bassins (codes),
// with their submissions; no triage lists (unidentified, quarantined and
// duplicate messages name no bassin). An empty list keeps no lycée.
CampaignStatus filter_status(const CampaignStatus& status, const std::vector<std::string>& bassins);
// French words for a state: "reçu", "en retard", "manquant" (the value itself
// when unknown).
std::string state_label_fr(const std::string& state);

// The JSON string literal of `s`, quotes included (Poco::toJSON: UTF-8 as it
// is; ", \ and the controls escaped, \b \f \n \r \t by their short forms).
std::string json_string(const std::string& s);
// ["a", "b"]: the layout of every string list of the JSON documents.
std::string json_strings(const std::vector<std::string>& items);
// "+7" / "-21"
std::string offset_label(int offset_days);
// Display width of UTF-8 text (code points: enough for Latin text), and the
// text padded with spaces (or cut, with "…") to `width` columns.
std::size_t text_width(const std::string& s);
std::string pad_right(const std::string& s, std::size_t width);

}  // namespace ppo::workflow
