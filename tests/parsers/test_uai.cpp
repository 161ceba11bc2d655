#include "parsers/text/uai.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {
namespace {

struct KnownUai {
    std::string_view digits;
    char letter;
};

class UaiCheckLetter : public ::testing::TestWithParam<KnownUai> {};

TEST_P(UaiCheckLetter, MatchesTheKnownCode) {
    EXPECT_EQ(uai_check_letter(GetParam().digits), GetParam().letter);
}

INSTANTIATE_TEST_SUITE_P(Known, UaiCheckLetter,
                         ::testing::Values(KnownUai{"0590072", 'H'}, KnownUai{"0600009", 'J'},
                                           KnownUai{"0596082", 'R'}, KnownUai{"0597091", 'M'},
                                           KnownUai{"0626769", 'W'}, KnownUai{"0000000", 'A'},  // 0 % 23
                                           KnownUai{"9999999", 'P'}));

TEST(UaiCheckLetter, OnlyTheFirstSevenDigitsCount) {
    EXPECT_EQ(uai_check_letter("0590072H"), 'H');
    EXPECT_EQ(uai_check_letter("0590072"), uai_check_letter("05900729"));
}

TEST(UaiCheckLetter, GarbageInputStaysInTheAlphabet) {
    // No validation is promised, but out-of-range input must not read outside
    // the 23-letter alphabet (a negative remainder used to).
    constexpr std::string_view kLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";
    for (std::string_view s : {"  -----", "0 9 1 2", "abcdefg", "", "!!!!!!!"})
        EXPECT_NE(kLetters.find(uai_check_letter(s)), std::string_view::npos) << '"' << s << '"';
}

struct ValidityCase {
    std::string_view code;
    bool valid;
    const char* normalized;  // nullptr when invalid
};

class UaiValidity : public ::testing::TestWithParam<ValidityCase> {};

TEST_P(UaiValidity, IsValidAndNormalize) {
    const auto& c = GetParam();
    EXPECT_EQ(is_valid_uai(c.code), c.valid) << c.code;
    const auto n = normalize_uai(c.code);
    if (c.normalized == nullptr) {
        EXPECT_FALSE(n.has_value()) << c.code;
    } else {
        ASSERT_TRUE(n.has_value()) << c.code;
        EXPECT_EQ(*n, c.normalized);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Codes, UaiValidity,
    ::testing::Values(ValidityCase{"0590072H", true, "0590072H"},
                      ValidityCase{"0590072h", true, "0590072H"},  // letter in any case
                      ValidityCase{"0626769w", true, "0626769W"},
                      ValidityCase{"0590072X", false, nullptr},    // wrong check letter
                      ValidityCase{"0590072I", false, nullptr},    // not in the alphabet
                      ValidityCase{"059007H", false, nullptr},     // 6 digits
                      ValidityCase{"05900721H", false, nullptr},   // 8 digits
                      ValidityCase{"0590072H ", false, nullptr},   // no trimming
                      ValidityCase{" 0590072H", false, nullptr},
                      ValidityCase{"05900A2H", false, nullptr},    // letter among the digits
                      ValidityCase{"05900722", false, nullptr},    // digit for the letter
                      ValidityCase{"", false, nullptr}));

struct MentionCase {
    const char* name;
    std::string_view text;
    std::vector<UaiMention> expected;
};

void PrintTo(const MentionCase& c, std::ostream* os) { *os << c.name; }

class UaiMentions : public ::testing::TestWithParam<MentionCase> {};

TEST_P(UaiMentions, Finds) {
    const auto found = find_uai_mentions(GetParam().text);
    const auto& expected = GetParam().expected;
    ASSERT_EQ(found.size(), expected.size()) << GetParam().text;
    for (std::size_t i = 0; i < found.size(); ++i) {
        EXPECT_EQ(found[i].code, expected[i].code) << GetParam().text;
        EXPECT_EQ(found[i].valid, expected[i].valid) << GetParam().text;
    }
}

const MentionCase kMentionCases[] = {
    {"Empty", "", {}},
    {"WholeString", "0590072H", {{"0590072H", true}}},
    {"LowerCaseLetterUpperCased", "uai 0590072h", {{"0590072H", true}}},
    {"AtStart", "0590072H est notre UAI", {{"0590072H", true}}},
    {"AtEnd", "Notre UAI : 0590072H", {{"0590072H", true}}},
    {"Punctuation", "(0590072H), [0600009J]. UAI:0596082R;", {{"0590072H", true}, {"0600009J", true}, {"0596082R", true}}},
    {"FileNameUnderscoreAndDot", "PPO_0590072H.pdf", {{"0590072H", true}}},
    {"FileNameHyphen", "ppo-0590072h-2025.xlsx", {{"0590072H", true}}},
    {"WrongCheckLetterReported", "UAI 0590072X", {{"0590072X", false}}},
    {"LetterOutsideAlphabetReported", "0590072O", {{"0590072O", false}}},
    {"LetterBeforeIsAWord", "X0590072H", {}},
    {"LetterAfterIsAWord", "0590072HX", {}},
    {"DigitAfterIsAWord", "0590072H1", {}},
    {"EightDigits", "10590072H", {}},
    {"EightDigitsInText", "ref 05900721H du dossier", {}},
    {"SixDigits", "059007H", {}},
    {"NoLetter", "0590072 ", {}},
    {"PhoneNumberSpaced", "Tél. 03 21 28 31 39", {}},
    {"PhoneNumberDotted", "Tél : 03.21.28.31.39", {}},
    {"PhoneNumberGlued", "Tel 0321283139", {}},
    {"Siret", "SIRET 19590072800014", {}},
    {"PostalCode", "59500 DOUAI", {}},
    {"DuplicatesRemovedCaseInsensitively", "0590072H, 0590072h et 0590072H", {{"0590072H", true}}},
    {"OrderKept", "0600009J puis 0590072H puis 0600009J", {{"0600009J", true}, {"0590072H", true}}},
    {"AdjacentAfterSeparator", "0590072H/0600009J", {{"0590072H", true}, {"0600009J", true}}},
    {"NewlinesAndTabs", "\n0590072H\t0626769W\r\n", {{"0590072H", true}, {"0626769W", true}}},
};

INSTANTIATE_TEST_SUITE_P(Texts, UaiMentions, ::testing::ValuesIn(kMentionCases),
                         [](const ::testing::TestParamInfo<MentionCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace ppo::parsers

namespace {

TEST(UaiApart, SpacesDotsAndLowerCase) {
    for (const std::string text : {"UAI : 0 807 463 C.", "RNE 0807463.c", "(0807463 c)", "080 74 63 C", "0807463-C",
                                   "0\xC2\xA0" "807\xC2\xA0" "463\xC2\xA0" "C"}) {
        const auto found = ppo::parsers::find_uai_mentions(text);
        ASSERT_EQ(found.size(), 1u) << text;
        EXPECT_EQ(found[0].code, "0807463C") << text;
        EXPECT_TRUE(found[0].valid) << text;
    }
}

TEST(UaiApart, WrongLetterOrLongerNumberIsNoUai) {
    for (const std::string text : {"0 807 463 D", "03 22 71 61 00 A", "03.44.09.12.34 b", "10 807 463 C",
                                   "0 807 463 CE", "0 807 463 12 C", "12 3456 780 C"}) {
        EXPECT_TRUE(ppo::parsers::find_uai_mentions(text).empty()) << text;
    }
}

TEST(UaiApart, TogetherWithAWrongLetterIsStillReported) {
    const auto found = ppo::parsers::find_uai_mentions("0807463D");
    ASSERT_EQ(found.size(), 1u);
    EXPECT_FALSE(found[0].valid);
}

}  // namespace
