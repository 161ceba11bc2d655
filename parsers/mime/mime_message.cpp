#include "parsers/mime/mime_message.h"

#include <libetpan/mailimf.h>
#include <libetpan/mailmime.h>

#include <algorithm>
#include <chrono>
#include <array>
#include <cctype>
#include <cstring>
#include <memory>

#include "parsers/mime/header_decode.h"
#include "parsers/mime/mime_util.h"
#include "parsers/mime/msg_id.h"

namespace ppo::parsers {

using namespace mime_detail;

namespace {

// libetpan's mailmime_parse recurses once (or twice) per nesting level: whatever
// the caller asks for, never let it go deeper than this.
constexpr std::size_t kHardDepthCap = 200;
constexpr std::size_t kMaxProblems = 50;

void add_problem(std::vector<std::string>& problems, std::string what) {
    if (problems.size() < kMaxProblems) {
        problems.push_back(std::move(what));
    } else if (problems.size() == kMaxProblems) {
        problems.push_back("further problems not listed");
    }
}

// ---------------------------------------------------------------------------
// Structure probe: a linear, non-recursive pre-scan that follows boundaries the
// way libetpan does, to count parts and nesting depth *before* handing the
// message to libetpan's recursive parser. It also spots boundaries that are
// never closed (libetpan accepts those silently).

struct ProbeResult {
    std::size_t nodes = 0;
    bool depth_exceeded = false;
    bool parts_exceeded = false;
};

struct ProbeLevel {
    bool multipart = false;  // false: a message/rfc822 level (no boundary)
    std::string boundary;
    bool digest = false;
    bool saw_part = false;
};

std::string_view next_line(std::string_view raw, std::size_t& pos) {
    const void* nl = std::memchr(raw.data() + pos, '\n', raw.size() - pos);
    const std::size_t eol =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - raw.data()) : raw.size();
    std::string_view line = raw.substr(pos, eol - pos);
    pos = nl ? eol + 1 : raw.size();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

std::string media_type_of(std::string_view content_type_value,
                          std::vector<std::pair<std::string, std::string>>* params) {
    std::string type = lower(split_header_params(content_type_value, params));
    type.erase(std::remove_if(type.begin(), type.end(), [](char c) { return c == ' ' || c == '\t'; }),
               type.end());
    return type;
}

void note_unclosed(const ProbeLevel& level, std::vector<std::string>& problems) {
    if (!level.multipart) return;
    if (!level.saw_part)
        add_problem(problems, "multipart boundary \"" + level.boundary + "\" never appears in the body");
    else
        add_problem(problems, "multipart boundary \"" + level.boundary + "\" is never closed");
}

ProbeResult probe_structure(std::string_view raw, std::size_t max_depth, std::size_t max_parts,
                            std::vector<std::string>& problems) {
    ProbeResult res;
    std::vector<ProbeLevel> stack;
    std::size_t pos = 0;
    bool expect_headers = true;
    bool default_message = false;  // part of a multipart/digest: defaults to message/rfc822
    std::vector<RawField> fields;
    for (;;) {
        if (expect_headers) {
            expect_headers = false;
            if (++res.nodes > max_parts) {
                res.parts_exceeded = true;
                return res;
            }
            fields.clear();
            pos += split_header_block(raw.substr(pos), &fields, nullptr);
            const RawField* ct = nullptr;
            const RawField* cte = nullptr;
            for (const RawField& f : fields) {
                if (!ct && iequals(f.name, "Content-Type")) ct = &f;
                if (!cte && iequals(f.name, "Content-Transfer-Encoding")) cte = &f;
            }
            std::vector<std::pair<std::string, std::string>> params;
            const std::string type = ct ? media_type_of(ct->value, &params) : std::string();
            const std::string encoding = cte ? lower(trim(cte->value)) : std::string();
            const bool encoded = encoding == "base64" || encoding == "quoted-printable";
            const bool is_message = ct ? type == "message/rfc822" : default_message;
            default_message = false;
            if (type.rfind("multipart/", 0) == 0) {
                const auto b = std::find_if(params.begin(), params.end(),
                                            [](const auto& p) { return iequals(trim(p.first), "boundary"); });
                if (b != params.end()) {
                    stack.push_back(ProbeLevel{true, b->second, type == "multipart/digest", false});
                }
            } else if (is_message && !encoded) {
                stack.push_back(ProbeLevel{false, {}, false, false});
                expect_headers = true;
            }
            if (stack.size() > max_depth) {
                res.depth_exceeded = true;
                return res;
            }
            continue;
        }
        if (pos >= raw.size()) break;
        const std::string_view line = next_line(raw, pos);
        if (line.size() < 2 || line[0] != '-' || line[1] != '-') continue;
        const std::string_view after = line.substr(2);
        // Outermost boundary first: an outer delimiter ends every inner part.
        for (std::size_t i = 0; i < stack.size(); ++i) {
            if (!stack[i].multipart || after.substr(0, stack[i].boundary.size()) != stack[i].boundary) continue;
            for (std::size_t k = stack.size(); k-- > i + 1;) note_unclosed(stack[k], problems);
            stack.resize(i + 1);
            if (after.substr(stack[i].boundary.size(), 2) == "--") {
                if (!stack[i].saw_part) note_unclosed(stack[i], problems);
                stack.pop_back();  // the rest is epilogue
            } else {
                stack[i].saw_part = true;
                default_message = stack[i].digest;
                expect_headers = true;
            }
            break;
        }
    }
    for (std::size_t k = stack.size(); k-- > 0;) note_unclosed(stack[k], problems);
    return res;
}

// ---------------------------------------------------------------------------
// Top-level headers.

std::string normalize_addr_spec(std::string_view addr) {
    std::string out(trim(addr));
    const std::size_t at = out.rfind('@');
    if (at != std::string::npos)
        for (std::size_t i = at + 1; i < out.size(); ++i) out[i] = ascii_lower(out[i]);
    return out;
}

// Content of the first <...> in `value`, or the trimmed value when there is none.
std::string angle_content(std::string_view value, bool keep_brackets) {
    const std::size_t lt = value.find('<');
    if (lt != std::string_view::npos) {
        const std::size_t gt = value.find('>', lt + 1);
        if (gt != std::string_view::npos) {
            return keep_brackets ? std::string(value.substr(lt, gt - lt + 1))
                                 : std::string(trim(value.substr(lt + 1, gt - lt - 1)));
        }
    }
    return std::string(trim(value));
}

void parse_from(std::string_view value, MimeMessage& msg) {
    std::size_t idx = 0;
    mailimf_mailbox_list* list = nullptr;
    if (mailimf_mailbox_list_parse(value.data(), value.size(), &idx, &list) == MAILIMF_NO_ERROR && list) {
        std::unique_ptr<mailimf_mailbox_list, void (*)(mailimf_mailbox_list*)> guard(list, mailimf_mailbox_list_free);
        clistiter* it = clist_begin(list->mb_list);
        if (it != nullptr) {
            const auto* mb = static_cast<const mailimf_mailbox*>(clist_content(it));
            if (mb != nullptr && mb->mb_addr_spec != nullptr) {
                msg.from_address = normalize_addr_spec(mb->mb_addr_spec);
                if (mb->mb_display_name != nullptr)
                    msg.from_display = std::string(trim(decode_rfc2047(mb->mb_display_name)));
                return;
            }
        }
    }
    // libetpan refused it (raw 8-bit, odd syntax): best effort by hand.
    const std::size_t lt = value.rfind('<');
    const std::size_t gt = lt == std::string_view::npos ? lt : value.find('>', lt);
    if (gt != std::string_view::npos) {
        msg.from_address = normalize_addr_spec(value.substr(lt + 1, gt - lt - 1));
        msg.from_display = std::string(trim(decode_rfc2047(unquote(trim(value.substr(0, lt))))));
    } else {
        const std::string_view v = trim(value);
        if (v.find('@') != std::string_view::npos && v.find(' ') == std::string_view::npos)
            msg.from_address = normalize_addr_spec(v);
    }
}

// Days since 1970-01-01 of a proleptic Gregorian date (a day past the month's
// end counts on into the next, as the calendar arithmetic of <chrono> does).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    namespace ch = std::chrono;
    return ch::sys_days(ch::year(static_cast<int>(y)) / ch::month(m) / ch::day(d)).time_since_epoch().count();
}

std::optional<std::int64_t> parse_date(std::string_view value) {
    std::size_t idx = 0;
    mailimf_date_time* dt = nullptr;
    if (mailimf_date_time_parse(value.data(), value.size(), &idx, &dt) != MAILIMF_NO_ERROR || dt == nullptr)
        return std::nullopt;
    std::unique_ptr<mailimf_date_time, void (*)(mailimf_date_time*)> guard(dt, mailimf_date_time_free);
    std::int64_t year = dt->dt_year;
    if (year < 50) year += 2000;        // RFC 5322 4.3 obsolete two-digit years
    else if (year < 1000) year += 1900;
    if (dt->dt_month < 1 || dt->dt_month > 12 || dt->dt_day < 1 || dt->dt_day > 31 || dt->dt_hour < 0 ||
        dt->dt_hour > 23 || dt->dt_min < 0 || dt->dt_min > 59 || dt->dt_sec < 0 || dt->dt_sec > 60 ||
        year > 9999)
        return std::nullopt;
    // libetpan gives the zone as the decimal number +HHMM (e.g. -0130 -> -130).
    const int zone = dt->dt_zone;
    const int zone_abs = zone < 0 ? -zone : zone;
    std::int64_t offset = 0;
    if (zone_abs % 100 < 60 && zone_abs / 100 <= 23)
        offset = (zone < 0 ? -1 : 1) * static_cast<std::int64_t>((zone_abs / 100) * 3600 + (zone_abs % 100) * 60);
    return days_from_civil(year, static_cast<unsigned>(dt->dt_month), static_cast<unsigned>(dt->dt_day)) * 86400 +
           dt->dt_hour * 3600 + dt->dt_min * 60 + dt->dt_sec - offset;
}

void parse_top_headers(const std::vector<RawField>& fields, MimeMessage& msg) {
    bool have_from = false, have_date = false, have_subject = false, have_mid = false;
    msg.headers.reserve(fields.size());
    for (const RawField& f : fields) {
        const std::string_view raw_value = trim(f.value);
        msg.headers.push_back(Header{f.name, decode_rfc2047(raw_value), std::string(raw_value)});
        if (!have_subject && iequals(f.name, "Subject")) {
            have_subject = true;
            msg.subject = msg.headers.back().value;
        } else if (!have_from && iequals(f.name, "From")) {
            have_from = true;
            parse_from(raw_value, msg);
        } else if (!have_mid && iequals(f.name, "Message-ID")) {
            have_mid = true;
            // A stranger wrote it and our acknowledgement copies it: only a valid msg-id is kept.
            msg.message_id = parse_msg_id(raw_value).value_or("");
        } else if (msg.in_reply_to.empty() && iequals(f.name, "In-Reply-To")) {
            msg.in_reply_to = join_msg_ids(parse_msg_id_list(raw_value));
        } else if (msg.references.empty() && iequals(f.name, "References")) {
            msg.references = join_msg_ids(parse_msg_id_list(raw_value));
        } else if (!msg.has_return_path && iequals(f.name, "Return-Path")) {
            msg.has_return_path = true;
            msg.return_path = normalize_addr_spec(angle_content(raw_value, false));
        } else if (!have_date && iequals(f.name, "Date")) {
            have_date = true;
            msg.date_epoch = parse_date(raw_value);
        }
    }
}

// ---------------------------------------------------------------------------
// Bodies.

std::string normalize_newlines(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
        } else {
            out.push_back(s[i]);
        }
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\t')) out.pop_back();
    return out;
}

