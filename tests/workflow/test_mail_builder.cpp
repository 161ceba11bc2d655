#include "parsers/text/error.h"
#include "parsers/mime/mime_message.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/config/config.h"
#include "workflow/mail/mail_builder.h"
#include "workflow/mail/templates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string_view>
#include <vector>

using namespace ppo::workflow;

TEST(MailBuilder, RoundTripsThroughTheMimeParser) {
    MailSpec s;
    s.from = "PPO Hauts-de-France <ppo@region-academique-hauts-de-france.fr>";
    s.to = {"ce.0596082r@ac-lille.fr"};
    s.cc = {"ien-io.douai@ac-lille.fr"};
    s.subject = "Accusé de réception — Lycée Camille Claudel (0596082R), un sujet assez long pour être replié sur deux mots";
    s.message_id = "<1.2@region-academique-hauts-de-france.fr>";
    s.in_reply_to = "<orig@ac-lille.fr>";
    s.auto_submitted = "auto-replied";
    s.date = 1646125200;
    s.text = "Bonjour,\n.ligne qui commence par un point\nÉlève, coût : 10 €\n" + std::string(200, 'x') + "\n";
    std::string binary;
    for (int i = 0; i < 5000; ++i) binary += static_cast<char>(i * 7 % 256);
    s.attachments = {{"PPO Lycée — été 2022 avec un nom de fichier vraiment très long pour les continuations.pdf",
                      "application/pdf", binary, ""}};
    auto raw = build_mail(s);
    for (std::size_t start = 0, nl; (nl = raw.find("\r\n", start)) != std::string::npos; start = nl + 2)
        EXPECT_LE(nl - start, 998u);
    EXPECT_EQ(raw.find("\n.", 0), std::string::npos) << "no line may start with a dot";
    auto m = ppo::parsers::parse_mime_message(raw);
    EXPECT_FALSE(m.corrupt) << m.corrupt_reason;
    EXPECT_EQ(m.subject, s.subject);
    EXPECT_EQ(m.from_address, "ppo@region-academique-hauts-de-france.fr");
    EXPECT_EQ(m.from_display, "PPO Hauts-de-France");
    EXPECT_EQ(m.message_id, s.message_id);
    EXPECT_EQ(*m.header("Auto-Submitted"), "auto-replied");
    EXPECT_EQ(*m.header("In-Reply-To"), "<orig@ac-lille.fr>");
    EXPECT_EQ(m.date_epoch.value_or(0), 1646125200);
    EXPECT_NE(m.text.find("Élève, coût : 10 €"), std::string::npos);
    EXPECT_NE(m.text.find(".ligne qui commence"), std::string::npos);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].filename, s.attachments[0].filename);
    EXPECT_EQ(m.attachments[0].data, binary);
}

TEST(MailBuilder, HtmlAlternative) {
    MailSpec s;
    s.from = "ppo@example.fr";
    s.to = {"draio@example.fr"};
    s.subject = "Point";
    s.message_id = "<d@example.fr>";
    s.text = "texte";
    s.html = "<p>tableau</p>";
    auto raw = build_mail(s);
    EXPECT_NE(raw.find("multipart/alternative"), std::string::npos);
    auto m = ppo::parsers::parse_mime_message(raw);
    EXPECT_NE(m.text.find("texte"), std::string::npos);
}

TEST(CampaignTime, DeadlineAndLocalTimesAcrossDaylightSaving) {
    auto c = parse_config("", "/x/t.conf").campaign;
    // The deadline day ends at midnight Paris time (CET, UTC+1).
    EXPECT_EQ(iso_local(deadline_end(c), "Europe/Paris"), "2022-03-26T00:00:00+01:00");
    // 09:00 local before and after the change of 27 March 2022.
    EXPECT_EQ(iso_local(local_instant("2022-03-25", 0, 540, "Europe/Paris"), "UTC"), "2022-03-25T08:00:00+00:00");
    EXPECT_EQ(iso_local(local_instant("2022-03-25", 7, 540, "Europe/Paris"), "UTC"), "2022-04-01T07:00:00+00:00");
    // 02:30 does not exist on 27 March: the first valid instant after the gap.
    EXPECT_EQ(iso_local(local_instant("2022-03-27", 0, 150, "Europe/Paris"), "Europe/Paris"), "2022-03-27T03:00:00+02:00");
    EXPECT_EQ(french_date("2022-03-01"), "1er mars 2022");
    EXPECT_EQ(french_datetime(1646125200, "Europe/Paris"), "1er mars 2022 à 10 h 00");
    EXPECT_EQ(parse_instant("2022-03-04T09:00:00+01:00", "Europe/Paris"), 1646380800);
    EXPECT_EQ(parse_instant("2022-03-04T08:00:00Z", "Europe/Paris"), 1646380800);
    EXPECT_EQ(parse_instant("2022-03-04T09:00", "Europe/Paris"), 1646380800);
    EXPECT_THROW(parse_instant("demain", "Europe/Paris"), ppo::Error);
    EXPECT_EQ(local_weekday(1646380800, "Europe/Paris"), 5);  // a Friday
}

