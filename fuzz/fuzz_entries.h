// The bodies of the libFuzzer targets, shared with the unit test that replays
// every seed corpus file (tests/parsers/test_fuzz_corpus.cpp), so that the
// corpora stay regression tests in the ordinary g++ build too.
//
// Each entry feeds untrusted bytes to one public parser and checks the
// properties the rest of the program relies on; a violated property calls
// fuzz_fail(), which aborts (libFuzzer records the input as a crash; the unit
// test dies with the message).
#pragma once

#include "parsers/mime/address.h"
#include "parsers/mime/auth_results.h"
#include "parsers/text/csv.h"
#include "parsers/document/document_type.h"
#include "parsers/mime/download_links.h"
#include "parsers/mime/content_digest.h"
#include "parsers/document/document_text.h"
#include "parsers/text/error.h"
#include "parsers/mime/forward_block.h"
#include "parsers/mime/header_decode.h"
#include "parsers/mime/mime_message.h"
#include "parsers/mime/msg_id.h"
#include "parsers/mime/tnef.h"
#include "workflow/ports/archive.h"
#include "workflow/campaign/directory.h"
#include "workflow/campaign/directory_import.h"
#include "workflow/intake/identification.h"
#include "workflow/intake/sender_auth.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ppo::fuzz {

[[noreturn]] inline void fuzz_fail(const char* target, const std::string& what) {
    std::fprintf(stderr, "fuzz property violated in %s: %s\n", target, what.c_str());
    std::fflush(stderr);
    std::abort();
}

inline bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) { ++i; continue; }
        if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
        else return false;
        if (s.size() - i <= n) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

// The first byte chooses a separator; the rest is split on it. Lets the fuzzer
// build several strings (which may hold any byte but the separator) from one input.
inline std::vector<std::string> split_input(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> out;
    if (size == 0) return out;
    const char sep = static_cast<char>(data[0]);
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    for (;;) {
        const std::size_t p = rest.find(sep);
        out.emplace_back(rest.substr(0, p));
        if (p == std::string_view::npos) break;
        rest.remove_prefix(p + 1);
    }
    return out;
}

// ---------------------------------------------------------------------------
// MIME walk.

inline void fuzz_mime(const std::uint8_t* data, std::size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    parsers::MimeLimits limits;
    limits.max_parts = 2000;
    limits.max_depth = 50;
    const parsers::MimeMessage m = parsers::parse_mime_message(raw, limits);
    if (m.corrupt && m.corrupt_reason.empty()) fuzz_fail("mime", "corrupt without a reason");
    if (m.attachments.size() > limits.max_parts) fuzz_fail("mime", "more attachments than max_parts");
    if (!valid_utf8(m.subject)) fuzz_fail("mime", "subject is not UTF-8");
    if (!valid_utf8(m.from_display)) fuzz_fail("mime", "display name is not UTF-8");
    if (!valid_utf8(m.text)) fuzz_fail("mime", "text is not UTF-8");
    for (const auto& h : m.headers)
        if (!valid_utf8(h.value)) fuzz_fail("mime", "header " + h.name + " is not UTF-8");
    std::set<std::string> used;
    for (const auto& a : m.attachments) {
        if (!valid_utf8(a.filename)) fuzz_fail("mime", "file name is not UTF-8");
        if (a.filename.find('/') != std::string::npos) fuzz_fail("mime", "file name with a folder part");
        (void)workflow::safe_file_name(a.filename, used);
        (void)parsers::classify_document(a.filename, a.content_type, a.data);
    }
    (void)m.header("Content-Type");
}

// ---------------------------------------------------------------------------
// Header and file-name decoding. Input: [selector][separator][fields...]

inline void fuzz_header(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return;
    const unsigned selector = data[0];
    const auto parts = split_input(data + 1, size - 1);
    const std::string whole(reinterpret_cast<const char*>(data + 2), size - 2);
    switch (selector % 3) {
        case 0: {
            const std::string out = parsers::decode_rfc2047(whole);
            if (!valid_utf8(out)) fuzz_fail("header", "decode_rfc2047 output is not UTF-8");
            break;
        }
        case 1: {
            // charset, then the bytes
            const std::string charset = parts.empty() ? std::string() : parts[0];
            const std::string bytes = parts.size() > 1 ? parts[1] : std::string();
            const std::string out = parsers::to_utf8(bytes, charset);
            if (!valid_utf8(out)) fuzz_fail("header", "to_utf8 output is not UTF-8 (charset " + charset + ")");
            break;
        }
        default: {
            // name, value, name, value, ...: the parameters of one header
            std::vector<std::pair<std::string, std::string>> params;
            for (std::size_t i = 0; i + 1 < parts.size(); i += 2) params.emplace_back(parts[i], parts[i + 1]);
            for (const char* n : {"filename", "name", "charset"}) {
                const std::string out = parsers::decode_parameter(params, n);
                if (!valid_utf8(out)) fuzz_fail("header", std::string("decode_parameter(") + n + ") is not UTF-8");
            }
            if (!params.empty()) (void)parsers::decode_parameter(params, params.front().first);
        }
    }
}