void append_code_point(std::string& out, unsigned long cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// The http(s) target of an <a> tag's attributes (`attrs`: what follows the tag
// name), with &amp; undone; empty for any other scheme or none.
std::string link_target(std::string_view attrs) {
    std::size_t k = 0;
    while (k < attrs.size()) {
        // Attribute name, then optional = value.
        while (k < attrs.size() && (std::isspace(static_cast<unsigned char>(attrs[k])) || attrs[k] == '/')) ++k;
        const std::size_t name_start = k;
        while (k < attrs.size() && attrs[k] != '=' && attrs[k] != '>' &&
               !std::isspace(static_cast<unsigned char>(attrs[k])))
            ++k;
        const std::string_view name = attrs.substr(name_start, k - name_start);
        while (k < attrs.size() && std::isspace(static_cast<unsigned char>(attrs[k]))) ++k;
        std::string_view value;
        if (k < attrs.size() && attrs[k] == '=') {
            ++k;
            while (k < attrs.size() && std::isspace(static_cast<unsigned char>(attrs[k]))) ++k;
            if (k < attrs.size() && (attrs[k] == '"' || attrs[k] == '\'')) {
                const char q = attrs[k++];
                const std::size_t end = attrs.find(q, k);
                value = attrs.substr(k, (end == std::string_view::npos ? attrs.size() : end) - k);
                k = end == std::string_view::npos ? attrs.size() : end + 1;
            } else {
                const std::size_t start = k;
                while (k < attrs.size() && !std::isspace(static_cast<unsigned char>(attrs[k])) && attrs[k] != '>') ++k;
                value = attrs.substr(start, k - start);
            }
        }
        if (name.empty()) {
            ++k;
            continue;
        }
        if (!iequals(name, "href")) continue;
        value = trim(value);
        if (!istarts_with(value, "http://") && !istarts_with(value, "https://")) return "";
        std::string url;
        url.reserve(value.size());
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (value[i] == '&' && istarts_with(value.substr(i), "&amp;")) {
                url.push_back('&');
                i += 4;
            } else if (value[i] == '&' && value.substr(i, 5) == "&#38;") {
                url.push_back('&');
                i += 4;
            } else if (value[i] != '\r' && value[i] != '\n' && value[i] != '\t') {
                url.push_back(value[i]);
            }
        }
        return url;
    }
    return "";
}

