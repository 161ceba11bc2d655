#include "parsers/text/error.h"
#include "parsers/text/text_encoding.h"

#include <gtest/gtest.h>

using ppo::parsers::decode_text_file;

namespace {
std::string refusal(std::string_view bytes) {
    try {
        decode_text_file(bytes);
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::corrupt);
        return e.what();
    }
    return "";
}
}  // namespace

TEST(TextEncoding, Utf8WithAndWithoutBom) {
    auto plain = decode_text_file("Lycée;Amiens\n");
    EXPECT_EQ(plain.text, "Lycée;Amiens\n");
    EXPECT_EQ(plain.encoding, "UTF-8");
    EXPECT_FALSE(plain.converted);
    auto bom = decode_text_file("\xEF\xBB\xBFLycée\n");
    EXPECT_EQ(bom.text, "Lycée\n");
    EXPECT_EQ(bom.encoding, "UTF-8 with BOM");
    EXPECT_EQ(decode_text_file("").text, "");
}

TEST(TextEncoding, Windows1252AndLatin9AreConverted) {
    // "Lycée Œuvre – n°1 €" in Windows-1252: é E9, Œ 8C, – 96, ° B0, € 80.
    auto w = decode_text_file("Lyc\xE9" "e \x8Cuvre \x96 n\xB0" "1 \x80\r\n");
    EXPECT_EQ(w.encoding, "Windows-1252");
    EXPECT_TRUE(w.converted);
    EXPECT_EQ(w.text, "Lycée Œuvre – n°1 €\r\n");
    // No 0x80-0x9F byte, and œ at ISO-8859-15's 0xBD: "Sacré-Cœur".
    auto l9 = decode_text_file("Sacr\xE9-C\xBDur\n");
    EXPECT_EQ(l9.encoding, "ISO-8859-15");
    EXPECT_EQ(l9.text, "Sacré-Cœur\n");
    // Plain accents: the same bytes in all three; called Windows-1252.
    auto both = decode_text_file("\xC9\x63ole \xE0 Amiens\n");
    EXPECT_EQ(both.encoding, "Windows-1252");
    EXPECT_EQ(both.text, "École à Amiens\n");
}

TEST(TextEncoding, RefusesUtf16BinaryMixedAndUndefinedBytes) {
    EXPECT_NE(refusal("\xFF\xFEL\0y\0").find("UTF-16 (byte-order mark FF FE)"), std::string::npos);
    EXPECT_NE(refusal("\xFE\xFF\0L\0y").find("UTF-16 (byte-order mark FE FF)"), std::string::npos);
    EXPECT_NE(refusal(std::string_view("a;b\nc\0d\n", 8)).find("NUL byte at line 2"), std::string::npos);
    EXPECT_NE(refusal(std::string(100, '\x01')).find("not text"), std::string::npos);
    EXPECT_NE(refusal("Lycée\nLyc\xE9" "e\n").find("mixes encodings"), std::string::npos);
    EXPECT_NE(refusal("Lycée\nLyc\xE9" "e\n").find("line 2"), std::string::npos);
    EXPECT_NE(refusal("\xEF\xBB\xBF" "Lyc\xE9" "e\n").find("mixes encodings"), std::string::npos);
    EXPECT_NE(refusal("a\nb\x81\n").find("byte 0x81 at line 2"), std::string::npos);
}
