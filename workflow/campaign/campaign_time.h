// Campaign calendar arithmetic in the campaign's time zone (IANA, via Howard
// Hinnant's date/tz, which reads the system tzdata): when the deadline ends,
// local times of reminders and digests across daylight-saving changes, and the
// ISO and French renderings of instants.
#pragma once

#include <cstdint>
#include <string>

namespace ppo::workflow {

struct CampaignConfig;

// First second after the deadline day, in the campaign's zone: a message
// received at or after this instant is late.
std::int64_t deadline_end(const CampaignConfig& campaign);

// The instant of local `date` (YYYY-MM-DD) + `days` at `minutes` after midnight
// in `zone`. A local time that does not exist (spring forward) is taken as the
// first valid instant after it; an ambiguous one (fall back) as the earlier.
std::int64_t local_instant(const std::string& date, int days, int minutes, const std::string& zone);

// Local calendar date (YYYY-MM-DD) and weekday (0 = Sunday) of an instant.
std::string local_date(std::int64_t epoch, const std::string& zone);
int local_weekday(std::int64_t epoch, const std::string& zone);

// "2022-03-01T10:02:11+01:00"
std::string iso_local(std::int64_t epoch, const std::string& zone);
// "1er mars 2022 à 10 h 02", "25 mars 2022"
std::string french_datetime(std::int64_t epoch, const std::string& zone);
std::string french_date(const std::string& iso_date);

// Parses ISO 8601 ("2022-03-04T09:00:00+01:00", "...Z", "2022-03-04T09:00",
// "2022-03-04"); a time without offset is local to `zone`. Throws ppo::Error(config).
std::int64_t parse_instant(const std::string& text, const std::string& zone);

}  // namespace ppo::workflow