// The HTML entity at html[i] ('&'), appended to `out` as UTF-8: the index past
// its ';', or `i` itself when it is not one we know (the '&' is then text).
std::size_t decode_entity(std::string_view html, std::size_t i, std::string& out) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kEntities{{
        {"amp", "&"},       {"lt", "<"},        {"gt", ">"},        {"quot", "\""},    {"apos", "'"},
        {"nbsp", " "},      {"eacute", "é"},    {"egrave", "è"},    {"ecirc", "ê"},    {"agrave", "à"},
        {"acirc", "â"},     {"ccedil", "ç"},    {"ocirc", "ô"},     {"ucirc", "û"},    {"ugrave", "ù"},
        {"icirc", "î"},     {"iuml", "ï"},      {"euml", "ë"},      {"laquo", "«"},    {"raquo", "»"},
        {"euro", "€"},      {"Eacute", "É"},
    }};
    const std::size_t semi = html.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 10) return i;
    const std::string_view ent = html.substr(i + 1, semi - i - 1);
    if (!ent.empty() && ent[0] == '#') {
        unsigned long cp = 0;
        const bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
        const std::string_view digits = ent.substr(hex ? 2 : 1);
        if (digits.empty()) return i;
        for (char d : digits) {
            int v;
            if (d >= '0' && d <= '9') v = d - '0';
            else if (hex && d >= 'a' && d <= 'f') v = d - 'a' + 10;
            else if (hex && d >= 'A' && d <= 'F') v = d - 'A' + 10;
            else return i;
            cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(v);
        }
        append_code_point(out, cp);
        return semi + 1;
    }
    for (const auto& [entity_name, text] : kEntities)
        if (ent == entity_name) {
            out.append(text);
            return semi + 1;
        }
    return i;
}