TEST(Templates, SectionsPlaceholdersAndErrors) {
    auto ok = "Subject: PPO {{uai}}\n\n{{#en_retard}}En retard.{{/en_retard}}{{^en_retard}}À l'heure.{{/en_retard}} {{lycee_nom}}\n";
    std::map<std::string, std::string> texts;
    for (const auto& [name, _] : Templates::known()) texts[name] = ok;
    // "en_retard" is not a placeholder of every template: give the others a plain one.
    for (auto& [name, text] : texts)
        if (name != "ack" && name != "forward") text = "Subject: {{uai}}\n\n{{lycee_nom}}\n";
    auto t = Templates::from_texts(texts);
    auto r = t.render("ack", {{"uai", "0596082R"}, {"lycee_nom", "Lycée X"}, {"en_retard", "1"}});
    EXPECT_EQ(r.subject, "PPO 0596082R");
    EXPECT_EQ(r.body, "En retard. Lycée X\n");
    r = t.render("ack", {{"uai", "0596082R"}, {"lycee_nom", "Lycée X"}, {"en_retard", ""}});
    EXPECT_EQ(r.body, "À l'heure. Lycée X\n");

    texts["ack"] = "Subject: x\n\n{{inconnu}}\n";
    EXPECT_THROW(Templates::from_texts(texts), ppo::Error);
    texts["ack"] = "Subject: x\n\n{{#en_retard}}never closed\n";
    EXPECT_THROW(Templates::from_texts(texts), ppo::Error);
    texts["ack"] = "no subject line\n";
    EXPECT_THROW(Templates::from_texts(texts), ppo::Error);
    // The shipped templates load.
    EXPECT_NO_THROW(Templates::load(std::string(PPO_SOURCE_DIR) + "/etc/templates"));
}

