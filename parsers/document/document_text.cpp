// Document text extraction (see document_text.h for the contract).
//
// What each format gives, and where it stops:
// - PDF: poppler-cpp, page by page up to max_pages; the first page is the head.
// - DOCX: word/document.xml (w:t runs; w:p, w:br, w:tab), mc:Fallback skipped
//   so that a text box is not read twice; the head is word/header*.xml and
//   word/footer*.xml, then the body. Deleted revisions and field codes are not text.
// - ODT: content.xml (text:p, text:h, spans, text:s, text:tab, text:line-break;
//   notes, annotations and tracked deletions skipped); the head is the master
//   pages' headers and footers from styles.xml, then the body.
// - RTF: a small tokenizer of our own (destinations skipped, \'hh in
//   \ansicpg 1252 only, other code pages' 8-bit bytes become U+FFFD; \uN
//   with \ucN); \header and \footer groups go to the head, then the body.
// - DOC (Word 97, OLE2): APPROXIMATE. No maintained library reads it, so the
//   bytes are scanned like strings(1) for runs of printable UTF-16LE and
//   Windows-1252 text (at least 4 characters, mostly letters), in file order.
//   The body text is found, but so are font and style names, document
//   properties, and the page headers after the body; pieces of a fast-saved
//   file may come out of order. The head is the first text found.
// - ZIP: member names, and the text of each member that is itself a document
//   (not a ZIP: one level only), each after a "--- name ---" line.
// - XLSX, ODS, XLS: not read (no text, no error).
//
// XML is read with libxml2's streaming reader: no entity substitution, no DTD
// loading, no network, depth capped; ZIP members through Poco::Zip, whose
// streams do not stop at the sizes an archive declares, so every read is capped
// here (a decompression bomb stops at max_member_bytes).
#include "parsers/document/document_text.h"

#include "parsers/text/utf8.h"

#include <Poco/Exception.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipLocalFileHeader.h>
#include <Poco/Zip/ZipStream.h>
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlversion.h>
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <streambuf>

namespace ppo::parsers {

namespace {

constexpr int kMaxXmlDepth = 200;           // real documents nest a few dozen levels
constexpr std::size_t kMaxRtfDepth = 200;   // the same for RTF groups
constexpr std::size_t kMaxMemberName = 1024;
constexpr std::size_t kMinRun = 4;          // DOC scan: shortest run kept

// ---------------------------------------------------------------------------
// Normalised, capped UTF-8 output.

bool is_space_cp(char32_t cp) {
    return cp == ' ' || cp == '\t' || cp == 0x0B || cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_newline_cp(char32_t cp) { return cp == '\n' || cp == '\r' || cp == 0x0C || cp == 0x2028 || cp == 0x2029; }

// Control characters, surrogates, non-characters and invisible format
// characters (soft hyphen, zero-width space, BOM) would only get in the way
// of a search.
bool is_dropped_cp(char32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF ||
           cp == 0xFFFE || cp == 0xFFFF || cp == 0xFEFF || cp == 0xAD || cp == 0x200B || cp == 0x200C ||
           cp == 0x200D || cp == 0x2060;
}

std::size_t encode_utf8(char32_t cp, char* out) {
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (cp >> 12));
        out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

// Decodes one code point at s[i], leniently: an invalid or truncated sequence
// is U+FFFD and consumes one byte, so any input becomes valid UTF-8.
char32_t decode_utf8(std::string_view s, std::size_t& i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
        ++i;
        return c;
    }
    std::size_t n = 0;
    char32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
        n = 1;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3;
        cp = c & 0x07;
    } else {
        ++i;
        return 0xFFFD;
    }
    if (s.size() - i <= n) {
        ++i;
        return 0xFFFD;
    }
    for (std::size_t k = 1; k <= n; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) {
            ++i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return 0xFFFD;
    }
    i += n + 1;
    return cp;
}

// Collects text under a byte cap: whitespace runs become one space, line and
// paragraph breaks one '\n' (a break wins over a space), nothing leads or
// trails, and only whole code points go in, so a cut is always on a UTF-8
// boundary.
class TextBuilder {
public:
    explicit TextBuilder(std::size_t cap) : cap_(cap) {}

    void add_cp(char32_t cp) {
        if (is_newline_cp(cp)) {
            newline();
            return;
        }
        if (is_space_cp(cp)) {
            space();
            return;
        }
        if (is_dropped_cp(cp)) return;
        any_content_ = true;
        if (full_) return;
        char buf[4];
        const std::size_t n = encode_utf8(cp, buf);
        const std::size_t sep = out_.empty() ? 0 : (pending_newline_ || pending_space_ ? 1 : 0);
        if (out_.size() + sep + n > cap_) {
            full_ = true;
            return;
        }
        if (sep) out_.push_back(pending_newline_ ? '\n' : ' ');
        pending_newline_ = pending_space_ = false;
        out_.append(buf, n);
    }

    void add(std::string_view utf8) {
        std::size_t i = 0;
        while (i < utf8.size() && !full_) add_cp(decode_utf8(utf8, i));
        // What could not go in still counts as content that was cut.
        if (full_ && i < utf8.size()) any_content_ = true;
    }

    void space() { pending_space_ = true; }
    void newline() { pending_newline_ = true; }

    bool full() const { return full_; }
    bool any_content() const { return any_content_; }
    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
    std::size_t cap_;
    bool pending_space_ = false;
    bool pending_newline_ = false;
    bool full_ = false;
    bool any_content_ = false;
};

std::string to_valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        char buf[4];
        const char32_t cp = decode_utf8(s, i);
        out.append(buf, encode_utf8(cp, buf));
    }
    return out;
}

// Windows-1252's 0x80-0x9F (0 where undefined); the rest is Latin-1.
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

char32_t cp1252_to_cp(unsigned char b) {
    if (b >= 0x80 && b <= 0x9F) {
        const char16_t u = kCp1252High[b - 0x80];
        return u ? u : 0xFFFD;
    }
    return b;
}