// Past the end of a script/style/head/title element whose start tag ends
// before `i`: after its closing tag, found case-insensitively, or the end.
std::size_t skip_raw_element(std::string_view html, std::size_t i, const std::string& name) {
    const std::string close = "</" + name;
    std::size_t k = i;
    for (;;) {
        k = html.find("</", k);
        if (k == std::string_view::npos || istarts_with(html.substr(k), close)) break;
        k += 2;
    }
    if (k == std::string_view::npos) return html.size();
    const std::size_t g = html.find('>', k);
    return g == std::string_view::npos ? html.size() : g + 1;
}

// No space at a line's start or end, nor around the text.
std::string trim_line_spaces(const std::string& out) {
    std::string clean;
    clean.reserve(out.size());
    for (std::size_t k = 0; k < out.size(); ++k) {
        if (out[k] == ' ' && (k + 1 == out.size() || out[k + 1] == '\n')) continue;
        if (out[k] == ' ' && (clean.empty() || clean.back() == '\n')) continue;
        clean.push_back(out[k]);
    }
    return std::string(trim(clean));
}

// Crude HTML to text: drops tags, script/style/head contents and comments,
// turns block ends into newlines, decodes common entities. Linear. A link
// whose label is not its target is written "label <URL>", as html2text does,
// so that what the text is searched for (download links) sees the target.
std::string strip_html(std::string_view html) {
    std::string out;
    out.reserve(html.size());
    std::string link;              // the target of the open <a>, if http(s)
    std::size_t link_label = 0;    // where its label starts in `out`
    auto close_link = [&] {
        if (link.empty()) return;
        const std::string_view label = trim(std::string_view(out).substr(link_label));
        if (label != link) {
            if (!out.empty() && out.back() != ' ' && out.back() != '\n') out.push_back(' ');
            out += '<' + link + '>';
        }
        link.clear();
    };
    std::size_t i = 0;
    while (i < html.size()) {
        const char c = html[i];
        if (c == '<') {
            if (html.substr(i, 4) == "<!--") {
                const std::size_t end = html.find("-->", i + 4);
                i = end == std::string_view::npos ? html.size() : end + 3;
                continue;
            }
            std::size_t j = i + 1;
            const bool closing = j < html.size() && html[j] == '/';
            if (closing) ++j;
            std::size_t name_end = j;
            while (name_end < html.size() && std::isalnum(static_cast<unsigned char>(html[name_end]))) ++name_end;
            const std::string name = lower(html.substr(j, name_end - j));
            const std::size_t gt = html.find('>', name_end);
            i = gt == std::string_view::npos ? html.size() : gt + 1;
            if (name == "a") {
                close_link();  // an <a> never nests: a new one ends the last
                if (!closing) {
                    const std::size_t attrs_end = gt == std::string_view::npos ? html.size() : gt;
                    link = link_target(html.substr(name_end, attrs_end - name_end));
                    link_label = out.size();
                }
                continue;
            }
            if (!closing && (name == "script" || name == "style" || name == "head" || name == "title")) {
                i = skip_raw_element(html, i, name);
                continue;
            }
            if (name == "br" || name == "p" || name == "div" || name == "tr" || name == "li" || name == "h1" ||
                name == "h2" || name == "h3" || name == "table" || name == "blockquote") {
                if (!out.empty() && out.back() != '\n') out.push_back('\n');
            } else if (name == "td" || name == "th") {
                out.push_back(' ');
            }
            continue;
        }
        if (c == '&') {
            if (const std::size_t next = decode_entity(html, i, out); next != i) {
                i = next;
                continue;
            }
        }
        if (c == '\r') {
            ++i;
            continue;
        }
        if (c == '\n' || c == '\t') {
            if (!out.empty() && out.back() != ' ' && out.back() != '\n') out.push_back(' ');
            ++i;
            continue;
        }
        if (c == ' ' && !out.empty() && (out.back() == ' ' || out.back() == '\n')) {
            ++i;
            continue;
        }
        out.push_back(c);
        ++i;
    }
    close_link();
    return trim_line_spaces(out);
}