// ---------------------------------------------------------------------------
// Identification against a small fixed directory. Input: [separator]from
// SEP authenticated SEP subject SEP body SEP file names...

inline const workflow::Directory& fuzz_directory() {
    static const workflow::Directory d = [] {
        auto lycee = [](std::string uai, std::string name, std::string commune, std::string mail, std::string statut,
                        std::string bassin) {
            workflow::Lycee l;
            l.uai = std::move(uai);
            l.name = std::move(name);
            l.commune = std::move(commune);
            l.departement = l.uai.substr(0, 3);
            l.academie = "09";
            l.mail = std::move(mail);
            l.statut = std::move(statut);
            l.bassin_code = std::move(bassin);
            return l;
        };
        return workflow::Directory(
            {
                lycee("0596082R", "Lycée général et technologique Camille Claudel", "Douai", "ce.0596082r@ac-lille.fr",
                      "Public", "095912"),
                lycee("0597091M", "Lycée général et technologique Alexandre Ribot", "Armentières",
                      "ce.0597091m@ac-lille.fr", "Public", "095914"),
                lycee("0626769W", "Lycée privé Jeanne d'Arc", "Saint-Omer", "direction.jeanne-darc@orange.fr", "Privé",
                      "096212"),
                lycee("0620001P", "Lycée privé du Pré", "Arras", "", "Privé", ""),
            },
            {{"095912", "BASSIN DOUAI", "IEN-IO Douai", "ien-io.douai@ac-lille.fr"}});
    }();
    return d;
}

inline void fuzz_identify(const std::uint8_t* data, std::size_t size) {
    const auto parts = split_input(data, size);
    workflow::IdentificationInput in;
    if (parts.size() > 0) in.from_address = parts[0];
    if (parts.size() > 1) in.sender_authenticated = parts[1].empty() || parts[1][0] != '0';
    if (parts.size() > 2) in.subject = parts[2];
    if (parts.size() > 3) in.body_text = parts[3];
    for (std::size_t i = 4; i < parts.size(); ++i) in.filenames.push_back(parts[i]);
    const auto& dir = fuzz_directory();
    const workflow::Identification id = workflow::identify(in, dir);
    if (id.identified) {
        if (id.uai.empty() || dir.by_uai(id.uai) == nullptr) fuzz_fail("identify", "identified a UAI not in the directory: " + id.uai);
        if (id.identified_by != "sender" && id.identified_by != "uai" && id.identified_by != "name")
            fuzz_fail("identify", "unknown identified_by " + id.identified_by);
        if (id.identified_by == "sender" && !in.sender_authenticated)
            fuzz_fail("identify", "identified by an unauthenticated sender");
        if (!in.sender_authenticated && dir.by_uai("0596082R") != nullptr &&
            (in.from_address == "ce.0596082r@ac-lille.fr" || in.from_address == "direction.jeanne-darc@orange.fr"))
            fuzz_fail("identify", "identified a message from an unauthenticated lycée address");
    } else if (id.reason.empty()) {
        fuzz_fail("identify", "unidentified without a reason");
    }
}

// ---------------------------------------------------------------------------
// Authentication-Results (RFC 8601) and the sender verdict built on it.

inline bool is_lower_keyword(const std::string& s) {
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    return true;
}

