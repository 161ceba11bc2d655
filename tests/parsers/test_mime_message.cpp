// parse_mime_message on synthetic messages (tests/data/mime/*.eml) and on
// generated pathological ones (huge, deep, many parts, broken).
#include "parsers/mime/mime_message.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#ifndef PPO_TEST_DATA_DIR
#error "PPO_TEST_DATA_DIR must point at tests/data"
#endif

namespace ppo::parsers {
namespace {

using namespace std::string_literals;

const std::string kPdfA = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const std::string kPdfB = "%PDF-1.7\n% forwarded PPO\n%%EOF\n";
const std::string kPng =
    "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    "\x00\x00\x00\x0bIDATx\x9c\x63\xf8\x0f\x00\x01\x01\x01\x00\x18\x00\xdd\x8d\xb4\x00\x00\x00\x00IEND\xae\x42`\x82"s;

std::string read_eml(const std::string& name) {
    std::ifstream in(std::string(PPO_TEST_DATA_DIR) + "/mime/" + name, std::ios::binary);
    EXPECT_TRUE(in.good()) << name;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool has_problem_containing(const MimeMessage& m, const std::string& needle) {
    for (const auto& p : m.problems)
        if (p.find(needle) != std::string::npos) return true;
    return false;
}

std::string problems_of(const MimeMessage& m) {
    std::string out;
    for (const auto& p : m.problems) out += "[" + p + "] ";
    return out;
}

std::string base64(std::string_view in) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0, line = 0;
    auto put = [&](char c) {
        out.push_back(c);
        if (++line == 76) {
            out += "\r\n";
            line = 0;
        }
    };
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                           static_cast<unsigned char>(in[i + 2]);
        put(k[v >> 18]);
        put(k[(v >> 12) & 63]);
        put(k[(v >> 6) & 63]);
        put(k[v & 63]);
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        put(k[v >> 18]);
        put(k[(v >> 12) & 63]);
        put(i + 1 < in.size() ? k[(v >> 6) & 63] : '=');
        put('=');
    }
    return out;
}

// ---------------------------------------------------------------------------
// Table: file -> what must come out.

struct ExpectedAttachment {
    std::string filename;
    std::string content_type;
    bool inline_disposition;
    std::string data;
    std::string content_id = "";
};

struct EmlCase {
    std::string file;
    std::string subject;
    std::string text;  // exact
    std::vector<ExpectedAttachment> attachments;
    std::string problem_substring = "";  // "" = no problem expected
};

class EmlTest : public ::testing::TestWithParam<EmlCase> {};

TEST_P(EmlTest, ParsesAsExpected) {
    const EmlCase& c = GetParam();
    const MimeMessage m = parse_mime_message(read_eml(c.file));
    EXPECT_FALSE(m.corrupt) << m.corrupt_reason;
    EXPECT_EQ(m.subject, c.subject);
    EXPECT_EQ(m.text, c.text);
    ASSERT_EQ(m.attachments.size(), c.attachments.size()) << problems_of(m);
    for (std::size_t i = 0; i < c.attachments.size(); ++i) {
        SCOPED_TRACE("attachment " + std::to_string(i));
        EXPECT_EQ(m.attachments[i].filename, c.attachments[i].filename);
        EXPECT_EQ(m.attachments[i].content_type, c.attachments[i].content_type);
        EXPECT_EQ(m.attachments[i].inline_disposition, c.attachments[i].inline_disposition);
        EXPECT_EQ(m.attachments[i].data, c.attachments[i].data);
        EXPECT_EQ(m.attachments[i].content_id, c.attachments[i].content_id);
    }
    if (c.problem_substring.empty())
        EXPECT_TRUE(m.problems.empty()) << problems_of(m);
    else
        EXPECT_TRUE(has_problem_containing(m, c.problem_substring)) << problems_of(m);
}

INSTANTIATE_TEST_SUITE_P(
    Samples, EmlTest,
    ::testing::Values(
        EmlCase{"simple_text.eml", "PPO 0750001A", "Bonjour,\nplease find our PPO.", {}},
        EmlCase{"mixed_pdf.eml",
                "Convention PPO",
                "Voici notre PPO.",
                {{"ppo.pdf", "application/pdf", false, kPdfA}}},
        EmlCase{"alt_related_logo_pdf.eml",
                "PPO du lycée",
                "Veuillez trouver ci-joint le PPO de l'établissement.",
                {{"logo.png", "image/png", true, kPng, "logo@lyc"}, {"PPO.pdf", "application/pdf", false, kPdfA}}},
        EmlCase{"forwarded.eml",
                "Fwd: PPO",
                "Je vous transfère le message ci-dessous.\nNotre PPO en pièce jointe.",
                {{"PPO 2024.pdf", "application/pdf", false, kPdfB}}},
        EmlCase{"name_only.eml",
                "name only",
                "corps",
                {{"convention.pdf", "application/octet-stream", false, kPdfA}}},
        EmlCase{"rfc2231.eml", "rfc2231", "", {{"PPO Lycée René Cassin.pdf", "application/pdf", false, kPdfA}}},
        EmlCase{"rfc2047_filename.eml", "rfc2047", "", {{"PPO lycée.pdf", "application/pdf", false, kPdfA}}},
        EmlCase{"subject_cp1252_qp.eml", "Convention – coût 80 € “ok”", "Coût : 80 €", {}},
        EmlCase{"latin9_body.eml", "latin9", "Prix : 10 € pour l'élève", {}},
        EmlCase{"qp_body.eml",
                "qp",
                "Voici la convention de l'élève, avec une ligne très longue qui continue ici.\nA = B",
                {}},
        EmlCase{"missing_close.eml",
                "missing close",
                "texte",
                {{"a.pdf", "application/pdf", false, kPdfA}},
                "never closed"},
        EmlCase{"bad_base64.eml",
                "bad base64",
                "",
                {{"broken.pdf", "application/pdf", false, kPdfA}},
                "invalid characters in base64"},
        EmlCase{"raw8bit_subject.eml", "Dossier élève", "corps", {}},
        EmlCase{"bounce.eml",
                "Undelivered Mail Returned to Sender",
                "This is the mail system at host mx.example.org.",
                {{"", "message/delivery-status", false,
                  "Reporting-MTA: dns; mx.example.org\r\nFinal-Recipient: rfc822; nobody@lycee.fr\r\n"
                  "Action: failed\r\nStatus: 5.1.1"}}},
        EmlCase{"no_boundary.eml", "no boundary", "just some text", {}, "without a boundary"},
        EmlCase{"html_only.eml", "html", "Bonjour équipe & co\nLigne 2 €", {}}),
    [](const ::testing::TestParamInfo<EmlCase>& param_info) {
        std::string name = param_info.param.file.substr(0, param_info.param.file.find('.'));
        for (char& ch : name)
            if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        return name;
    });

// ---------------------------------------------------------------------------
// Headers.

TEST(MimeMessageHeaders, SimpleMessageFields) {
    const MimeMessage m = parse_mime_message(read_eml("simple_text.eml"));
    EXPECT_EQ(m.from_address, "Secretariat@lycee-exemple.fr");
    EXPECT_EQ(m.from_display, "Secretariat Lycee");
    EXPECT_EQ(m.message_id, "<abc123@lycee-exemple.fr>");
    EXPECT_TRUE(m.has_return_path);
    EXPECT_EQ(m.return_path, "Secretariat@lycee-exemple.fr");
    ASSERT_TRUE(m.date_epoch.has_value());
    EXPECT_EQ(*m.date_epoch, 1710234930);  // 2024-03-12T09:15:30Z
    ASSERT_TRUE(m.header("content-TYPE").has_value());
    EXPECT_EQ(*m.header("content-TYPE"), "text/plain; charset=us-ascii");
    EXPECT_EQ(*m.header("received"), "from mx.example.org by imap.example.org; Tue, 12 Mar 2024 10:15:00 +0100");
    EXPECT_FALSE(m.header("X-Missing").has_value());
    ASSERT_EQ(m.headers.size(), 9u);
    EXPECT_EQ(m.headers[0].name, "Return-Path");
    EXPECT_EQ(m.headers[8].name, "Content-Type");
}

TEST(MimeMessageHeaders, NegativeHalfHourZone) {
    const MimeMessage m = parse_mime_message(read_eml("mixed_pdf.eml"));
    ASSERT_TRUE(m.date_epoch.has_value());
    EXPECT_EQ(*m.date_epoch, 1710322200);  // 08:00 -0130 = 09:30Z
    EXPECT_FALSE(m.has_return_path);
    EXPECT_EQ(m.return_path, "");
}

TEST(MimeMessageHeaders, EncodedDisplayName) {
    const MimeMessage a = parse_mime_message(read_eml("alt_related_logo_pdf.eml"));
    EXPECT_EQ(a.from_display, "Lycée Jean Moulin");
    EXPECT_EQ(a.from_address, "ce.0690001A@ac-lyon.fr");
    const MimeMessage b = parse_mime_message(read_eml("subject_cp1252_qp.eml"));
    EXPECT_EQ(b.from_display, "Françoise Léger");
    EXPECT_EQ(b.from_address, "F.Leger@example.com");
}

TEST(MimeMessageHeaders, RawLatin1DisplayName) {
    const MimeMessage m = parse_mime_message(read_eml("raw8bit_subject.eml"));
    EXPECT_EQ(m.from_display, "François");
    EXPECT_EQ(m.from_address, "f@b.fr");
    EXPECT_EQ(*m.header("subject"), "Dossier élève");
}

TEST(MimeMessageHeaders, BounceHasEmptyReturnPath) {
    const MimeMessage m = parse_mime_message(read_eml("bounce.eml"));
    EXPECT_TRUE(m.has_return_path);
    EXPECT_EQ(m.return_path, "");
    EXPECT_EQ(m.from_address, "MAILER-DAEMON@mx.example.org");
}

TEST(MimeMessageHeaders, FoldedAndReplyHeaders) {
    const std::string raw =
        "Subject: =?UTF-8?Q?Convention_de?=\r\n =?UTF-8?Q?_l'=C3=A9l=C3=A8ve?= suite\r\n"
        "In-Reply-To: <a@b>\r\nReferences: <x@y>\r\n\t<a@b>\r\nMessage-Id: <ID@Host>\r\n"
        "Date: 1 Jan 2000 00:00:00 GMT\r\n\r\nbody\r\n";
    const MimeMessage m = parse_mime_message(raw);
    EXPECT_EQ(m.subject, "Convention de l'élève suite");
    EXPECT_EQ(m.in_reply_to, "<a@b>");
    EXPECT_EQ(m.references, "<x@y> <a@b>");
    EXPECT_EQ(m.message_id, "<ID@Host>");
    ASSERT_TRUE(m.date_epoch.has_value());
    EXPECT_EQ(*m.date_epoch, 946684800);
    EXPECT_EQ(m.text, "body");
}

TEST(MimeMessageHeaders, BareCrIsRemovedNeverALineBreak) {
    const std::string raw =
        "From: ce.0596082r@ac-lille.fr\r\n"
        "Subject: PPO\rBcc: evil@attacker.example\r\n"
        "Message-ID: <abc\rBcc: evil@attacker.example>\r\n"
        "In-Reply-To: <ok@x>\r\n"
        "References: <ok@x> <bad\rBcc: evil@attacker.example> <fine@y>\r\n"
        "X-Odd\r: value\r\n"
        "\r\nbody\r\n";
    const MimeMessage m = parse_mime_message(raw);
    for (const auto& h : m.headers) {
        EXPECT_NE(h.name, "Bcc");
        EXPECT_EQ(h.raw.find('\r'), std::string::npos) << h.name;
        EXPECT_EQ(h.value.find('\r'), std::string::npos) << h.name;
    }
    EXPECT_EQ(m.subject, "PPOBcc: evil@attacker.example");
    EXPECT_EQ(m.message_id, "");  // "<abcBcc: evil@attacker.example>" has a space: not a msg-id
    EXPECT_EQ(m.in_reply_to, "<ok@x>");
    EXPECT_EQ(m.references, "<ok@x> <fine@y>");
    EXPECT_EQ(m.header("X-Odd").value_or("?"), "value");
    EXPECT_EQ(m.text, "body");
}

TEST(MimeMessageHeaders, BareLfLineEndsAndInvalidIds) {
    const std::string raw =
        "From: ce.0596082r@ac-lille.fr\nMessage-ID: <a b@c>\nIn-Reply-To: John's message <x@y>\n"
        "References: (comment) <1@a>\n <2@b> junk\nSubject: s\n\nbody\n";
    const MimeMessage m = parse_mime_message(raw);
    EXPECT_EQ(m.message_id, "");
    EXPECT_EQ(m.in_reply_to, "<x@y>");
    EXPECT_EQ(m.references, "<1@a> <2@b>");
    EXPECT_EQ(m.subject, "s");
    EXPECT_EQ(m.text, "body");
    EXPECT_EQ(parse_mime_message("Message-ID: (c) <ok@host> \r\n\r\nx").message_id, "<ok@host>");
}

// ---------------------------------------------------------------------------
// Malformed and pathological input.

TEST(MimeMessageRobustness, EmptyMessageIsCorrupt) {
    const MimeMessage m = parse_mime_message("");
    EXPECT_TRUE(m.corrupt);
    EXPECT_EQ(m.corrupt_reason, "empty message");
}

TEST(MimeMessageRobustness, MissingHeadersBodyStillRead) {
    const MimeMessage m = parse_mime_message("just a line of text, no header at all\r\nsecond line\r\n");
    EXPECT_FALSE(m.corrupt);
    EXPECT_TRUE(m.headers.empty());
    EXPECT_EQ(m.text, "just a line of text, no header at all\nsecond line");
    EXPECT_TRUE(has_problem_containing(m, "no header")) << problems_of(m);
}

TEST(MimeMessageRobustness, MegabyteHeaderLine) {
    const std::string long_value(1024 * 1024, 'x');
    const std::string raw = "From: a@b.fr\r\nX-Long: " + long_value + "\r\nSubject: ok\r\n\r\nbody\r\n";
    const auto start = std::chrono::steady_clock::now();
    const MimeMessage m = parse_mime_message(raw);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_FALSE(m.corrupt);
    EXPECT_EQ(m.subject, "ok");
    ASSERT_TRUE(m.header("x-long").has_value());
    EXPECT_EQ(m.header("x-long")->size(), long_value.size());
    EXPECT_EQ(m.text, "body");
}

TEST(MimeMessageRobustness, OverMaxBytesIsCorrupt) {
    MimeLimits limits;
    limits.max_message_bytes = 100;
    const MimeMessage m = parse_mime_message("Subject: big\r\n\r\n" + std::string(200, 'a'), limits);
    EXPECT_TRUE(m.corrupt);
    EXPECT_NE(m.corrupt_reason.find("more than the limit of 100"), std::string::npos) << m.corrupt_reason;
    EXPECT_EQ(m.subject, "big");  // headers are still there to answer the sender
}

std::string many_parts_message(std::size_t parts) {
    std::string raw = "From: a@b.fr\r\nSubject: many\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n";
    raw.reserve(parts * 100);
    for (std::size_t i = 0; i < parts; ++i)
        raw += "--p\r\nContent-Type: application/octet-stream; name=\"f" + std::to_string(i) +
               ".bin\"\r\n\r\nx\r\n";
    raw += "--p--\r\n";
    return raw;
}

TEST(MimeMessageRobustness, TenThousandPartsHitTheLimitFast) {
    const std::string raw = many_parts_message(10000);
    const auto start = std::chrono::steady_clock::now();
    const MimeMessage m = parse_mime_message(raw);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_TRUE(m.corrupt);
    EXPECT_NE(m.corrupt_reason.find("more than 10000 MIME parts"), std::string::npos) << m.corrupt_reason;
    EXPECT_EQ(m.subject, "many");
}

TEST(MimeMessageRobustness, ManyPartsUnderTheLimitAreAllRead) {
    const MimeMessage m = parse_mime_message(many_parts_message(2000));
    EXPECT_FALSE(m.corrupt) << m.corrupt_reason;
    ASSERT_EQ(m.attachments.size(), 2000u);
    EXPECT_EQ(m.attachments[1999].filename, "f1999.bin");
    EXPECT_EQ(m.attachments[1999].data, "x");
}

std::string nested_message(std::size_t depth) {
    std::string raw = "From: a@b.fr\r\nSubject: deep\r\n";
    for (std::size_t i = 0; i < depth; ++i)
        raw += "Content-Type: multipart/mixed; boundary=\"d" + std::to_string(i) + "x\"\r\n\r\n--d" +
               std::to_string(i) + "x\r\n";
    raw += "Content-Type: text/plain\r\n\r\nbottom\r\n";
    for (std::size_t i = depth; i-- > 0;) raw += "--d" + std::to_string(i) + "x--\r\n";
    return raw;
}

TEST(MimeMessageRobustness, ThousandLevelsDeepIsCorrupt) {
    const auto start = std::chrono::steady_clock::now();
    const MimeMessage m = parse_mime_message(nested_message(1000));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
    EXPECT_TRUE(m.corrupt);
    EXPECT_NE(m.corrupt_reason.find("nested deeper than 50 levels"), std::string::npos) << m.corrupt_reason;
    EXPECT_EQ(m.subject, "deep");
}

TEST(MimeMessageRobustness, ModerateNestingIsRead) {
    const MimeMessage m = parse_mime_message(nested_message(30));
    EXPECT_FALSE(m.corrupt) << m.corrupt_reason;
    EXPECT_EQ(m.text, "bottom");
    EXPECT_TRUE(m.problems.empty()) << problems_of(m);
}

TEST(MimeMessageRobustness, HardDepthCapWhateverTheLimits) {
    MimeLimits limits;
    limits.max_depth = 100000;  // libetpan recurses: never more than 200 levels
    const MimeMessage deep = parse_mime_message(nested_message(1000), limits);
    EXPECT_TRUE(deep.corrupt);
    EXPECT_NE(deep.corrupt_reason.find("deeper than 200 levels"), std::string::npos) << deep.corrupt_reason;
    const MimeMessage ok = parse_mime_message(nested_message(190), limits);
    EXPECT_FALSE(ok.corrupt) << ok.corrupt_reason;
    EXPECT_EQ(ok.text, "bottom");
}

TEST(MimeMessageRobustness, DeepForwardChainIsCorrupt) {
    std::string raw = "Subject: fwd chain\r\n";
    for (int i = 0; i < 1000; ++i) raw += "Content-Type: message/rfc822\r\n\r\n";
    raw += "Subject: inner\r\n\r\nhello\r\n";
    const MimeMessage m = parse_mime_message(raw);
    EXPECT_TRUE(m.corrupt);
    EXPECT_NE(m.corrupt_reason.find("nested deeper"), std::string::npos) << m.corrupt_reason;
}

TEST(MimeMessageRobustness, CustomDepthLimit) {
    MimeLimits limits;
    limits.max_depth = 3;
    EXPECT_FALSE(parse_mime_message(nested_message(3), limits).corrupt);
    const MimeMessage m = parse_mime_message(nested_message(4), limits);
    EXPECT_TRUE(m.corrupt);
    EXPECT_NE(m.corrupt_reason.find("deeper than 3 levels"), std::string::npos) << m.corrupt_reason;
}

TEST(MimeMessageRobustness, GarbageNeverThrows) {
    const std::vector<std::string> inputs = {
        "\r\n\r\n",
        "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n",
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n",
        "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\n",
        "Content-Type: message/rfc822\r\n\r\n",
        "Content-Type: text/plain; charset=\"no-such-charset\"\r\n\r\n\xff\xfe\x80",
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n====",
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=",
        "Content-Type: application/pdf; name*0*=%; name*1=\r\n\r\nx",
        "Subject: =?utf-8?B?\r\n\r\n",
        "Subject: =?=?=?=?==?x?q?=?=\r\n\r\n",
        std::string("\0\0\0\r\n\r\n\0", 8),
        "From: <>\r\nDate: 99 Foo 2024 99:99:99 +9999\r\n\r\nx",
        "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: in digest\r\n\r\nhi\r\n--d--\r\n",
    };
    for (const std::string& raw : inputs) {
        SCOPED_TRACE(raw);
        EXPECT_NO_THROW({ const MimeMessage m = parse_mime_message(raw); (void)m; });
    }
}

TEST(MimeMessageRobustness, InvalidUtf8BodyBecomesReplacementCharacters) {
    const MimeMessage m =
        parse_mime_message("Content-Type: text/plain; charset=utf-8\r\n\r\nab\xff\xfe" "cd\xc3\r\n");
    EXPECT_EQ(m.text, "ab\xEF\xBF\xBD\xEF\xBF\xBD" "cd\xEF\xBF\xBD");
}

TEST(MimeMessageAttachments, LargeBase64AttachmentIsDecodedExactly) {
    std::string payload(30u * 1024 * 1024 / 4 * 3, '\0');  // 30 MB once base64-encoded
    std::uint32_t x = 12345;
    for (char& ch : payload) {
        x = x * 1664525u + 1013904223u;
        ch = static_cast<char>(x >> 24);
    }
    std::string raw =
        "From: a@b.fr\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=\"big\"\r\n\r\n"
        "--big\r\nContent-Type: application/zip; name=\"big.zip\"\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    raw += base64(payload);
    raw += "\r\n--big--\r\n";
    const MimeMessage m = parse_mime_message(raw);
    EXPECT_FALSE(m.corrupt) << m.corrupt_reason;
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, "big.zip");
    EXPECT_TRUE(m.attachments[0].data == payload);
    EXPECT_TRUE(m.problems.empty()) << problems_of(m);
}

TEST(MimeMessageAttachments, QuotedPrintableAttachmentAcrossChunks) {
    // A QP body longer than the 1 MiB decoding chunk, with escapes everywhere.
    std::string expected, encoded;
    for (int i = 0; i < 60000; ++i) {
        expected += "l=C3=A9 line " + std::to_string(i) + " \xC3\xA9t\xC3\xA9\r\n";
        encoded += "l=3DC3=3DA9 line " + std::to_string(i) + " =C3=A9t=\r\n=C3=A9\r\n";
    }
    const std::string raw = "Content-Type: application/octet-stream; name=x.txt\r\n"
                            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded;
    const MimeMessage m = parse_mime_message(raw);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_TRUE(m.attachments[0].data == expected) << m.attachments[0].data.substr(0, 200);
}

TEST(MimeMessageAttachments, DispositionDecidesInline) {
    const MimeMessage m = parse_mime_message(
        "Content-Type: multipart/mixed; boundary=q\r\n\r\n"
        "--q\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename=a.png\r\n\r\nA\r\n"
        "--q\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=b.png\r\n"
        "Content-ID: <b@x>\r\n\r\nB\r\n"
        "--q\r\nContent-Type: image/png; name=c.png\r\nContent-ID: <c@x>\r\n\r\nC\r\n"
        "--q\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nD\r\n"
        "--q--\r\n");
    ASSERT_EQ(m.attachments.size(), 4u);
    EXPECT_TRUE(m.attachments[0].inline_disposition);
    EXPECT_FALSE(m.attachments[1].inline_disposition);
    EXPECT_EQ(m.attachments[1].content_id, "b@x");
    EXPECT_FALSE(m.attachments[2].inline_disposition);  // Content-ID alone, outside multipart/related
    EXPECT_EQ(m.attachments[2].filename, "c.png");
    EXPECT_EQ(m.attachments[3].filename, "");
    EXPECT_EQ(m.attachments[3].content_type, "text/plain");
    EXPECT_EQ(m.attachments[3].data, "D");
    EXPECT_EQ(m.text, "");
}

TEST(MimeMessageAttachments, PathInFileNameIsStripped) {
    const MimeMessage m = parse_mime_message(
        "Content-Type: application/pdf; name=\"C:\\\\Users\\\\x\\\\ppo.pdf\"\r\n\r\n%PDF-1.4\r\n");
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, "ppo.pdf");
}

TEST(MimeMessageAttachments, UnquotedEightBitNameFallsBackToRawHeader) {
    const MimeMessage m = parse_mime_message(
        "Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n"
        "Content-Type: application/pdf; name=PPO lyc\xe9" "e.pdf\r\n\r\n%PDF-1.4\r\n--z--\r\n");
    ASSERT_EQ(m.attachments.size(), 1u) << problems_of(m);
    EXPECT_EQ(m.attachments[0].filename, "PPO lycée.pdf");
    EXPECT_EQ(m.attachments[0].data, "%PDF-1.4");
}

// An HTML-only message's links show their target ("label <URL>", as html2text
// writes them), so that download links can be found in the text; a link whose
// label is its URL, or that is no http(s) link, stays as it was.
TEST(MimeMessageBodies, HtmlLinksShowTheirTarget) {
    const MimeMessage m = parse_mime_message(
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        "<p>Bonjour,</p><p>Le PPO est trop lourd, voici le <a class=\"x\" HREF='https://we.tl/t-AbC?a=1&amp;b=2'>"
        "lien de t&eacute;l&eacute;chargement</a>.</p>"
        "<p><a href=\"https://nuage03.apps.education.fr/index.php/s/Xk3pQ9rTzWm4LbN\">"
        "https://nuage03.apps.education.fr/index.php/s/Xk3pQ9rTzWm4LbN</a></p>"
        "<p><a href=\"mailto:ce.0596082r@ac-lille.fr\">nous &eacute;crire</a> "
        "<a href=https://drive.google.com/file/d/1AbC/view><img src=\"cid:logo\"></a></p>\r\n");
    EXPECT_EQ(m.text,
              "Bonjour,\nLe PPO est trop lourd, voici le lien de téléchargement <https://we.tl/t-AbC?a=1&b=2>.\n"
              "https://nuage03.apps.education.fr/index.php/s/Xk3pQ9rTzWm4LbN\n"
              "nous écrire <https://drive.google.com/file/d/1AbC/view>");
}

}  // namespace
}  // namespace ppo::parsers