// Undoes the transfer encoding: base64 with base64_decode_body (libetpan's
// decoder goes a byte at a time through a growing buffer), quoted-printable
// with libetpan, chunk by chunk so that a large part costs its decoded size
// plus about one chunk, not twice its size.
// `release` (MimeLimits::release) hears of the input behind the decoder.
std::string decode_transfer(const char* data, std::size_t len, int encoding, std::vector<std::string>& problems,
                            const std::string& label,
                            const std::function<void(const char*, const char*)>& release = {}) {
    const auto done_with = [&](const char* from, const char* to) {
        if (release && to > from) release(from, to);
    };
    std::string out;
    if (data == nullptr || len == 0) return out;
    if (encoding != MAILMIME_MECHANISM_BASE64 && encoding != MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
        out.assign(data, len);  // 7bit / 8bit / binary / unknown token: as is
        done_with(data, data + len);
        return out;
    }
    if (encoding == MAILMIME_MECHANISM_BASE64) {
        bool junk = false;
        const char* behind = data;
        std::function<void(const char*)> consumed;
        if (release)
            consumed = [&](const char* upto) {
                done_with(behind, upto);
                behind = upto;
            };
        out = base64_decode_body(std::string_view(data, len), &junk, consumed);
        done_with(behind, data + len);
        if (junk) add_problem(problems, label + ": invalid characters in base64 data (skipped)");
        return out;
    }
    out.reserve(encoding == MAILMIME_MECHANISM_BASE64 ? len / 4 * 3 + 3 : len);
    constexpr std::size_t kChunk = 1u << 20;
    std::size_t pos = 0;
    while (pos < len) {
        std::size_t end = len;
        if (len - pos > kChunk) {
            // Cut just after a line end so that no QP escape or soft break is split.
            const void* nl = std::memchr(data + pos + kChunk, '\n', len - pos - kChunk);
            end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1 : len;
        }
        const bool last = end == len;
        std::size_t idx = 0;
        char* result = nullptr;
        std::size_t result_len = 0;
        const int r = last ? mailmime_part_parse(data + pos, end - pos, &idx, encoding, &result, &result_len)
                           : mailmime_part_parse_partial(data + pos, end - pos, &idx, encoding, &result, &result_len);
        if (r != MAILIMF_NO_ERROR || result == nullptr) {
            add_problem(problems, label + ": could not decode the transfer encoding");
            break;
        }
        out.append(result, result_len);
        mailmime_decoded_part_free(result);
        if (last) break;
        if (idx == 0) idx = end - pos;  // no progress (cannot happen with whole lines): skip the chunk
        done_with(data + pos, data + pos + idx);
        pos += idx;
    }
    return out;
}

std::string content_type_string(const mailmime_content* ct) {
    if (ct == nullptr || ct->ct_type == nullptr) return "text/plain";
    std::string type;
    const mailmime_type* t = ct->ct_type;
    if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE && t->tp_data.tp_discrete_type != nullptr) {
        switch (t->tp_data.tp_discrete_type->dt_type) {
            case MAILMIME_DISCRETE_TYPE_TEXT: type = "text"; break;
            case MAILMIME_DISCRETE_TYPE_IMAGE: type = "image"; break;
            case MAILMIME_DISCRETE_TYPE_AUDIO: type = "audio"; break;
            case MAILMIME_DISCRETE_TYPE_VIDEO: type = "video"; break;
            case MAILMIME_DISCRETE_TYPE_APPLICATION: type = "application"; break;
            default:
                if (t->tp_data.tp_discrete_type->dt_extension) type = t->tp_data.tp_discrete_type->dt_extension;
        }
    } else if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE && t->tp_data.tp_composite_type != nullptr) {
        switch (t->tp_data.tp_composite_type->ct_type) {
            case MAILMIME_COMPOSITE_TYPE_MESSAGE: type = "message"; break;
            case MAILMIME_COMPOSITE_TYPE_MULTIPART: type = "multipart"; break;
            default:
                if (t->tp_data.tp_composite_type->ct_token) type = t->tp_data.tp_composite_type->ct_token;
        }
    }
    if (type.empty()) type = "application";
    return lower(type + "/" + (ct->ct_subtype ? ct->ct_subtype : "octet-stream"));
}

using Params = std::vector<std::pair<std::string, std::string>>;

Params content_params(const mailmime_content* ct) {
    Params out;
    if (ct == nullptr || ct->ct_parameters == nullptr) return out;
    for (clistiter* it = clist_begin(ct->ct_parameters); it != nullptr; it = clist_next(it)) {
        const auto* p = static_cast<const mailmime_parameter*>(clist_content(it));
        if (p && p->pa_name && p->pa_value) out.emplace_back(p->pa_name, p->pa_value);
    }
    return out;
}

std::string basename_of(std::string name) {
    const std::size_t slash = name.find_last_of("/\\");
    if (slash != std::string::npos) name.erase(0, slash + 1);
    return name;
}

class Walker {
public:
    Walker(std::string_view raw, const MimeLimits& limits, std::size_t max_depth, MimeMessage& msg)
        : raw_(raw), limits_(limits), max_depth_(max_depth), msg_(msg) {}

    void walk(mailmime* body) {
        struct Frame {
            mailmime* node;
            std::size_t depth;
            bool in_related;
            int owner;   // index in msg_.forwarded of the innermost message/rfc822 around it, -1: none
        };
        std::vector<Frame> stack{{body, 0, false, -1}};
        while (!stack.empty()) {
            const Frame f = stack.back();
            stack.pop_back();
            if (f.node == nullptr) continue;
            if (++nodes_ > limits_.max_parts) {
                corrupt("more than " + std::to_string(limits_.max_parts) + " MIME parts; the rest was not read");
                return;
            }
            if (f.node->mm_type == MAILMIME_MULTIPLE || f.node->mm_type == MAILMIME_MESSAGE) {
                if (f.depth + 1 > max_depth_) {
                    corrupt("MIME structure nested deeper than " + std::to_string(max_depth_) + " levels");
                    return;
                }
            }
            switch (f.node->mm_type) {
                case MAILMIME_MULTIPLE: {
                    const bool related = content_type_string(f.node->mm_content_type) == "multipart/related";
                    clist* list = f.node->mm_data.mm_multipart.mm_mp_list;
                    if (list == nullptr) break;
                    const std::size_t first = stack.size();
                    for (clistiter* it = clist_begin(list); it != nullptr; it = clist_next(it))
                        stack.push_back(Frame{static_cast<mailmime*>(clist_content(it)), f.depth + 1, related, f.owner});
                    std::reverse(stack.begin() + static_cast<std::ptrdiff_t>(first), stack.end());
                    break;
                }
                case MAILMIME_MESSAGE:
                    stack.push_back(Frame{f.node->mm_data.mm_message.mm_msg_mime, f.depth + 1, false, forwarded(f.node, f.owner)});
                    break;
                default:
                    owner_ = f.owner;
                    leaf(f.node, f.in_related);
            }
        }
    }

