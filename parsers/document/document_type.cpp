#include "parsers/document/document_type.h"

#include <cstdint>

#include "parsers/mime/mime_util.h"

namespace ppo::parsers {

using namespace mime_detail;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::uint32_t le16(std::string_view d, std::size_t at) {
    if (at + 2 > d.size()) return 0;
    return static_cast<std::uint32_t>(static_cast<unsigned char>(d[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + 1])) << 8;
}

std::uint32_t le32(std::string_view d, std::size_t at) {
    if (at + 4 > d.size()) return 0;
    return le16(d, at) | le16(d, at + 2) << 16;
}

std::string extension_of(std::string_view filename) {
    const std::size_t dot = filename.rfind('.');
    if (dot == std::string_view::npos) return {};
    std::string ext = lower(trim(filename.substr(dot + 1)));
    return ext;
}

DocumentKind kind_from_extension(std::string_view ext) {
    if (ext == "pdf") return DocumentKind::pdf;
    if (ext == "docx") return DocumentKind::docx;
    if (ext == "odt") return DocumentKind::odt;
    if (ext == "doc") return DocumentKind::doc;
    if (ext == "xlsx") return DocumentKind::xlsx;
    if (ext == "ods") return DocumentKind::ods;
    if (ext == "xls") return DocumentKind::xls;
    if (ext == "rtf") return DocumentKind::rtf;
    if (ext == "zip") return DocumentKind::zip;
    return DocumentKind::none;
}

bool is_image_magic(std::string_view d) {
    return starts_with(d, "\x89PNG\r\n\x1a\n") || starts_with(d, "\xFF\xD8\xFF") || starts_with(d, "GIF87a") ||
           starts_with(d, "GIF89a");
}

constexpr std::string_view kOdtMime = "application/vnd.oasis.opendocument.text";
constexpr std::string_view kOdsMime = "application/vnd.oasis.opendocument.spreadsheet";

struct ZipScan {
    bool word = false;
    bool xl = false;
    DocumentKind odf = DocumentKind::none;
};

// Looks at one member: its name, and for "mimetype" its (stored) content.
void look_at_member(std::string_view name, std::string_view data, std::size_t local_offset, ZipScan& scan) {
    if (starts_with(name, "word/")) scan.word = true;
    if (starts_with(name, "xl/")) scan.xl = true;
    if (name != "mimetype" || scan.odf != DocumentKind::none) return;
    // Local header: method at +8, compressed size at +18, name len +26, extra len +28.
    if (local_offset + 30 > data.size() || le32(data, local_offset) != 0x04034b50u) return;
    if (le16(data, local_offset + 8) != 0) return;  // ODF stores it uncompressed
    const std::size_t content = local_offset + 30 + le16(data, local_offset + 26) + le16(data, local_offset + 28);
    const std::size_t size = le32(data, local_offset + 18);
    if (content > data.size()) return;
    const std::string_view mime = data.substr(content, std::min<std::size_t>(size, 100));
    if (mime == kOdtMime) scan.odf = DocumentKind::odt;
    if (mime == kOdsMime) scan.odf = DocumentKind::ods;
}

DocumentKind classify_zip(std::string_view d) {
    constexpr std::size_t kMaxEntries = 5000;
    ZipScan scan;
    // 1. Central directory, via the end-of-central-directory record (within the
    //    last 64 KiB + 22 bytes).
    bool central_ok = false;
    if (d.size() >= 22) {
        const std::size_t lowest = d.size() > 65557 ? d.size() - 65557 : 0;
        for (std::size_t at = d.size() - 22 + 1; at-- > lowest;) {
            if (le32(d, at) != 0x06054b50u) continue;
            const std::size_t entries = le16(d, at + 10);
            std::size_t p = le32(d, at + 16);
            for (std::size_t n = 0; n < entries && n < kMaxEntries; ++n) {
                if (p + 46 > d.size() || le32(d, p) != 0x02014b50u) break;
                const std::size_t name_len = le16(d, p + 28);
                const std::size_t skip = 46 + name_len + le16(d, p + 30) + le16(d, p + 32);
                if (p + 46 + name_len > d.size()) break;
                look_at_member(d.substr(p + 46, name_len), d, le32(d, p + 42), scan);
                central_ok = true;
                p += skip;
            }
            break;
        }
    }
    // 2. Local headers from the start (truncated or damaged archives).
    if (!central_ok) {
        std::size_t p = 0;
        for (std::size_t n = 0; n < kMaxEntries && p + 30 <= d.size() && le32(d, p) == 0x04034b50u; ++n) {
            const std::size_t name_len = le16(d, p + 26);
            if (p + 30 + name_len > d.size()) break;
            look_at_member(d.substr(p + 30, name_len), d, p, scan);
            const std::uint32_t flags = le16(d, p + 6);
            if (flags & 0x08u) break;  // sizes in a data descriptor: cannot skip reliably
            p += 30 + name_len + le16(d, p + 28) + le32(d, p + 18);
        }
    }
    if (scan.odf != DocumentKind::none) return scan.odf;
    if (scan.word) return DocumentKind::docx;
    if (scan.xl) return DocumentKind::xlsx;
    return DocumentKind::zip;
}

}  // namespace

std::string_view to_string(DocumentKind kind) {
    switch (kind) {
        case DocumentKind::pdf: return "pdf";
        case DocumentKind::docx: return "docx";
        case DocumentKind::odt: return "odt";
        case DocumentKind::doc: return "doc";
        case DocumentKind::xlsx: return "xlsx";
        case DocumentKind::ods: return "ods";
        case DocumentKind::xls: return "xls";
        case DocumentKind::rtf: return "rtf";
        case DocumentKind::zip: return "zip";
        case DocumentKind::none: break;
    }
    return "none";
}

DocumentKind classify_document(std::string_view filename, std::string_view content_type, std::string_view data) {
    // Nothing to keep (e.g. base64 that decoded to nothing): never a document, whatever its name.
    if (data.empty()) return DocumentKind::none;
    if (is_image_magic(data)) return DocumentKind::none;
    if (starts_with(data, "%PDF-")) return DocumentKind::pdf;
    const std::string ext = extension_of(filename);
    if (starts_with(data, "\xD0\xCF\x11\xE0")) {
        const std::string ct = lower(trim(content_type));
        if (ext == "xls" || ext == "xlt" || ct == "application/vnd.ms-excel") return DocumentKind::xls;
        return DocumentKind::doc;
    }
    if (starts_with(data, "{\\rtf")) return DocumentKind::rtf;
    if (starts_with(data, "PK\x03\x04")) return classify_zip(data);
    // Some producers put a few bytes (BOM, blank line) before "%PDF-": look in the first KiB.
    if (data.substr(0, 1024).find("%PDF-") != std::string_view::npos) return DocumentKind::pdf;
    // Unrecognised content: trust a document extension unless it claims to be an image.
    if (istarts_with(trim(content_type), "image/")) return DocumentKind::none;
    return kind_from_extension(ext);
}

}  // namespace ppo::parsers
