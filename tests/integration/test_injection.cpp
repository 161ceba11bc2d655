// Nothing a stranger writes is injected into what we send (issue 11): a bare CR
// in a Message-ID, a Subject or a file name, stored by the server as delivered,
// must not become a line break in our acknowledgement (a Bcc:, an extra header
// or body line in a mail sent from the official address). And a lycée's
// address counts only when our receiving server authenticated it (RFC 8601).
//
// The hostile messages are written straight into Dovecot's Maildir (new/), byte
// for byte, as an MTA would deliver them: IMAP APPEND may refuse a bare CR.
//
// Lycées (tests/data/annuaire-hdf-sample.csv):
//   0596082R  LGT Camille Claudel, Douai (ce.0596082r@ac-lille.fr), IEN-IO ien-io.douai@ac-lille.fr
#include "bench/harness.h"
#include "parsers/mime/mime_message.h"
#include "parsers/mime/msg_id.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace ppo::testbench;

namespace {

namespace fs = std::filesystem;

const std::string kBefore = "2022-03-01T10:30:00+01:00";
const std::string kOfficial = "ce.0596082r@ac-lille.fr";
const std::string kIenIo = "ien-io.douai@ac-lille.fr";

// Delivers `raw` into the INBOX as a local delivery agent would: a file in
// Maildir/tmp renamed into Maildir/new, owned like the Maildir.
void deliver_raw(Harness& h, const std::string& raw) {
    (void)h.imap().count("INBOX");  // the first login creates the Maildir
    const fs::path maildir = fs::path(h.imap().dir()) / "mail" / h.imap().user() / "Maildir";
    ASSERT_TRUE(fs::is_directory(maildir / "new")) << maildir;
    static std::atomic<int> seq{0};
    const std::string name = std::to_string(::time(nullptr)) + ".P" + std::to_string(::getpid()) + "Q" +
                             std::to_string(seq++) + ".ppo-test";
    const fs::path tmp = maildir / "tmp" / name;
    {
        std::ofstream out(tmp, std::ios::binary);
        out << raw;
        ASSERT_TRUE(out.good());
    }
    struct stat st{};
    ASSERT_EQ(::stat(maildir.c_str(), &st), 0);
    ASSERT_EQ(::chown(tmp.c_str(), st.st_uid, st.st_gid), 0);
    fs::rename(tmp, maildir / "new" / name);
}

// The header block of a raw message, split into fields exactly as an SMTP
// server or a client would: lines end at CRLF, LF or a bare CR.
std::vector<std::string> header_field_names(const std::string& raw, std::string* body) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos <= raw.size()) {
        std::size_t end = raw.find_first_of("\r\n", pos);
        if (end == std::string::npos) end = raw.size();
        lines.push_back(raw.substr(pos, end - pos));
        if (end >= raw.size()) break;
        pos = end + ((raw[end] == '\r' && end + 1 < raw.size() && raw[end + 1] == '\n') ? 2 : 1);
        if (lines.back().empty()) {
            if (body) *body = raw.substr(pos);
            lines.pop_back();
            break;
        }
    }
    std::vector<std::string> names;
    for (const auto& l : lines) {
        if (l.empty() || l[0] == ' ' || l[0] == '\t') continue;
        names.push_back(l.substr(0, l.find(':')));
    }
    return names;
}

TestMail claudel(const std::string& message_id, const std::string& tag) {
    TestMail m;
    m.from = kOfficial;
    m.subject = "PPO";
    m.message_id = message_id;
    m.files = {{"PPO.pdf", "application/pdf", sample_pdf(tag), ""}};
    return m;
}

struct Sent {
    CapturedMail ack;
    CapturedMail forward;
};

// One fresh bench, one message (raw into the Maildir), poll --once: the mails sent.
Sent run_one(const std::string& raw, std::vector<CapturedMail>* all = nullptr) {
    Harness h;
    deliver_raw(h, raw);
    auto r = h.ppo({"poll", "--once"}, kBefore);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto mails = h.smtp().wait_for(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    mails = h.smtp().messages();
    if (all) *all = mails;
    Sent s;
    for (const auto& m : mails) {
        if (header_of(m.data, "X-PPO-UAI").empty()) s.ack = m;
        else s.forward = m;
    }
    return s;
}

}  // namespace

