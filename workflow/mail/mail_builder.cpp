#include "workflow/mail/mail_builder.h"
#include "parsers/text/strings.h"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace ppo::workflow {

namespace {

const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool is_ascii_printable(const std::string& s) {
    for (unsigned char c : s)
        if (c >= 0x80 || (c < 0x20 && c != '\t')) return false;
    return true;
}

// Encodes `len` bytes at `in` to `out` (4 characters per 3 bytes, padded);
// returns the end of what it wrote. Writes through a pointer into storage the
// caller sized: this runs over every attachment forwarded.
char* base64_to(const unsigned char* in, std::size_t len, char* out) {
    std::size_t i = 0;
    for (; i + 2 < len; i += 3) {
        const unsigned n = (unsigned{in[i]} << 16) | (unsigned{in[i + 1]} << 8) | in[i + 2];
        *out++ = kB64[(n >> 18) & 63];
        *out++ = kB64[(n >> 12) & 63];
        *out++ = kB64[(n >> 6) & 63];
        *out++ = kB64[n & 63];
    }
    if (i < len) {
        unsigned n = unsigned{in[i]} << 16;
        if (i + 1 < len) n |= unsigned{in[i + 1]} << 8;
        *out++ = kB64[(n >> 18) & 63];
        *out++ = kB64[(n >> 12) & 63];
        *out++ = i + 1 < len ? kB64[(n >> 6) & 63] : '=';
        *out++ = '=';
    }
    return out;
}

std::string pct_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// Folds a long parameter value as RFC 2231 continuations: name*0*=...; name*1*=...
std::string rfc2231_param(const std::string& name, const std::string& value) {
    std::string enc = pct_encode(value);
    std::string first = "UTF-8''";
    if (enc.size() + first.size() <= 60) return name + "*=" + first + enc;
    std::string out;
    std::size_t pos = 0;
    int n = 0;
    while (pos < enc.size()) {
        std::size_t len = std::min<std::size_t>(60, enc.size() - pos);
        // Never split a %XX escape.
        if (pos + len < enc.size()) {
            if (enc[pos + len - 1] == '%') len -= 1;
            else if (len >= 2 && enc[pos + len - 2] == '%') len -= 2;
        }
        out += (n ? ";\r\n\t" : "") + name + "*" + std::to_string(n) + "*=" + (n == 0 ? first : "") + enc.substr(pos, len);
        pos += len;
        ++n;
    }
    return out;
}

std::string ascii_fallback(const std::string& name) {
    std::string out;
    for (unsigned char c : name) out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    return out;
}

std::string format_address(const std::string& from) {
    auto lt = from.find('<');
    if (lt == std::string::npos || lt == 0) return from;
    std::string name = from.substr(0, lt);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
    std::string addr = from.substr(lt);
    if (!is_ascii_printable(name)) return encode_header_words(name) + " " + addr;
    bool needs_quotes = name.find_first_of("()<>[]:;@\\,.\"") != std::string::npos;
    return (needs_quotes ? "\"" + name + "\"" : name) + " " + addr;
}

// Every value the builder writes into a header passes here. A CR, LF or NUL in
// one would end the field early and let its author add fields (Bcc:) or body
// lines to a mail sent from the official address: callers validate what comes
// from outside (msg_id.h for Message-IDs), so one reaching this is a bug.
const std::string& checked(std::string_view field, const std::string& value) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        throw std::logic_error("mail builder: CR, LF or NUL in the " + std::string(field) + " header value");
    return value;
}

void check_field_name(const std::string& name) {
    bool ok = !name.empty();
    for (unsigned char c : name) ok = ok && c > 32 && c < 127 && c != ':';
    if (!ok) throw std::logic_error("mail builder: invalid header field name \"" + ascii_fallback(name) + "\"");
}

// Space-separated msg-ids folded between ids, so that a long thread's
// References stays within the line length.
std::string fold_ids(const std::string& ids) {
    std::string out;
    std::size_t col = 14;  // "References: "
    std::size_t pos = 0;
    while (pos < ids.size()) {
        auto sp = ids.find(' ', pos);
        if (sp == std::string::npos) sp = ids.size();
        if (sp > pos) {
            const std::string id = ids.substr(pos, sp - pos);
            if (!out.empty()) {
                if (col + 1 + id.size() > 78) {
                    out += "\r\n ";
                    col = 1;
                } else {
                    out += ' ';
                    ++col;
                }
            }
            out += id;
            col += id.size();
        }
        pos = sp + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& v) { return text::join(v, ",\r\n "); }

std::string boundary(const std::string& seed, int level) {
    return "=_ppo_" + std::to_string(level) + "_" + std::to_string(std::hash<std::string>{}(seed) & 0xffffffffffULL);
}

std::string text_part(const std::string& type, const std::string& body) {
    return "Content-Type: " + type + "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
           quoted_printable(body) + "\r\n";
}

}  // namespace