// Everything one extraction collects; finish() moves it into a DocumentText.
struct Extraction {
    explicit Extraction(const TextLimits& l)
        : limits(l), text(l.max_text_bytes), head(l.max_head_bytes), title(std::min<std::size_t>(l.max_head_bytes, 2048)) {}

    const TextLimits& limits;
    TextBuilder text;
    TextBuilder head;
    TextBuilder title;
    std::vector<std::string> members;
    int pages = 0;
    bool image_only = false;
    std::string error;

    void fail(std::string why) {
        if (error.empty()) error = std::move(why);
    }
};

// ---------------------------------------------------------------------------
// Streams over the caller's bytes, without a copy. Poco::Zip seeks both ways
// (std::istringstream would copy the document; Poco's MemoryInputStream has
// no seekpos).

class MemoryBuf : public std::streambuf {
public:
    explicit MemoryBuf(std::string_view data) {
        char* p = const_cast<char*>(data.data());   // read only: the put area is never set
        setg(p, p, p + data.size());
    }

protected:
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
        if (!(which & std::ios_base::in)) return pos_type(off_type(-1));
        off_type base = 0;
        if (dir == std::ios_base::cur) base = gptr() - eback();
        else if (dir == std::ios_base::end) base = egptr() - eback();
        const off_type to = base + off;
        if (to < 0 || to > egptr() - eback()) return pos_type(off_type(-1));
        setg(eback(), eback() + to, egptr());
        return pos_type(to);
    }
    pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
        return seekoff(off_type(pos), std::ios_base::beg, which);
    }
};

class MemoryStream : private MemoryBuf, public std::istream {
public:
    explicit MemoryStream(std::string_view data) : MemoryBuf(data), std::istream(static_cast<MemoryBuf*>(this)) {}
};

// ---------------------------------------------------------------------------
// ZIP: the archive's members in archive order, each read through a cap.

struct Member {
    const Poco::Zip::ZipLocalFileHeader* header;
    std::string name;
};

class Zip {
public:
    explicit Zip(std::string_view data) : stream_(data), archive_(stream_) {
        for (auto it = archive_.headerBegin(); it != archive_.headerEnd(); ++it)
            members_.push_back({&it->second, it->first});
        // Poco keeps them in a map by name: back to the order in the file.
        std::sort(members_.begin(), members_.end(), [](const Member& a, const Member& b) {
            return a.header->getStartPos() < b.header->getStartPos();
        });
    }

    const std::vector<Member>& members() const { return members_; }

    const Member* find(std::string_view name) const {
        for (const auto& m : members_)
            if (m.name == name) return &m;
        return nullptr;
    }

    // At most `cap` bytes of the member; *over says there was more. Poco's
    // inflating stream believes neither the declared size nor the CRC until
    // the end, so the cap is the only bound. A member that cannot be read
    // (encrypted, unknown method, corrupt) gives what came before the failure.
    std::string read(const Member& m, std::size_t cap, bool* over) {
        *over = false;
        std::string out;
        if (m.header->isEncrypted() || !m.header->hasSupportedCompressionMethod()) return out;
        stream_.clear();
        Poco::Zip::ZipInputStream in(stream_, *m.header, true);
        std::array<char, 64 * 1024> buf;
        while (out.size() < cap) {
            const std::size_t want = std::min(buf.size(), cap - out.size());
            in.read(buf.data(), static_cast<std::streamsize>(want));
            const std::streamsize got = in.gcount();
            if (got <= 0) break;
            out.append(buf.data(), static_cast<std::size_t>(got));
            if (static_cast<std::size_t>(got) < want) break;
        }
        if (out.size() >= cap && in.good()) {
            char c;
            in.read(&c, 1);
            *over = in.gcount() > 0;
        }
        return out;
    }

private:
    MemoryStream stream_;
    Poco::Zip::ZipArchive archive_;
    std::vector<Member> members_;
};

// ---------------------------------------------------------------------------
// XML through libxml2's reader: a handler sees elements (by namespace URI and
// local name) and text, and may skip an element's whole subtree.

const int kXmlOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA
#if LIBXML_VERSION >= 21300
                        | XML_PARSE_NO_XXE
#endif
    ;   // and never XML_PARSE_NOENT, XML_PARSE_DTDLOAD, XML_PARSE_DTDVALID or XML_PARSE_HUGE

class XmlHandler {
public:
    virtual ~XmlHandler() = default;
    // false: skip the element and everything inside it.
    virtual bool start(std::string_view ns, std::string_view name) = 0;
    // Also called for an empty element, right after start().
    virtual void end(std::string_view ns, std::string_view name) = 0;
    virtual void text(std::string_view utf8) = 0;

    // During start(): the element's attribute (namespace URI, local name), "" when absent.
    std::string attribute(std::string_view ns, std::string_view name) const {
        if (reader_ == nullptr) return {};
        const std::string n(name), u(ns);
        xmlChar* v = xmlTextReaderGetAttributeNs(reader_, reinterpret_cast<const xmlChar*>(n.c_str()),
                                                 reinterpret_cast<const xmlChar*>(u.c_str()));
        if (v == nullptr) return {};
        std::string out(reinterpret_cast<const char*>(v));
        xmlFree(v);
        return out;
    }
    xmlTextReaderPtr reader_ = nullptr;
};