inline void fuzz_auth_results(const std::uint8_t* data, std::size_t size) {
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const parsers::AuthResults a = parsers::parse_auth_results(value);
    if (a.results.size() > parsers::kMaxAuthResults) fuzz_fail("auth_results", "more results than the limit");
    for (const auto& r : a.results) {
        if (r.method.empty() || r.result.empty()) fuzz_fail("auth_results", "a result without method or result");
        if (!is_lower_keyword(r.method) || !is_lower_keyword(r.result))
            fuzz_fail("auth_results", "method or result not a lower-case keyword: " + r.method + "=" + r.result);
        for (const auto& p : r.properties)
            if (p.property.empty() || !is_lower_keyword(p.ptype) || !is_lower_keyword(p.property))
                fuzz_fail("auth_results", "property name not a lower-case keyword");
    }
    const std::vector<std::string> headers{std::string(value)};
    const auto untrusted = workflow::authenticate_sender(headers, "ce.0596082r@ac-lille.fr", "");
    if (!untrusted.authenticated) fuzz_fail("auth_results", "not authenticated with authentication off");
    const auto v = workflow::authenticate_sender(headers, "ce.0596082r@ac-lille.fr", "mx.example.fr");
    if (v.reason.empty()) fuzz_fail("auth_results", "a verdict without a reason");
    if (v.authenticated) {
        bool from_trusted = false;
        std::string id = a.authserv_id;
        for (char& c : id) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        from_trusted = id == "mx.example.fr";
        if (!from_trusted) fuzz_fail("auth_results", "authenticated by another server's header");
    }
}

// ---------------------------------------------------------------------------
// Message-IDs: what passes may be copied into a header we write.

inline void check_msg_id(const std::string& id) {
    if (id.size() < 5 || id.front() != '<' || id.back() != '>' || id.find('@') == std::string::npos)
        fuzz_fail("msg_id", "not <left@right>: " + id);
    for (unsigned char c : id)
        if (c <= 32 || c >= 127) fuzz_fail("msg_id", "control, space or 8-bit byte in an accepted id");
    if (parsers::parse_msg_id(id) != id) fuzz_fail("msg_id", "an accepted id does not parse to itself: " + id);
}

inline void fuzz_msg_id(const std::uint8_t* data, std::size_t size) {
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    if (const auto id = parsers::parse_msg_id(value)) check_msg_id(*id);
    const auto ids = parsers::parse_msg_id_list(value);
    if (ids.size() > parsers::kMaxMsgIds) fuzz_fail("msg_id", "more ids than the limit");
    for (const auto& id : ids) check_msg_id(id);
    if (parsers::parse_msg_id_list(parsers::join_msg_ids(ids)) != ids) fuzz_fail("msg_id", "the joined list does not parse back");
}

// ---------------------------------------------------------------------------
// Inline forward blocks and the content digest: any text, never a crash; at
// most kMaxForwarded blocks; an address found is lower-case with one '@'; the
// digest is 64 hex digits and the same for CRLF and LF line ends.

inline void fuzz_forward(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto blocks = parsers::find_inline_forwards(text);
    if (blocks.size() > parsers::kMaxForwarded) fuzz_fail("forward", "more blocks than the limit");
    for (const auto& b : blocks) {
        if (b.from_address.empty() || std::count(b.from_address.begin(), b.from_address.end(), '@') != 1)
            fuzz_fail("forward", "a block without one sender address: " + b.from_address);
        for (unsigned char c : b.from_address)
            if (c >= 'A' && c <= 'Z') fuzz_fail("forward", "upper case in an address: " + b.from_address);
    }
    const std::string digest = parsers::content_digest(text);
    if (digest.size() != 64 || digest.find_first_not_of("0123456789abcdef") != std::string::npos)
        fuzz_fail("forward", "digest is not 64 hex digits: " + digest);
    if (text.find('\r') == std::string_view::npos) {
        std::string crlf;
        for (char c : text) {
            if (c == '\n') crlf += '\r';
            crlf += c;
        }
        if (parsers::content_digest(crlf) != digest) fuzz_fail("forward", "CRLF and LF give two digests");
    }
}

// ---------------------------------------------------------------------------
// Directory CSV reader.

