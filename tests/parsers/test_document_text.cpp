#include "parsers/document/document_text.h"

#include "fuzz/fuzz_entries.h"
#include "parsers/document/document_type.h"

#include <Poco/DateTime.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>
#include <Poco/Zip/Compress.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ppo::parsers::DocumentKind;
using ppo::parsers::DocumentText;
using ppo::parsers::extract_document_text;
using ppo::parsers::TextLimits;

std::string read_document(const std::string& name) {
    const fs::path p = fs::path(PPO_TEST_DATA_DIR) / "documents" / name;
    std::ifstream in(p, std::ios::binary);
    EXPECT_TRUE(in.good()) << p;
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

std::size_t count(const std::string& s, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
    return n;
}

// The fuzz targets' strict UTF-8 oracle (fuzz/fuzz_entries.h), independent of the parsers' own.
using ppo::fuzz::valid_utf8;

// What every output promises: UTF-8, no control characters but '\n', no
// whitespace runs, nothing leading or trailing.
void expect_clean(const std::string& s, const char* what) {
    SCOPED_TRACE(what);
    EXPECT_TRUE(valid_utf8(s));
    for (unsigned char c : s) EXPECT_FALSE((c < 0x20 && c != '\n') || c == 0x7F) << "control byte " << int(c);
    EXPECT_FALSE(contains(s, "  "));
    EXPECT_FALSE(contains(s, "\n\n"));
    EXPECT_FALSE(contains(s, " \n"));
    EXPECT_FALSE(contains(s, "\n "));
    if (!s.empty()) {
        EXPECT_NE(s.front(), ' ');
        EXPECT_NE(s.front(), '\n');
        EXPECT_NE(s.back(), ' ');
        EXPECT_NE(s.back(), '\n');
    }
}

void expect_clean(const DocumentText& d, const TextLimits& limits = {}) {
    expect_clean(d.text, "text");
    expect_clean(d.head, "head");
    EXPECT_TRUE(valid_utf8(d.error));
    for (const auto& m : d.members) EXPECT_TRUE(valid_utf8(m));
    EXPECT_LE(d.text.size(), limits.max_text_bytes);
    EXPECT_LE(d.head.size(), limits.max_head_bytes);
}

DocumentText extract(DocumentKind kind, const std::string& file, const TextLimits& limits = {}) {
    const std::string data = read_document(file);
    EXPECT_EQ(ppo::parsers::classify_document(file, "", data), kind) << file;
    DocumentText d = extract_document_text(kind, data, limits);
    expect_clean(d, limits);
    return d;
}

// A ZIP made in memory by Poco (members stored deflated).
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members) {
    std::ostringstream out;
    Poco::Zip::Compress c(out, true);
    for (const auto& [name, content] : members) {
        std::istringstream in(content);
        c.addFile(in, Poco::DateTime(2021, 10, 14), Poco::Path(name, Poco::Path::PATH_UNIX));
    }
    c.close();
    return out.str();
}

// `prefix`, then `size` bytes of 'a', produced on the fly: a bomb's content is
// never in memory while the bomb is built.
class RepeatBuf : public std::streambuf {
public:
    RepeatBuf(std::string prefix, std::size_t size) : prefix_(std::move(prefix)), left_(size) {
        block_.assign(64 * 1024, 'a');
        setg(prefix_.data(), prefix_.data(), prefix_.data() + prefix_.size());
    }

protected:
    int_type underflow() override {
        if (left_ == 0) return traits_type::eof();
        const std::size_t n = std::min(left_, block_.size());
        left_ -= n;
        setg(block_.data(), block_.data(), block_.data() + n);
        return traits_type::to_int_type(*gptr());
    }

private:
    std::string prefix_;
    std::string block_;
    std::size_t left_;
};

void put_le32(std::string& s, std::size_t at, std::uint32_t v) {
    for (int k = 0; k < 4; ++k) s[at + k] = static_cast<char>((v >> (8 * k)) & 0xFF);
}

