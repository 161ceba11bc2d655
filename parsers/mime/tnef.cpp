#include "parsers/mime/tnef.h"

#include "parsers/mime/header_decode.h"
#include "parsers/mime/mime_util.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

// libytnef is C without extern "C" guards, and its headers #define BYTE, WORD,
// DWORD...: included last, in this file only.
extern "C" {
#include <ytnef.h>
}

namespace ppo::parsers {

namespace {

using mime_detail::append_sanitized_utf8;
using mime_detail::iequals;
using mime_detail::trim;

constexpr std::uint32_t kSignature = 0x223E9F78;

// The attributes (MS-OXTNEF 2.1.3.1) the pre-scan looks at; the same values as
// ytnef.h's att* macros, spelled out because those expand to C casts.
constexpr std::uint32_t kAttBody = 0x0002800C;
constexpr std::uint32_t kAttAttachData = 0x0006800F;
constexpr std::uint32_t kAttAttachTitle = 0x00018010;
constexpr std::uint32_t kAttAttachRenddata = 0x00069002;
constexpr std::uint32_t kAttMapiProps = 0x00069003;
constexpr std::uint32_t kAttAttachment = 0x00069005;
constexpr std::uint32_t kAttOemCodepage = 0x00069007;

std::uint32_t u32le(std::string_view d, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(d[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 3])) << 24;
}

std::uint16_t u16le(std::string_view d, std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(d[at]) |
                                      static_cast<unsigned char>(d[at + 1]) << 8);
}

// A cursor over one block that never reads past its end.
class Cursor {
public:
    explicit Cursor(std::string_view d) : d_(d) {}
    bool has(std::uint64_t n) const { return pos_ + n <= d_.size(); }
    bool u32(std::uint32_t& v) {
        if (!has(4)) return false;
        v = u32le(d_, static_cast<std::size_t>(pos_));
        pos_ += 4;
        return true;
    }
    // Skips n bytes, then the padding to a multiple of 4 (MAPI values are
    // 4-aligned; the padding may be missing only at the very end).
    bool skip_padded(std::uint64_t n) {
        if (!has(n)) return false;
        pos_ += n + (n % 4 ? 4 - n % 4 : 0);
        return true;
    }
    bool skip(std::uint64_t n) {
        if (!has(n)) return false;
        pos_ += n;
        return true;
    }
    bool at_end() const { return pos_ == d_.size(); }
    std::size_t pos() const { return static_cast<std::size_t>(pos_); }

private:
    std::string_view d_;
    std::uint64_t pos_ = 0;
};

bool is_subject_property(std::uint32_t prop_id) {
    // The ids TNEFFillMapi copies into the message subject.
    return prop_id == 0x0037 || prop_id == 0x0038 || prop_id == 0x0049 || prop_id == 0x0E1D || prop_id == 0x0070;
}

// What a MAPI block holds that we read ourselves.
struct MapiBody {
    std::string_view string8;  // PR_BODY as PT_STRING8
    std::string_view unicode;  // PR_BODY as PT_UNICODE (UTF-16LE)
};

