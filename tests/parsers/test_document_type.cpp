#include "parsers/document/document_type.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ppo::parsers {
namespace {

using namespace std::string_literals;

void put16(std::string& s, std::uint32_t v) {
    s.push_back(static_cast<char>(v & 0xFF));
    s.push_back(static_cast<char>((v >> 8) & 0xFF));
}
void put32(std::string& s, std::uint32_t v) {
    put16(s, v & 0xFFFF);
    put16(s, v >> 16);
}

// A minimal stored (uncompressed) ZIP archive, with or without central directory.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members, bool central = true) {
    std::string out, cd;
    for (const auto& [name, data] : members) {
        const auto offset = static_cast<std::uint32_t>(out.size());
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, 0);  // flags
        put16(out, 0);  // stored
        put32(out, 0);  // time/date
        put32(out, 0);  // crc (not checked)
        put32(out, static_cast<std::uint32_t>(data.size()));
        put32(out, static_cast<std::uint32_t>(data.size()));
        put16(out, static_cast<std::uint32_t>(name.size()));
        put16(out, 0);
        out += name;
        out += data;
        put32(cd, 0x02014b50);
        put16(cd, 20);
        put16(cd, 20);
        put16(cd, 0);
        put16(cd, 0);
        put32(cd, 0);
        put32(cd, 0);
        put32(cd, static_cast<std::uint32_t>(data.size()));
        put32(cd, static_cast<std::uint32_t>(data.size()));
        put16(cd, static_cast<std::uint32_t>(name.size()));
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put16(cd, 0);
        put32(cd, 0);
        put32(cd, offset);
        cd += name;
    }
    if (!central) return out;
    const auto cd_offset = static_cast<std::uint32_t>(out.size());
    out += cd;
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, static_cast<std::uint32_t>(members.size()));
    put16(out, static_cast<std::uint32_t>(members.size()));
    put32(out, static_cast<std::uint32_t>(cd.size()));
    put32(out, cd_offset);
    put16(out, 0);
    return out;
}

const std::string kOle2 = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"s + std::string(504, '\0');
const std::string kPng = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"s;
const std::string kJpeg = "\xFF\xD8\xFF\xE0\x00\x10JFIF"s;

struct DocCase {
    std::string label;
    std::string filename;
    std::string content_type;
    std::string data;
    DocumentKind expected;
};

class ClassifyTest : public ::testing::TestWithParam<DocCase> {};