// A one-member ZIP whose member inflates to prefix + `size` bytes while both
// its local header and the central directory declare `declared` bytes.
std::string make_bomb(const std::string& name, const std::string& prefix, std::size_t size, std::uint32_t declared) {
    std::ostringstream out;
    {
        Poco::Zip::Compress c(out, true);
        RepeatBuf buf(prefix, size);
        std::istream in(&buf);
        c.addFile(in, Poco::DateTime(2021, 10, 14), Poco::Path(name, Poco::Path::PATH_UNIX),
                  Poco::Zip::ZipCommon::CM_DEFLATE, Poco::Zip::ZipCommon::CL_SUPERFAST);
        c.close();
    }
    std::string zip = out.str();
    EXPECT_EQ(zip.substr(0, 4), std::string("PK\x03\x04", 4));
    put_le32(zip, 22, declared);   // local header: uncompressed size
    const std::size_t central = zip.find(std::string("PK\x01\x02", 4));
    EXPECT_NE(central, std::string::npos);
    if (central != std::string::npos) put_le32(zip, central + 24, declared);
    return zip;
}

constexpr const char* kWordNs = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

std::string docx_with_body(const std::string& document_xml) {
    return make_zip({{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", document_xml}});
}

long max_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---------------------------------------------------------------------------
// The PPO of the Lycée Hélène Boucher, made by LibreOffice in every format.

constexpr std::string_view kUai = "0597757L";
constexpr std::string_view kKeyword = "programme pluriannuel d'orientation";

TEST(DocumentText, PdfHasLetterheadAndBody) {
    const DocumentText d = extract(DocumentKind::pdf, "ppo-boucher.pdf");
    EXPECT_EQ(d.error, "");
    EXPECT_EQ(d.pages, 1);
    EXPECT_FALSE(d.image_only);
    EXPECT_FALSE(d.truncated);
    EXPECT_TRUE(contains(d.text, kKeyword)) << d.text;
    EXPECT_TRUE(contains(d.text, "2021-2022"));
    EXPECT_TRUE(contains(d.text, "Lycée général et technologique Hélène Boucher — Tourcoing — UAI 0597757L")) << d.text;
    // The first page is the head: the letterhead is there.
    EXPECT_TRUE(contains(d.head, kUai)) << d.head;
    EXPECT_TRUE(contains(d.head, "Hélène Boucher"));
    EXPECT_TRUE(d.members.empty());
}

TEST(DocumentText, DocxHeadIsPageHeaderThenBody) {
    const DocumentText d = extract(DocumentKind::docx, "ppo-boucher.docx");
    EXPECT_EQ(d.error, "");
    EXPECT_TRUE(contains(d.text, kKeyword)) << d.text;
    EXPECT_TRUE(contains(d.text, "2021-2022"));
    EXPECT_TRUE(contains(d.text, "Parcoursup en terminale.\nFait à Tourcoing")) << d.text;   // one '\n' per paragraph
    // The letterhead lives in word/header1.xml and the footer in footer1.xml.
    EXPECT_FALSE(contains(d.text, kUai));
    EXPECT_TRUE(contains(d.head, "Lycée général et technologique Hélène Boucher — Tourcoing — UAI 0597757L")) << d.head;
    EXPECT_TRUE(contains(d.head, "Académie de Lille"));
    EXPECT_LT(d.head.find(kUai), d.head.find("Programme pluriannuel d'orientation 2021-2022"));
}

TEST(DocumentText, DocxTextBoxNotDoubledByFallback) {
    const std::string data = read_document("ppo-boucher.docx");
    // The file really carries the frame twice (mc:Choice and mc:Fallback)...
    std::string xml;
    {
        std::istringstream in(data);
        Poco::Zip::ZipArchive archive(in);
        in.clear();   // the archive was parsed to the end
        const auto it = archive.findHeader("word/document.xml");
        ASSERT_NE(it, archive.headerEnd());
        Poco::Zip::ZipInputStream zin(in, it->second, true);
        Poco::StreamCopier::copyToString(zin, xml);
    }
    ASSERT_EQ(count(xml, "Encadré de synthèse"), 2u);
    ASSERT_EQ(count(xml, "<mc:Fallback>"), 1u);
    // ...and it is read once.
    const DocumentText d = extract_document_text(DocumentKind::docx, data);
    EXPECT_EQ(count(d.text, "Encadré de synthèse"), 1u) << d.text;
}

TEST(DocumentText, OdtHeadIsMasterPageHeaderThenBody) {
    const DocumentText d = extract(DocumentKind::odt, "ppo-boucher.odt");
    EXPECT_EQ(d.error, "");
    EXPECT_TRUE(contains(d.text, kKeyword)) << d.text;
    EXPECT_TRUE(contains(d.text, "Parcoursup en terminale.\nFait à Tourcoing")) << d.text;
    EXPECT_EQ(count(d.text, "Encadré de synthèse"), 1u);
    EXPECT_FALSE(contains(d.text, kUai));
    EXPECT_TRUE(contains(d.head, "Lycée général et technologique Hélène Boucher — Tourcoing — UAI 0597757L")) << d.head;
    EXPECT_TRUE(contains(d.head, "Bassin Roubaix-Tourcoing"));
    EXPECT_LT(d.head.find(kUai), d.head.find("Programme pluriannuel"));
}

TEST(DocumentText, RtfHeadIsPageHeaderThenBody) {
    const DocumentText d = extract(DocumentKind::rtf, "ppo-boucher.rtf");
    EXPECT_EQ(d.error, "");
    EXPECT_TRUE(contains(d.text, kKeyword)) << d.text;
    EXPECT_TRUE(contains(d.text, "2021-2022"));
    EXPECT_TRUE(contains(d.text, "Parcoursup en terminale.\nFait à Tourcoing")) << d.text;
    EXPECT_EQ(count(d.text, "Encadré de synthèse"), 1u) << d.text;
    // Font names, styles and the generator are destinations, not text.
    EXPECT_FALSE(contains(d.text, "Liberation")) << d.text;
    EXPECT_FALSE(contains(d.text, "LibreOffice")) << d.text;
    EXPECT_TRUE(contains(d.head, "Lycée général et technologique Hélène Boucher — Tourcoing — UAI 0597757L")) << d.head;
    EXPECT_LT(d.head.find(kUai), d.head.find("Programme pluriannuel"));
}

TEST(DocumentText, RtfTokens) {
    const std::string rtf =
        "{\\rtf1\\ansi\\ansicpg1252\\uc1{\\fonttbl{\\f0 Arial;}}{\\*\\generator Riched20;}"
        "{\\info{\\title Titre}}{\\header Lyc\\'e9e Test\\par}"
        "caf\\'e9 \\u233?t\\u233? {\\*\\unknown secret}\\par\\par\\tab fin \\{ok\\}\\emdash \\u-10179?\\u-8694?}";
    const DocumentText d = extract_document_text(DocumentKind::rtf, rtf);
    expect_clean(d);
    EXPECT_EQ(d.error, "");
    EXPECT_EQ(d.text, "café été\nfin {ok}—😊");   // the space after \\emdash ends the word
    EXPECT_EQ(d.head, "Lycée Test\ncafé été\nfin {ok}—😊");
    // A code page that is not Windows-1252: its bytes are not guessed, its \uN are read.
    const DocumentText cp1251 =
        extract_document_text(DocumentKind::rtf, "{\\rtf1\\ansi\\ansicpg1251 \\'e0\\u1072\\'e0}");
    EXPECT_EQ(cp1251.text, "\xEF\xBF\xBD\xD0\xB0");
}

TEST(DocumentText, DocIsApproximateButFindsTheText) {
    const DocumentText d = extract(DocumentKind::doc, "ppo-boucher.doc");
    EXPECT_EQ(d.error, "");
    EXPECT_TRUE(contains(d.text, kKeyword)) << d.text;
    EXPECT_TRUE(contains(d.text, "2021-2022"));
    EXPECT_TRUE(contains(d.text, "Lycée général et technologique Hélène Boucher — Tourcoing — UAI 0597757L")) << d.text;
    EXPECT_FALSE(contains(d.text, "Root Entry"));
    EXPECT_FALSE(d.head.empty());
    EXPECT_EQ(d.text.substr(0, d.head.size()), d.head);
}

TEST(DocumentText, NoLetterhead) {
    const DocumentText pdf = extract(DocumentKind::pdf, "cr-ca.pdf");
    EXPECT_EQ(pdf.error, "");
    EXPECT_TRUE(contains(pdf.text, "Compte rendu du conseil d'administration du 9\nnovembre 2021")) << pdf.text;
    EXPECT_TRUE(contains(pdf.head, "0596082R"));   // named in the body, on page 1
    EXPECT_FALSE(contains(pdf.head, "UAI"));
    const DocumentText docx = extract(DocumentKind::docx, "cr-ca.docx");
    EXPECT_EQ(docx.error, "");
    // No page header: the head starts with the body.
    EXPECT_EQ(docx.head.rfind("Compte rendu du conseil d'administration", 0), 0u) << docx.head;
    EXPECT_FALSE(contains(docx.text, kKeyword));
}

TEST(DocumentText, ScannedPdfIsImageOnly) {
    const DocumentText d = extract(DocumentKind::pdf, "scan-ppo.pdf");
    EXPECT_EQ(d.error, "");
    EXPECT_EQ(d.pages, 1);
    EXPECT_TRUE(d.image_only);
    EXPECT_EQ(d.text, "");
    // The same page with its text layer is not.
    EXPECT_FALSE(extract(DocumentKind::pdf, "ppo-boucher.pdf").image_only);
}

TEST(DocumentText, ZipOfDocuments) {
    const DocumentText d = extract(DocumentKind::zip, "envoi-ppo.zip");
    EXPECT_EQ(d.error, "");
    const std::vector<std::string> expected{"PPO/PPO 2021-2022 Hélène Boucher.pdf", "PPO/CR CA novembre 2021.docx",
                                            "PPO/lisez-moi.txt"};
    EXPECT_EQ(d.members, expected);
    const auto pdf_at = d.text.find("--- PPO/PPO 2021-2022 Hélène Boucher.pdf ---\n");
    const auto docx_at = d.text.find("--- PPO/CR CA novembre 2021.docx ---\n");
    ASSERT_NE(pdf_at, std::string::npos) << d.text;
    ASSERT_NE(docx_at, std::string::npos) << d.text;
    EXPECT_LT(pdf_at, d.text.find(kUai));
    EXPECT_LT(d.text.find(kUai), docx_at);
    EXPECT_GT(d.text.find("conseil d'administration"), docx_at);
    EXPECT_FALSE(contains(d.text, "Deux pièces jointes"));   // a .txt is not a document
    EXPECT_TRUE(contains(d.head, kUai)) << d.head;
    EXPECT_TRUE(contains(d.head, "Compte rendu du conseil"));
}

TEST(DocumentText, ZipInsideZipIsListedNotRead) {
    const std::string inner = read_document("envoi-ppo.zip");
    const std::string outer = make_zip({{"envoi.zip", inner}, {"ppo.rtf", read_document("ppo-boucher.rtf")}});
    const DocumentText d = extract_document_text(DocumentKind::zip, outer);
    expect_clean(d);
    EXPECT_EQ(d.members, (std::vector<std::string>{"envoi.zip", "ppo.rtf"}));
    EXPECT_FALSE(contains(d.text, "envoi.zip ---"));
    EXPECT_FALSE(contains(d.text, "conseil d'administration"));
    EXPECT_TRUE(contains(d.text, "--- ppo.rtf ---\n"));
    EXPECT_TRUE(contains(d.text, kKeyword));
}

TEST(DocumentText, MaxMembers) {
    TextLimits limits;
    limits.max_members = 2;
    const DocumentText d = extract(DocumentKind::zip, "envoi-ppo.zip", limits);
    EXPECT_EQ(d.members.size(), 1u);   // the directory entry counts as looked at, and is not listed
    EXPECT_EQ(d.members.at(0), "PPO/PPO 2021-2022 Hélène Boucher.pdf");
}

TEST(DocumentText, TruncatesOnUtf8Boundary) {
    for (const auto& [kind, file] : std::vector<std::pair<DocumentKind, std::string>>{
             {DocumentKind::pdf, "ppo-boucher.pdf"},
             {DocumentKind::docx, "ppo-boucher.docx"},
             {DocumentKind::odt, "ppo-boucher.odt"},
             {DocumentKind::rtf, "ppo-boucher.rtf"},
             {DocumentKind::doc, "ppo-boucher.doc"},
             {DocumentKind::zip, "envoi-ppo.zip"}}) {
        SCOPED_TRACE(file);
        const DocumentText full = extract(kind, file);
        ASSERT_GT(full.text.size(), 200u);
        EXPECT_FALSE(full.truncated);
        // Every cap from 100 to 140 bytes: some fall inside "é" or "—".
        for (std::size_t cap = 100; cap <= 140; ++cap) {
            TextLimits limits;
            limits.max_text_bytes = cap;
            limits.max_head_bytes = cap / 2;
            const DocumentText d = extract(kind, file, limits);
            EXPECT_TRUE(d.truncated);
            EXPECT_LE(d.text.size(), cap);
            EXPECT_GE(d.text.size(), cap - 8);   // cut near the cap, not far before it
            EXPECT_LE(d.head.size(), cap / 2);
            // A prefix of the whole text (but for where a trailing space was dropped).
            EXPECT_EQ(full.text.substr(0, d.text.size()), d.text);
        }
    }
}

TEST(DocumentText, DecompressionBombStopsAtTheCap) {
    TextLimits limits;
    limits.max_member_bytes = 1024 * 1024;
    constexpr std::size_t kBomb = 128u * 1024 * 1024;   // 128 MiB inflated, well under 1 MiB compressed
    const std::string prefix = std::string("<w:document xmlns:w=\"") + kWordNs + "\"><w:body><w:p><w:r><w:t>";
    const std::string bomb = make_bomb("word/document.xml", prefix, kBomb, 100);
    EXPECT_LT(bomb.size(), 1024u * 1024);
    const long rss_before = max_rss_kib();
    const auto t0 = std::chrono::steady_clock::now();
    // A DOCX holding only the bomb is enough: word/document.xml is what is read.
    const DocumentText b = extract_document_text(DocumentKind::docx, bomb, limits);
    const double took = seconds_since(t0);
    expect_clean(b, limits);
    EXPECT_TRUE(contains(b.error, "larger than the size limit")) << b.error;
    // What was read before the cap (the XML is cut short there) is only 'a's.
    EXPECT_EQ(b.text.find_first_not_of('a'), std::string::npos) << b.text.substr(0, 100);
    EXPECT_LT(took, 5.0);
    // Reading the member whole would take 128 MiB at least.
    EXPECT_LT(max_rss_kib() - rss_before, 64 * 1024) << "KiB";

    // The same bomb inside a ZIP of documents.
    const std::string zip = make_bomb("rapport.txt", "", kBomb, 100);
    const auto t1 = std::chrono::steady_clock::now();
    const DocumentText z = extract_document_text(DocumentKind::zip, zip, limits);
    EXPECT_LT(seconds_since(t1), 5.0);
    EXPECT_EQ(z.members, std::vector<std::string>{"rapport.txt"});
    EXPECT_EQ(z.text, "");
    EXPECT_LT(max_rss_kib() - rss_before, 64 * 1024) << "KiB";
}

TEST(DocumentText, ExternalEntityNotExpanded) {
    const fs::path secret = fs::temp_directory_path() / ("ppo-doctext-secret-" + std::to_string(::getpid()));
    {
        std::ofstream out(secret);
        out << "SECRET-MARKER";
    }
    const std::string xml = std::string("<?xml version=\"1.0\"?>\n<!DOCTYPE w:document [\n") +
                            "<!ENTITY xxe SYSTEM \"file://" + secret.string() + "\">\n" +
                            "<!ENTITY internal \"INTERNAL-MARKER\">\n]>\n" +
                            "<w:document xmlns:w=\"" + kWordNs +
                            "\"><w:body><w:p><w:r><w:t>Avant &xxe; &internal; après</w:t></w:r></w:p></w:body></w:document>";
    const DocumentText d = extract_document_text(DocumentKind::docx, docx_with_body(xml));
    fs::remove(secret);
    expect_clean(d);
    EXPECT_TRUE(contains(d.text, "Avant")) << d.text << " / " << d.error;
    EXPECT_FALSE(contains(d.text, "SECRET-MARKER"));
    EXPECT_FALSE(contains(d.head, "SECRET-MARKER"));
    // Not even an internal entity is substituted (XML_PARSE_NOENT is off).
    EXPECT_FALSE(contains(d.text, "INTERNAL-MARKER"));
}

TEST(DocumentText, BillionLaughsNotExpanded) {
    std::string dtd = "<!ENTITY lol0 \"lol\">\n";
    for (int i = 1; i <= 9; ++i) {
        dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
        for (int k = 0; k < 10; ++k) dtd += "&lol" + std::to_string(i - 1) + ";";
        dtd += "\">\n";
    }
    const std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE w:document [\n" + dtd + "]>\n<w:document xmlns:w=\"" +
                            kWordNs + "\"><w:body><w:p><w:r><w:t>Avant &lol9; après</w:t></w:r></w:p></w:body></w:document>";
    const auto t0 = std::chrono::steady_clock::now();
    const DocumentText d = extract_document_text(DocumentKind::docx, docx_with_body(xml));
    EXPECT_LT(seconds_since(t0), 2.0);
    expect_clean(d);
    // libxml2 refuses the amplification (an error) or leaves the reference
    // unexpanded; either way no "lol" comes out.
    EXPECT_TRUE(!d.error.empty() || contains(d.text, "Avant")) << d.text;
    EXPECT_FALSE(contains(d.text, "lol")) << d.text.substr(0, 200);
    EXPECT_LT(d.text.size(), 100u);

    // The same in ODT.
    const std::string content = "<?xml version=\"1.0\"?>\n<!DOCTYPE office:document-content [\n" + dtd +
                                "]>\n<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
                                "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:text>"
                                "<text:p>Avant &lol9; après</text:p></office:text></office:body></office:document-content>";
    const DocumentText o = extract_document_text(
        DocumentKind::odt, make_zip({{"mimetype", "application/vnd.oasis.opendocument.text"}, {"content.xml", content}}));
    expect_clean(o);
    EXPECT_TRUE(!o.error.empty() || contains(o.text, "Avant")) << o.text;
    EXPECT_FALSE(contains(o.text, "lol"));
    EXPECT_LT(o.text.size(), 100u);
}

TEST(DocumentText, DeepNestingRejected) {
    constexpr int kDepth = 100000;
    std::string xml = std::string("<w:document xmlns:w=\"") + kWordNs + "\"><w:body><w:p><w:r><w:t>début</w:t></w:r></w:p>";
    for (int i = 0; i < kDepth; ++i) xml += "<w:sdt>";
    xml += "<w:p><w:r><w:t>profond</w:t></w:r></w:p>";
    for (int i = 0; i < kDepth; ++i) xml += "</w:sdt>";
    xml += "</w:body></w:document>";
    const auto t0 = std::chrono::steady_clock::now();
    const DocumentText d = extract_document_text(DocumentKind::docx, docx_with_body(xml));
    EXPECT_LT(seconds_since(t0), 5.0);
    expect_clean(d);
    EXPECT_NE(d.error, "");
    EXPECT_TRUE(contains(d.text, "début"));
    EXPECT_FALSE(contains(d.text, "profond"));

    std::string rtf = "{\\rtf1\\ansi d\\'e9but ";
    for (int i = 0; i < kDepth; ++i) rtf += "{";
    rtf += "profond";
    for (int i = 0; i < kDepth; ++i) rtf += "}";
    rtf += " fin}";
    const DocumentText r = extract_document_text(DocumentKind::rtf, rtf);
    expect_clean(r);
    EXPECT_EQ(r.error, "RTF nested too deeply");
    EXPECT_EQ(r.text, "début fin");
}

TEST(DocumentText, EmptyAndGarbage) {
    std::string garbage;
    for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 256));
    const std::string ole_garbage = std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + garbage;
    for (DocumentKind kind : {DocumentKind::pdf, DocumentKind::docx, DocumentKind::odt, DocumentKind::doc,
                              DocumentKind::rtf, DocumentKind::zip, DocumentKind::none}) {
        SCOPED_TRACE(std::string(ppo::parsers::to_string(kind)));
        const DocumentText empty = extract_document_text(kind, "");
        expect_clean(empty);
        EXPECT_EQ(empty.error, "empty document");
        EXPECT_EQ(empty.text, "");
        const DocumentText g = extract_document_text(kind, garbage);
        expect_clean(g);
        EXPECT_NE(g.error, "");
        EXPECT_EQ(g.text, "");
        (void)extract_document_text(kind, ole_garbage);
    }
    const DocumentText sheet = extract_document_text(DocumentKind::xlsx, garbage);
    EXPECT_EQ(sheet.text, "");
}

TEST(DocumentText, TruncatedZip) {
    for (const std::string file : {"envoi-ppo.zip", "ppo-boucher.docx", "ppo-boucher.odt"}) {
        const std::string data = read_document(file);
        for (std::size_t keep : {std::size_t{30}, data.size() / 3, data.size() / 2, data.size() - 10}) {
            SCOPED_TRACE(file + " cut at " + std::to_string(keep));
            const DocumentKind kind = ppo::parsers::classify_document(file, "", data);
            const DocumentText d = extract_document_text(kind, data.substr(0, keep));
            expect_clean(d);
            // Either read (what was there) or said why not; never both silent and empty.
            EXPECT_TRUE(!d.error.empty() || !d.members.empty() || !d.text.empty());
        }
    }
}

TEST(DocumentText, ZipWhoseLocalHeaderLies) {
    const std::string data = read_document("envoi-ppo.zip");
    // The PDF member is the second local header; its compressed size (offset
    // 18) now says 10 bytes, its uncompressed size (offset 22) 20.
    const std::size_t second = data.find(std::string("PK\x03\x04", 4), 4);
    ASSERT_NE(second, std::string::npos);
    for (const std::uint32_t lie : {10u, 0xFFFFFF0u}) {
        std::string bad = data;
        put_le32(bad, second + 18, lie);
        put_le32(bad, second + 22, 20);
        const auto t0 = std::chrono::steady_clock::now();
        const DocumentText d = extract_document_text(DocumentKind::zip, bad);
        EXPECT_LT(seconds_since(t0), 5.0);
        expect_clean(d);
        // The lie costs the PDF's text (or the whole archive), never a crash.
        EXPECT_FALSE(contains(d.text, kUai)) << d.text;
        EXPECT_TRUE(!d.error.empty() || !d.members.empty());
    }
}

// Extraction time of each test document, printed for the record; the bound
// only catches a pathological slowdown.
TEST(DocumentText, ExtractionTime) {
    const std::vector<std::pair<DocumentKind, std::string>> docs{
        {DocumentKind::pdf, "ppo-boucher.pdf"},   {DocumentKind::docx, "ppo-boucher.docx"},
        {DocumentKind::odt, "ppo-boucher.odt"},   {DocumentKind::rtf, "ppo-boucher.rtf"},
        {DocumentKind::doc, "ppo-boucher.doc"},   {DocumentKind::pdf, "cr-ca.pdf"},
        {DocumentKind::docx, "cr-ca.docx"},       {DocumentKind::pdf, "scan-ppo.pdf"},
        {DocumentKind::zip, "envoi-ppo.zip"}};
    for (const auto& [kind, file] : docs) {
        const std::string data = read_document(file);
        std::vector<double> ms;
        for (int i = 0; i < 15; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            const DocumentText d = extract_document_text(kind, data);
            ms.push_back(seconds_since(t0) * 1000);
            ASSERT_EQ(d.error, "") << file;
        }
        std::sort(ms.begin(), ms.end());
        std::cout << "[ timing   ] " << file << ": median " << ms[ms.size() / 2] << " ms, worst " << ms.back()
                  << " ms\n";
        EXPECT_LT(ms[ms.size() / 2], 1000.0) << file;
    }
}

}  // namespace