// Walks a MAPI property block (attMAPIProps, attAttachment) the way libytnef's
// TNEFFillMapi reads it. Returns "" when libytnef can be given it, else why
// not: besides the malformed, Debian's libytnef 2.0 fails (and says so on
// stdout) on a subject property over 99 bytes, a value over 512 KiB or a
// property name over 100 bytes, later versions on UTF-16 strings over 100000
// bytes; and a value count over its limit leaves a property that TNEFFree then
// dereferences as NULL. Collects PR_BODY on the way.
std::string check_mapi_block(std::string_view block, MapiBody* body = nullptr) {
    Cursor c(block);
    std::uint32_t count = 0;
    if (!c.u32(count)) return "MAPI block too short";
    if (count > 999) return "MAPI block with more than 999 properties";
    for (std::uint32_t i = 0; i < count; ++i) {
        std::uint32_t tag = 0;
        if (!c.u32(tag)) return "truncated MAPI property";
        if (PROP_ID(tag) >= 0x8000) {
            // Named property: GUID, then the kind (0: a numeric id, 1: a name).
            // libytnef reads the kind as a number of names and allocates that many.
            std::uint32_t kind = 0;
            if (!c.skip(16) || !c.u32(kind)) return "truncated MAPI property name";
            if (kind > 1) return "bad MAPI property name kind";
            if (kind == 1) {
                std::uint32_t name_len = 0;
                if (!c.u32(name_len)) return "truncated MAPI property name";
                if (name_len > 98) return "MAPI property name too long";
                if (!c.skip_padded(name_len)) return "truncated MAPI property name";
            } else {
                std::uint32_t id = 0;
                if (!c.u32(id)) return "truncated MAPI property name";
            }
        }
        std::uint32_t type = PROP_TYPE(tag);
        const bool multi = (type & MV_FLAG) != 0;
        std::uint32_t values = 1;
        if (multi) {
            type -= MV_FLAG;
            if (!c.u32(values)) return "truncated MAPI property";
        }
        if (values == 0 || values > 999) return "bad MAPI value count";
        if (is_subject_property(PROP_ID(tag)) && type != PT_STRING8 && type != PT_UNICODE) return "MAPI subject";
        for (std::uint32_t v = 0; v < values; ++v) {
            switch (type) {
                case PT_BINARY:
                case PT_OBJECT:
                case PT_STRING8:
                case PT_UNICODE: {
                    std::uint32_t ignored = 0, size = 0;
                    if (!multi && !c.u32(ignored)) return "truncated MAPI property";
                    if (!c.u32(size)) return "truncated MAPI property";
                    if (size > 512u * 1024 - 1) return "MAPI value too large";
                    // Later libytnef versions refuse to convert longer UTF-16 strings.
                    if (type == PT_UNICODE && size > 100000) return "MAPI string too long";
                    if (is_subject_property(PROP_ID(tag)) && (size == 0 || size > 99)) return "MAPI subject";
                    const std::size_t at = c.pos();
                    if (!c.skip_padded(size)) return "truncated MAPI value";
                    if (body != nullptr && !multi && PROP_ID(tag) == PR_BODY) {
                        if (type == PT_STRING8) body->string8 = block.substr(at, size);
                        if (type == PT_UNICODE) body->unicode = block.substr(at, size);
                    }
                    break;
                }
                case PT_I2:
                case PT_BOOLEAN:
                case PT_LONG:
                case PT_R4:
                case PT_CURRENCY:
                case PT_APPTIME:
                case PT_ERROR:
                    if (!c.skip(4)) return "truncated MAPI value";
                    break;
                case PT_DOUBLE:
                case PT_I8:
                case PT_SYSTIME:
                    if (!c.skip(8)) return "truncated MAPI value";
                    break;
                case PT_CLSID:
                    if (!c.skip(16)) return "truncated MAPI value";
                    break;
                default:
                    return "unknown MAPI property type";
            }
        }
    }
    if (!c.at_end()) return "MAPI block size mismatch";
    return "";
}

struct Scan {
    std::uint32_t codepage = 0;            // attOemCodepage, 0 when absent
    std::vector<std::string_view> titles;  // attAttachTitle of each attachment, in order ("" if none)
    std::string_view att_body;             // attBody
    MapiBody mapi_body;                    // PR_BODY from attMAPIProps
    std::string stream;                    // what libytnef is given
};