std::string base64(const std::string& in) {
    std::string out((in.size() + 2) / 3 * 4, '\0');
    base64_to(reinterpret_cast<const unsigned char*>(in.data()), in.size(), out.data());
    return out;
}

std::string encode_header_words(const std::string& text) {
    if (is_ascii_printable(text)) return text;
    // Encoded words of at most 75 characters, split on UTF-8 character boundaries.
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t len = std::min<std::size_t>(45, text.size() - pos);
        while (pos + len < text.size() && (static_cast<unsigned char>(text[pos + len]) & 0xC0) == 0x80) --len;
        if (len == 0) len = 1;
        out += (out.empty() ? "" : "\r\n ") + std::string("=?UTF-8?B?") + base64(text.substr(pos, len)) + "?=";
        pos += len;
    }
    return out;
}

std::string base64_lines(const std::string& data) {
    // 57 bytes make one line of 76 characters, then CRLF.
    constexpr std::size_t kIn = 57;
    const std::size_t lines = (data.size() + kIn - 1) / kIn;
    std::string out(lines * 78, '\0');
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    char* o = out.data();
    for (std::size_t i = 0; i < data.size(); i += kIn) {
        o = base64_to(in + i, std::min(kIn, data.size() - i), o);
        *o++ = '\r';
        *o++ = '\n';
    }
    out.resize(static_cast<std::size_t>(o - out.data()));
    return out;
}

std::string quoted_printable(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    std::size_t col = 0;
    auto emit = [&](const std::string& piece) {
        if (col + piece.size() > 75) {
            out += "=\r\n";
            col = 0;
        }
        out += piece;
        col += piece.size();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\r') continue;
        if (c == '\n') {
            out += "\r\n";
            col = 0;
            continue;
        }
        bool at_line_end = i + 1 >= text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
        bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
        // A leading '.' is encoded too, so no SMTP dot-stuffing is ever needed.
        if (c == '.' && col == 0) literal = false;
        if (literal) {
            emit(std::string(1, static_cast<char>(c)));
        } else {
            emit(std::string{'=', hex[c >> 4], hex[c & 15]});
        }
    }
    return out;
}

bool has_file_references(const std::string& data) { return data.find(kFileReferenceMarker) != std::string::npos; }

namespace {

// One file reference: "\r\n@ppo-file:PATH\r\n" from `at` (its leading CRLF,
// kept in the output) to `next` (after its own CRLF, or the end).
struct ReferenceLine {
    std::size_t at = 0;
    std::size_t next = 0;
    std::string path;
};

// The first reference at or after `from`, or nullopt.
std::optional<ReferenceLine> next_reference(const std::string& data, std::size_t from) {
    static const std::string marker = kFileReferenceMarker;
    const std::size_t at = data.find(marker, from);
    if (at == std::string::npos) return std::nullopt;
    const std::size_t end = data.find("\r\n", at + marker.size());
    ReferenceLine r;
    r.at = at;
    r.path = data.substr(at + marker.size(), (end == std::string::npos ? data.size() : end) - at - marker.size());
    r.next = end == std::string::npos ? data.size() : end + 2;
    return r;
}

// base64_lines(n bytes).size()
std::uint64_t base64_lines_size(std::uint64_t n) {
    const std::uint64_t full = n / 57, rest = n % 57;
    return full * 78 + (rest == 0 ? 0 : 4 * ((rest + 2) / 3) + 2);
}

}  // namespace

std::vector<std::string> file_references(const std::string& data) {
    std::vector<std::string> out;
    for (auto r = next_reference(data, 0); r; r = next_reference(data, r->next)) out.push_back(r->path);
    return out;
}

std::uint64_t size_with_files(const std::string& data, const std::vector<std::uint64_t>& file_sizes) {
    std::uint64_t size = data.size();
    std::size_t i = 0;
    for (auto r = next_reference(data, 0); r; r = next_reference(data, r->next), ++i) {
        size -= r->next - (r->at + 2);   // the reference line goes, its leading CRLF stays
        if (i < file_sizes.size()) size += base64_lines_size(file_sizes[i]);
    }
    return size;
}