    void finish() {
        std::vector<std::string>& parts = plain_.empty() ? html_ : plain_;
        std::string text;
        for (const std::string& p : parts) {
            if (p.empty()) continue;
            if (!text.empty()) text.push_back('\n');
            text += p;
        }
        msg_.text = std::move(text);
    }

    void add_plain(std::string t) {
        if (owner_ >= 0) append_text(msg_.forwarded[static_cast<std::size_t>(owner_)].text, t);
        plain_.push_back(std::move(t));
    }
    void add_html(std::string t) {
        if (owner_ >= 0) append_text(msg_.forwarded[static_cast<std::size_t>(owner_)].text, t);
        html_.push_back(std::move(t));
    }

private:
    static void append_text(std::string& to, const std::string& t) {
        if (t.empty()) return;
        if (!to.empty()) to.push_back('\n');
        to += t;
    }

    // A message/rfc822 part: its sender and subject, read from its own header
    // block. Returns its index in msg_.forwarded (the owner of the parts
    // inside it), or `outer` once kMaxForwarded are recorded.
    int forwarded(const mailmime* node, int outer) {
        const mailmime_data* body = node->mm_body;
        if (msg_.forwarded.size() >= kMaxForwarded || body == nullptr || body->dt_type != MAILMIME_DATA_TEXT ||
            body->dt_data.dt_text.dt_data == nullptr)
            return outer;
        const char* lo = raw_.data();
        const char* hi = raw_.data() + raw_.size();
        const char* start = body->dt_data.dt_text.dt_data;
        if (start < lo || start > hi) return outer;
        const std::size_t len = std::min<std::size_t>(body->dt_data.dt_text.dt_length, static_cast<std::size_t>(hi - start));
        std::vector<RawField> fields;
        split_header_block(std::string_view(start, len), &fields, nullptr);
        MimeMessage inner;
        parse_top_headers(fields, inner);
        ForwardedMessage fwd;
        fwd.from_address = std::move(inner.from_address);
        fwd.from_display = std::move(inner.from_display);
        fwd.subject = std::move(inner.subject);
        msg_.forwarded.push_back(std::move(fwd));
        return static_cast<int>(msg_.forwarded.size() - 1);
    }

    void corrupt(std::string reason) {
        if (!msg_.corrupt) {
            msg_.corrupt = true;
            msg_.corrupt_reason = std::move(reason);
        }
    }

    // The raw header block of a node: for the body of a message, it starts
    // where the message starts (libetpan's mm_mime_start covers more).
    std::string_view header_region(const mailmime* m) const {
        const mailmime_data* body = m->mm_body;
        if (body == nullptr || body->dt_type != MAILMIME_DATA_TEXT) return {};
        const char* start = m->mm_mime_start;
        const mailmime* parent = m->mm_parent;
        if (parent != nullptr && parent->mm_type == MAILMIME_MESSAGE && parent->mm_body != nullptr &&
            parent->mm_body->dt_type == MAILMIME_DATA_TEXT)
            start = parent->mm_body->dt_data.dt_text.dt_data;
        const char* end = body->dt_data.dt_text.dt_data;
        const char* lo = raw_.data();
        const char* hi = raw_.data() + raw_.size();
        if (start == nullptr || end == nullptr || start < lo || end > hi || start > end) return {};
        return std::string_view(start, static_cast<std::size_t>(end - start));
    }

    // A leaf part's header fields as libetpan parsed them.
    struct PartFields {
        std::string type;
        Params ct_params;
        std::string content_id;
        int disposition = MAILMIME_DISPOSITION_TYPE_ERROR;
        bool have_disposition = false;
        std::string filename;
    };

    static PartFields part_fields(mailmime* m) {
        PartFields h;
        h.type = content_type_string(m->mm_content_type);
        h.ct_params = content_params(m->mm_content_type);
        Params disp_params;
        if (m->mm_mime_fields != nullptr && m->mm_mime_fields->fld_list != nullptr) {
            for (clistiter* it = clist_begin(m->mm_mime_fields->fld_list); it != nullptr; it = clist_next(it)) {
                const auto* field = static_cast<const mailmime_field*>(clist_content(it));
                if (field == nullptr) continue;
                if (field->fld_type == MAILMIME_FIELD_ID && field->fld_data.fld_id != nullptr) {
                    h.content_id = angle_content(field->fld_data.fld_id, false);
                } else if (field->fld_type == MAILMIME_FIELD_DISPOSITION && field->fld_data.fld_disposition) {
                    const mailmime_disposition* d = field->fld_data.fld_disposition;
                    h.have_disposition = true;
                    if (d->dsp_type != nullptr) h.disposition = d->dsp_type->dsp_type;
                    if (d->dsp_parms == nullptr) continue;
                    for (clistiter* p = clist_begin(d->dsp_parms); p != nullptr; p = clist_next(p)) {
                        const auto* parm = static_cast<const mailmime_disposition_parm*>(clist_content(p));
                        if (parm == nullptr) continue;
                        if (parm->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME && parm->pa_data.pa_filename) {
                            disp_params.emplace_back("filename", parm->pa_data.pa_filename);
                        } else if (parm->pa_type == MAILMIME_DISPOSITION_PARM_PARAMETER &&
                                   parm->pa_data.pa_parameter && parm->pa_data.pa_parameter->pa_name &&
                                   parm->pa_data.pa_parameter->pa_value) {
                            disp_params.emplace_back(parm->pa_data.pa_parameter->pa_name,
                                                     parm->pa_data.pa_parameter->pa_value);
                        }
                    }
                }
            }
        }
        h.filename = decode_parameter(disp_params, "filename");
        if (h.filename.empty()) h.filename = decode_parameter(h.ct_params, "name");
        return h;
    }