// Walks the attribute stream and writes, for libytnef, a copy that holds only
// what we take from it: each attachment's attAttachRenddata, attAttachData and
// attAttachment (its MAPI properties, when check_mapi_block passes them). The
// rest we read here (code page, titles, body) or leave: libytnef allocates what
// an attribute's length says, prints its errors with printf, and Debian's 2.0
// fails a whole container on an attAttachTitle, attBody, attSubject or attFrom
// over its small limits, or an attTnefVersion of an odd size. The stream
// itself must be whole, with valid checksums. Limits are enforced here, before
// anything is copied.
std::string prescan(std::string_view d, const TnefLimits& limits, Scan& scan) {
    if (d.size() < 6) return "too short for TNEF";
    if (u32le(d, 0) != kSignature) return "no TNEF signature";
    if (d.size() > static_cast<std::size_t>(INT_MAX)) return "TNEF too large";
    scan.stream.assign(d.substr(0, 6));
    std::size_t pos = 6;
    std::uint64_t data_bytes = 0;
    bool seen_mapi = false, att_title = false, att_data = false, att_mapi = false;
    while (pos < d.size()) {
        // A few stray bytes after the last attribute (a lenient base64 decoder
        // leaves some) are no attribute: libytnef stops there too, silently.
        if (d.size() - pos < 9) break;
        const std::size_t header_at = pos;
        const std::uint32_t id = u32le(d, pos + 1);
        const std::uint32_t len = u32le(d, pos + 5);
        pos += 9;
        if (len > d.size() - pos || d.size() - pos - len < 2) return "truncated TNEF attribute";
        const std::string_view value = d.substr(pos, len);
        std::uint16_t sum = 0;
        for (unsigned char ch : value) sum = static_cast<std::uint16_t>(sum + ch);
        if (sum != u16le(d, pos + len)) return "bad TNEF attribute checksum";
        pos += static_cast<std::size_t>(len) + 2;
        const std::string_view whole = d.substr(header_at, pos - header_at);
        // libytnef refuses an empty attribute (an empty file's data): it holds nothing anyway.
        if (len == 0) continue;

        switch (id) {
            case kAttAttachRenddata:
                if (scan.titles.size() >= limits.max_files)
                    return "more than " + std::to_string(limits.max_files) + " files in the TNEF";
                scan.titles.emplace_back();
                att_title = att_data = att_mapi = false;
                scan.stream.append(whole);
                break;
            // Before the first attAttachRenddata libytnef would store these on
            // its head attachment, which TNEFFree never frees; given twice for
            // one attachment, the first copy leaks: such are left out.
            case kAttAttachTitle:
                if (!scan.titles.empty() && !att_title) scan.titles.back() = value;
                att_title = true;
                break;
            case kAttAttachData:
                if (scan.titles.empty() || att_data) break;
                att_data = true;
                data_bytes += len;
                if (data_bytes > limits.max_total_bytes)
                    return "TNEF files over " + std::to_string(limits.max_total_bytes) + " bytes";
                scan.stream.append(whole);
                break;
            case kAttAttachment:
                if (scan.titles.empty() || att_mapi) break;
                att_mapi = true;
                // A block libytnef would fail on costs the long name, not the file.
                if (check_mapi_block(value).empty()) scan.stream.append(whole);
                break;
            case kAttMapiProps:
                if (seen_mapi) break;
                seen_mapi = true;
                if (!check_mapi_block(value, &scan.mapi_body).empty()) scan.mapi_body = {};
                break;
            case kAttBody:
                if (scan.att_body.empty()) scan.att_body = value;
                break;
            case kAttOemCodepage:
                if (scan.codepage == 0 && len >= 4) scan.codepage = u32le(value, 0);
                break;
            default:
                break;
        }
    }
    return "";
}

// The iconv name of a Windows code page (attOemCodepage). Absent or unknown:
// Windows-1252, what French Outlook writes.
std::string charset_of(std::uint32_t cp) {
    switch (cp) {
        case 65001: return "UTF-8";
        case 20127: return "US-ASCII";
        case 1200: return "UTF-16LE";
        case 10000: return "MACINTOSH";
        case 20866: return "KOI8-R";
        case 21866: return "KOI8-U";
        case 28603: return "ISO-8859-13";
        case 28605: return "ISO-8859-15";
        default: break;
    }
    if (cp >= 1250 && cp <= 1258) return "WINDOWS-" + std::to_string(cp);
    if (cp >= 28591 && cp <= 28599) return "ISO-8859-" + std::to_string(cp - 28590);
    if (cp >= 437 && cp <= 950) return "CP" + std::to_string(cp);  // OEM and East Asian code pages
    return "WINDOWS-1252";
}

// The bytes of a libytnef value; empty for a missing one (MAPIFindProperty
// answers MAPI_UNDEFINED, not NULL, when there is none).
std::string_view bytes_of(const variableLength* v) {
    if (v == nullptr || v == MAPI_UNDEFINED || v->data == nullptr || v->size <= 0) return {};
    return {reinterpret_cast<const char*>(v->data), static_cast<std::size_t>(v->size)};
}

