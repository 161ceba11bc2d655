// Outlook's winmail.dat: the files come out byte for byte under their long
// names; malformed, truncated and oversized containers give an error, never a
// crash, and libytnef prints nothing. Test data: tests/data/tnef/make_tnef.py.
#include "parsers/mime/tnef.h"

#include "fuzz/fuzz_entries.h"
#include "parsers/mime/mime_message.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace {

namespace fs = std::filesystem;
using ppo::parsers::is_tnef;
using ppo::parsers::TnefContent;
using ppo::parsers::TnefLimits;
using ppo::parsers::unpack_tnef;

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const fs::path kDir = fs::path(PPO_TEST_DATA_DIR) / "tnef";

std::string winmail() { return read_file(kDir / "winmail.dat"); }

std::string u32(std::uint32_t v) {
    std::string s(4, '\0');
    for (int k = 0; k < 4; ++k) s[static_cast<std::size_t>(k)] = static_cast<char>((v >> (8 * k)) & 0xFF);
    return s;
}

std::string attribute(std::uint8_t level, std::uint32_t id, const std::string& data) {
    std::uint16_t sum = 0;
    for (unsigned char c : data) sum = static_cast<std::uint16_t>(sum + c);
    return std::string(1, static_cast<char>(level)) + u32(id) + u32(static_cast<std::uint32_t>(data.size())) + data +
           static_cast<char>(sum & 0xFF) + static_cast<char>(sum >> 8);
}

std::string header() { return u32(0x223E9F78) + std::string("\x01\x00", 2); }

const std::string kRenddata(14, '\0');
constexpr std::uint32_t kRend = 0x00069002, kTitle = 0x00018010, kData = 0x0006800F, kAttach = 0x00069005;

// One attachment whose MAPI block is `mapi`.
std::string with_mapi(const std::string& mapi) {
    return header() + attribute(2, kRend, kRenddata) + attribute(2, kTitle, std::string("a.txt\0", 6)) +
           attribute(2, kData, "hello") + attribute(2, kAttach, mapi);
}

// unpack_tnef with stdout captured: libytnef must print nothing.
TnefContent unpack_quietly(const std::string& data, const TnefLimits& limits = {}) {
    testing::internal::CaptureStdout();
    TnefContent t = unpack_tnef(data, limits);
    const std::string printed = testing::internal::GetCapturedStdout();
    EXPECT_EQ(printed, "") << "libytnef printed on stdout";
    return t;
}

TEST(Tnef, FilesAreByteIdenticalToTheEmbeddedPayloads) {
    const TnefContent t = unpack_quietly(winmail());
    ASSERT_EQ(t.error, "");
    ASSERT_EQ(t.files.size(), 3u);
    EXPECT_EQ(t.files[0].data, read_file(kDir / "payload" / "ppo_gambetta.pdf"));
    EXPECT_EQ(t.files[1].data, read_file(kDir / "payload" / "projet_orientation.docx"));
    EXPECT_EQ(t.files[2].data, read_file(kDir / "payload" / "recap.txt"));
    EXPECT_EQ(t.files[0].data.substr(0, 5), "%PDF-");
    EXPECT_EQ(t.files[1].data.substr(0, 2), "PK");
}

TEST(Tnef, LongNamesFromUnicodeAndFromTheCodePage) {
    const TnefContent t = unpack_quietly(winmail());
    ASSERT_EQ(t.files.size(), 3u);
    EXPECT_EQ(t.files[0].name, "PPO 2022 – Lycée Gambetta.pdf");                    // PT_UNICODE
    EXPECT_EQ(t.files[1].name, "Projet d’orientation – Élèves de Terminale.docx");  // PT_STRING8, Windows-1252
    EXPECT_EQ(t.files[2].name, "Récap.txt");                                        // attAttachTitle only
}