TEST(MailBuilder, FileReferencesAreStreamedAtSendTime) {
    MailSpec s;
    s.from = "ppo@example.fr";
    s.to = {"ien-io.douai@ac-lille.fr"};
    s.subject = "PPO";
    s.message_id = "<f@example.fr>";
    s.text = "Ci-joint.";
    s.attachments = {{"a.pdf", "application/pdf", "", "/archive/09/095912/0596082R/1/a.pdf"},
                     {"b.pdf", "application/pdf", "", "/archive/09/095912/0596082R/1/b.pdf"}};
    auto stored = build_mail(s);
    EXPECT_TRUE(has_file_references(stored));
    EXPECT_LT(stored.size(), 2000u);
    std::map<std::string, std::string> files = {{"/archive/09/095912/0596082R/1/a.pdf", std::string(100000, 'a')},
                                                {"/archive/09/095912/0596082R/1/b.pdf", "%PDF-1.4 b"}};
    EXPECT_EQ(file_references(stored),
              (std::vector<std::string>{"/archive/09/095912/0596082R/1/a.pdf", "/archive/09/095912/0596082R/1/b.pdf"}));
    std::vector<std::string> contents = {files.begin()->second, std::next(files.begin())->second};
    // The same message as with the files inline, whatever size the reads come in
    // (short reads must not cut a base64 line or a 3-byte group).
    s.attachments[0].data = contents[0];
    s.attachments[1].data = contents[1];
    const std::string inline_mail = build_mail(s);
    for (std::size_t chunk : {1, 7, 57, 1000, 65536, 1 << 20}) {
        std::vector<std::size_t> offsets(2, 0);
        std::string sent;
        std::size_t pieces = 0;
        write_with_files(
            stored,
            [&](std::size_t i, char* buffer, std::size_t max) {
                const std::size_t n = std::min({chunk, max, contents.at(i).size() - offsets[i]});
                contents[i].copy(buffer, n, offsets[i]);
                offsets[i] += n;
                return n;
            },
            [&](std::string_view piece) {
                sent.append(piece);
                ++pieces;
            });
        EXPECT_EQ(sent, inline_mail) << "reads of " << chunk << " bytes";
        EXPECT_GT(pieces, 3u);
        EXPECT_EQ(size_with_files(stored, {contents[0].size(), contents[1].size()}), sent.size());
    }
    auto m = ppo::parsers::parse_mime_message(inline_mail);
    ASSERT_EQ(m.attachments.size(), 2u);
    EXPECT_EQ(m.attachments[0].data, files.begin()->second);
    EXPECT_EQ(m.attachments[1].data, "%PDF-1.4 b");
    // Every length around a line (57 bytes) and a group (3): size_with_files as written.
    for (std::size_t n = 0; n < 200; ++n) {
        MailSpec one = s;
        one.attachments = {{"c.pdf", "application/pdf", "", "/c.pdf"}};
        const std::string data(n, 'c');
        const std::string stored_one = build_mail(one);
        std::string sent;
        std::size_t at = 0;
        write_with_files(
            stored_one,
            [&](std::size_t, char* buffer, std::size_t max) {
                const std::size_t k = std::min(max, n - at);
                data.copy(buffer, k, at);
                at += k;
                return k;
            },
            [&](std::string_view piece) { sent.append(piece); });
        one.attachments[0].data = data;
        one.attachments[0].source_path.clear();   // inline, even when empty
        ASSERT_EQ(sent, build_mail(one)) << n;
        ASSERT_EQ(size_with_files(stored_one, {n}), sent.size()) << n;
    }
    EXPECT_FALSE(has_file_references(build_mail(MailSpec{})));
}

TEST(MailBuilder, Base64LinesAtEveryLengthAroundTheLineAndGroupSizes) {
    // Checked against a plain decoder: every tail (0, 1 or 2 padding bytes),
    // lines of exactly 57 input bytes, and one byte either side.
    auto decode = [](const std::string& text) {
        static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string out;
        unsigned acc = 0;
        int bits = 0;
        for (char c : text) {
            auto v = alphabet.find(c);
            if (v == std::string::npos) continue;   // CRLF and '='
            acc = (acc << 6) | static_cast<unsigned>(v);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                out += static_cast<char>((acc >> bits) & 0xFF);
            }
        }
        return out;
    };
    std::string data;
    for (std::size_t n = 0; n <= 3 * 57 + 2; ++n) {
        const std::string lines = base64_lines(data);
        EXPECT_EQ(decode(lines), data) << n;
        std::size_t pos = 0;
        while (pos < lines.size()) {
            auto crlf = lines.find("\r\n", pos);
            ASSERT_NE(crlf, std::string::npos) << n;
            EXPECT_LE(crlf - pos, 76u) << n;
            EXPECT_EQ(lines.find('\0', pos), std::string::npos) << n;
            pos = crlf + 2;
        }
        EXPECT_EQ(lines.empty(), n == 0);
        data += static_cast<char>((n * 151 + 7) & 0xFF);
    }
}