std::string_view until_nul(std::string_view s) {
    const std::size_t nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// An 8-bit string property (PT_STRING8, the attAttachTitle, attBody): in the
// TNEF's code page, NUL-terminated.
std::string string8_to_utf8(std::string_view bytes, const std::string& charset) {
    return to_utf8(until_nul(bytes), charset);
}

// A PT_UNICODE property as libytnef hands it over: it has already converted
// the UTF-16 to a NUL-terminated UTF-8 string (its buffer holds up to 3 bytes
// per UTF-16 unit, plus the NUL), but `size` is still the UTF-16 byte count and
// it encodes each surrogate on its own: whatever is ill-formed becomes U+FFFD.
std::string unicode_to_utf8(const variableLength* v) {
    if (bytes_of(v).empty()) return "";
    const std::size_t bound = static_cast<std::size_t>(v->size) / 2 * 3 + 1;
    const char* p = reinterpret_cast<const char*>(v->data);
    std::string out;
    append_sanitized_utf8(out, std::string_view(p, strnlen(p, bound)));
    return out;
}

// A PT_UNICODE value in its raw UTF-16LE, up to its terminating NUL.
std::string utf16_to_utf8(std::string_view bytes) {
    for (std::size_t k = 0; k + 1 < bytes.size(); k += 2)
        if (bytes[k] == '\0' && bytes[k + 1] == '\0') {
            bytes = bytes.substr(0, k);
            break;
        }
    return to_utf8(bytes, "UTF-16LE");
}

std::string attachment_name(Attachment* a, std::string_view title, const std::string& charset) {
    std::string name = unicode_to_utf8(MAPIFindProperty(&a->MAPI, PROP_TAG(PT_UNICODE, PR_ATTACH_LONG_FILENAME)));
    if (name.empty())
        name = string8_to_utf8(bytes_of(MAPIFindProperty(&a->MAPI, PROP_TAG(PT_STRING8, PR_ATTACH_LONG_FILENAME))),
                               charset);
    if (name.empty()) name = string8_to_utf8(title, charset);
    return std::string(trim(name));
}

std::string lf_newlines(std::string s) {
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
    return out;
}

// TNEFFree on every path out.
struct TnefGuard {
    TNEFStruct* tnef;
    ~TnefGuard() { TNEFFree(tnef); }
};

}  // namespace

bool is_tnef(std::string_view filename, std::string_view content_type, std::string_view data) {
    if (data.size() >= 4 && u32le(data, 0) == kSignature) return true;
    if (data.size() >= 6) return false;  // enough bytes to tell, and they say no
    std::string_view type = content_type.substr(0, content_type.find(';'));
    type = trim(type);
    return iequals(trim(filename), "winmail.dat") || iequals(type, "application/ms-tnef") ||
           iequals(type, "application/vnd.ms-tnef");
}

TnefContent unpack_tnef(std::string_view data, const TnefLimits& limits) {
    TnefContent out;
    Scan scan;
    out.error = prescan(data, limits, scan);
    if (!out.error.empty()) return out;

    TNEFStruct tnef;
    TNEFInitialize(&tnef);
    tnef.Debug = 0;  // TNEFInitialize leaves it unset; above 0 libytnef prints its walk on stdout
    TnefGuard guard{&tnef};
    const int rc = TNEFParseMemory(reinterpret_cast<BYTE*>(scan.stream.data()), static_cast<long>(scan.stream.size()),
                                   &tnef);
    if (rc != 0) {
        out.error = "libytnef could not read the TNEF (error " + std::to_string(rc) + ")";
        return out;
    }

    const std::string charset = charset_of(scan.codepage);
    std::size_t total = 0;
    std::size_t index = 0;  // libytnef makes one attachment per attAttachRenddata, as the scan did
    for (Attachment* a = tnef.starting_attach.next; a != nullptr; a = a->next, ++index) {
        const std::string_view title = index < scan.titles.size() ? scan.titles[index] : std::string_view();
        std::string_view bytes = bytes_of(&a->FileData);
        // Outlook may put a file's bytes in the attachment's MAPI properties instead.
        if (bytes.empty()) bytes = bytes_of(MAPIFindProperty(&a->MAPI, PROP_TAG(PT_BINARY, PR_ATTACH_DATA_OBJ)));
        // Nothing else is a file: an embedded Outlook item (PT_OBJECT) or an OLE object.
        if (bytes.empty()) continue;
        total += bytes.size();
        if (out.files.size() >= limits.max_files || total > limits.max_total_bytes) {
            out.error = out.files.size() >= limits.max_files
                            ? "more than " + std::to_string(limits.max_files) + " files in the TNEF"
                            : "TNEF files over " + std::to_string(limits.max_total_bytes) + " bytes";
            out.files.clear();
            return out;
        }
        out.files.push_back(TnefFile{attachment_name(a, title, charset), std::string(bytes)});
    }

    std::string body = utf16_to_utf8(scan.mapi_body.unicode);
    if (body.empty()) body = string8_to_utf8(scan.mapi_body.string8, charset);
    if (body.empty()) body = string8_to_utf8(scan.att_body, charset);
    out.body_text = lf_newlines(std::move(body));
    return out;
}

}  // namespace ppo::parsers
