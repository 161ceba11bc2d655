#include "parsers/text/uai.h"

#include <algorithm>
#include <cctype>

namespace ppo::parsers {

namespace {
constexpr std::string_view kLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
}  // namespace

char uai_check_letter(std::string_view seven_digits) {
    long n = 0;
    for (char c : seven_digits.substr(0, 7)) n = n * 10 + (c - '0');
    // Non-digits (not validated here) can make n negative: keep the index in range.
    return kLetters[static_cast<std::size_t>((n % 23 + 23) % 23)];
}

bool is_valid_uai(std::string_view code) {
    if (code.size() != 8) return false;
    for (std::size_t i = 0; i < 7; ++i)
        if (!is_digit(code[i])) return false;
    return is_alpha(code[7]) && upper(code[7]) == uai_check_letter(code);
}

std::optional<std::string> normalize_uai(std::string_view code) {
    if (!is_valid_uai(code)) return std::nullopt;
    std::string out(code);
    out[7] = upper(out[7]);
    return out;
}

std::vector<UaiMention> find_uai_mentions(std::string_view text) {
    std::vector<UaiMention> found;
    const std::size_t n = text.size();
    for (std::size_t i = 0; i + 8 <= n; ++i) {
        if (i > 0 && (is_digit(text[i - 1]) || is_alpha(text[i - 1]))) continue;
        std::size_t j = i;
        while (j < n && j - i < 7 && is_digit(text[j])) ++j;
        if (j - i != 7 || j >= n || !is_alpha(text[j])) continue;
        // The letter must end the token: "0590072Hx" is a word, not a UAI.
        if (j + 1 < n && (is_alpha(text[j + 1]) || is_digit(text[j + 1]))) continue;
        std::string code(text.substr(i, 8));
        code[7] = upper(code[7]);
        if (std::none_of(found.begin(), found.end(), [&](const UaiMention& m) { return m.code == code; }))
            found.push_back({code, is_valid_uai(code)});
        i = j;
    }
    return found;
}

}  // namespace ppo::parsers