TEST(Tnef, BodyTextFromPrBody) {
    const TnefContent t = unpack_quietly(winmail());
    EXPECT_EQ(t.body_text,
              "Bonjour,\n\nVeuillez trouver ci-joint le PPO du lycée Gambetta.\n\nCordialement,\nLe secrétariat\n");
}

TEST(Tnef, OutlookMessageCarriesWinmailDat) {
    const auto m = ppo::parsers::parse_mime_message(read_file(kDir / "outlook_winmail.eml"));
    ASSERT_FALSE(m.corrupt) << m.corrupt_reason;
    const ppo::parsers::Attachment* tnef = nullptr;
    for (const auto& a : m.attachments)
        if (is_tnef(a.filename, a.content_type, a.data)) tnef = &a;
    ASSERT_NE(tnef, nullptr);
    EXPECT_EQ(tnef->filename, "winmail.dat");
    EXPECT_EQ(tnef->data, winmail());
    const TnefContent t = unpack_quietly(tnef->data);
    ASSERT_EQ(t.error, "");
    ASSERT_EQ(t.files.size(), 3u);
    EXPECT_EQ(t.files[0].name, "PPO 2022 – Lycée Gambetta.pdf");
}

TEST(Tnef, IsTnef) {
    const std::string dat = winmail();
    EXPECT_TRUE(is_tnef("", "", dat));
    EXPECT_TRUE(is_tnef("document.pdf", "application/pdf", dat));  // the content decides
    EXPECT_FALSE(is_tnef("winmail.dat", "application/ms-tnef", "%PDF-1.4 not a TNEF"));
    EXPECT_TRUE(is_tnef("WINMAIL.DAT", "application/octet-stream", ""));  // too short to tell
    EXPECT_TRUE(is_tnef("x", "Application/MS-TNEF; name=\"winmail.dat\"", "ab"));
    EXPECT_TRUE(is_tnef("x", "application/vnd.ms-tnef", ""));
    EXPECT_FALSE(is_tnef("x.dat", "application/octet-stream", "abc"));
}

TEST(Tnef, GarbageAndEmptyInputsAreErrors) {
    for (const std::string& s : {std::string(), std::string("x"), std::string("\x78\x9f\x3e\x22", 4),
                                 std::string(1000, '\xff'), std::string("%PDF-1.7\n")}) {
        const TnefContent t = unpack_quietly(s);
        EXPECT_NE(t.error, "");
        EXPECT_TRUE(t.files.empty());
    }
    // The bare signature and key: a valid, empty container.
    const TnefContent empty = unpack_quietly(header());
    EXPECT_EQ(empty.error, "");
    EXPECT_TRUE(empty.files.empty());
}