TEST(Injection, BareCrInMessageIdSubjectAndFileNameChangesNothingInTheAcknowledgement) {
    // A control message, then the same with bare CRs where a stranger can put them.
    TestMail clean = claudel("<control.1@client.example>", "same-pdf");
    TestMail hostile = claudel("<inject.1@client.example\rBcc: evil@attacker.example\r>", "same-pdf");
    hostile.subject = "PPO\rBcc: evil2@attacker.example\r";
    // A control character in a file name is dropped from the archived name
    // (safe_file_name), which the acknowledgement lists: "PPO.pdf" as the control's.
    hostile.files[0].name = "PP\rO.pdf";
    hostile.headers = {{"References", "<ok.0@client.example> <x\rBcc: evil4@attacker.example\r@y>"},
                       {"In-Reply-To", "<z\r\tBcc: evil5@attacker.example\r@y>"}};
    const std::string hostile_raw = build_test_mail(hostile);
    ASSERT_NE(hostile_raw.find("example\rBcc"), std::string::npos);  // the bytes really are there

    std::vector<CapturedMail> all;
    const Sent bad = run_one(hostile_raw, &all);
    const Sent good = run_one(build_test_mail(clean));
    ASSERT_FALSE(bad.ack.data.empty()) << "no acknowledgement for the hostile message";
    ASSERT_FALSE(good.ack.data.empty()) << "no acknowledgement for the control message";

    // Envelope: only the lycée (ack) and its IEN-IO (forward), nothing else.
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(bad.ack.rcpt_to, std::vector<std::string>{kOfficial});
    EXPECT_EQ(bad.forward.rcpt_to, std::vector<std::string>{kIenIo});
    for (const auto& m : all) EXPECT_EQ(m.data.find("attacker.example"), std::string::npos) << m.data;

    // Header fields: the control's, without the In-Reply-To the hostile id lost,
    // and with a References made of the one valid id.
    std::string bad_body, good_body;
    auto bad_names = header_field_names(bad.ack.data, &bad_body);
    auto good_names = header_field_names(good.ack.data, &good_body);
    EXPECT_EQ(std::count(bad_names.begin(), bad_names.end(), "Bcc"), 0);
    good_names.erase(std::remove(good_names.begin(), good_names.end(), "In-Reply-To"), good_names.end());
    EXPECT_EQ(bad_names, good_names);
    const std::string in_reply_to = header_of(bad.ack.data, "In-Reply-To");
    EXPECT_TRUE(in_reply_to.empty() || ppo::parsers::parse_msg_id(in_reply_to)) << in_reply_to;
    EXPECT_EQ(header_of(bad.ack.data, "References"), "<ok.0@client.example>");
    EXPECT_EQ(header_of(good.ack.data, "In-Reply-To"), "<control.1@client.example>");
    EXPECT_EQ(header_of(bad.ack.data, "Subject"), header_of(good.ack.data, "Subject"));

    // Body: exactly the control's (same template, lycée, date, number and file).
    EXPECT_EQ(bad_body, good_body);
    const auto parsed = ppo::parsers::parse_mime_message(bad.ack.data);
    EXPECT_NE(parsed.text.find("PPO.pdf"), std::string::npos) << parsed.text;
    EXPECT_EQ(parsed.text.find("Bcc"), std::string::npos) << parsed.text;
    // The forward carries the file under its cleaned name, and no stray header either.
    const auto fwd = ppo::parsers::parse_mime_message(bad.forward.data);
    ASSERT_EQ(fwd.attachments.size(), 1u);
    EXPECT_EQ(fwd.attachments[0].filename.find('\r'), std::string::npos);
    auto fwd_names = header_field_names(bad.forward.data, nullptr);
    EXPECT_EQ(std::count(fwd_names.begin(), fwd_names.end(), "Bcc"), 0);
}

// ---------------------------------------------------------------------------
// Sender authentication with a trusted authserv-id.

