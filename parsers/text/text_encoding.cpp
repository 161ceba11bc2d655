#include "parsers/text/text_encoding.h"

#include "parsers/text/error.h"
#include "parsers/mime/mime_util.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace ppo::parsers {

namespace {

// Windows-1252 0x80..0x9F; 0 where the code page defines nothing.
constexpr std::uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

// The eight places where ISO-8859-15 differs from ISO-8859-1 (and Windows-1252).
std::uint16_t latin9(unsigned char c) {
    switch (c) {
    case 0xA4: return 0x20AC;  // €
    case 0xA6: return 0x0160;  // Š
    case 0xA8: return 0x0161;  // š
    case 0xB4: return 0x017D;  // Ž
    case 0xB8: return 0x017E;  // ž
    case 0xBC: return 0x0152;  // Œ
    case 0xBD: return 0x0153;  // œ
    case 0xBE: return 0x0178;  // Ÿ
    default: return c;
    }
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::uint32_t cp1252(unsigned char c) {
    if (c < 0x80 || c >= 0xA0) return c;
    const std::uint16_t cp = kCp1252High[c - 0x80];
    return cp ? cp : 0xFFFD;
}

std::string line_of(std::string_view bytes, std::size_t offset) {
    return "line " + std::to_string(std::count(bytes.begin(), bytes.begin() + static_cast<long>(offset), '\n') + 1);
}

std::string hex(unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02X", c);
    return buf;
}

}  // namespace

std::string windows1252_to_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + bytes.size() / 8);
    for (unsigned char c : bytes) append_utf8(out, cp1252(c));
    return out;
}

DecodedText decode_text_file(std::string_view bytes) {
    if (bytes.size() >= 2 && ((bytes[0] == '\xFF' && bytes[1] == '\xFE') || (bytes[0] == '\xFE' && bytes[1] == '\xFF')))
        throw corrupt_error(std::string("the file is UTF-16 (byte-order mark ") + (bytes[0] == '\xFF' ? "FF FE" : "FE FF") +
                            "), not text in UTF-8 or Windows-1252: save it as \"CSV UTF-8\" or \"CSV (;)\"");
    if (auto nul = bytes.find('\0'); nul != std::string_view::npos)
        throw corrupt_error("the file is not text: NUL byte at " + line_of(bytes, nul) + " (offset " + std::to_string(nul) +
                            "; UTF-16 without a byte-order mark, or a spreadsheet saved in its own format?)");
    // Text has line breaks and tabs, and a stray control character or two at most.
    const auto controls = static_cast<std::size_t>(std::count_if(bytes.begin(), bytes.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F;
    }));
    if (controls > 8 && controls * 100 > bytes.size())
        throw corrupt_error("the file is not text: " + std::to_string(controls) + " control characters in " +
                            std::to_string(bytes.size()) + " bytes");

    DecodedText out;
    std::string_view body = bytes;
    const bool bom = body.substr(0, 3) == "\xEF\xBB\xBF";
    if (bom) body.remove_prefix(3);
    // One pass: where the first ill-formed UTF-8 byte is, and whether there
    // are well-formed multi-byte sequences at all.
    std::size_t first_bad = std::string_view::npos, multibyte = 0;
    for (std::size_t i = 0; i < body.size();) {
        const std::size_t n = mime_detail::utf8_sequence_length(body, i);
        if (n == 0) {
            if (first_bad == std::string_view::npos) first_bad = i;
            ++i;
            continue;
        }
        if (n > 1) ++multibyte;
        i += n;
    }
    if (first_bad == std::string_view::npos) {
        out.text = std::string(body);
        out.encoding = bom ? "UTF-8 with BOM" : "UTF-8";
        return out;
    }
    const std::size_t offset = first_bad + (bom ? 3 : 0);
    if (bom || multibyte > 0)
        throw corrupt_error("the file mixes encodings: valid UTF-8" + std::string(bom ? " (it starts with a UTF-8 BOM)" : "") +
                            " but an invalid byte " + hex(static_cast<unsigned char>(bytes[offset])) + " at " +
                            line_of(bytes, offset) + "; save the whole file again in one encoding");
    bool c1 = false, latin9_only = false;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const auto c = static_cast<unsigned char>(body[i]);
        if (c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D)
            throw corrupt_error("the file is neither UTF-8 nor Windows-1252: byte " + hex(c) + " at " + line_of(body, i));
        if (c >= 0x80 && c < 0xA0) c1 = true;
        if (latin9(c) != c) latin9_only = true;
    }
    // Bytes 0x80-0x9F are printable only in Windows-1252 (Excel's choice); without
    // them, €ŠšŽžŒœŸ at their ISO-8859-15 places are likelier than ¤¦¨´¸¼½¾.
    out.converted = true;
    if (!c1 && latin9_only) {
        out.encoding = "ISO-8859-15";
        out.text.reserve(body.size() + body.size() / 8);
        for (unsigned char c : body) append_utf8(out.text, latin9(c));
    } else {
        out.encoding = "Windows-1252";
        out.text = windows1252_to_utf8(body);
    }
    return out;
}

}  // namespace ppo::parsers