std::string_view sv(const xmlChar* s) {
    return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

void init_libxml_once() {
    static std::once_flag once;
    std::call_once(once, [] { xmlInitParser(); });
}

// "" when the whole document was read; otherwise why it stopped (what was
// read before the stop has been handed to the handler).
std::string walk_xml(std::string_view xml, XmlHandler& h) {
    if (xml.size() > static_cast<std::size_t>(INT_MAX)) return "XML part too large";
    init_libxml_once();
    std::unique_ptr<xmlTextReader, void (*)(xmlTextReaderPtr)> reader(
        xmlReaderForMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, kXmlOptions),
        xmlFreeTextReader);
    if (!reader) return "unreadable XML";
    xmlTextReaderPtr r = reader.get();
    h.reader_ = r;
    struct Unset {
        XmlHandler& h;
        ~Unset() { h.reader_ = nullptr; }
    } unset{h};
    int ret = xmlTextReaderRead(r);
    while (ret == 1) {
        if (xmlTextReaderDepth(r) > kMaxXmlDepth) return "XML nested too deeply";
        switch (xmlTextReaderNodeType(r)) {
            case XML_READER_TYPE_ELEMENT: {
                const std::string_view ns = sv(xmlTextReaderConstNamespaceUri(r));
                const std::string_view name = sv(xmlTextReaderConstLocalName(r));
                const bool empty = xmlTextReaderIsEmptyElement(r) == 1;
                if (!h.start(ns, name)) {
                    if (empty) {
                        ret = xmlTextReaderRead(r);
                    } else {
                        ret = xmlTextReaderNext(r);   // past the subtree, to the next sibling or parent's end
                    }
                    continue;
                }
                if (empty) h.end(ns, name);
                break;
            }
            case XML_READER_TYPE_END_ELEMENT:
                h.end(sv(xmlTextReaderConstNamespaceUri(r)), sv(xmlTextReaderConstLocalName(r)));
                break;
            case XML_READER_TYPE_TEXT:
            case XML_READER_TYPE_CDATA:
            case XML_READER_TYPE_WHITESPACE:
            case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
                h.text(sv(xmlTextReaderConstValue(r)));
                break;
            default:
                break;   // entity references stay unexpanded: nothing to read there
        }
        ret = xmlTextReaderRead(r);
    }
    if (ret < 0) return "malformed XML";
    return {};
}

// ---------------------------------------------------------------------------
// DOCX

constexpr std::string_view kWordNs = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
constexpr std::string_view kWordStrictNs = "http://purl.oclc.org/ooxml/wordprocessingml/main";
constexpr std::string_view kMcNs = "http://schemas.openxmlformats.org/markup-compatibility/2006";

// A paragraph style, as a title: 2 the document's title (Word's "Title",
// "Subtitle", French "Titre", "Sous-titre"), 1 a heading ("Heading1",
// "Titre1", ODF "Heading_20_1"), 0 neither. Any case.
int heading_style(std::string style) {
    for (char& c : style) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (style == "title" || style == "titre" || style == "subtitle" || style == "sous-titre" || style == "soustitre")
        return 2;
    if (style.rfind("heading", 0) == 0 || style.rfind("titre", 0) == 0) return 1;
    return 0;
}

// The title lines of a DOCX or an ODT: its Title-styled paragraphs, else its
// first heading.
struct TitleCollector {
    std::string titled, first_heading;
    int current = 0;          // the paragraph being read: 2 title, 1 heading, 0 neither
    bool heading_done = false;
    void begin(int kind) { current = kind == 1 && heading_done ? 0 : kind; }
    void add(std::string_view s) {
        if (current == 2) titled += s;
        else if (current == 1) first_heading += s;
    }
    void end() {
        if (current == 2) titled += '\n';
        if (current == 1) heading_done = true;
        current = 0;
    }
    void into(TextBuilder& out) const { out.add(titled.empty() ? first_heading : titled); }
};

class DocxHandler : public XmlHandler {
public:
    // title: where the title's text goes too (nullptr: nowhere).
    explicit DocxHandler(TextBuilder& out, TitleCollector* title = nullptr) : out_(out), title_(title) {}

    bool start(std::string_view ns, std::string_view name) override {
        // A text box is written twice: as DrawingML (mc:Choice) and as VML for
        // older readers (mc:Fallback). Read one.
        if (ns == kMcNs) return name != "Fallback";
        if (ns != kWordNs && ns != kWordStrictNs) return true;
        if (name == "t") in_t_ = true;
        else if (name == "pStyle" && title_ != nullptr) title_->begin(heading_style(attribute(ns, "val")));
        else if (name == "tab" || name == "ptab") out_.space();
        else if (name == "br" || name == "cr") out_.newline();
        else if (name == "noBreakHyphen") out_.add_cp('-');
        else if (name == "p") out_.newline();
        else if (name == "del" || name == "delText" || name == "instrText" || name == "footnoteReference")
            return false;   // deleted revisions and field codes are not the document's text
        return true;
    }
    void end(std::string_view ns, std::string_view name) override {
        if (ns != kWordNs && ns != kWordStrictNs) return;
        if (name == "t") in_t_ = false;
        else if (name == "p") {
            out_.newline();
            if (title_ != nullptr) title_->end();
        } else if (name == "tc") out_.space();
    }
    void text(std::string_view s) override {
        if (!in_t_) return;
        out_.add(s);
        if (title_ != nullptr) title_->add(s);
    }

private:
    TextBuilder& out_;
    TitleCollector* title_;
    bool in_t_ = false;
};

// ---------------------------------------------------------------------------
// ODT

constexpr std::string_view kOdfTextNs = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";
constexpr std::string_view kOdfStyleNs = "urn:oasis:names:tc:opendocument:xmlns:style:1.0";
constexpr std::string_view kOdfOfficeNs = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";

class OdtHandler : public XmlHandler {
public:
    // headers_only: styles.xml, where only the master pages' headers and
    // footers are text.
    OdtHandler(TextBuilder& out, bool headers_only, TitleCollector* title = nullptr)
        : out_(out), title_(title), headers_only_(headers_only) {}

