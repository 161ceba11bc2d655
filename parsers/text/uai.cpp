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

namespace {

// Length of a separator at text[i] (one space, dot, no-break space U+00A0 or
// narrow no-break space U+202F), 0 when none.
std::size_t separator_at(std::string_view text, std::size_t i, bool before_letter) {
    if (i >= text.size()) return 0;
    const char c = text[i];
    if (c == ' ' || c == '.') return 1;
    if (before_letter && c == '-') return 1;
    if (text.substr(i, 2) == "\xC2\xA0") return 2;
    if (text.substr(i, 3) == "\xE2\x80\xAF") return 3;
    return 0;
}

bool alnum_at(std::string_view text, std::size_t i) { return i < text.size() && (is_digit(text[i]) || is_alpha(text[i])); }

// Whether a digit ends just before `i`, possibly across one separator.
bool digit_before(std::string_view text, std::size_t i) {
    if (i == 0) return false;
    if (is_digit(text[i - 1])) return true;
    for (std::size_t len : {1u, 2u, 3u}) {
        if (i < len + 1) continue;
        if (separator_at(text, i - len, false) == len && is_digit(text[i - len - 1])) return true;
    }
    return false;
}

}  // namespace

std::vector<UaiMention> find_uai_mentions(std::string_view text) {
    std::vector<UaiMention> found;
    const auto add = [&](std::string code, bool valid, std::string_view written) {
        code[7] = upper(code[7]);
        if (std::none_of(found.begin(), found.end(), [&](const UaiMention& m) { return m.code == code; }))
            found.push_back({code, valid, std::string(written)});
    };
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_digit(text[i]) || (i > 0 && is_alpha(text[i - 1]))) continue;
        if (i > 0 && is_digit(text[i - 1])) continue;
        // Written together.
        std::size_t j = i;
        while (j < n && j - i < 7 && is_digit(text[j])) ++j;
        if (j - i == 7 && j < n && is_alpha(text[j]) && !alnum_at(text, j + 1)) {
            std::string code(text.substr(i, 8));
            add(code, is_valid_uai(code), text.substr(i, 8));
            i = j;
            continue;
        }
        // Written apart: not the continuation of an earlier number.
        if (digit_before(text, i)) continue;
        std::string digits;
        bool apart = false;
        j = i;
        while (j < n && digits.size() < 7) {
            if (is_digit(text[j])) {
                digits.push_back(text[j]);
                ++j;
                continue;
            }
            const std::size_t sep = separator_at(text, j, false);
            if (sep == 0 || !(j + sep < n && is_digit(text[j + sep]))) break;
            apart = true;
            j += sep;
        }
        if (digits.size() != 7) {
            // Skip the rest of this number: it is not a UAI.
            while (j < n && is_digit(text[j])) ++j;
            i = j > i ? j - 1 : i;
            continue;
        }
        if (j < n && is_digit(text[j])) continue;   // eight digits or more
        if (const std::size_t sep = separator_at(text, j, false); sep && j + sep < n && is_digit(text[j + sep]))
            continue;   // more digits follow: a longer number
        std::size_t k = j;
        if (const std::size_t sep = separator_at(text, k, true)) {
            apart = true;
            k += sep;
        }
        if (!apart || k >= n || !is_alpha(text[k]) || alnum_at(text, k + 1)) continue;
        std::string code = digits + text[k];
        if (is_valid_uai(code)) add(code, true, text.substr(i, k + 1 - i));
        i = k;
    }
    return found;
}

}  // namespace ppo::parsers