TEST(Tnef, EveryTruncationIsHandled) {
    const std::string dat = winmail();
    const std::string pdf = read_file(kDir / "payload" / "ppo_gambetta.pdf");
    const std::string docx = read_file(kDir / "payload" / "projet_orientation.docx");
    const std::string txt = read_file(kDir / "payload" / "recap.txt");
    std::size_t errors = 0;
    testing::internal::CaptureStdout();
    for (std::size_t n = 0; n < dat.size(); ++n) {
        const TnefContent t = unpack_tnef(dat.substr(0, n));
        if (!t.error.empty()) {
            ++errors;
            EXPECT_TRUE(t.files.empty());
            continue;
        }
        // Cut on an attribute boundary: a shorter valid container, whose files are whole.
        for (const auto& f : t.files) EXPECT_TRUE(f.data == pdf || f.data == docx || f.data == txt) << n;
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
    EXPECT_GT(errors, dat.size() / 2);
}

TEST(Tnef, StrayBytesAfterTheLastAttributeAreIgnored) {
    const TnefContent t = unpack_quietly(winmail() + std::string("\r\n\0\0", 4));
    EXPECT_EQ(t.error, "");
    EXPECT_EQ(t.files.size(), 3u);
    // Nine or more make an attribute header, which must then be whole.
    EXPECT_EQ(unpack_quietly(winmail() + std::string(12, '\xff')).error, "truncated TNEF attribute");
}

TEST(Tnef, HugeLengthIsRefusedBeforeLibytnefAllocatesIt) {
    const std::string s = header() + std::string(1, '\x02') + u32(kData) + u32(0xFFFFFFF0u) + "abc";
    const TnefContent t = unpack_quietly(s);
    EXPECT_EQ(t.error, "truncated TNEF attribute");
    // Plausible length, data missing.
    const std::string s2 = header() + attribute(2, kRend, kRenddata) + std::string(1, '\x02') + u32(kData) +
                           u32(64u * 1024 * 1024) + std::string(100, 'x');
    EXPECT_EQ(unpack_quietly(s2).error, "truncated TNEF attribute");
}

TEST(Tnef, BadChecksumIsAnErrorAnEmptyAttributeIsSkipped) {
    std::string dat = winmail();
    dat[dat.size() - 1] = static_cast<char>(dat.back() ^ 0x55);
    EXPECT_EQ(unpack_quietly(dat).error, "bad TNEF attribute checksum");
    // libytnef refuses an empty attribute (an empty file's data): it is left out.
    const TnefContent t = unpack_quietly(header() + attribute(1, 0x00089006, "") + attribute(2, kRend, kRenddata) +
                                         attribute(2, kData, "") + attribute(2, kRend, kRenddata) +
                                         attribute(2, kData, "x"));
    EXPECT_EQ(t.error, "");
    ASSERT_EQ(t.files.size(), 1u);
    EXPECT_EQ(t.files[0].data, "x");
}

// A MAPI block libytnef would fail on, or that is malformed, costs the long
// name, never the file: the title names it.
TEST(Tnef, BadMapiBlocksCostOnlyTheLongName) {
    for (const std::string& mapi : {
             // A PT_STRING8 long file name claiming 2000 values: libytnef would leave
             // a NULL value array that TNEFFree dereferences.
             u32(1) + u32((0x3707u << 16) | 0x101E) + u32(2000),
             u32(5000),
             u32(1) + u32(0x37070099) + u32(0),
             u32(1) + u32(0x3707001E) + u32(1) + u32(1000) + "short",
             u32(1) + u32(0x37050003) + u32(1) + "extra",
             // A subject over 99 bytes, which Debian's libytnef 2.0 fails on.
             u32(2) + u32(0x0037001E) + u32(1) + u32(120) + std::string(120, 's') + u32(0x3707001E) + u32(1) +
                 u32(8) + "long.txt",
         }) {
        const TnefContent t = unpack_quietly(with_mapi(mapi));
        ASSERT_EQ(t.error, "");
        ASSERT_EQ(t.files.size(), 1u);
        EXPECT_EQ(t.files[0].name, "a.txt");
        EXPECT_EQ(t.files[0].data, "hello");
    }
    // Well-formed: the long name replaces the title.
    const TnefContent ok = unpack_quietly(with_mapi(u32(1) + u32(0x3707001E) + u32(1) + u32(8) + "long.txt"));
    ASSERT_EQ(ok.error, "");
    ASSERT_EQ(ok.files.size(), 1u);
    EXPECT_EQ(ok.files[0].name, "long.txt");
    EXPECT_EQ(ok.files[0].data, "hello");
}

// Debian's libytnef 2.0 fails a whole container on a title over 100 bytes, a
// body over 100 kB, a long subject or an odd attTnefVersion: those never reach it.
TEST(Tnef, WhatLibytnefWouldFailOnIsReadHere) {
    const std::string title = std::string(150, 't') + ".pdf";
    const std::string body(200000, 'b');
    const std::string subject_props = u32(1) + u32(0x0037001E) + u32(1) + u32(300) + std::string(300, 'S');
    const TnefContent t = unpack_quietly(
        header() + attribute(1, 0x00089006, std::string(3, '\0')) + attribute(1, 0x00018004, std::string(300, 'S')) +
        attribute(1, 0x00069003, subject_props) + attribute(1, 0x0002800C, body) + attribute(2, kRend, kRenddata) +
        attribute(2, kTitle, title + '\0') + attribute(2, kData, "%PDF-1.4"));
    ASSERT_EQ(t.error, "");
    ASSERT_EQ(t.files.size(), 1u);
    EXPECT_EQ(t.files[0].name, title);
    EXPECT_EQ(t.files[0].data, "%PDF-1.4");
    EXPECT_EQ(t.body_text, body);
}

TEST(Tnef, UnicodeNameOutsideTheBmpStaysValidUtf8) {
    // "é😀.pdf" in UTF-16LE, with its NUL: libytnef encodes each surrogate alone.
    const std::string name("\xE9\x00\x3D\xD8\x00\xDE.\x00p\x00" "d\x00" "f\x00\x00\x00", 16);
    const TnefContent t = unpack_quietly(with_mapi(u32(1) + u32(0x3707001F) + u32(1) + u32(16) + name));
    ASSERT_EQ(t.error, "");
    ASSERT_EQ(t.files.size(), 1u);
    EXPECT_TRUE(ppo::fuzz::valid_utf8(t.files[0].name)) << t.files[0].name;
    EXPECT_EQ(t.files[0].name.substr(0, 2), "é");
    EXPECT_EQ(t.files[0].name.substr(t.files[0].name.size() - 4), ".pdf");
}

TEST(Tnef, AttachmentAttributesOutsideAnAttachmentAreLeftOut) {
    // Before any attAttachRenddata libytnef would store them where TNEFFree never
    // frees; a repeat would leak the first: the first of each is kept.
    const TnefContent t = unpack_quietly(header() + attribute(2, kData, "x") + attribute(2, kRend, kRenddata) +
                                         attribute(2, kData, "y") + attribute(2, kData, "z"));
    EXPECT_EQ(t.error, "");
    ASSERT_EQ(t.files.size(), 1u);
    EXPECT_EQ(t.files[0].data, "y");
}

TEST(Tnef, LimitsAreEnforced) {
    TnefLimits files;
    files.max_files = 2;
    const TnefContent t = unpack_quietly(winmail(), files);
    EXPECT_EQ(t.error, "more than 2 files in the TNEF");
    EXPECT_TRUE(t.files.empty());

    TnefLimits bytes;
    bytes.max_total_bytes = 1000;  // the PDF and the DOCX make 1288
    const TnefContent b = unpack_quietly(winmail(), bytes);
    EXPECT_EQ(b.error, "TNEF files over 1000 bytes");
    EXPECT_TRUE(b.files.empty());

    bytes.max_total_bytes = 635 + 653 + 55;  // exactly enough
    EXPECT_EQ(unpack_quietly(winmail(), bytes).files.size(), 3u);
}

// Every byte of the generated container changed, checksums then made right
// again, so that libytnef itself sees the damage: never a crash (ASan build),
// never a word on stdout, names and body always UTF-8.
TEST(Tnef, MutatedContainersWithValidChecksums) {
    const std::string dat = winmail();
    std::size_t read = 0;
    testing::internal::CaptureStdout();
    for (std::size_t i = 4; i < dat.size(); ++i) {
        for (unsigned char v : {0x00, 0xFF}) {
            std::string m = dat;
            if (static_cast<unsigned char>(m[i]) == v) continue;
            m[i] = static_cast<char>(v);
            m = ppo::fuzz::fix_tnef_checksums(std::move(m));
            const TnefContent t = unpack_tnef(m);
            if (t.error.empty()) ++read;
            for (const auto& f : t.files) EXPECT_TRUE(ppo::fuzz::valid_utf8(f.name)) << i;
            EXPECT_TRUE(ppo::fuzz::valid_utf8(t.body_text)) << i;
        }
    }
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
    EXPECT_GT(read, 0u);
}

}  // namespace