void write_with_files(const std::string& data, const FileChunkReader& read,
                      const std::function<void(std::string_view)>& emit) {
    // 1,024 lines of 57 bytes in, 1,024 lines of 78 characters out.
    constexpr std::size_t kLine = 57, kLines = 1024;
    std::string in(kLine * kLines, '\0');
    std::string out(78 * kLines, '\0');
    std::size_t pos = 0, index = 0;
    for (auto r = next_reference(data, 0); r; r = next_reference(data, r->next), ++index) {
        emit(std::string_view(data).substr(pos, r->at + 2 - pos));   // up to the CRLF before the marker
        for (bool end = false; !end;) {
            // Fill whole lines: a short read must not cut a line (or a 3-byte group) in two.
            std::size_t filled = 0;
            while (filled < in.size()) {
                const std::size_t n = read(index, in.data() + filled, in.size() - filled);
                if (n == 0) {
                    end = true;
                    break;
                }
                filled += n;
            }
            const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
            char* o = out.data();
            for (std::size_t i = 0; i < filled; i += kLine) {
                o = base64_to(bytes + i, std::min(kLine, filled - i), o);
                *o++ = '\r';
                *o++ = '\n';
            }
            if (o != out.data()) emit(std::string_view(out.data(), static_cast<std::size_t>(o - out.data())));
        }
        pos = r->next;
    }
    if (pos < data.size()) emit(std::string_view(data).substr(pos));
}

std::string make_message_id(const std::string& domain, std::int64_t now) {
    // libsodium's generator (the kernel's getrandom): safe from any thread
    // once sodium_init() has run, which is itself thread-safe; the static
    // makes it run once. 64 random bits, as before.
    static const bool sodium_ready = sodium_init() >= 0;
    if (!sodium_ready) throw std::runtime_error("libsodium cannot be initialised: no random Message-ID");
    std::uint64_t random = 0;
    randombytes_buf(&random, sizeof random);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lld.%016llx", static_cast<long long>(now), static_cast<unsigned long long>(random));
    return "<" + std::string(buf) + "@" + domain + ">";
}

std::string rfc5322_date(std::int64_t epoch) {
    std::time_t t = static_cast<std::time_t>(epoch);
    std::tm tm{};
    gmtime_r(&t, &tm);
    static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string build_mail(const MailSpec& s) {
    checked("From", s.from);
    for (const auto& a : s.to) checked("To", a);
    for (const auto& a : s.cc) checked("Cc", a);
    checked("Reply-To", s.reply_to);
    checked("Subject", s.subject);
    checked("Message-ID", s.message_id);
    checked("In-Reply-To", s.in_reply_to);
    checked("References", s.references);
    checked("Auto-Submitted", s.auto_submitted);
    for (const auto& [k, v] : s.extra_headers) {
        check_field_name(k);
        checked(k, v);
    }
    for (const auto& a : s.attachments) {
        checked("Content-Disposition filename", a.filename);
        checked("Content-Type", a.content_type);
        checked("file reference", a.source_path);
    }
    std::string h;
    h += "From: " + format_address(s.from) + "\r\n";
    if (!s.to.empty()) h += "To: " + join(s.to) + "\r\n";
    if (!s.cc.empty()) h += "Cc: " + join(s.cc) + "\r\n";
    if (!s.reply_to.empty()) h += "Reply-To: " + s.reply_to + "\r\n";
    h += "Subject: " + encode_header_words(s.subject) + "\r\n";
    h += "Date: " + rfc5322_date(s.date) + "\r\n";
    h += "Message-ID: " + s.message_id + "\r\n";
    if (!s.in_reply_to.empty()) h += "In-Reply-To: " + s.in_reply_to + "\r\n";
    if (!s.references.empty()) h += "References: " + fold_ids(s.references) + "\r\n";
    if (!s.auto_submitted.empty()) h += "Auto-Submitted: " + s.auto_submitted + "\r\n";
    for (const auto& [k, v] : s.extra_headers) h += k + ": " + v + "\r\n";
    h += "MIME-Version: 1.0\r\n";

    std::string body_part;
    if (s.html.empty()) {
        body_part = text_part("text/plain", s.text);
    } else {
        std::string b = boundary(s.message_id, 2);
        body_part = "Content-Type: multipart/alternative; boundary=\"" + b + "\"\r\n\r\n--" + b + "\r\n" +
                    text_part("text/plain", s.text) + "--" + b + "\r\n" + text_part("text/html", s.html) + "--" + b +
                    "--\r\n";
    }
    if (s.attachments.empty()) return h + body_part;

    std::string b = boundary(s.message_id, 1);
    std::string out = h + "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\nThis is a MIME message.\r\n--" +
                      b + "\r\n" + body_part;
    for (const auto& a : s.attachments) {
        std::string type = a.content_type.empty() ? "application/octet-stream" : a.content_type;
        out += "--" + b + "\r\n";
        out += "Content-Type: " + type + "; name=\"" +
               (is_ascii_printable(a.filename) ? ascii_fallback(a.filename) : encode_header_words(a.filename)) + "\"\r\n";
        out += "Content-Disposition: attachment;\r\n\t" + rfc2231_param("filename", a.filename) + "\r\n";
        out += "Content-Transfer-Encoding: base64\r\n\r\n";
        if (a.data.empty() && !a.source_path.empty())
            out += std::string(kFileReferenceMarker + 2) + a.source_path + "\r\n";
        else
            out += base64_lines(a.data);
    }
    out += "--" + b + "--\r\n";
    return out;
}

}  // namespace ppo::workflow
