// parse_msg_id / parse_msg_id_list: RFC 5322 msg-id, strictly; what is not one
// is never copied into a mail we send.
#include "parsers/mime/msg_id.h"

#include <gtest/gtest.h>

#include <string>

namespace ppo::parsers {
namespace {

using namespace std::string_literals;

TEST(MsgId, AcceptsRealWorldIds) {
    for (const std::string id : {"<CAF=kQ3+x_Y9@mail.gmail.com>", "<AM0PR07MB1234.eurprd07.prod.outlook.com@AM0PR07MB1234.eurprd07.prod.outlook.com>",
                                 "<20220301103000.1a2b@ac-lille.fr>", "<a!#$%&'*+-/=?^_`{|}~@b>", "<x@[127.0.0.1]>",
                                 "<1646125200.00abcdef00abcdef@region-academique-hauts-de-france.fr>"}) {
        EXPECT_EQ(parse_msg_id(id), id) << id;
    }
}

TEST(MsgId, DropsCommentsAndWhiteSpaceAround) {
    EXPECT_EQ(parse_msg_id("  <a.b@c.d>  "), "<a.b@c.d>");
    EXPECT_EQ(parse_msg_id("\t(comment (nested)) <a@b> (trailing)\r\n"), "<a@b>");
}

TEST(MsgId, RefusesControlsSpacesAndBrokenShapes) {
    const std::string bad[] = {
        "", "<>", "<@>", "a@b", "<a@b", "a@b>", "<ab>", "<a@>", "<@b>",
        "<a\r@b>", "<a@b\r>", "<a@b\rBcc: x@evil.example>", "<a\n@b>", "<a@b\nBcc: x@evil.example>",
        "<a\0@b>"s, "<a b@c>", "<a@b c>", "<a@b>\r\nBcc: x@evil.example", "<a@b> <c@d>", "<a@b> junk",
        "<.a@b>", "<a.@b>", "<a..b@c>", "<a@b..c>", "<a@b@c>", "<\"quoted\"@b>", "<a@[b]c>", "<a@[b\\]>",
        "<a\x7f@b>", "<\xc3\xa9t\xc3\xa9@b>", "<a@b>(unclosed comment",
    };
    for (const auto& v : bad) EXPECT_EQ(parse_msg_id(v), std::nullopt) << '"' << v << '"';
    EXPECT_EQ(parse_msg_id("<" + std::string(kMaxMsgIdLength, 'a') + "@b>"), std::nullopt);
}

TEST(MsgIdList, KeepsValidIdsInOrderAndDropsTheRest) {
    EXPECT_EQ(join_msg_ids(parse_msg_id_list("<a@b>\r\n <c@d>\t<e@f>")), "<a@b> <c@d> <e@f>");
    EXPECT_EQ(join_msg_ids(parse_msg_id_list("<a@b> <bad\r@x> <c d@e> <c@d>")), "<a@b> <c@d>");
    // Obsolete phrase (RFC 5322 4.5.4), comments, duplicates.
    EXPECT_EQ(join_msg_ids(parse_msg_id_list("John's message of Tue <a@b> (sent) <a@b>")), "<a@b>");
    EXPECT_EQ(join_msg_ids(parse_msg_id_list("<junk <a@b>")), "<a@b>");
    EXPECT_EQ(join_msg_ids(parse_msg_id_list("<a@b\rBcc: evil@example.com>")), "");
    EXPECT_TRUE(parse_msg_id_list("").empty());
    EXPECT_TRUE(parse_msg_id_list("no ids at all").empty());
    EXPECT_TRUE(parse_msg_id_list("<unterminated@x").empty());
}

TEST(MsgIdList, KeepsTheFirstAndTheLastOfALongThread) {
    std::string v;
    for (std::size_t i = 0; i < kMaxMsgIds + 10; ++i) v += "<" + std::to_string(i) + "@x> ";
    const auto ids = parse_msg_id_list(v);
    ASSERT_EQ(ids.size(), kMaxMsgIds);
    EXPECT_EQ(ids.front(), "<0@x>");
    EXPECT_EQ(ids[1], "<11@x>");
    EXPECT_EQ(ids.back(), "<" + std::to_string(kMaxMsgIds + 9) + "@x>");
}

}  // namespace
}  // namespace ppo::parsers