    // What libetpan dropped or cut short, read again from the part's raw header block.
    void repair_from_raw_header(mailmime* m, PartFields& h) {
        // libetpan drops a whole header it cannot parse (e.g. an unquoted name
        // with spaces or 8-bit bytes): look at the raw header block then.
        const std::string_view region = header_region(m);
        if (region.empty()) return;
        std::vector<RawField> fields;
        split_header_block(region, &fields, nullptr);
        Params raw_ct, raw_disp;
        std::string raw_type;
        const RawField* raw_disp_field = nullptr;
        for (const RawField& f : fields) {
            if (iequals(f.name, "Content-Type") && raw_type.empty()) raw_type = media_type_of(f.value, &raw_ct);
            if (iequals(f.name, "Content-Disposition") && raw_disp_field == nullptr) {
                raw_disp_field = &f;
                split_header_params(f.value, &raw_disp);
            }
        }
        std::string raw_name = decode_parameter(raw_disp, "filename");
        if (raw_name.empty()) raw_name = decode_parameter(raw_ct, "name");
        // Empty, or cut short (libetpan stops an unquoted value at a space).
        if (raw_name.size() > h.filename.size() && raw_name.compare(0, h.filename.size(), h.filename) == 0)
            h.filename = std::move(raw_name);
        if (h.type == "text/plain" && !raw_type.empty() && raw_type != h.type &&
            raw_type.find('/') != std::string::npos && raw_type.rfind("multipart/", 0) != 0 &&
            raw_type.rfind("message/", 0) != 0) {
            add_problem(msg_.problems, "part " + std::to_string(leaf_index_) + ": unparsable Content-Type \"" +
                                           raw_type + "\" taken as written");
            h.type = raw_type;
            h.ct_params = raw_ct;
        }
        if (!h.have_disposition && raw_disp_field != nullptr) {
            const std::string dtype = lower(split_header_params(raw_disp_field->value, nullptr));
            if (dtype == "inline") h.disposition = MAILMIME_DISPOSITION_TYPE_INLINE;
            if (dtype == "attachment") h.disposition = MAILMIME_DISPOSITION_TYPE_ATTACHMENT;
            h.have_disposition = h.disposition != MAILMIME_DISPOSITION_TYPE_ERROR;
        }
    }

    void leaf(mailmime* m, bool in_related) {
        ++leaf_index_;
        PartFields h = part_fields(m);
        repair_from_raw_header(m, h);
        std::string type = std::move(h.type);
        const Params ct_params = std::move(h.ct_params);
        std::string content_id = std::move(h.content_id);
        const int disposition = h.disposition;
        const bool have_disposition = h.have_disposition;
        std::string filename = basename_of(std::move(h.filename));

        const mailmime_data* body = m->mm_data.mm_single;
        const char* data = nullptr;
        std::size_t len = 0;
        int encoding = MAILMIME_MECHANISM_8BIT;
        if (body != nullptr && body->dt_type == MAILMIME_DATA_TEXT) {
            data = body->dt_data.dt_text.dt_data;
            len = body->dt_data.dt_text.dt_length;
            encoding = body->dt_encoding;
        }
        const std::string label = "part " + std::to_string(leaf_index_) +
                                  (filename.empty() ? std::string() : " (\"" + filename + "\")");
        const bool is_text = type.rfind("text/", 0) == 0;
        const bool is_multipart = type.rfind("multipart/", 0) == 0;
        if (!filename.empty() || disposition == MAILMIME_DISPOSITION_TYPE_ATTACHMENT || (!is_text && !is_multipart)) {
            Attachment a;
            a.filename = std::move(filename);
            a.content_type = type;
            a.content_id = std::move(content_id);
            a.inline_disposition = disposition == MAILMIME_DISPOSITION_TYPE_INLINE ||
                                   (!have_disposition && in_related && !a.content_id.empty());
            a.data = decode_transfer(data, len, encoding, msg_.problems, label, limits_.release);
            if (owner_ >= 0 && !a.filename.empty()) msg_.forwarded[static_cast<std::size_t>(owner_)].filenames.push_back(a.filename);
            msg_.attachments.push_back(std::move(a));
            return;
        }
        if (is_multipart) {
            add_problem(msg_.problems, label + ": " + type + " without a boundary, read as text");
            add_plain(normalize_newlines(to_utf8(decode_transfer(data, len, encoding, msg_.problems, label, limits_.release), "")));
            return;
        }
        if (type != "text/plain" && type != "text/html") return;  // text/calendar etc. without a name
        const std::string charset = decode_parameter(ct_params, "charset");
        std::string text = to_utf8(decode_transfer(data, len, encoding, msg_.problems, label, limits_.release), charset);
        if (type == "text/html")
            add_html(strip_html(text));
        else
            add_plain(normalize_newlines(text));
    }

