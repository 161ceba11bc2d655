#include "parsers/mime/header_decode.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ppo::parsers {
namespace {

using namespace std::string_literals;

struct CharsetCase {
    std::string bytes;
    std::string charset;
    std::string utf8;
};

class ToUtf8Test : public ::testing::TestWithParam<CharsetCase> {};

TEST_P(ToUtf8Test, Converts) {
    const CharsetCase& c = GetParam();
    EXPECT_EQ(to_utf8(c.bytes, c.charset), c.utf8);
}

INSTANTIATE_TEST_SUITE_P(
    Charsets, ToUtf8Test,
    ::testing::Values(
        CharsetCase{"caf\xe9", "ISO-8859-1", "café"},
        CharsetCase{"caf\xe9 \x80", "iso-8859-1", "café €"},  // Latin-1 label, Windows-1252 bytes
        CharsetCase{"10 \xa4", "ISO-8859-15", "10 €"},
        CharsetCase{"\x93ok\x94 \x96 \x80", "windows-1252", "“ok” – €"},
        CharsetCase{"\x93ok\x94", "\"Windows-1252\"", "“ok”"},
        CharsetCase{"d\xc3\xa9j\xc3\xa0", "UTF-8", "déjà"},
        CharsetCase{"d\xc3\xa9j\xc3\xa0", "utf8", "déjà"},
        CharsetCase{"a\xff" "b", "utf-8", "a\xEF\xBF\xBD" "b"},
        CharsetCase{"\xed\xa0\x80", "utf-8", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // surrogate
        CharsetCase{"\xc0\xaf", "utf-8", "\xEF\xBF\xBD\xEF\xBF\xBD"},                  // overlong
        CharsetCase{"d\xc3\xa9j\xc3\xa0", "", "déjà"},                                   // unlabelled UTF-8
        CharsetCase{"d\xe9j\xe0", "", "déjà"},                                           // unlabelled 1252
        CharsetCase{"d\xe9j\xe0", "us-ascii", "déjà"},
        CharsetCase{"d\xe9j\xe0", "x-no-such-charset", "déjà"},
        CharsetCase{"\x81", "windows-1252", "\xEF\xBF\xBD"},  // undefined in 1252
        CharsetCase{"\xa4\xa2", "iso-2022-jp", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        CharsetCase{"\x82\xa0", "Shift_JIS", "あ"},
        CharsetCase{"\x82", "Shift_JIS", "\xEF\xBF\xBD"},  // truncated sequence
        CharsetCase{"\x00\x41\x00\xe9"s, "UTF-16BE", "Aé"},
        CharsetCase{"", "utf-8", ""}));

struct Rfc2047Case {
    std::string in;
    std::string out;
};

class Rfc2047Test : public ::testing::TestWithParam<Rfc2047Case> {};

TEST_P(Rfc2047Test, Decodes) { EXPECT_EQ(decode_rfc2047(GetParam().in), GetParam().out); }

INSTANTIATE_TEST_SUITE_P(
    Words, Rfc2047Test,
    ::testing::Values(
        Rfc2047Case{"plain text", "plain text"},
        Rfc2047Case{"=?ISO-8859-1?Q?PPO_lyc=E9e.pdf?=", "PPO lycée.pdf"},
        Rfc2047Case{"=?utf-8?b?UFBPIGR1IGx5Y8OpZQ==?=", "PPO du lycée"},
        Rfc2047Case{"=?windows-1252?Q?Convention_=96_=80?=", "Convention – €"},
        Rfc2047Case{"=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"},                 // space between words dropped
        Rfc2047Case{"=?UTF-8?Q?a?=\r\n\t=?UTF-8?Q?b?=", "ab"},           // folded
        Rfc2047Case{"=?UTF-8?Q?a?= b =?UTF-8?Q?c?=", "a b c"},          // text between kept
        Rfc2047Case{"=?UTF-8?B?w6k=?==?UTF-8?B?w6k=?=", "éé"},
        Rfc2047Case{"=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?=", "été"},   // character split across words
        Rfc2047Case{"=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=", "éé"},    // different charsets
        Rfc2047Case{"=?UTF-8*fr?Q?=C3=A9?=", "é"},                        // RFC 2231 language
        Rfc2047Case{"Re: =?ISO-8859-15?Q?=A4?=", "Re: €"},
        Rfc2047Case{"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},                // unknown encoding: left alone
        Rfc2047Case{"=?UTF-8?Q?unterminated", "=?UTF-8?Q?unterminated"},
        Rfc2047Case{"Dossier \xe9l\xe8ve", "Dossier élève"},              // raw 8-bit Latin-1
        Rfc2047Case{"Dossier \xc3\xa9l\xc3\xa8ve", "Dossier élève"},      // raw 8-bit UTF-8
        Rfc2047Case{"=?x-unknown?Q?caf=E9?=", "café"}));

TEST(Rfc2047, LongLineFullOfStartMarkersIsFast) {
    std::string in;
    for (int i = 0; i < 200000; ++i) in += "=?";
    EXPECT_EQ(decode_rfc2047(in), in);
}

using Params = std::vector<std::pair<std::string, std::string>>;

struct ParamCase {
    Params params;
    std::string name;
    std::string out;
};

class DecodeParameterTest : public ::testing::TestWithParam<ParamCase> {};

TEST_P(DecodeParameterTest, Decodes) {
    EXPECT_EQ(decode_parameter(GetParam().params, GetParam().name), GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc2231, DecodeParameterTest,
    ::testing::Values(
        ParamCase{{{"filename", "ppo.pdf"}}, "filename", "ppo.pdf"},
        ParamCase{{{"FileName", "\"ppo 2024.pdf\""}}, "filename", "ppo 2024.pdf"},
        ParamCase{{{"filename*0*", "UTF-8''PPO%20Lyc%C3%A9e%20"}, {"filename*1*", "Ren%C3%A9%20Cassin.pdf"}},
                  "filename",
                  "PPO Lycée René Cassin.pdf"},
        ParamCase{{{"filename*1*", "Ren%C3%A9%20Cassin.pdf"}, {"filename*0*", "UTF-8''PPO%20Lyc%C3%A9e%20"}},
                  "filename",
                  "PPO Lycée René Cassin.pdf"},  // out of order
        ParamCase{{{"filename*0*", "iso-8859-1'fr'caf%E9"}, {"filename*1", ".pdf"}}, "filename", "café.pdf"},
        ParamCase{{{"filename*", "UTF-8''%C3%A9l%C3%A8ve.pdf"}}, "filename", "élève.pdf"},
        ParamCase{{{"filename*", "''plain.pdf"}}, "filename", "plain.pdf"},
        ParamCase{{{"name*0", "long"}, {"name*1", "name.pdf"}}, "name", "longname.pdf"},
        ParamCase{{{"filename", "fallback.pdf"}, {"filename*", "UTF-8''pr%C3%A9f%C3%A9r%C3%A9.pdf"}},
                  "filename",
                  "préféré.pdf"},  // RFC 2231 form wins
        ParamCase{{{"name", "=?ISO-8859-1?Q?PPO_lyc=E9e.pdf?="}}, "name", "PPO lycée.pdf"},
        ParamCase{{{"name", "\"=?UTF-8?B?w6lsw6h2ZS5wZGY=?=\""}}, "name", "élève.pdf"},
        ParamCase{{{"filename*0*", "UTF-8''bad%ZZ%"}}, "filename", "bad%ZZ%"},
        ParamCase{{{"filename*", "UTF-8''%FF.pdf"}}, "filename", "\xEF\xBF\xBD.pdf"},
        ParamCase{{{"filenames", "no"}, {"filename*x", "no"}}, "filename", ""},
        ParamCase{{}, "filename", ""}));

}  // namespace
}  // namespace ppo::parsers
