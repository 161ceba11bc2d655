// The DRAIO digest: a summary of the campaign at one instant, collected from
// the store (collect_digest) and rendered as French text and HTML from the
// templates digest.txt and digest.html (workflow/status/views.h), with the view
// model and the partials of the web dashboard (workflow/status/dashboard.h): one
// rendering path, editable by administrators. The HTML has inline styles only
// (no script, no style sheet, no image). The counts come from build_status, so
// they always equal `status --json`; the full status travels as the CSV
// attachment (status_csv).
#pragma once

#include "workflow/config/config.h"
#include "workflow/campaign/directory.h"
#include "workflow/status/status.h"
#include "workflow/ports/store.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ppo::workflow {

class ViewTemplates;

struct DigestCounts {
    std::size_t expected = 0;
    std::size_t received = 0;   // state "received": at least one submission on time
    std::size_t late = 0;       // state "late": only late submissions
    std::size_t missing = 0;    // state "missing"
    std::size_t submitted() const { return received + late; }
};

// One line of a breakdown: an académie ("09" "Lille"), a department ("059"
// "Nord") or a bassin ("095912" "BASSIN DOUAI").
struct DigestGroup {
    std::string code;
    std::string label;
    DigestCounts counts;
};

struct DigestArrival {
    std::int64_t id = 0;
    std::int64_t received_at = 0;
    std::string uai;
    std::string name;           // empty when the lycée is no longer in the directory
    std::string commune;
    std::string from;
    bool late = false;
    std::size_t version = 1;    // 2 and more: a new version of an earlier submission
};

struct DigestMissing {
    std::string uai;
    std::string name;
    std::string commune;
    std::string bassin;         // label (or code)
    std::vector<int> reminders; // offsets already recorded, ascending
};

struct DigestFailure {
    std::int64_t id = 0;
    std::string kind;           // outbox kind
    std::string uai;
    std::string recipients;     // ", "-joined
    std::string state;          // "failed" | "pending"
    int attempts = 0;
    std::string last_error;
    std::int64_t created_at = 0;
};

struct DigestQuarantined {
    std::int64_t id = 0;
    std::int64_t received_at = 0;
    std::string from;
    std::string subject;
    std::string reason;
};

// The latest submission of a lycée whose documents the checks flag
// (document_check.h): not a PPO, another lycée, an earlier school year.
struct DigestToCheck {
    std::int64_t id = 0;
    std::string uai;
    std::string name;
    std::string commune;
    std::vector<std::string> remarks;   // French sentences
};

struct DigestBassinWithoutIenIo {
    std::string code;           // may be empty: lycées without a bassin
    std::string label;
    std::vector<std::string> lycees;   // "0590072H Lycée de l'Europe"
};

struct DigestData {
    std::string campaign;       // "PPO 2021-2022"
    std::string deadline;       // ISO date
    std::string timezone;
    std::string slot;           // local date of `now`, "2022-03-04"
    std::int64_t now = 0;
    std::int64_t since = 0;     // previous digest (0: none, arrivals since the start)

    DigestCounts total;
    std::vector<DigestGroup> academies;      // by code
    std::vector<DigestGroup> departements;   // by académie, then code
    std::vector<DigestGroup> bassins;        // by académie, then label

    std::vector<DigestArrival> arrivals;     // received_at in (since, now], oldest first
    std::vector<DigestMissing> missing;      // most urgent first: most reminders, then name, then UAI
    std::vector<UnidentifiedStatus> triage;  // unidentified messages, oldest first
    std::vector<DigestToCheck> to_check;     // by académie, bassin, UAI
    std::vector<DigestFailure> failures;     // outbox "failed", or "pending" after a failed attempt
    std::vector<DigestQuarantined> quarantined;
    std::vector<DigestBassinWithoutIenIo> without_ien_io;

    CampaignStatus status;                   // what the CSV attachment is made of
    std::string base_url{};                  // [web] base_url: a link to the dashboard; "" none
};

// Reads everything the digest shows. `since` is the instant of the previous
// digest (store.last_digest_at), 0 for none. Failed and deferred mails of
// the campaign: outbox_failures.
DigestData collect_digest(const Config& config, Store& store, const Directory& directory, std::int64_t campaign_id,
                          std::int64_t now, std::int64_t since);

// The campaign's mails that failed for good, or wait for another try after a
// failed attempt, oldest first.
std::vector<DigestFailure> outbox_failures(Store& store, std::int64_t campaign_id);

// "PPO 2021-2022 — point quotidien du 4 mars 2022 : 87/140 reçus (62 %)"
std::string digest_subject(const DigestData& data);
std::string digest_text(const DigestData& data, const ViewTemplates& templates);
std::string digest_html(const DigestData& data, const ViewTemplates& templates);
// "etat-ppo-2022-03-04.csv"
std::string digest_csv_name(const DigestData& data);

// Rounded percentage of part in whole (0 when whole is 0).
int percent(std::size_t part, std::size_t whole);
// "Nord" for "059", "" when unknown.
std::string departement_name(const std::string& code);
// "Lille" for "09", "Amiens" for "20", else the code.
std::string academie_name(const std::string& code);

}  // namespace ppo::workflow
