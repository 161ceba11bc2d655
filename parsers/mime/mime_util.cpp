#include "parsers/mime/mime_util.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace ppo::parsers::mime_detail {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return 1;
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return 0;
    for (std::size_t k = 2; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if (b < 0x80 || b > 0xBF) return 0;
    }
    return len;
}

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

void append_sanitized_utf8(std::string& out, std::string_view s) {
    out.reserve(out.size() + s.size());
    std::size_t run = 0;  // start of the current valid run
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = utf8_sequence_length(s, i);
        if (n == 0) {
            out.append(s.substr(run, i - run));
            out.append("\xEF\xBF\xBD");
            ++i;
            run = i;
        } else {
            i += n;
        }
    }
    out.append(s.substr(run));
}

std::string base64_decode_lenient(std::string_view s) {
    std::string out;
    out.reserve(s.size() / 4 * 3 + 3);
    unsigned int acc = 0;
    int bits = 0;
    for (char c : s) {
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+' || c == '-') v = 62;
        else if (c == '/' || c == '_') v = 63;
        else if (c == '=') break;
        else continue;
        acc = ((acc << 6) | static_cast<unsigned int>(v)) & 0xFFFFFFu;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
        }
    }
    return out;
}

std::string base64_decode_body(std::string_view s, bool* junk, const std::function<void(const char* upto)>& consumed) {
    // -1: skipped quietly (line ends, blanks, padding); -2: skipped, but junk.
    static const auto table = [] {
        std::array<std::int8_t, 256> t{};
        t.fill(-2);
        for (unsigned char c : std::string_view("= \t\r\n")) t[c] = -1;
        const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
        return t;
    }();
    std::string out(s.size() / 4 * 3 + 3, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = p + s.size();
    std::uint32_t acc = 0;
    int n = 0;   // characters in acc
    constexpr std::ptrdiff_t kStep = 4 << 20;
    const unsigned char* mark = consumed && end - p > kStep ? p + kStep : nullptr;   // next call of consumed
    while (p < end) {
        if (mark != nullptr && p >= mark) {
            consumed(reinterpret_cast<const char*>(p));
            mark = end - p > kStep ? p + kStep : nullptr;
        }
        if (n == 0 && end - p >= 4) {
            const int a = table[p[0]], b = table[p[1]], c = table[p[2]], d = table[p[3]];
            if ((a | b | c | d) >= 0) {
                const auto v = static_cast<std::uint32_t>(a << 18 | b << 12 | c << 6 | d);
                *o++ = static_cast<unsigned char>(v >> 16);
                *o++ = static_cast<unsigned char>(v >> 8);
                *o++ = static_cast<unsigned char>(v);
                p += 4;
                continue;
            }
        }
        const int v = table[*p++];
        if (v < 0) {
            if (v == -2 && junk != nullptr) *junk = true;
            continue;
        }
        acc = acc << 6 | static_cast<std::uint32_t>(v);
        if (++n == 4) {
            *o++ = static_cast<unsigned char>(acc >> 16);
            *o++ = static_cast<unsigned char>(acc >> 8);
            *o++ = static_cast<unsigned char>(acc);
            acc = 0;
            n = 0;
        }
    }
    if (n == 1) {
        *o++ = static_cast<unsigned char>(acc << 2);   // as libetpan does (6 bits of a byte)
    } else if (n == 2) {
        *o++ = static_cast<unsigned char>(acc >> 4);
    } else if (n == 3) {
        *o++ = static_cast<unsigned char>(acc >> 10);
        *o++ = static_cast<unsigned char>(acc >> 2);
    }
    out.resize(static_cast<std::size_t>(o - reinterpret_cast<unsigned char*>(out.data())));
    return out;
}

std::string unquote(std::string_view s) {
    s = trim(s);
    if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
    s = s.substr(1, s.size() - 2);
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        out.push_back(s[i]);
    }
    return out;
}

std::string split_header_params(std::string_view value,
                                std::vector<std::pair<std::string, std::string>>* params) {
    // Split on ';' outside double quotes.
    std::vector<std::string_view> pieces;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        if (quoted && c == '\\') {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ';' && !quoted) {
            pieces.push_back(value.substr(start, i - start));
            start = i + 1;
        }
    }
    pieces.push_back(value.substr(start));
    std::string first(trim(pieces.front()));
    if (params != nullptr) {
        for (std::size_t k = 1; k < pieces.size(); ++k) {
            const std::string_view piece = trim(pieces[k]);
            const std::size_t eq = piece.find('=');
            if (eq == std::string_view::npos || eq == 0) continue;
            params->emplace_back(std::string(trim(piece.substr(0, eq))), unquote(piece.substr(eq + 1)));
        }
    }
    return first;
}

namespace {
bool is_field_name_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && c != ':';
}
}  // namespace

std::size_t split_header_block(std::string_view data, std::vector<RawField>* fields,
                               bool* terminated_by_empty_line) {
    if (terminated_by_empty_line != nullptr) *terminated_by_empty_line = false;
    std::size_t pos = 0;
    bool have_field = false;
    while (pos < data.size()) {
        const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
        const std::size_t eol = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data.data())
                                   : data.size();
        const std::size_t next = nl ? eol + 1 : data.size();
        std::string_view line = data.substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        // Lines end at LF (CRLF, or bare LF as some servers store them). A CR
        // anywhere else is dropped, never taken for a line break: a stranger's
        // "Message-ID: <a\rBcc: x>" must not become two fields here, nor in
        // whatever copies the value into a mail we send.
        std::string no_cr;
        if (line.find('\r') != std::string_view::npos) {
            no_cr.reserve(line.size());
            for (char c : line)
                if (c != '\r') no_cr.push_back(c);
            line = no_cr;
        }
        if (line.empty()) {
            if (terminated_by_empty_line != nullptr) *terminated_by_empty_line = true;
            return next;
        }
        if (is_wsp(line.front())) {
            if (!have_field) return pos;  // continuation of nothing: the body starts here
            if (fields != nullptr) fields->back().value.append(line);
            pos = next;
            continue;
        }
        std::size_t colon = 0;
        while (colon < line.size() && is_field_name_char(line[colon])) ++colon;
        const std::size_t name_end = colon;
        while (colon < line.size() && is_wsp(line[colon])) ++colon;  // "Subject :" (obsolete syntax)
        if (name_end == 0 || colon >= line.size() || line[colon] != ':') return pos;  // not a header
        if (fields != nullptr)
            fields->push_back(RawField{std::string(line.substr(0, name_end)), std::string(line.substr(colon + 1))});
        have_field = true;
        pos = next;
    }
    return pos;
}

}  // namespace ppo::parsers::mime_detail
