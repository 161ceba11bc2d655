#include "parsers/mime/address.h"

#include <gtest/gtest.h>

using ppo::parsers::address_problem;
using ppo::parsers::is_valid_address;

TEST(Address, AcceptsTheDirectoryAddresses) {
    for (const char* a : {"ce.0590072h@ac-lille.fr", "direction.jeanne-darc@orange.fr", "IEN-IO.Douai@ac-lille.fr",
                          "a+tag@x.fr", "o'neil@example.org", "x@a.b.c.d", "{weird}~=*@x-1.example"})
        EXPECT_TRUE(is_valid_address(a)) << a << ": " << address_problem(a).value_or("");
}

TEST(Address, RefusesWhatWouldBeSyntaxElsewhere) {
    struct Case {
        std::string address, reason;
    };
    for (const auto& c : std::vector<Case>{
             {"a@x.fr,b@y.fr", "character ',' is not allowed"},
             {"a@x.fr;b@y.fr", "character ';' is not allowed"},
             {"a@x.fr\r\n\tRCPT TO:<evil@y.fr>", "control character 0x0D is not allowed"},
             {"a@x.fr\n", "control character 0x0A is not allowed"},
             {"a\t@x.fr", "control character 0x09 is not allowed"},
             {std::string("a@x.fr\0b", 8), "control character 0x00 is not allowed"},
             {"a b@x.fr", "a space is not allowed"},
             {"<a@x.fr>", "character '<' is not allowed"},
             {"\"a b\"@x.fr", "character '\"' is not allowed"},
             {"a@[192.0.2.1]", "character '[' is not allowed"},
             {"a(comment)@x.fr", "character '(' is not allowed"},
             {"a\\b@x.fr", "character '\\' is not allowed"},
             {"é@x.fr", "non-ASCII byte 0xC3 is not allowed"},
             {"", "empty address"},
             {"ax.fr", "no '@'"},
             {"a@b@x.fr", "more than one '@'"},
             {"@x.fr", "nothing before the '@'"},
             {"a@", "nothing after the '@'"},
             {"a@localhost", "the domain has no dot"},
             {".a@x.fr", "leading, trailing or double '.'"},
             {"a.@x.fr", "leading, trailing or double '.'"},
             {"a..b@x.fr", "leading, trailing or double '.'"},
             {"a@x..fr", "empty label"},
             {"a@x.fr.", "empty label"},
             {"a@.x.fr", "empty label"},
             {"a@-x.fr", "starts or ends with '-'"},
             {"a@x_y.fr", "character '_' is not allowed in the domain"},
             {"a@x.f/r", "character '/' is not allowed in the domain"},
         }) {
        auto why = address_problem(c.address);
        ASSERT_TRUE(why.has_value()) << c.address;
        EXPECT_NE(why->find(c.reason), std::string::npos) << c.address << " -> " << *why;
    }
}

TEST(Address, LengthLimits) {
    const std::string local64(64, 'a'), label63(63, 'b');
    EXPECT_TRUE(is_valid_address(local64 + "@x.fr"));
    EXPECT_NE(address_problem(local64 + "a@x.fr").value_or("").find("longer than 64"), std::string::npos);
    EXPECT_TRUE(is_valid_address("a@" + label63 + ".fr"));
    EXPECT_NE(address_problem("a@" + label63 + "b.fr").value_or("").find("longer than 63"), std::string::npos);
    std::string domain = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'c');  // 253
    EXPECT_TRUE(is_valid_address("a@" + domain));
    EXPECT_TRUE(is_valid_address("a@" + domain + ".d"));  // 255
    EXPECT_NE(address_problem("a@" + domain + ".de").value_or("").find("longer than 255"), std::string::npos);
}
