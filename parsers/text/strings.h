// The small string helpers every layer uses, in one place: ASCII case, trimming,
// joining. Pure, locale-free (bytes outside ASCII are left as they are: UTF-8
// text keeps its letters).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ppo::text {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

inline std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_upper(c);
    return out;
}

// Without the white space (space, tab, CR, LF, FF, VT) at either end.
inline std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n\f\v";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// The items with `sep` between them; a separator follows text only, so empty
// leading items leave none ("", "a" -> "a").
inline std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

}  // namespace ppo::text