inline void fuzz_csv(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const parsers::CsvTable t = parsers::parse_csv(text);
    int last = 0;
    for (const auto& r : t.records) {
        if (r.line < 1 || r.line < last) fuzz_fail("csv", "record line numbers go backwards");
        last = r.line;
    }
    // Writing a field and reading it back gives the field.
    if (!t.header.empty()) {
        const std::string& f = t.header.front();
        const parsers::CsvTable back = parsers::parse_csv(parsers::csv_field(f) + ";x\n");
        if (back.header.empty() || back.header.front() != f) {
            // A leading BOM is dropped by design; anything else is a real mismatch.
            if (!(f.rfind("\xEF\xBB\xBF", 0) == 0))
                fuzz_fail("csv", "csv_field does not round-trip");
        }
    }
    try {
        const workflow::AnnuaireImport a = workflow::read_annuaire(text, {"09", "20"});
        for (const auto& row : a.lycees) {
            if (row.lycee.uai.size() != 8) fuzz_fail("csv", "kept a lycée with a malformed UAI: " + row.lycee.uai);
            // Directory data is never syntax: what is kept is a plain address and a folder-safe bassin code.
            if (!row.lycee.mail.empty() && !parsers::is_valid_address(row.lycee.mail))
                fuzz_fail("csv", "kept a lycée with an invalid Mail: " + row.lycee.mail);
            if (!row.lycee.bassin_code.empty() && !workflow::is_valid_bassin_code(row.lycee.bassin_code))
                fuzz_fail("csv", "kept a lycée with an invalid bassin code: " + row.lycee.bassin_code);
        }
    } catch (const ppo::Error& e) {
        if (e.kind() != ErrorKind::corrupt) fuzz_fail("csv", std::string("read_annuaire threw a non-corrupt error: ") + e.what());
    }
    try {
        (void)workflow::read_routing(text);
    } catch (const ppo::Error&) {
    }
}

// ---------------------------------------------------------------------------
// safe_file_name. Input: [separator]name SEP name ...  (all into one folder)

inline void fuzz_safe_file_name(const std::uint8_t* data, std::size_t size) {
    const auto names = split_input(data, size);
    std::set<std::string> used;
    std::set<std::string> returned;
    for (const auto& n : names) {
        const std::string out = workflow::safe_file_name(n, used);
        if (out.empty()) fuzz_fail("safe_file_name", "empty name");
        if (out.size() > 180) fuzz_fail("safe_file_name", "longer than 180 bytes: " + std::to_string(out.size()));
        if (out == "." || out == "..") fuzz_fail("safe_file_name", "dot name");
        if (out.front() == '.') fuzz_fail("safe_file_name", "leading dot: " + out);
        for (unsigned char c : out)
            if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) fuzz_fail("safe_file_name", "forbidden byte in " + out);
        if (valid_utf8(n) && !valid_utf8(out)) fuzz_fail("safe_file_name", "UTF-8 name made invalid: " + out);
        if (!returned.insert(out).second) fuzz_fail("safe_file_name", "same name returned twice: " + out);
        if (!used.count(out)) fuzz_fail("safe_file_name", "returned name not added to used");
    }
}

// ---------------------------------------------------------------------------
// Document text. Input: [kind selector][document bytes]. Small limits keep
// each run short (poppler has no cancel: max_pages is the only bound there).

inline parsers::DocumentKind fuzz_document_kind(std::uint8_t selector) {
    static constexpr parsers::DocumentKind kinds[] = {
        parsers::DocumentKind::pdf, parsers::DocumentKind::docx, parsers::DocumentKind::odt,
        parsers::DocumentKind::doc, parsers::DocumentKind::rtf,  parsers::DocumentKind::zip,
        parsers::DocumentKind::xlsx, parsers::DocumentKind::ods, parsers::DocumentKind::xls,
        parsers::DocumentKind::none};
    return kinds[selector % (sizeof kinds / sizeof kinds[0])];
}

inline void check_document_output(const char* what, const std::string& s) {
    if (!valid_utf8(s)) fuzz_fail("document_text", std::string(what) + " is not UTF-8");
    for (unsigned char c : s)
        if ((c < 0x20 && c != '\n') || c == 0x7F) fuzz_fail("document_text", std::string(what) + " has a control byte");
    if (s.find("  ") != std::string::npos || s.find("\n\n") != std::string::npos)
        fuzz_fail("document_text", std::string(what) + " has a whitespace run");
    if (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.back() == ' ' || s.back() == '\n'))
        fuzz_fail("document_text", std::string(what) + " has leading or trailing whitespace");
}