TEST(MailBuilder, RefusesCrLfAndNulInEveryHeaderValue) {
    const auto base = [] {
        MailSpec s;
        s.from = "PPO <ppo@region-academique-hauts-de-france.fr>";
        s.to = {"ce.0596082r@ac-lille.fr"};
        s.subject = "Accusé";
        s.message_id = "<1.2@region-academique-hauts-de-france.fr>";
        s.in_reply_to = "<orig@ac-lille.fr>";
        s.references = "<a@b> <orig@ac-lille.fr>";
        s.text = "x\n";
        s.attachments = {{"PPO.pdf", "application/pdf", "%PDF", ""}};
        return s;
    };
    EXPECT_NO_THROW(build_mail(base()));
    using Mutate = void (*)(MailSpec&, const std::string&);
    const std::pair<const char*, Mutate> fields[] = {
        {"from", [](MailSpec& s, const std::string& v) { s.from = "PPO <ppo@x.fr" + v + ">"; }},
        {"display name", [](MailSpec& s, const std::string& v) { s.from = "PPO" + v + " <ppo@x.fr>"; }},
        {"to", [](MailSpec& s, const std::string& v) { s.to.push_back("a@b.fr" + v); }},
        {"cc", [](MailSpec& s, const std::string& v) { s.cc = {"a@b.fr" + v}; }},
        {"reply-to", [](MailSpec& s, const std::string& v) { s.reply_to = "a@b.fr" + v; }},
        {"subject", [](MailSpec& s, const std::string& v) { s.subject = "Accusé" + v; }},
        {"message-id", [](MailSpec& s, const std::string& v) { s.message_id = "<1" + v + "@x.fr>"; }},
        {"in-reply-to", [](MailSpec& s, const std::string& v) { s.in_reply_to = "<abc" + v + "@x.fr>"; }},
        {"references", [](MailSpec& s, const std::string& v) { s.references += v; }},
        {"auto-submitted", [](MailSpec& s, const std::string& v) { s.auto_submitted = "auto-replied" + v; }},
        {"extra value", [](MailSpec& s, const std::string& v) { s.extra_headers = {{"X-Loop", "a@b.fr" + v}}; }},
        {"extra name", [](MailSpec& s, const std::string& v) { s.extra_headers = {{"X-Loop" + v, "a@b.fr"}}; }},
        {"file name", [](MailSpec& s, const std::string& v) { s.attachments[0].filename = "PPO" + v + ".pdf"; }},
        {"content type", [](MailSpec& s, const std::string& v) { s.attachments[0].content_type = "application/pdf" + v; }},
    };
    for (const auto& [what, mutate] : fields) {
        for (const std::string& bad : {std::string("\r"), std::string("\n"), std::string("\r\nBcc: evil@attacker.example"),
                                      std::string(1, '\0')}) {
            MailSpec s = base();
            mutate(s, bad);
            EXPECT_THROW(build_mail(s), std::logic_error) << what;
        }
    }
    MailSpec s = base();
    s.extra_headers = {{"X Loop", "a"}};
    EXPECT_THROW(build_mail(s), std::logic_error);
}

TEST(MailBuilder, LongReferencesAreFoldedBetweenIds) {
    MailSpec s;
    s.from = "ppo@x.fr";
    s.to = {"a@b.fr"};
    s.message_id = "<1@x.fr>";
    for (int i = 0; i < 40; ++i) s.references += (i ? " " : "") + std::string("<") + std::to_string(i) + ".thread@lycee.ac-lille.fr>";
    const std::string raw = build_mail(s);
    const auto m = ppo::parsers::parse_mime_message(raw);
    EXPECT_EQ(m.references, s.references);
    for (std::size_t start = 0, nl; (nl = raw.find("\r\n", start)) != std::string::npos; start = nl + 2)
        EXPECT_LE(nl - start, 78u);
}

// The one base64 encoder (mail bodies, encoded words, SMTP AUTH): RFC 4648's test vectors.
TEST(MailBuilder, Base64IsRfc4648) {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                           {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [in, out] : vectors) EXPECT_EQ(ppo::workflow::base64(in), out) << in;
    EXPECT_EQ(ppo::workflow::base64(std::string("\0user\0pass", 10)), "AHVzZXIAcGFzcw==");
}

// Dates from the calendar of <chrono>: the Unix epoch, a day past a month's end
// (counts on, as RFC 5322 readers do), the campaign's deadline.
TEST(MimeDates, DaysFromTheCalendarOfChrono) {
    auto date_of = [](const std::string& date) {
        return ppo::parsers::parse_mime_message("Date: " + date + "\r\nFrom: a@b.fr\r\n\r\nx\r\n").date_epoch;
    };
    EXPECT_EQ(date_of("Thu, 01 Jan 1970 00:00:00 +0000"), std::optional<std::int64_t>(0));
    EXPECT_EQ(date_of("Tue, 29 Feb 2022 10:00:00 +0100"), date_of("Tue, 01 Mar 2022 10:00:00 +0100"));
    EXPECT_EQ(date_of("Fri, 25 Mar 2022 23:59:00 +0100"), std::optional<std::int64_t>(1648249140));
}