    std::string_view raw_;
    const MimeLimits& limits_;
    std::size_t max_depth_;
    MimeMessage& msg_;
    std::size_t nodes_ = 0;
    std::size_t leaf_index_ = 0;
    int owner_ = -1;   // of the leaf being read
    std::vector<std::string> plain_, html_;
};

void mark_corrupt(MimeMessage& msg, std::string reason) {
    if (!msg.corrupt) {
        msg.corrupt = true;
        msg.corrupt_reason = std::move(reason);
    }
}

// When libetpan cannot make sense of the structure: the body, as text.
void body_as_text(std::string_view body, const std::vector<RawField>& fields, MimeMessage& msg) {
    std::string type = "text/plain";
    Params params;
    std::string encoding;
    for (const RawField& f : fields) {
        if (iequals(f.name, "Content-Type")) type = media_type_of(f.value, &params);
        if (iequals(f.name, "Content-Transfer-Encoding")) encoding = lower(trim(f.value));
    }
    int mechanism = MAILMIME_MECHANISM_8BIT;
    if (encoding == "base64") mechanism = MAILMIME_MECHANISM_BASE64;
    if (encoding == "quoted-printable") mechanism = MAILMIME_MECHANISM_QUOTED_PRINTABLE;
    std::string text =
        to_utf8(decode_transfer(body.data(), body.size(), mechanism, msg.problems, "body"),
                decode_parameter(params, "charset"));
    msg.text = type == "text/html" ? strip_html(text) : normalize_newlines(text);
}

}  // namespace

std::optional<std::string> MimeMessage::header(std::string_view name) const {
    for (const Header& h : headers)
        if (iequals(h.name, name)) return h.value;
    return std::nullopt;
}

MimeMessage parse_mime_message(std::string_view raw, const MimeLimits& limits) {
    MimeMessage msg;
    try {
        if (raw.empty()) {
            mark_corrupt(msg, "empty message");
            return msg;
        }
        std::vector<RawField> fields;
        bool terminated = false;
        const std::size_t body_start = split_header_block(raw, &fields, &terminated);
        parse_top_headers(fields, msg);
        if (fields.empty()) add_problem(msg.problems, "message has no header");
        else if (!terminated && body_start < raw.size())
            add_problem(msg.problems, "header block ends on a line that is not a header field");

        if (raw.size() > limits.max_message_bytes) {
            mark_corrupt(msg, "message is " + std::to_string(raw.size()) + " bytes, more than the limit of " +
                                  std::to_string(limits.max_message_bytes));
            return msg;
        }
        const std::size_t max_depth = std::min(limits.max_depth, kHardDepthCap);
        const ProbeResult probe = probe_structure(raw, max_depth, limits.max_parts, msg.problems);
        if (probe.parts_exceeded) {
            mark_corrupt(msg, "more than " + std::to_string(limits.max_parts) + " MIME parts");
            return msg;
        }
        if (probe.depth_exceeded) {
            mark_corrupt(msg, "MIME structure nested deeper than " + std::to_string(max_depth) + " levels");
            return msg;
        }

        // libetpan ends a header line at a bare CR too: give it the top-level
        // header block as split_header_block read it (bare CRs dropped), so
        // that both agree on where the headers end. A copy only then.
        const auto bare_cr = [&](std::size_t i) { return raw[i] == '\r' && (i + 1 >= raw.size() || raw[i + 1] != '\n'); };
        std::string cleaned;
        std::size_t body_at = body_start;
        for (std::size_t i = 0; i < body_start; ++i) {
            if (!bare_cr(i)) continue;
            cleaned.reserve(raw.size());
            for (std::size_t k = 0; k < body_start; ++k)
                if (!bare_cr(k)) cleaned.push_back(raw[k]);
            body_at = cleaned.size();
            cleaned.append(raw.substr(body_start));
            raw = cleaned;
            break;
        }
        std::size_t idx = 0;
        mailmime* root = nullptr;
        const int r = mailmime_parse(raw.data(), raw.size(), &idx, &root);
        std::unique_ptr<mailmime, void (*)(mailmime*)> guard(root, mailmime_free);
        // Read through twice (probe, libetpan); the parts are read again one by one.
        if (limits.release) limits.release(raw.data(), raw.data() + raw.size());
        if (r != MAILIMF_NO_ERROR || root == nullptr) {
            add_problem(msg.problems, "MIME structure could not be parsed (libetpan error " + std::to_string(r) +
                                          "); body read as text");
            body_as_text(raw.substr(body_at), fields, msg);
        } else {
            Walker walker(raw, limits, max_depth, msg);
            walker.walk(root->mm_type == MAILMIME_MESSAGE ? root->mm_data.mm_message.mm_msg_mime : root);
            walker.finish();
        }
        if (msg.text.empty() && msg.attachments.empty() && msg.headers.empty())
            mark_corrupt(msg, "nothing readable in the message");
    } catch (const std::exception& e) {  // std::bad_alloc and the like: never escape
        mark_corrupt(msg, std::string("internal error while parsing: ") + e.what());
    }
    return msg;
}

}  // namespace ppo::parsers