namespace {

Harness::Options trusting() {
    Harness::Options o;
    o.extra_config = {{"intake.trusted_authserv_id", "mx.example.fr"}};
    return o;
}

std::string reason_of(const Poco::JSON::Array::Ptr& un, const std::string& subject) {
    for (unsigned i = 0; i < un->size(); ++i) {
        auto o = un->getObject(i);
        if (o->getValue<std::string>("subject") == subject) return o->getValue<std::string>("reason");
    }
    return "(not in the triage list)";
}

}  // namespace

TEST(SenderAuthentication, ForgedOfficialAddressIsNeverCreditedNorAnswered) {
    Harness h(trusting());
    struct Forged {
        std::string id;
        std::vector<std::pair<std::string, std::string>> headers;
    };
    const std::vector<Forged> forged = {
        {"<failing@attacker.example>", {{"Authentication-Results", "mx.example.fr; dmarc=fail header.from=ac-lille.fr; spf=fail"}}},
        {"<no-header@attacker.example>", {}},
        {"<spaced@attacker.example>", {{"Authentication-Results", "mx.example.fr; dmarc = fail (p=reject) header.from = ac-lille.fr"}}},
        {"<dmarc-none@attacker.example>", {{"Authentication-Results", "mx.example.fr; dmarc=none header.from=ac-lille.fr"}}},
        {"<untrusted-pass@attacker.example>",
         {{"Authentication-Results", "mx.attacker.example; dmarc=pass header.from=ac-lille.fr; spf=pass smtp.mailfrom=ac-lille.fr"}}},
        {"<encoded@attacker.example>", {{"Authentication-Results", "=?UTF-8?Q?mx.example.fr;_dmarc=3Dpass?="}}},
    };
    for (const auto& f : forged) {
        TestMail m = claudel(f.id, f.id);
        m.subject = "PPO 0596082R " + f.id;  // even with the UAI in the subject
        m.headers = f.headers;
        h.deliver(m);
    }
    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(h.imap().count("INBOX"), 0u);

    auto status = h.status(kBefore);
    auto un = status->getArray("unidentified");
    EXPECT_EQ(un->size(), forged.size());
    for (const auto& f : forged) {
        const std::string reason = reason_of(un, "PPO 0596082R " + f.id);
        EXPECT_EQ(reason.rfind("sender not authenticated", 0), 0u) << f.id << ": " << reason;
    }
    auto l = h.lycee("0596082R", kBefore);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->getArray("submissions")->size(), 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    EXPECT_TRUE(h.smtp().messages().empty()) << h.smtp().messages().front().data;

    // The real lycée, passing DMARC at our server: credited and acknowledged.
    TestMail real = claudel("<real@ac-lille.fr>", "real");
    real.headers = {{"Authentication-Results", "mx.attacker.example; dmarc=fail"},
                    {"Authentication-Results", "MX.Example.FR;\r\n\tdkim=pass header.d=ac-lille.fr;\r\n\tdmarc=pass (p=reject) header.from=ac-lille.fr"}};
    h.deliver(real);
    r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    l = h.lycee("0596082R", kBefore);
    ASSERT_EQ(l->getArray("submissions")->size(), 1u);
    EXPECT_EQ(l->getArray("submissions")->getObject(0)->getValue<std::string>("identified_by"), "sender");
    auto mails = h.smtp().wait_for(2);
    ASSERT_EQ(mails.size(), 2u);
    std::vector<std::string> rcpts;
    for (const auto& m : mails) rcpts.insert(rcpts.end(), m.rcpt_to.begin(), m.rcpt_to.end());
    std::sort(rcpts.begin(), rcpts.end());
    EXPECT_EQ(rcpts, (std::vector<std::string>{kOfficial, kIenIo}));
}

TEST(SenderAuthentication, CheckConfigWarnsWhenItIsOff) {
    Harness off;
    auto r = off.ppo({"check-config"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("sender authentication is off"), std::string::npos) << r.out;
    Harness on(trusting());
    r = on.ppo({"check-config"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("sender authentication is off"), std::string::npos) << r.out;
}