    bool start(std::string_view ns, std::string_view name) override {
        if (ns == kOdfOfficeNs && name == "annotation") return false;
        if (ns == kOdfStyleNs && is_header_footer(name)) ++in_header_;
        if (ns != kOdfTextNs) return true;
        if (name == "note" || name == "tracked-changes" || name == "sequence-decls") return false;
        if (name == "p" || name == "h") {
            ++in_paragraph_;
            out_.newline();
            if (title_ != nullptr && heading_ == 0) {
                const int kind = std::max(name == "h" ? 1 : 0, heading_style(attribute(kOdfTextNs, "style-name")));
                if (kind > 0) {
                    title_->begin(kind);
                    heading_ = in_paragraph_;
                }
            }
        } else if (name == "s" || name == "tab") {
            if (reading()) out_.space();
        } else if (name == "line-break") {
            if (reading()) out_.newline();
        }
        return true;
    }
    void end(std::string_view ns, std::string_view name) override {
        if (ns == kOdfStyleNs && is_header_footer(name) && in_header_ > 0) --in_header_;
        if (ns == kOdfTextNs && (name == "p" || name == "h") && in_paragraph_ > 0) {
            if (heading_ == in_paragraph_) {
                title_->end();
                heading_ = 0;
            }
            --in_paragraph_;
            out_.newline();
        }
    }
    void text(std::string_view s) override {
        if (!reading()) return;
        out_.add(s);
        if (heading_ > 0) title_->add(s);
    }

private:
    static bool is_header_footer(std::string_view name) {
        return name == "header" || name == "footer" || name == "header-left" || name == "footer-left" ||
               name == "header-first" || name == "footer-first";
    }
    bool reading() const { return in_paragraph_ > 0 && (!headers_only_ || in_header_ > 0); }

    TextBuilder& out_;
    TitleCollector* title_;
    bool headers_only_;
    int heading_ = 0;   // the depth of the heading being read, 0 when none
    int in_paragraph_ = 0;
    int in_header_ = 0;
};

// ---------------------------------------------------------------------------
// DOCX and ODT: parts of a ZIP.

// The member read whole (up to the cap), or nullopt-like empty with *missing.
std::string read_part(Zip& zip, Extraction& ex, std::string_view name, bool* found) {
    *found = false;
    const Member* m = zip.find(name);
    if (!m) return {};
    *found = true;
    bool over = false;
    std::string data = zip.read(*m, ex.limits.max_member_bytes, &over);
    if (over) ex.fail(std::string(name) + " larger than the size limit");
    return data;
}

void walk_part(std::string_view xml, std::string_view name, XmlHandler& h, Extraction& ex) {
    const std::string problem = walk_xml(xml, h);
    if (!problem.empty()) ex.fail(problem + " in " + std::string(name));
}

// The head: headers and footers first, then as much of the body as fits.
void fill_head(Extraction& ex, const TextBuilder& headers) {
    ex.head.add(headers.str());
    ex.head.newline();
    ex.head.add(ex.text.str());
}

void extract_docx(std::string_view data, Extraction& ex) {
    Zip zip(data);
    bool found = false;
    const std::string body = read_part(zip, ex, "word/document.xml", &found);
    if (!found) {
        ex.fail("no word/document.xml");
        return;
    }
    TitleCollector title;
    DocxHandler body_handler(ex.text, &title);
    walk_part(body, "word/document.xml", body_handler, ex);
    title.into(ex.title);

    TextBuilder headers(ex.limits.max_head_bytes);
    for (const auto& m : zip.members()) {
        if (headers.full()) break;
        const std::string_view n = m.name;
        const bool part = n.size() > 4 && n.substr(n.size() - 4) == ".xml" &&
                          (n.substr(0, 11) == "word/header" || n.substr(0, 11) == "word/footer") &&
                          n.find('/', 5) == std::string_view::npos;
        if (!part) continue;
        bool over = false;
        const std::string xml = zip.read(m, ex.limits.max_member_bytes, &over);
        if (over) ex.fail(m.name + " larger than the size limit");
        DocxHandler h(headers);
        walk_part(xml, m.name, h, ex);
        headers.newline();
    }
    fill_head(ex, headers);
}

void extract_odt(std::string_view data, Extraction& ex) {
    Zip zip(data);
    bool found = false;
    const std::string content = read_part(zip, ex, "content.xml", &found);
    if (!found) {
        ex.fail("no content.xml");
        return;
    }
    TitleCollector title;
    OdtHandler body_handler(ex.text, false, &title);
    walk_part(content, "content.xml", body_handler, ex);
    title.into(ex.title);

    TextBuilder headers(ex.limits.max_head_bytes);
    const std::string styles = read_part(zip, ex, "styles.xml", &found);
    if (found) {
        OdtHandler h(headers, true);
        walk_part(styles, "styles.xml", h, ex);
    }
    fill_head(ex, headers);
}

// ---------------------------------------------------------------------------
// PDF

void silent_poppler(const std::string&, void*) {}

// A PDF page's words as lines, column by column. poppler gives each word's
// box; a line is cut where the next word goes back to the left, leaves the
// baseline, or jumps a gap wider than one and a half times the type's height
// (the space between two blocks printed side by side). The pieces are then put
// in columns: a piece that overlaps a column's horizontal range goes under it,
// one that overlaps none opens a column beside the others, one that overlaps
// two (a full-width line) closes the group; a closed group is written column
// after column, left to right, so that a letterhead printed beside the
// académie's block reads as two blocks and a name is never cut in two or merged
// with the other block's line.
struct PdfPiece {
    double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
    double size = 0;              // the largest type in it (0 when unknown)
    std::string text;
};

bool only_marks(std::string_view utf8) {
    std::size_t i = 0;
    bool any = false;
    while (i < utf8.size()) {
        const char32_t cp = decode_utf8(utf8, i);
        const bool mark = (cp >= 0x300 && cp <= 0x36F) || cp == 0x2C6 || cp == 0x2DC || cp == 0xA8 || cp == 0xB4 ||
                          cp == 0x2C7 || cp == 0x2D8 || cp == 0x2D9 || cp == 0x2DA || cp == 0x2DB || cp == 0x2DD || cp == 0xB8;
        if (!mark) return false;
        any = true;
    }
    return any;
}