inline void fuzz_document_text(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    const parsers::DocumentKind kind = fuzz_document_kind(data[0]);
    const std::string_view doc(reinterpret_cast<const char*>(data + 1), size - 1);
    parsers::TextLimits limits;
    limits.max_text_bytes = 4096;
    limits.max_head_bytes = 1024;
    limits.max_member_bytes = 1024 * 1024;
    limits.max_members = 50;
    limits.max_pages = 3;
    const parsers::DocumentText t = parsers::extract_document_text(kind, doc, limits);
    check_document_output("text", t.text);
    check_document_output("head", t.head);
    if (t.text.size() > limits.max_text_bytes) fuzz_fail("document_text", "text over max_text_bytes");
    if (t.head.size() > limits.max_head_bytes) fuzz_fail("document_text", "head over max_head_bytes");
    if (t.members.size() > limits.max_members) fuzz_fail("document_text", "more members than max_members");
    for (const auto& m : t.members)
        if (!valid_utf8(m) || m.empty()) fuzz_fail("document_text", "a member name empty or not UTF-8");
    if (!valid_utf8(t.error)) fuzz_fail("document_text", "error is not UTF-8");
    if (t.pages < 0) fuzz_fail("document_text", "negative page count");
    if (t.image_only && (t.pages == 0 || !t.text.empty())) fuzz_fail("document_text", "image_only with text or no page");
    if (doc.empty() && t.error.empty()) fuzz_fail("document_text", "empty input without an error");
}

// ---------------------------------------------------------------------------
// TNEF (winmail.dat). Input: [flags]bytes; flags bit 0 rewrites the attribute
// checksums first, so that mutations get past them to libytnef's handlers.

inline std::string fix_tnef_checksums(std::string d) {
    const auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(d[k])); };
    std::size_t pos = 6;
    while (d.size() >= pos + 9) {
        const std::uint32_t len = byte(pos + 5) | byte(pos + 6) << 8 | byte(pos + 7) << 16 | byte(pos + 8) << 24;
        if (len > d.size() - pos - 9 || d.size() - pos - 9 - len < 2) break;
        std::uint16_t sum = 0;
        for (std::size_t k = pos + 9; k < pos + 9 + len; ++k) sum = static_cast<std::uint16_t>(sum + byte(k));
        d[pos + 9 + len] = static_cast<char>(sum & 0xFF);
        d[pos + 10 + len] = static_cast<char>(sum >> 8);
        pos += 11 + len;
    }
    return d;
}

inline void fuzz_tnef(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] & 1) bytes = fix_tnef_checksums(std::move(bytes));
    parsers::TnefLimits limits;
    limits.max_files = 20;
    limits.max_total_bytes = 1u << 20;
    const parsers::TnefContent t = parsers::unpack_tnef(bytes, limits);
    if (!t.error.empty() && !t.files.empty()) fuzz_fail("tnef", "files along with an error");
    if (t.files.size() > limits.max_files) fuzz_fail("tnef", "more files than max_files");
    std::size_t total = 0;
    for (const auto& f : t.files) {
        total += f.data.size();
        if (!valid_utf8(f.name)) fuzz_fail("tnef", "file name is not UTF-8");
    }
    if (total > limits.max_total_bytes) fuzz_fail("tnef", "more bytes than max_total_bytes");
    if (!valid_utf8(t.body_text)) fuzz_fail("tnef", "body is not UTF-8");
    if (bytes.size() >= 4 && bytes.compare(0, 4, "\x78\x9f\x3e\x22") == 0 && !parsers::is_tnef("", "", bytes))
        fuzz_fail("tnef", "signature not recognised");
}

// ---------------------------------------------------------------------------
// Download links: each is an http(s) URL found as written in the text, with a
// lower-case host and a service, found again on its own.

inline void fuzz_download_links(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto links = parsers::find_download_links(text);
    std::set<std::string> urls;
    for (const auto& l : links) {
        std::string scheme = l.url.substr(0, 8);
        for (char& c : scheme) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        const bool http = scheme.rfind("http://", 0) == 0 || scheme == "https://";
        if (!http || text.find(l.url) == std::string_view::npos) fuzz_fail("download_links", "not in the text: " + l.url);
        if (l.host.empty() || l.service.empty()) fuzz_fail("download_links", "no host or service: " + l.url);
        for (unsigned char c : l.host)
            if ((c >= 'A' && c <= 'Z') || c <= ' ') fuzz_fail("download_links", "host not lower case: " + l.host);
        for (unsigned char c : l.url)
            if (c <= ' ' || c == '<' || c == '>' || c == '"') fuzz_fail("download_links", "delimiter in " + l.url);
        if (!urls.insert(l.url).second) fuzz_fail("download_links", "returned twice: " + l.url);
        const auto again = parsers::find_download_links(l.url);
        if (again.size() != 1 || again[0].url != l.url || again[0].service != l.service)
            fuzz_fail("download_links", "not found again on its own: " + l.url);
    }
}

}  // namespace ppo::fuzz
