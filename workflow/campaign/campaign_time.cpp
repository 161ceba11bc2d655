#include "workflow/campaign/campaign_time.h"

#include "parsers/text/error.h"
#include "workflow/config/config.h"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <cstdio>
#include <sstream>

namespace ppo::workflow {

using namespace std::chrono;

namespace {

date::sys_days parse_day(const std::string& iso) {
    date::year_month_day ymd{};
    std::istringstream in(iso);
    in >> date::parse("%F", ymd);
    if (in.fail() || !ymd.ok()) throw config_error("expected a date YYYY-MM-DD, got '" + iso + "'");
    return date::sys_days(ymd);
}

sys_seconds to_sys(date::local_seconds local, const date::time_zone* tz) {
    auto info = tz->get_info(local);
    switch (info.result) {
        case date::local_info::unique:
            return sys_seconds(local.time_since_epoch() - info.first.offset);
        case date::local_info::ambiguous:
            return sys_seconds(local.time_since_epoch() - info.first.offset);
        case date::local_info::nonexistent:
        default:
            // The gap's end: the first instant that exists after it.
            return info.second.begin;
    }
}

// The zone by name, looked up once per thread and name (the status formats
// tens of thousands of instants in the campaign's zone).
const date::time_zone* zone_named(const std::string& name) {
    thread_local std::string last;
    thread_local const date::time_zone* tz = nullptr;
    if (!tz || name != last) {
        tz = date::locate_zone(name);
        last = name;
    }
    return tz;
}

// An instant's local calendar fields and UTC offset, formatted by hand:
// date::format builds a stream and a locale for every call.
struct LocalFields {
    int year;
    unsigned month, day;
    long hours, minutes, seconds_;
    long offset_seconds;
};

LocalFields local_fields(std::int64_t epoch, const std::string& zone) {
    const sys_seconds at{seconds(epoch)};
    const auto info = zone_named(zone)->get_info(at);
    const auto local = at + info.offset;
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss<seconds> t(local - day);
    return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
            static_cast<long>(t.hours().count()),   static_cast<long>(t.minutes().count()),
            static_cast<long>(t.seconds().count()), static_cast<long>(info.offset.count())};
}

std::string iso_day(const LocalFields& f) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", f.year, f.month, f.day);
    return buf;
}

}  // namespace

std::int64_t local_instant(const std::string& day, int days, int minutes, const std::string& zone) {
    const auto* tz = date::locate_zone(zone);
    date::local_days ld{(parse_day(day) + date::days(days)).time_since_epoch()};
    date::local_seconds local = ld + std::chrono::minutes(minutes);
    return to_sys(local, tz).time_since_epoch().count();
}

std::int64_t deadline_end(const CampaignConfig& campaign) {
    return local_instant(campaign.deadline, 1, 0, campaign.timezone);
}

std::string local_date(std::int64_t epoch, const std::string& zone) { return iso_day(local_fields(epoch, zone)); }

int local_weekday(std::int64_t epoch, const std::string& zone) {
    auto zt = date::make_zoned(zone, sys_seconds(seconds(epoch)));
    return static_cast<int>(date::weekday(date::floor<date::days>(zt.get_local_time())).c_encoding());
}

std::string iso_local(std::int64_t epoch, const std::string& zone) {
    const auto f = local_fields(epoch, zone);
    const long off = f.offset_seconds < 0 ? -f.offset_seconds : f.offset_seconds;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld%c%02ld:%02ld", f.year, f.month, f.day, f.hours,
                  f.minutes, f.seconds_, f.offset_seconds < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
    return buf;
}

std::string french_date(const std::string& iso_date) {
    static const std::array<const char*, 12> months = {"janvier", "février", "mars", "avril", "mai", "juin",
                                                       "juillet", "août", "septembre", "octobre", "novembre", "décembre"};
    date::year_month_day ymd{parse_day(iso_date)};
    unsigned d = static_cast<unsigned>(ymd.day());
    return (d == 1 ? std::string("1er") : std::to_string(d)) + " " + months[static_cast<unsigned>(ymd.month()) - 1] + " " +
           std::to_string(static_cast<int>(ymd.year()));
}

std::string french_datetime(std::int64_t epoch, const std::string& zone) {
    const auto f = local_fields(epoch, zone);
    char hm[32];
    std::snprintf(hm, sizeof hm, "%ld h %02ld", f.hours, f.minutes);
    return french_date(iso_day(f)) + " à " + hm;
}

std::int64_t parse_instant(const std::string& text, const std::string& zone) {
    auto fail = [&] {
        return config_error("--now: expected an ISO 8601 instant such as 2022-03-04T09:00:00+01:00, got '" + text + "'");
    };
    for (const char* fmt : {"%FT%T%Ez", "%FT%T%z", "%FT%R%Ez"}) {
        std::istringstream in(text);
        sys_seconds tp;
        in >> date::parse(fmt, tp);
        if (!in.fail() && in.peek() == EOF) return tp.time_since_epoch().count();
    }
    if (!text.empty() && text.back() == 'Z') {
        std::istringstream in(text.substr(0, text.size() - 1));
        sys_seconds tp;
        in >> date::parse("%FT%T", tp);
        if (!in.fail() && in.peek() == EOF) return tp.time_since_epoch().count();
    }
    for (const char* fmt : {"%FT%T", "%FT%R", "%F %T", "%F"}) {
        std::istringstream in(text);
        date::local_seconds lt;
        in >> date::parse(fmt, lt);
        if (!in.fail() && in.peek() == EOF) return to_sys(lt, date::locate_zone(zone)).time_since_epoch().count();
    }
    throw fail();
}

}  // namespace ppo::workflow