std::vector<PdfPiece> pdf_pieces(const poppler::page& page) {
    std::vector<PdfPiece> pieces;
    std::vector<poppler::text_box> words = page.text_list(poppler::page::text_list_include_font);
    double prev_x0 = 0, prev_x1 = 0, prev_y0 = 0, prev_y1 = 0;
    bool prev_space = false;
    for (auto& w : words) {
        const poppler::byte_array b = w.text().to_utf8();
        std::string t(b.data(), b.size());
        if (t.empty()) continue;
        const poppler::rectf r = w.bbox();
        const double x0 = r.x(), x1 = r.x() + r.width(), y0 = r.y(), y1 = r.y() + r.height();
        const double h = std::max(1.0, r.height());
        const double size = w.has_font_info() ? w.get_font_size() : 0.0;
        if (!pieces.empty() && only_marks(t)) {   // an accent set as a glyph of its own (pdfTeX)
            pieces.back().text += t;
            continue;
        }
        bool same = false;
        if (!pieces.empty()) {
            const double mid = (y0 + y1) / 2, prev_mid = (prev_y0 + prev_y1) / 2;
            const bool baseline = (mid >= prev_y0 && mid <= prev_y1) || (prev_mid >= y0 && prev_mid <= y1);
            const double gap = x0 - prev_x1;
            same = baseline && x0 >= prev_x0 && gap <= 1.5 * std::max(h, prev_y1 - prev_y0);
        }
        if (same) {
            PdfPiece& p = pieces.back();
            if (prev_space || x0 - prev_x1 > 0.15 * h) p.text += ' ';
            p.text += t;
            p.x1 = std::max(p.x1, x1);
            p.y0 = std::min(p.y0, y0);
            p.y1 = std::max(p.y1, y1);
            p.size = std::max(p.size, size);
        } else {
            pieces.push_back({x0, x1, y0, y1, size, std::move(t)});
        }
        prev_x0 = x0;
        prev_x1 = x1;
        prev_y0 = y0;
        prev_y1 = y1;
        prev_space = w.has_space_after();
    }
    return pieces;
}

// The pieces in reading order, column by column (see above).
std::vector<const PdfPiece*> pdf_reading_order(const std::vector<PdfPiece>& pieces) {
    std::vector<const PdfPiece*> out;
    struct Column {
        double x0, x1, bottom;
        std::vector<const PdfPiece*> pieces;
    };
    std::vector<Column> group;
    const auto flush = [&] {
        std::stable_sort(group.begin(), group.end(), [](const Column& a, const Column& b) { return a.x0 < b.x0; });
        for (const auto& c : group) out.insert(out.end(), c.pieces.begin(), c.pieces.end());
        group.clear();
    };
    for (const auto& p : pieces) {
        const double h = std::max(1.0, p.y1 - p.y0);
        double bottom = 0;
        for (const auto& c : group) bottom = std::max(bottom, c.bottom);
        if (!group.empty() && p.y0 > bottom + 2.5 * h) flush();   // a new section further down
        std::vector<std::size_t> over;
        for (std::size_t i = 0; i < group.size(); ++i)
            if (p.x0 < group[i].x1 && p.x1 > group[i].x0) over.push_back(i);
        if (over.size() == 1) {
            Column& c = group[over.front()];
            c.x0 = std::min(c.x0, p.x0);
            c.x1 = std::max(c.x1, p.x1);
            c.bottom = std::max(c.bottom, p.y1);
            c.pieces.push_back(&p);
            continue;
        }
        if (over.size() > 1) flush();
        group.push_back({p.x0, p.x1, p.y1, {&p}});
    }
    flush();
    return out;
}

void pdf_first_page(const poppler::page& page, Extraction& ex, std::string_view plain) {
    const std::vector<PdfPiece> pieces = pdf_pieces(page);
    if (pieces.empty()) {
        ex.head.add(plain);
        return;
    }
    for (const PdfPiece* p : pdf_reading_order(pieces)) {
        ex.head.add(p->text);
        ex.head.newline();
    }
    // The title: what is set in the page's largest type, when that is larger
    // than the body's (the size that carries the most letters): a section
    // heading in smaller type than the title is not the title.
    std::map<long, std::size_t> letters_by_size;   // size in 1/10 pt
    for (const auto& p : pieces)
        if (p.size > 0) letters_by_size[std::lround(p.size * 10)] += p.text.size();
    if (letters_by_size.empty()) return;
    long body = 0;
    std::size_t most = 0;
    for (const auto& [size, n] : letters_by_size)
        if (n > most) {
            most = n;
            body = size;
        }
    const long largest = letters_by_size.rbegin()->first;
    if (largest < body * 115 / 100 + 1) return;
    for (const PdfPiece* p : pdf_reading_order(pieces))
        if (p->size > 0 && std::lround(p->size * 10) >= largest - 5) {   // within half a point: one size
            ex.title.add(p->text);
            ex.title.newline();
        }
}

void extract_pdf(std::string_view data, Extraction& ex) {
    static std::once_flag once;
    std::call_once(once, [] { poppler::set_debug_error_function(silent_poppler, nullptr); });
    if (data.size() > static_cast<std::size_t>(INT_MAX)) {
        ex.fail("PDF too large");
        return;
    }
    // load_from_raw_data reads the caller's buffer in place; it outlives `doc`.
    std::unique_ptr<poppler::document> doc(
        poppler::document::load_from_raw_data(data.data(), static_cast<int>(data.size())));
    if (!doc) {
        ex.fail("unreadable PDF");
        return;
    }
    if (doc->is_locked()) {
        ex.fail("encrypted PDF");
        return;
    }
    ex.pages = std::max(0, doc->pages());
    const int n = std::min(ex.pages, std::max(0, ex.limits.max_pages));
    for (int i = 0; i < n && !ex.text.full(); ++i) {
        std::unique_ptr<poppler::page> page(doc->create_page(i));
        if (!page) continue;
        const poppler::byte_array utf8 = page->text().to_utf8();
        const std::string_view s(utf8.data(), utf8.size());
        ex.text.add(s);
        ex.text.newline();
        if (i == 0) pdf_first_page(*page, ex, s);
    }
    ex.image_only = ex.pages > 0 && !ex.text.any_content();
}

// ---------------------------------------------------------------------------
// RTF

