// json_string (workflow/status/status.h) is Poco's JSON string writer since
// issue 22. Against the hand-written escaper it replaced (kept here as the
// reference): the same bytes for every string but those holding U+0008,
// U+000C (now \b, \f) or U+000B, U+000E, U+000F, U+001A..U+001F (now in
// upper-case hex); and for those the same JSON value.
#include "workflow/status/status.h"

#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

using namespace ppo::workflow;

namespace {

std::string before_issue_22(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out + "\"";
}

std::string parsed(const std::string& literal) {
    return Poco::JSON::Parser().parse("[" + literal + "]").extract<Poco::JSON::Array::Ptr>()->getElement<std::string>(0);
}

}  // namespace

TEST(JsonString, SameBytesAsBeforeButForAFewControlsWhichKeepTheirValue) {
    const std::set<int> written_otherwise = {0x08, 0x0b, 0x0c, 0x0e, 0x0f, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
    for (int c = 0; c < 0x80; ++c) {
        const std::string s = std::string("a") + static_cast<char>(c) + "b";
        if (written_otherwise.count(c)) {
            EXPECT_NE(json_string(s), before_issue_22(s)) << c;
            EXPECT_EQ(parsed(json_string(s)), s) << c;
            EXPECT_EQ(parsed(before_issue_22(s)), s) << c;
        } else {
            EXPECT_EQ(json_string(s), before_issue_22(s)) << c;
        }
    }
    for (const std::string& s : std::vector<std::string>{"PPO \"2022\" \\ lycée\tClaudel", "https://nuage03.apps.education.fr/s/x", "é—€😀",
                                std::string("\xff\xfe invalid UTF-8 kept as it is")})
        EXPECT_EQ(json_string(s), before_issue_22(s)) << s;
    EXPECT_EQ(json_string("\b\f"), "\"\\b\\f\"");
    EXPECT_EQ(json_strings({}), "[]");
    EXPECT_EQ(json_strings({"a", "b\"c"}), "[\"a\", \"b\\\"c\"]");
}
