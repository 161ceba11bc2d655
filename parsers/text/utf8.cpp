#include "parsers/text/utf8.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace ppo::parsers {

namespace {

void put(std::string& out, utf8proc_int32_t cp) {
    utf8proc_uint8_t buf[4];
    const auto n = utf8proc_encode_char(cp, buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

// U+FB00..U+FB06, as letters.
std::string_view ligature(utf8proc_int32_t cp) {
    switch (cp) {
        case 0xFB00: return "ff";
        case 0xFB01: return "fi";
        case 0xFB02: return "fl";
        case 0xFB03: return "ffi";
        case 0xFB04: return "ffl";
        case 0xFB05: return "st";   // ſt
        case 0xFB06: return "st";
        default: return {};
    }
}

}  // namespace

std::string normalize_text(std::string_view utf8) {
    // Valid UTF-8 with the ligatures spelt out, then NFC.
    std::string clean;
    clean.reserve(utf8.size());
    bool plain_ascii = true;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(utf8.size());
    while (left > 0) {
        if (*p < 0x80) {
            clean.push_back(static_cast<char>(*p));
            ++p;
            --left;
            continue;
        }
        plain_ascii = false;
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {
            put(clean, 0xFFFD);
            ++p;
            --left;
            continue;
        }
        if (const auto lig = ligature(cp); !lig.empty()) clean += lig;
        else put(clean, cp);
        p += n;
        left -= n;
    }
    if (plain_ascii) return clean;   // ASCII is already NFC
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(clean.data()),
                                            static_cast<utf8proc_ssize_t>(clean.size()), &out,
                                            static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (n < 0 || out == nullptr) {
        std::free(out);
        return clean;   // out of memory: the text as it is, valid all the same
    }
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
    return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

}  // namespace ppo::parsers