class RtfReader {
public:
    RtfReader(std::string_view data, Extraction& ex, TextBuilder& headers)
        : d_(data), ex_(ex), headers_(headers) {}

    void run() {
        groups_.push_back({});
        while (i_ < d_.size() && !ex_.text.full()) {
            const char c = d_[i_];
            if (c == '{') {
                ++i_;
                if (overflow_ > 0 || groups_.size() >= kMaxRtfDepth) {
                    ++overflow_;
                    deep_ = true;
                } else {
                    groups_.push_back(groups_.back());
                    group_start_ = true;
                    star_ = false;
                }
                skip_ = 0;
            } else if (c == '}') {
                ++i_;
                if (overflow_ > 0) --overflow_;
                else if (groups_.size() > 1) groups_.pop_back();
                group_start_ = star_ = false;
                skip_ = 0;
            } else if (c == '\\') {
                ++i_;
                control();
            } else {
                ++i_;
                if (c == '\r' || c == '\n') continue;
                group_start_ = false;
                emit_byte(static_cast<unsigned char>(c));
            }
        }
        if (deep_) ex_.fail("RTF nested too deeply");
    }

private:
    struct Group {
        bool skip = false;
        bool header = false;
        int uc = 1;
    };

    static bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
    static bool is_digit(char c) { return c >= '0' && c <= '9'; }

    // Destinations that hold no text of the document (tables, pictures,
    // metadata, field instructions, shape properties, the old readers' copy of
    // a shape).
    static bool skipped_destination(std::string_view w) {
        static constexpr std::string_view kSkip[] = {
            "fonttbl",   "colortbl",  "stylesheet", "info",     "pict",     "object",     "objdata",
            "listtable", "listoverridetable", "revtbl", "rsidtbl", "generator", "xmlnstbl", "themedata",
            "colorschememapping", "datastore", "latentstyles", "pgdsctbl", "filetbl", "fldinst",
            "nonshppict", "shprslt", "sp", "bkmkstart", "bkmkend", "template", "userprops", "docvar",
            "annotation", "atnid", "atnauthor", "footnote", "upr", "mmathPr", "pnseclvl", "listtext",
            "pntext", "fldtype", "falt", "panose", "wgrffmtfilter", "ftnsep", "ftnsepc", "aftnsep"};
        return std::find(std::begin(kSkip), std::end(kSkip), w) != std::end(kSkip);
    }
    static bool header_destination(std::string_view w) {
        return w == "header" || w == "headerl" || w == "headerr" || w == "headerf" || w == "footer" ||
               w == "footerl" || w == "footerr" || w == "footerf";
    }

    bool discarding() const { return overflow_ > 0 || groups_.back().skip; }

    void emit_cp(char32_t cp) {
        if (discarding()) return;
        (groups_.back().header ? headers_ : ex_.text).add_cp(cp);
    }
    void emit_newline() {
        if (discarding()) return;
        (groups_.back().header ? headers_ : ex_.text).newline();
    }

    void emit_byte(unsigned char b) {
        if (skip_ > 0) {
            --skip_;
            return;
        }
        // Writers put every non-ASCII character as \uN too; the code page only
        // matters for old files, which French schools write in Windows-1252
        // (Latin-1 is its subset). Another code page's bytes are not guessed.
        if (b < 0x80 || codepage_ == 1252 || codepage_ == 28591) emit_cp(cp1252_to_cp(b));
        else emit_cp(0xFFFD);
    }

    void emit_unicode(long n) {
        if (n < 0) n += 65536;
        const auto u = static_cast<char32_t>(n);
        if (u >= 0xD800 && u <= 0xDBFF) {
            high_ = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            if (high_) emit_cp(0x10000 + ((high_ - 0xD800) << 10) + (u - 0xDC00));
            high_ = 0;
        } else {
            high_ = 0;
            emit_cp(u);
        }
        skip_ = groups_.back().uc;
    }

    void control() {
        if (i_ >= d_.size()) return;
        const char c = d_[i_];
        if (!is_letter(c)) {
            ++i_;
            symbol(c);
            return;
        }
        const std::size_t start = i_;
        while (i_ < d_.size() && is_letter(d_[i_]) && i_ - start < 32) ++i_;
        const std::string_view word = d_.substr(start, i_ - start);
        bool has_param = false;
        long param = 0;
        bool negative = false;
        if (i_ < d_.size() && d_[i_] == '-' && i_ + 1 < d_.size() && is_digit(d_[i_ + 1])) {
            negative = true;
            ++i_;
        }
        std::size_t digits = 0;
        while (i_ < d_.size() && is_digit(d_[i_])) {
            if (digits < 10) param = param * 10 + (d_[i_] - '0');
            ++digits;
            ++i_;
            has_param = true;
        }
        if (negative) param = -param;
        if (i_ < d_.size() && d_[i_] == ' ') ++i_;
        word_(word, has_param, param);
    }

    void symbol(char c) {
        if (c == '*') {
            star_ = true;
            return;
        }
        group_start_ = false;
        if (c == '\'') {
            unsigned value = 0;
            int n = 0;
            while (n < 2 && i_ < d_.size()) {
                const char h = d_[i_];
                unsigned v;
                if (h >= '0' && h <= '9') v = static_cast<unsigned>(h - '0');
                else if (h >= 'a' && h <= 'f') v = static_cast<unsigned>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F') v = static_cast<unsigned>(h - 'A' + 10);
                else break;
                value = value * 16 + v;
                ++n;
                ++i_;
            }
            if (n > 0) emit_byte(static_cast<unsigned char>(value));
            return;
        }
        if (skip_ > 0) {
            --skip_;
            return;
        }
        switch (c) {
            case '\\':
            case '{':
            case '}':
                emit_cp(static_cast<unsigned char>(c));
                break;
            case '~':
                emit_cp(' ');
                break;
            case '_':
                emit_cp('-');
                break;
            case '\n':
            case '\r':
                emit_newline();
                break;
            default:
                break;   // \- optional hyphen, \| \: formula and index marks
        }
    }