TEST_P(ClassifyTest, Classifies) {
    const DocCase& c = GetParam();
    EXPECT_EQ(to_string(classify_document(c.filename, c.content_type, c.data)), to_string(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Magic, ClassifyTest,
    ::testing::Values(
        DocCase{"pdf", "ppo.pdf", "application/pdf", "%PDF-1.4\n%%EOF\n", DocumentKind::pdf},
        DocCase{"pdf_misnamed", "scan.bin", "application/octet-stream", "%PDF-1.7\n", DocumentKind::pdf},
        DocCase{"pdf_after_bom", "x", "", "\xEF\xBB\xBF%PDF-1.5\n", DocumentKind::pdf},
        DocCase{"ole2_doc", "ppo.doc", "application/msword", kOle2, DocumentKind::doc},
        DocCase{"ole2_xls", "PPO.XLS", "application/octet-stream", kOle2, DocumentKind::xls},
        DocCase{"ole2_xls_by_type", "ppo", "application/vnd.ms-excel", kOle2, DocumentKind::xls},
        DocCase{"ole2_unnamed", "", "", kOle2, DocumentKind::doc},
        DocCase{"rtf", "ppo.doc", "application/msword", "{\\rtf1\\ansi hello}", DocumentKind::rtf},
        DocCase{"docx", "ppo.docx", "",
                make_zip({{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", "<w/>"}}), DocumentKind::docx},
        DocCase{"docx_named_zip", "ppo.zip", "", make_zip({{"word/document.xml", "<w/>"}}), DocumentKind::docx},
        DocCase{"xlsx", "ppo.xlsx", "", make_zip({{"[Content_Types].xml", "<Types/>"}, {"xl/workbook.xml", "<x/>"}}),
                DocumentKind::xlsx},
        DocCase{"odt", "ppo.odt", "",
                make_zip({{"mimetype", "application/vnd.oasis.opendocument.text"}, {"content.xml", "<o/>"}}),
                DocumentKind::odt},
        DocCase{"ods", "ppo.ods", "",
                make_zip({{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, {"content.xml", "<o/>"}}),
                DocumentKind::ods},
        DocCase{"odt_template_is_zip", "x.ott", "",
                make_zip({{"mimetype", "application/vnd.oasis.opendocument.text-template"}}), DocumentKind::zip},
        DocCase{"odt_no_central_dir", "x", "",
                make_zip({{"mimetype", "application/vnd.oasis.opendocument.text"}}, false), DocumentKind::odt},
        DocCase{"docx_no_central_dir", "x", "", make_zip({{"word/document.xml", "<w/>"}}, false),
                DocumentKind::docx},
        DocCase{"plain_zip", "pieces.zip", "application/zip", make_zip({{"a.pdf", "%PDF-1.4"}, {"b.txt", "b"}}),
                DocumentKind::zip},
        DocCase{"truncated_zip", "x.zip", "", "PK\x03\x04\x14\x00"s, DocumentKind::zip},
        DocCase{"png_named_pdf", "ppo.pdf", "application/pdf", kPng, DocumentKind::none},
        DocCase{"jpeg", "photo.jpg", "image/jpeg", kJpeg, DocumentKind::none},
        DocCase{"gif", "logo.gif", "image/gif", "GIF89a\x01\x00\x01\x00", DocumentKind::none},
        DocCase{"mangled_pdf_trusted_by_name", "ppo.pdf", "application/octet-stream", "garbage", DocumentKind::pdf},
        DocCase{"mangled_docx_upper_ext", "PPO.DOCX", "", "garbage", DocumentKind::docx},
        DocCase{"image_type_not_trusted", "ppo.pdf", "image/png", "garbage", DocumentKind::none},
        DocCase{"unknown", "notes.txt", "text/plain", "hello", DocumentKind::none},
        DocCase{"empty_unnamed", "", "", "", DocumentKind::none},
        DocCase{"no_extension", "README", "", "hello", DocumentKind::none}),
    [](const ::testing::TestParamInfo<DocCase>& param_info) { return param_info.param.label; });

TEST(DocumentKindNames, AllNames) {
    EXPECT_EQ(to_string(DocumentKind::none), "none");
    EXPECT_EQ(to_string(DocumentKind::pdf), "pdf");
    EXPECT_EQ(to_string(DocumentKind::docx), "docx");
    EXPECT_EQ(to_string(DocumentKind::odt), "odt");
    EXPECT_EQ(to_string(DocumentKind::doc), "doc");
    EXPECT_EQ(to_string(DocumentKind::xlsx), "xlsx");
    EXPECT_EQ(to_string(DocumentKind::ods), "ods");
    EXPECT_EQ(to_string(DocumentKind::xls), "xls");
    EXPECT_EQ(to_string(DocumentKind::rtf), "rtf");
    EXPECT_EQ(to_string(DocumentKind::zip), "zip");
}

TEST(DocumentKindZip, HugeEntryCountIsBounded) {
    std::vector<std::pair<std::string, std::string>> members;
    for (int i = 0; i < 20000; ++i) members.emplace_back("f" + std::to_string(i), "");
    members.emplace_back("word/document.xml", "");  // beyond the scan bound
    EXPECT_EQ(classify_document("x.zip", "", make_zip(members)), DocumentKind::zip);
}

}  // namespace
}  // namespace ppo::parsers