// ---------------------------------------------------------------------------
// Letterheads (issue 21): blocks side by side, accents from pdfTeX, the title.

namespace {

TEST(DocumentTextLetterhead, PdfColumnsReadAsBlocksAccentsComposedTitleInLargestType) {
    // pdfTeX (OT1): the académie's block and the lycée's printed side by side;
    // "CH\^ATEAU" set as a letter and an accent.
    const DocumentText d = extract(DocumentKind::pdf, "letterhead/columns.pdf");
    ASSERT_EQ(d.error, "");
    // Each block's lines follow one another: no line mixes the two.
    EXPECT_TRUE(contains(d.head, "ACADÉMIE D’AMIENS\nRégion académique\nHauts-de-France") ||
                contains(d.head, "ACADÉMIE D'AMIENS\nRégion académique\nHauts-de-France"))
        << d.head;
    EXPECT_TRUE(contains(d.head, "Lycée Jean de La Fontaine\n12 avenue de la République\n02400 CHÂTEAU-THIERRY"))
        << d.head;
    // Composed: no combining mark left.
    EXPECT_FALSE(contains(d.head, "\xCC\x82")) << d.head;
    EXPECT_TRUE(contains(d.title, "Programme pluriannuel\nd’orientation")) << d.title;   // wrapped in \Huge
    EXPECT_FALSE(contains(d.title, "Lycée")) << d.title;
}

TEST(DocumentTextLetterhead, DocxHeadingsAreTheTitle) {
    const std::string xml = std::string("<w:document xmlns:w=\"") + kWordNs +
                            "\"><w:body>"
                            "<w:p><w:pPr><w:pStyle w:val=\"Title\"/></w:pPr><w:r><w:t>Convocation</w:t></w:r></w:p>"
                            "<w:p><w:r><w:t>Ordre du jour : vote du PPO</w:t></w:r></w:p>"
                            "<w:p><w:pPr><w:pStyle w:val=\"Titre1\"/></w:pPr><w:r><w:t>Questions</w:t></w:r></w:p>"
                            "</w:body></w:document>";
    const DocumentText d = extract_document_text(DocumentKind::docx, docx_with_body(xml));
    ASSERT_EQ(d.error, "");
    EXPECT_EQ(d.title, "Convocation");   // the Title style, not the headings below
    EXPECT_TRUE(contains(d.text, "vote du PPO"));
}

TEST(DocumentTextLetterhead, DocxWithoutATitleStyleHasItsFirstHeading) {
    const std::string xml = std::string("<w:document xmlns:w=\"") + kWordNs +
                            "\"><w:body>"
                            "<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr><w:r><w:t>Compte rendu</w:t></w:r></w:p>"
                            "<w:p><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr><w:r><w:t>3. PPO</w:t></w:r></w:p>"
                            "</w:body></w:document>";
    EXPECT_EQ(extract_document_text(DocumentKind::docx, docx_with_body(xml)).title, "Compte rendu");
}

TEST(DocumentTextLetterhead, LigaturesAndCombiningMarksNormalised) {
    const std::string xml = std::string("<w:document xmlns:w=\"") + kWordNs +
                            "\"><w:body><w:p><w:r><w:t>CHA\xCC\x82TEAU o\xEF\xAC\x83" "ce</w:t></w:r></w:p>"
                            "</w:body></w:document>";
    const DocumentText d = extract_document_text(DocumentKind::docx, docx_with_body(xml));
    EXPECT_EQ(d.text, "CHÂTEAU office");
}

}  // namespace