    void word_(std::string_view w, bool has_param, long param) {
        if (group_start_) {
            group_start_ = false;
            // A shape's text is in \shptxt inside the ignorable \*\shpinst
            // (its \shprslt copy is skipped instead).
            if (skipped_destination(w) || (star_ && !header_destination(w) && w != "shpinst")) {
                groups_.back().skip = true;
                return;
            }
            if (header_destination(w)) {
                groups_.back().header = true;
                return;
            }
        }
        star_ = false;
        if (w == "bin") {
            // Binary data: skipped whole, whatever it holds.
            const auto n = static_cast<std::size_t>(std::max(0L, param));
            i_ += std::min(n, d_.size() - i_);
            return;
        }
        if (skip_ > 0) {
            --skip_;
            return;
        }
        if (w == "u" && has_param) emit_unicode(param);
        else if (w == "uc" && has_param) groups_.back().uc = static_cast<int>(std::clamp(param, 0L, 16L));
        else if (w == "ansicpg" && has_param) codepage_ = param;
        else if (w == "par" || w == "line" || w == "sect" || w == "page" || w == "row" || w == "lbr") emit_newline();
        else if (w == "tab" || w == "cell" || w == "enspace" || w == "emspace" || w == "qmspace") emit_cp(' ');
        else if (w == "emdash") emit_cp(0x2014);
        else if (w == "endash") emit_cp(0x2013);
        else if (w == "bullet") emit_cp(0x2022);
        else if (w == "lquote") emit_cp(0x2018);
        else if (w == "rquote") emit_cp(0x2019);
        else if (w == "ldblquote") emit_cp(0x201C);
        else if (w == "rdblquote") emit_cp(0x201D);
    }

    std::string_view d_;
    Extraction& ex_;
    TextBuilder& headers_;
    std::size_t i_ = 0;
    std::vector<Group> groups_;
    std::size_t overflow_ = 0;   // groups opened past kMaxRtfDepth: read as skipped
    bool deep_ = false;
    bool group_start_ = false;
    bool star_ = false;
    int skip_ = 0;               // characters still to skip after \uN
    char32_t high_ = 0;          // a high surrogate waiting for its low half
    long codepage_ = 1252;       // \ansicpg; \ansi alone means Windows-1252
};

void extract_rtf(std::string_view data, Extraction& ex) {
    std::size_t at = 0;
    while (at < data.size() && (data[at] == ' ' || data[at] == '\r' || data[at] == '\n' || data[at] == '\t')) ++at;
    if (data.substr(at, 5) != "{\\rtf") {
        ex.fail("not an RTF document");
        return;
    }
    TextBuilder headers(ex.limits.max_head_bytes);
    RtfReader(data.substr(at), ex, headers).run();
    fill_head(ex, headers);
}

// ---------------------------------------------------------------------------
// DOC: a strings(1)-like scan (see the top of this file).

bool doc_char16(std::uint32_t u) {
    return (u >= 0x20 && u < 0x7F) || (u >= 0xA0 && u <= 0x17F) || u == '\r' || u == '\t' || u == 0x0B ||
           u == 0x07 || u == 0x0C || u == 0x2013 || u == 0x2014 || u == 0x2018 || u == 0x2019 || u == 0x201C ||
           u == 0x201D || u == 0x2022 || u == 0x2026 || u == 0x20AC;
}

bool doc_char8(unsigned char b) {
    return (b >= 0x20 && b < 0x7F) || b >= 0xC0 || b == 0xA0 || b == 0xAB || b == 0xBB || b == '\r' || b == '\t' ||
           b == 0x80 || b == 0x85 || b == 0x92 || b == 0x96 || b == 0x97 || b == 0x9C;
}

bool ascii_letter(std::uint32_t u) { return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z'); }

// Names every OLE2 Word file carries (storage names, program ids): not text.
bool doc_boilerplate(const std::vector<char32_t>& run) {
    static constexpr std::string_view kNames[] = {
        "Root Entry", "WordDocument", "1Table", "0Table", "SummaryInformation", "DocumentSummaryInformation",
        "CompObj", "ObjectPool", "MSWordDoc", "Word.Document.8", "Microsoft Word 97-Dokument",
        "Microsoft Word-Dokument"};
    for (std::string_view n : kNames) {
        if (n.size() != run.size()) continue;
        if (std::equal(n.begin(), n.end(), run.begin(), [](char a, char32_t b) { return char32_t(a) == b; }))
            return true;
    }
    return false;
}

// A run is kept when it is long enough and mostly letters and spaces: binary
// data is full of short printable accidents. A short single word is more
// likely a style or font name ("Normal", "Arial") than the document's text,
// which Word keeps in one long run.
bool plausible_run(const std::vector<char32_t>& run) {
    if (run.size() < kMinRun) return false;
    std::size_t letters = 0, wordlike = 0;
    bool space = false;
    for (char32_t u : run) {
        if (ascii_letter(u)) ++letters;
        if (ascii_letter(u) || u == ' ' || u >= 0xC0) ++wordlike;
        if (u == ' ' || u == '\r') space = true;
    }
    if (!space && run.size() < 16) return false;
    return letters >= 3 && wordlike * 5 >= run.size() * 4 && !doc_boilerplate(run);
}

void emit_run(const std::vector<char32_t>& run, TextBuilder& out) {
    for (char32_t u : run) {
        if (u == 0x07) out.space();   // table cell mark
        else out.add_cp(u);           // \r and \x0C are breaks, \t and \x0B spaces
    }
    out.newline();
}

void extract_doc(std::string_view d, Extraction& ex) {
    if (d.substr(0, 8) != std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)) {
        ex.fail("not an OLE2 document");
        return;
    }
    std::vector<char32_t> run;
    std::size_t i = 512;   // the OLE2 header holds no text
    while (i < d.size() && !ex.text.full()) {
        run.clear();
        std::size_t j = i;
        while (j + 1 < d.size()) {
            const std::uint32_t u = static_cast<unsigned char>(d[j]) |
                                    static_cast<std::uint32_t>(static_cast<unsigned char>(d[j + 1])) << 8;
            if (!doc_char16(u)) break;
            run.push_back(u);
            j += 2;
        }
        if (plausible_run(run)) {
            emit_run(run, ex.text);
            i = j;
            continue;
        }
        const std::size_t end16 = j;
        run.clear();
        j = i;
        while (j < d.size() && doc_char8(static_cast<unsigned char>(d[j]))) {
            run.push_back(cp1252_to_cp(static_cast<unsigned char>(d[j])));
            ++j;
        }
        if (plausible_run(run)) {
            emit_run(run, ex.text);
            i = j;
            continue;
        }
        // On past the runs that failed (rescanning their tails would be
        // quadratic), but not past their last byte: "ab" then "C\0D\0..." is
        // a failed 8-bit run then a UTF-16 one.
        i = std::max({i + 1, end16 > 0 ? end16 - 1 : 0, j > 0 ? j - 1 : 0});
    }
    ex.head.add(ex.text.str());
}

