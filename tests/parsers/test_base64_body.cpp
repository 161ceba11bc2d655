// base64_decode_body against libetpan's own decoder (mailmime_part_parse), which
// it replaced for speed: the same bytes out for clean, wrapped, padded, truncated
// and junk-laden input.
#include "parsers/mime/mime_util.h"

#include <gtest/gtest.h>
#include <libetpan/libetpan.h>

#include <random>
#include <string>

namespace ppo::parsers {
namespace {

std::string libetpan_decode(const std::string& in) {
    std::size_t idx = 0;
    char* result = nullptr;
    std::size_t result_len = 0;
    const int r = mailmime_part_parse(in.data(), in.size(), &idx, MAILMIME_MECHANISM_BASE64, &result, &result_len);
    EXPECT_EQ(r, MAILIMF_NO_ERROR);
    std::string out = result ? std::string(result, result_len) : std::string();
    if (result) mailmime_decoded_part_free(result);
    return out;
}

std::string encode(const std::string& data) {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(data[i]) << 16 | static_cast<unsigned char>(data[i + 1]) << 8 |
                     static_cast<unsigned char>(data[i + 2]);
        for (int s = 18; s >= 0; s -= 6) out += a[(v >> s) & 63];
    }
    if (i < data.size()) {
        unsigned v = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) v |= static_cast<unsigned char>(data[i + 1]) << 8;
        out += a[(v >> 18) & 63];
        out += a[(v >> 12) & 63];
        out += i + 1 < data.size() ? a[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

TEST(Base64Body, CleanWrappedInputDecodesToTheOriginal) {
    std::mt19937 rng(7);
    for (std::size_t n : {0u, 1u, 2u, 3u, 56u, 57u, 58u, 1000u, 204800u}) {
        std::string data(n, '\0');
        for (auto& c : data) c = static_cast<char>(rng());
        std::string b = encode(data), wrapped;
        for (std::size_t i = 0; i < b.size(); i += 76) wrapped += b.substr(i, 76) + "\r\n";
        EXPECT_EQ(mime_detail::base64_decode_body(wrapped), data) << n;
        EXPECT_EQ(mime_detail::base64_decode_body(b), data) << n;
        EXPECT_EQ(mime_detail::base64_decode_body(wrapped), libetpan_decode(wrapped)) << n;
    }
}

TEST(Base64Body, SameBytesAsLibetpanOnDamagedInput) {
    // Junk characters, padding in the middle, truncated groups, bare LF,
    // spaces: whatever the alphabet letters, the same output as libetpan.
    std::mt19937 rng(2022);
    const std::string pool = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                             "=\r\n \t-_.*\x80\xff";
    for (int round = 0; round < 3000; ++round) {
        std::string in(rng() % 200, '\0');
        for (auto& c : in) {
            // Mostly alphabet, sometimes anything from the pool.
            c = rng() % 5 ? pool[rng() % 64] : pool[rng() % pool.size()];
        }
        bool junk = false;
        ASSERT_EQ(mime_detail::base64_decode_body(in, &junk), libetpan_decode(in)) << "input: " << in;
        const bool expected_junk = in.find_first_not_of(pool.substr(0, 64) + "= \t\r\n") != std::string::npos;
        EXPECT_EQ(junk, expected_junk) << "input: " << in;
    }
}

}  // namespace
}  // namespace ppo::parsers
