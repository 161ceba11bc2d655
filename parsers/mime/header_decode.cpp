#include "parsers/mime/header_decode.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "parsers/mime/mime_util.h"

namespace ppo::parsers {

using namespace mime_detail;

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

std::string normalize_charset(std::string_view charset) {
    std::string cs = lower(unquote(trim(charset)));
    // RFC 2231 language suffix in an encoded word: "utf-8*fr".
    if (const auto star = cs.find('*'); star != std::string::npos) cs.resize(star);
    return std::string(trim(cs));
}

// Converts with iconv; returns false if iconv does not know `charset`.
bool iconv_to_utf8(std::string_view bytes, const std::string& charset, std::string& out) {
    iconv_t cd = iconv_open("UTF-8", charset.c_str());
    if (cd == reinterpret_cast<iconv_t>(-1)) return false;
    std::string buf;
    buf.resize(bytes.size() * 2 + 16);
    std::size_t used = 0;
    // iconv's API takes char** for the input; it never writes through it.
    char* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    bool flushing = false;
    for (;;) {
        if (buf.size() - used < 16) buf.resize(buf.size() * 2);
        char* outp = buf.data() + used;
        std::size_t out_left = buf.size() - used;
        const std::size_t r = flushing ? iconv(cd, nullptr, nullptr, &outp, &out_left)
                                       : iconv(cd, &in, &in_left, &outp, &out_left);
        const int err = errno;
        used = static_cast<std::size_t>(outp - buf.data());
        if (r != static_cast<std::size_t>(-1)) {
            if (flushing || in_left == 0) {
                if (flushing) break;
                flushing = true;
            }
            continue;
        }
        if (err == E2BIG) {
            buf.resize(buf.size() * 2);
            continue;
        }
        // EILSEQ (invalid byte) or EINVAL (truncated sequence at the end).
        buf.resize(std::max(buf.size(), used + kReplacement.size() + 16));
        buf.replace(used, kReplacement.size(), kReplacement);
        used += kReplacement.size();
        if (err == EINVAL || in_left <= 1) {
            in_left = 0;
            flushing = true;
            continue;
        }
        ++in;
        --in_left;
        iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset shift state
    }
    iconv_close(cd);
    buf.resize(used);
    append_sanitized_utf8(out, buf);
    return true;
}

std::string guess_to_utf8(std::string_view bytes) {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    std::string out;
    if (!iconv_to_utf8(bytes, "WINDOWS-1252", out)) append_sanitized_utf8(out, bytes);
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string q_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

struct Segment {
    bool encoded = false;
    std::string charset;  // encoded words only
    std::string bytes;
};

// Tries to read "=?charset?B|Q?text?=" at value[pos]; on success fills `seg`
// and returns the offset just past it. Bounded scan (no quadratic blow-up on
// long lines full of "=?").
std::size_t parse_encoded_word(std::string_view value, std::size_t pos, Segment& seg) {
    constexpr std::size_t kMaxCharset = 64;
    constexpr std::size_t kMaxText = 4096;
    std::size_t i = pos + 2;
    const std::size_t cs_begin = i;
    while (i < value.size() && i - cs_begin <= kMaxCharset && value[i] != '?') {
        const char c = value[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"') return 0;
        ++i;
    }
    if (i >= value.size() || value[i] != '?' || i == cs_begin) return 0;
    const std::string_view charset = value.substr(cs_begin, i - cs_begin);
    ++i;
    if (i + 1 >= value.size() || value[i + 1] != '?') return 0;
    const char enc = ascii_lower(value[i]);
    if (enc != 'b' && enc != 'q') return 0;
    i += 2;
    const std::size_t text_begin = i;
    while (i + 1 < value.size() && i - text_begin <= kMaxText) {
        if (value[i] == '\r' || value[i] == '\n') return 0;
        if (value[i] == '?' && value[i + 1] == '=') break;
        ++i;
    }
    if (i + 1 >= value.size() || value[i] != '?' || value[i + 1] != '=') return 0;
    const std::string_view text = value.substr(text_begin, i - text_begin);
    seg.encoded = true;
    seg.charset = normalize_charset(charset);
    seg.bytes = enc == 'b' ? base64_decode_lenient(text) : q_decode(text);
    return i + 2;
}

bool all_whitespace(std::string_view s) {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

}  // namespace

std::string to_utf8(std::string_view bytes, std::string_view charset) {
    const std::string cs = normalize_charset(charset);
    if (cs.empty() || cs == "us-ascii" || cs == "ascii" || cs == "unknown-8bit" || cs == "x-unknown" ||
        cs == "default" || cs == "unknown")
        return guess_to_utf8(bytes);
    if (cs == "utf-8" || cs == "utf8") {
        std::string out;
        append_sanitized_utf8(out, bytes);
        return out;
    }
    // Like every mail client (and the WHATWG encoding standard): what is labelled
    // Latin-1 is in practice Windows-1252, which only differs in 0x80-0x9F.
    std::string iconv_name = cs;
    if (cs == "iso-8859-1" || cs == "iso8859-1" || cs == "iso_8859-1" || cs == "latin1" || cs == "latin-1" ||
        cs == "l1" || cs == "cp819")
        iconv_name = "WINDOWS-1252";
    std::string out;
    if (iconv_to_utf8(bytes, iconv_name, out)) return out;
    return guess_to_utf8(bytes);
}

std::string decode_rfc2047(std::string_view value) {
    std::vector<Segment> segs;
    std::size_t pos = 0;
    std::size_t raw_start = 0;
    while (pos < value.size()) {
        const std::size_t cand = value.find("=?", pos);
        if (cand == std::string_view::npos) break;
        Segment seg;
        const std::size_t end = parse_encoded_word(value, cand, seg);
        if (end == 0) {
            pos = cand + 2;
            continue;
        }
        if (cand > raw_start) segs.push_back(Segment{false, {}, std::string(value.substr(raw_start, cand - raw_start))});
        segs.push_back(std::move(seg));
        pos = raw_start = end;
    }
    if (raw_start < value.size()) segs.push_back(Segment{false, {}, std::string(value.substr(raw_start))});

    std::string out;
    std::size_t i = 0;
    while (i < segs.size()) {
        if (!segs[i].encoded) {
            out += guess_to_utf8(segs[i].bytes);
            ++i;
            continue;
        }
        // Gather a run of encoded words separated only by white space; join the
        // bytes of adjacent words in the same charset before converting (a
        // multi-byte character may be split across words).
        std::string bytes = segs[i].bytes;
        std::string charset = segs[i].charset;
        std::size_t j = i + 1;
        for (;;) {
            std::size_t k = j;
            if (k < segs.size() && !segs[k].encoded && all_whitespace(segs[k].bytes)) ++k;
            if (k >= segs.size() || !segs[k].encoded) break;
            if (segs[k].charset == charset) {
                bytes += segs[k].bytes;
            } else {
                out += to_utf8(bytes, charset);
                bytes = segs[k].bytes;
                charset = segs[k].charset;
            }
            j = k + 1;
        }
        out += to_utf8(bytes, charset);
        i = j;
    }
    return out;
}

std::string decode_parameter(const std::vector<std::pair<std::string, std::string>>& params,
                             std::string_view name) {
    const std::string wanted = lower(trim(name));
    struct Section {
        bool extended = false;
        std::string value;
    };
    std::map<unsigned, Section> sections;
    bool have_plain = false, have_single_ext = false;
    std::string plain, single_ext;
    constexpr unsigned kMaxSections = 1000;

    for (const auto& [raw_name, raw_value] : params) {
        const std::string pname = lower(trim(raw_name));
        if (pname == wanted) {
            if (!have_plain) plain = raw_value;
            have_plain = true;
            continue;
        }
        if (pname.size() <= wanted.size() || pname.compare(0, wanted.size(), wanted) != 0 ||
            pname[wanted.size()] != '*')
            continue;
        std::string_view rest = std::string_view(pname).substr(wanted.size() + 1);
        if (rest.empty()) {  // name*=charset'lang'value
            if (!have_single_ext) single_ext = raw_value;
            have_single_ext = true;
            continue;
        }
        unsigned index = 0;
        std::size_t d = 0;
        while (d < rest.size() && rest[d] >= '0' && rest[d] <= '9' && index < kMaxSections) {
            index = index * 10 + static_cast<unsigned>(rest[d] - '0');
            ++d;
        }
        if (d == 0 || index >= kMaxSections) continue;
        bool extended = false;
        if (d < rest.size() && rest[d] == '*') {
            extended = true;
            ++d;
        }
        if (d != rest.size()) continue;
        sections.try_emplace(index, Section{extended, raw_value});
    }

    // charset'language'pct-encoded -> (charset, bytes)
    auto split_extended = [](std::string_view v, std::string& charset) {
        v = trim(v);
        const std::string uq = unquote(v);
        std::string_view s = uq;
        const std::size_t q1 = s.find('\'');
        const std::size_t q2 = q1 == std::string_view::npos ? q1 : s.find('\'', q1 + 1);
        if (q2 != std::string_view::npos) {
            charset = std::string(s.substr(0, q1));
            s = s.substr(q2 + 1);
        }
        return percent_decode(s);
    };

    if (have_single_ext) {
        std::string charset;
        const std::string bytes = split_extended(single_ext, charset);
        return to_utf8(bytes, charset);
    }
    if (!sections.empty()) {
        std::string charset, bytes;
        bool any_extended = false;
        for (const auto& [index, sec] : sections) {
            if (sec.extended) {
                any_extended = true;
                if (index == 0) {
                    bytes += split_extended(sec.value, charset);
                } else {
                    bytes += percent_decode(unquote(sec.value));
                }
            } else {
                bytes += unquote(sec.value);
            }
        }
        return any_extended ? to_utf8(bytes, charset) : decode_rfc2047(bytes);
    }
    if (have_plain) return decode_rfc2047(unquote(plain));
    return {};
}

}  // namespace ppo::parsers