// ---------------------------------------------------------------------------
// ZIP of documents

void extract(DocumentKind kind, std::string_view data, Extraction& ex, bool inside_zip);

bool sane_member_name(std::string_view n) {
    if (n.empty() || n.size() > kMaxMemberName) return false;
    for (unsigned char c : n)
        if (c < 0x20 || c == 0x7F) return false;
    return true;
}

void extract_zip(std::string_view data, Extraction& ex) {
    Zip zip(data);
    if (zip.members().empty()) {
        ex.fail("no ZIP member found");
        return;
    }
    // All members together are read up to a few member caps: an archive of
    // many bombs stops too.
    const std::size_t cap = ex.limits.max_member_bytes;
    std::size_t budget = cap > SIZE_MAX / 4 ? SIZE_MAX : cap * 4;
    std::size_t looked = 0;
    for (const auto& m : zip.members()) {
        if (looked++ >= ex.limits.max_members) break;
        // Poco's isDirectory() reads name[-1] on an empty name: ours first.
        if (!sane_member_name(m.name) || m.name.back() == '/') continue;
        const std::string name = to_valid_utf8(m.name);
        ex.members.push_back(name);
        if (m.header->isEncrypted() || budget == 0 || ex.text.full()) continue;
        bool over = false;
        std::string bytes;
        try {
            bytes = zip.read(m, std::min(cap, budget), &over);
        } catch (const Poco::Exception&) {
            continue;   // a damaged member: the others may still be read
        }
        budget -= std::min(budget, bytes.size());
        if (over) continue;   // a document cut short would only give garbage
        const std::string_view base = std::string_view(m.name).substr(m.name.rfind('/') + 1);
        const DocumentKind inner = classify_document(base, "", bytes);
        if (inner == DocumentKind::none || inner == DocumentKind::zip) continue;
        Extraction sub(ex.limits);
        extract(inner, bytes, sub, true);
        if (!sub.text.str().empty()) {
            ex.text.newline();
            ex.text.add("--- " + name + " ---");
            ex.text.newline();
            ex.text.add(sub.text.str());
        }
        if (!sub.head.str().empty()) {
            ex.head.add(sub.head.str());
            ex.head.newline();
        }
        if (!sub.title.str().empty()) {
            ex.title.add(sub.title.str());
            ex.title.newline();
        }
    }
}

void extract(DocumentKind kind, std::string_view data, Extraction& ex, bool inside_zip) {
    if (data.empty()) {
        ex.fail("empty document");
        return;
    }
    try {
        switch (kind) {
            case DocumentKind::pdf: extract_pdf(data, ex); break;
            case DocumentKind::docx: extract_docx(data, ex); break;
            case DocumentKind::odt: extract_odt(data, ex); break;
            case DocumentKind::rtf: extract_rtf(data, ex); break;
            case DocumentKind::doc: extract_doc(data, ex); break;
            case DocumentKind::zip:
                if (inside_zip) ex.fail("ZIP inside a ZIP not read");
                else extract_zip(data, ex);
                break;
            case DocumentKind::xlsx:
            case DocumentKind::ods:
            case DocumentKind::xls:
                break;   // spreadsheets: no text is needed from them
            case DocumentKind::none: ex.fail("not a document"); break;
        }
    } catch (const std::bad_alloc&) {
        ex.fail("out of memory");
    } catch (const Poco::Exception&) {
        // Poco's messages carry member names and offsets in no known encoding.
        ex.fail(kind == DocumentKind::pdf ? "unreadable PDF" : "corrupt ZIP");
    } catch (const std::exception&) {
        ex.fail("unreadable document");
    }
}

// NFC and ligatures (parsers/text/utf8.h), still under the cap: NFC may
// lengthen a few scripts' letters (composition exclusions), so the text is cut
// again on a code point boundary.
std::string normalized(std::string s, std::size_t cap) {
    std::string n = normalize_text(s);
    if (n.size() > cap) {
        std::size_t end = cap;
        while (end > 0 && (static_cast<unsigned char>(n[end]) & 0xC0) == 0x80) --end;
        n.resize(end);
    }
    return n;
}

}  // namespace

DocumentText extract_document_text(DocumentKind kind, std::string_view data, const TextLimits& limits) {
    DocumentText out;
    try {
        Extraction ex(limits);
        extract(kind, data, ex, false);
        out.truncated = ex.text.full();
        out.text = normalized(ex.text.take(), limits.max_text_bytes);
        out.head = normalized(ex.head.take(), limits.max_head_bytes);
        out.title = normalized(ex.title.take(), std::min<std::size_t>(limits.max_head_bytes, 2048));
        out.members = std::move(ex.members);
        out.pages = ex.pages;
        out.image_only = ex.image_only;
        out.error = to_valid_utf8(ex.error);
    } catch (...) {
        out = DocumentText{};
        out.error = "unreadable document";
    }
    return out;
}

}  // namespace ppo::parsers
