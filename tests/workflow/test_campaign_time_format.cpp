// iso_local, local_date and french_datetime format by hand (date::format
// builds a stream and a locale per call, and the status formats tens of
// thousands of instants): the same text as date::format, across daylight-
// saving changes and for zones with negative and half-hour offsets.
#include "workflow/campaign/campaign_time.h"

#include <date/date.h>
#include <date/tz.h>

#include <gtest/gtest.h>

#include <string>

namespace ppo::workflow {
namespace {

TEST(CampaignTimeFormat, SameTextAsDateFormat) {
    for (const char* zone : {"Europe/Paris", "UTC", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"}) {
        // Every 37 minutes and 11 seconds over fourteen months (two changes of each kind).
        for (std::int64_t t = 1635000000; t < 1672000000; t += 37 * 60 + 11) {
            auto zt = date::make_zoned(zone, date::sys_seconds(std::chrono::seconds(t)));
            ASSERT_EQ(iso_local(t, zone), date::format("%FT%T%Ez", zt)) << zone << " " << t;
            ASSERT_EQ(local_date(t, zone), date::format("%F", zt.get_local_time())) << zone << " " << t;
        }
    }
    EXPECT_EQ(french_datetime(parse_instant("2022-03-01T10:02:11+01:00", "Europe/Paris"), "Europe/Paris"),
              "1er mars 2022 à 10 h 02");
    EXPECT_EQ(french_datetime(parse_instant("2022-03-27T03:00:00+02:00", "Europe/Paris"), "Europe/Paris"),
              "27 mars 2022 à 3 h 00");
}

}  // namespace
}  // namespace ppo::workflow
