// Intake end to end: real Dovecot, real SMTP capture, the real binary, the
// sample directory. Lycées used (from tests/data/annuaire-hdf-sample.csv):
//   0596082R  LGT Camille Claudel, Douai (public, ce.0596082r@ac-lille.fr, bassin 095912 -> ien-io.douai)
//   0597091M  LGT Alexandre Ribot, Armentières (public, bassin 095914 -> ien-io.lille)
//   0626769W  Lycée privé Jeanne d'Arc, Saint-Omer (direction.jeanne-darc@orange.fr, bassin 096212)
#include "bench/harness.h"

#include "daemon/store/file_archive.h"
#include "parsers/mime/mime_message.h"


#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using namespace ppo::testbench;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";   // before the deadline
const std::string kAfter = "2022-03-28T10:00:00+02:00";    // after it

Poco::JSON::Array::Ptr submissions(const Poco::JSON::Object::Ptr& lycee) { return lycee->getArray("submissions"); }

Poco::JSON::Object::Ptr submission(const Poco::JSON::Object::Ptr& lycee, unsigned i) {
    return submissions(lycee)->getObject(i);
}

std::vector<CapturedMail> mails_to(const std::vector<CapturedMail>& all, const std::string& rcpt) {
    std::vector<CapturedMail> out;
    for (const auto& m : all)
        if (std::find(m.rcpt_to.begin(), m.rcpt_to.end(), rcpt) != m.rcpt_to.end()) out.push_back(m);
    return out;
}

std::string json_files(const Poco::JSON::Object::Ptr& sub) {
    std::string names;
    auto files = sub->getArray("files");
    for (unsigned i = 0; i < files->size(); ++i) names += (i ? "|" : "") + files->getObject(i)->getValue<std::string>("name");
    return names;
}

}  // namespace

TEST(Intake, OfficialAddressIsRecordedAcknowledgedForwardedAndFiled) {
    Harness h;
    const std::string pdf = sample_pdf("claudel", 200000);
    TestMail m;
    m.from = "CE.0596082R@ac-lille.fr";
    m.subject = "PPO";
    m.files = {{"PPO 2022.pdf", "application/pdf", pdf, ""}};
    h.deliver(m);

    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    auto l = h.lycee("0596082R");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->getValue<std::string>("state"), "received");
    ASSERT_EQ(submissions(l)->size(), 1u);
    auto s = submission(l, 0);
    EXPECT_EQ(s->getValue<std::string>("identified_by"), "sender");
    EXPECT_EQ(s->getValue<std::string>("from"), "ce.0596082r@ac-lille.fr");
    EXPECT_TRUE(s->getValue<bool>("acknowledged"));
    EXPECT_TRUE(s->getValue<bool>("forwarded"));
    auto file = s->getArray("files")->getObject(0);
    EXPECT_EQ(file->getValue<std::string>("name"), "PPO 2022.pdf");
    EXPECT_EQ(file->getValue<std::int64_t>("size"), static_cast<std::int64_t>(pdf.size()));
    EXPECT_EQ(file->getValue<std::string>("sha256"), ppo::daemon::sha256_hex(pdf));

    // The message left the inbox for the processed folder.
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    EXPECT_EQ(h.imap().count("PPO.Traites"), 1u);

    auto mails = h.smtp().wait_for(2);
    auto acks = mails_to(mails, "ce.0596082r@ac-lille.fr");
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(header_of(acks[0].data, "Auto-Submitted"), "auto-replied");
    EXPECT_NE(header_of(acks[0].data, "In-Reply-To").find("@client.example>"), std::string::npos);
    EXPECT_NE(header_of(acks[0].data, "Message-ID").find("@region-academique-hauts-de-france.fr>"), std::string::npos);
    auto fwd = mails_to(mails, "ien-io.douai@ac-lille.fr");
    ASSERT_EQ(fwd.size(), 1u);
    EXPECT_EQ(header_of(fwd[0].data, "Reply-To"), "ce.0596082r@ac-lille.fr");
    // The forward carries the file byte for byte (decoded from the captured mail).
    auto parsed = ppo::parsers::parse_mime_message(fwd[0].data);
    ASSERT_EQ(parsed.attachments.size(), 1u);
    EXPECT_EQ(parsed.attachments[0].filename, "PPO 2022.pdf");
    EXPECT_EQ(parsed.attachments[0].data, pdf);

    // A second pass handles nothing again.
    r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(submissions(h.lycee("0596082R"))->size(), 1u);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(h.smtp().messages().size(), 2u);
}

TEST(Intake, PersonalAcademieAddressWithUaiInSubjectAcknowledgesBoth) {
    Harness h;
    TestMail m;
    m.from = "Marie Dupont <marie.dupont@ac-lille.fr>";
    m.subject = "PPO lycée Ribot 0597091M";
    m.files = {{"ppo.pdf", "application/pdf", sample_pdf("ribot"), ""}};
    h.deliver(m);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    auto l = h.lycee("0597091M");
    ASSERT_EQ(submissions(l)->size(), 1u);
    EXPECT_EQ(submission(l, 0)->getValue<std::string>("identified_by"), "uai");
    auto mails = h.smtp().wait_for(2);
    ASSERT_EQ(mails_to(mails, "ce.0597091m@ac-lille.fr").size(), 1u);
    auto ack = mails_to(mails, "ce.0597091m@ac-lille.fr")[0];
    EXPECT_NE(std::find(ack.rcpt_to.begin(), ack.rcpt_to.end(), "marie.dupont@ac-lille.fr"), ack.rcpt_to.end());
}

TEST(Intake, PrivateLyceeFromItsDirectoryAddress) {
    Harness h;
    TestMail m;
    m.from = "Direction <Direction.Jeanne-Darc@orange.fr>";
    m.subject = "Notre PPO";
    m.files = {{"PPO.docx", "application/octet-stream", sample_pdf("jeanne"), ""}};
    h.deliver(m);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    auto l = h.lycee("0626769W");
    ASSERT_EQ(submissions(l)->size(), 1u);
    EXPECT_EQ(submission(l, 0)->getValue<std::string>("identified_by"), "sender");
    auto mails = h.smtp().wait_for(1);
    EXPECT_EQ(mails_to(mails, "direction.jeanne-darc@orange.fr").size(), 1u);
}

TEST(Intake, UaiOnlyInFileNameAndOutsideSenderGetsNoAcknowledgement) {
    Harness h;
    TestMail m;
    m.from = "secretariat.lycee@gmail.com";
    m.subject = "document";
    m.body = "Bonjour, voici le fichier.";
    m.files = {{"PPO_0597091M.pdf", "application/pdf", sample_pdf("file-name"), ""}};
    h.deliver(m);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    auto l = h.lycee("0597091M");
    ASSERT_EQ(submissions(l)->size(), 1u);
    EXPECT_EQ(submission(l, 0)->getValue<std::string>("identified_by"), "uai");
    auto mails = h.smtp().wait_for(2);
    for (const auto& mail : mails)
        for (const auto& rcpt : mail.rcpt_to) EXPECT_NE(rcpt, "secretariat.lycee@gmail.com") << "backscatter";
    EXPECT_EQ(mails_to(mails, "ce.0597091m@ac-lille.fr").size(), 1u);
}

TEST(Intake, Rfc2231Utf8FileNameIsDecoded) {
    Harness h;
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    TestFile f;
    f.data = sample_pdf("2231");
    f.raw_disposition =
        "Content-Type: application/pdf\r\n"
        "Content-Disposition: attachment;\r\n"
        " filename*0*=UTF-8''PPO%20Lyc%C3%A9e%20Camille%20;\r\n"
        " filename*1*=Claudel%20%E2%80%94%20%C3%A9t%C3%A9.pdf\r\n";
    m.files = {f};
    h.deliver(m);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    auto l = h.lycee("0596082R");
    ASSERT_EQ(submissions(l)->size(), 1u);
    EXPECT_EQ(json_files(submission(l, 0)), "PPO Lycée Camille Claudel — été.pdf");
}

TEST(Intake, ForwardedMessageKeepsTheInnerDocument) {
    Harness h;
    TestMail inner;
    inner.from = "proviseur@gmail.com";
    inner.subject = "PPO";
    inner.files = {{"PPO Claudel.pdf", "application/pdf", sample_pdf("inner"), ""}};
    std::string inner_raw = build_test_mail(inner);
    std::string raw =
        "From: ce.0596082r@ac-lille.fr\r\nTo: ppo@region-academique-hauts-de-france.fr\r\nSubject: TR: PPO\r\n"
        "Message-ID: <fwd.1@ac-lille.fr>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
        "--outer\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nVoir ci-dessous.\r\n"
        "--outer\r\nContent-Type: message/rfc822\r\n\r\n" +
        inner_raw + "\r\n--outer--\r\n";
    h.imap().append(raw);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    auto l = h.lycee("0596082R");
    ASSERT_EQ(submissions(l)->size(), 1u);
    EXPECT_EQ(json_files(submission(l, 0)), "PPO Claudel.pdf");
}

TEST(Intake, OutOfOfficeAndBounceGetNoAcknowledgementAndGoToIgnored) {
    Harness h;
    TestMail ooo;
    ooo.from = "ce.0596082r@ac-lille.fr";
    ooo.subject = "Absence du bureau";
    ooo.headers = {{"Auto-Submitted", "auto-replied"}};
    ooo.files = {{"logo.pdf", "application/pdf", sample_pdf("ooo"), ""}};
    h.deliver(ooo);
    TestMail bounce;
    bounce.from = "MAILER-DAEMON@ac-lille.fr";
    bounce.subject = "Undelivered Mail Returned to Sender";
    bounce.headers = {{"Return-Path", "<>"}};
    h.deliver(bounce);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    EXPECT_EQ(h.imap().count("PPO.Ignores"), 2u);
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    EXPECT_EQ(submissions(h.lycee("0596082R"))->size(), 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_TRUE(h.smtp().messages().empty());
}

TEST(Intake, TwoLyceesGoToTriageAndAssignSendsTheAcknowledgement) {
    Harness h;
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.subject = "PPO du lycée 0597091M";
    m.files = {{"ppo.pdf", "application/pdf", sample_pdf("two"), ""}};
    h.deliver(m);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    EXPECT_EQ(h.imap().count("PPO.A-trier"), 1u);
    auto st = h.status(kBefore);
    auto un = st->getArray("unidentified");
    ASSERT_EQ(un->size(), 1u);
    auto id = std::to_string(un->getObject(0)->getValue<int>("id"));
    auto list = h.ppo({"triage", "list"}, kBefore);
    EXPECT_NE(list.out.find("two lycées"), std::string::npos) << list.out;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(h.smtp().messages().empty());

    auto r = h.ppo({"triage", "assign", id, "0597091M"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto l = h.lycee("0597091M");
    ASSERT_EQ(submissions(l)->size(), 1u);
    EXPECT_EQ(submission(l, 0)->getValue<std::string>("identified_by"), "manual");
    EXPECT_EQ(h.status()->getArray("unidentified")->size(), 0u);
    auto mails = h.smtp().wait_for(1);
    EXPECT_EQ(mails_to(mails, "ce.0597091m@ac-lille.fr").size(), 1u);
    // Assigning again is refused with exit 2.
    EXPECT_EQ(h.ppo({"triage", "assign", id, "0597091M"}).exit_code, 2);
}

TEST(Intake, SecondVersionIsKeptAndLateOneMarksTheLyceeLateOnlyWhenAlone) {
    Harness h;
    TestMail v1;
    v1.from = "ce.0596082r@ac-lille.fr";
    v1.files = {{"PPO v1.pdf", "application/pdf", sample_pdf("v1"), ""}};
    h.deliver(v1);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    TestMail v2 = v1;
    v2.message_id.clear();
    v2.files = {{"PPO v2.pdf", "application/pdf", sample_pdf("v2"), ""}};
    h.deliver(v2);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    auto l = h.lycee("0596082R");
    ASSERT_EQ(submissions(l)->size(), 2u);
    EXPECT_EQ(json_files(submission(l, 1)), "PPO v2.pdf");
    EXPECT_EQ(l->getValue<std::string>("state"), "received");
    auto mails = h.smtp().wait_for(4);
    auto acks = mails_to(mails, "ce.0596082r@ac-lille.fr");
    ASSERT_EQ(acks.size(), 2u);
    EXPECT_NE(acks[1].data.find("version n=C2=B0 2"), std::string::npos) << acks[1].data;

    // A lycée whose only PPO came after the deadline is late.
    TestMail late;
    late.from = "ce.0597091m@ac-lille.fr";
    late.files = {{"PPO.pdf", "application/pdf", sample_pdf("late"), ""}};
    h.deliver(late);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kAfter).exit_code, 0);
    auto r = h.lycee("0597091M");
    EXPECT_EQ(r->getValue<std::string>("state"), "late");
    EXPECT_TRUE(submission(r, 0)->getValue<bool>("late"));
}

TEST(Intake, MessageWithoutDocumentGoesToTriage) {
    Harness h;
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.subject = "Question sur le PPO";
    h.deliver(m);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    EXPECT_EQ(h.imap().count("PPO.A-trier"), 1u);
    EXPECT_EQ(h.lycee("0596082R")->getValue<std::string>("state"), "missing");
    auto un = h.status()->getArray("unidentified");
    ASSERT_EQ(un->size(), 1u);
}

TEST(Intake, IdleWakesTheDaemonWithinSeconds) {
    Harness h;
    DaemonProcess daemon(h.config_path(), h.dir() + "/daemon.log");
    daemon.start();
    // Let it finish its first pass and enter IDLE (poll_interval is 5 s, so a
    // wake-up within 3 s can only come from IDLE).
    std::this_thread::sleep_for(std::chrono::seconds(2));
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.files = {{"PPO.pdf", "application/pdf", sample_pdf("idle"), ""}};
    auto start = std::chrono::steady_clock::now();
    h.deliver(m);
    auto mails = h.smtp().wait_for(1, std::chrono::seconds(4));
    auto elapsed = std::chrono::steady_clock::now() - start;
    const int exit_code = daemon.terminate();
    ASSERT_GE(mails.size(), 1u) << daemon.log();
    EXPECT_LT(elapsed, std::chrono::seconds(3));
    EXPECT_EQ(exit_code, 0) << daemon.log();
}

TEST(Intake, AStrangerOnTheLyceesWebmailProviderIsNotAcknowledged) {
    Harness h;
    TestMail m;
    m.from = "quelqu.un@orange.fr";   // same provider as the lycée's directory address
    m.subject = "PPO 0626769W";
    m.files = {{"PPO.pdf", "application/pdf", sample_pdf("stranger"), ""}};
    h.deliver(m);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kBefore).exit_code, 0);
    auto mails = h.smtp().wait_for(2);
    auto acks = mails_to(mails, "direction.jeanne-darc@orange.fr");
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].rcpt_to.size(), 1u);
    EXPECT_TRUE(mails_to(mails, "quelqu.un@orange.fr").empty());
}

TEST(Intake, AcknowledgementsLeaveWhileLaterBatchesAreStillBeingTaken) {
    // 160 messages make four batches. The sender thread starts after the
    // first commit, so the first acknowledgement leaves before the last
    // message is recorded; and every message still gets exactly one.
    Harness::Options options;
    options.extra_config["smtp.max_per_recipient_per_hour"] = "1000";
    Harness h(options);
    constexpr int kMessages = 160;
    std::set<std::string> message_ids;
    for (int i = 0; i < kMessages; ++i) {
        TestMail m;
        m.from = "ce.0596082r@ac-lille.fr";
        m.message_id = "<batch-" + std::to_string(i) + "@client.example>";
        m.files = {{"PPO " + std::to_string(i) + ".pdf", "application/pdf", sample_pdf("b" + std::to_string(i)), ""}};
        h.deliver(m);
        message_ids.insert(m.message_id);
    }
    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    std::istringstream log(r.err);
    std::size_t line_no = 0, first_sent = 0, last_recorded = 0, recorded = 0;
    for (std::string line; std::getline(log, line); ++line_no) {
        if (line.find(": submission UAI 0596082R") != std::string::npos) {
            last_recorded = line_no;
            ++recorded;
        } else if (first_sent == 0 && line.find(" outbox ") != std::string::npos && line.find(" sent to ") != std::string::npos) {
            first_sent = line_no;
        }
    }
    EXPECT_EQ(recorded, static_cast<std::size_t>(kMessages));
    ASSERT_GT(first_sent, 0u) << r.err;
    EXPECT_LT(first_sent, last_recorded) << "no acknowledgement left before the last batch was recorded";

    auto mails = h.smtp().wait_for(2 * kMessages, std::chrono::seconds(30));
    auto acks = mails_to(mails, "ce.0596082r@ac-lille.fr");
    ASSERT_EQ(acks.size(), static_cast<std::size_t>(kMessages));
    std::set<std::string> answered;
    for (const auto& a : acks) answered.insert(header_of(a.data, "In-Reply-To"));
    EXPECT_EQ(answered, message_ids);
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
}

// A message over 4 MiB is fetched a piece at a time (BODY.PEEK[]<offset.1MiB>)
// into an unlinked file and parsed from its mapping: the file comes out byte
// for byte, next to a small message of the same poll, and nothing is left in
// the spool folder (the archive's).
TEST(Intake, ABigMessageIsFetchedInPiecesAndKeptByteForByte) {
    Harness::Options o;
    o.extra_config["log.level"] = "debug";
    Harness h(o);
    const std::string big = sample_pdf("claudel-big", 9u * 1000 * 1000);   // about 12 MB once in base64
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.subject = "PPO";
    m.files = {{"PPO 2022.pdf", "application/pdf", big, ""}};
    h.deliver(m);
    TestMail small;
    small.from = "ce.0597091m@ac-lille.fr";
    small.files = {{"PPO Ribot.pdf", "application/pdf", sample_pdf("ribot"), ""}};
    h.deliver(small);

    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("piece(s) into a file"), std::string::npos) << tail(r.err);
    for (const std::string uai : {"0596082R", "0597091M"}) {
        auto l = h.lycee(uai);
        ASSERT_TRUE(l) << uai;
        EXPECT_EQ(l->getValue<std::string>("state"), "received") << uai;
    }
    auto file = submission(h.lycee("0596082R"), 0)->getArray("files")->getObject(0);
    EXPECT_EQ(file->getValue<std::int64_t>("size"), static_cast<std::int64_t>(big.size()));
    EXPECT_EQ(file->getValue<std::string>("sha256"), ppo::daemon::sha256_hex(big));
    EXPECT_EQ(h.imap().count("INBOX"), 0u);

    // The forward streams the 9 MB file back out, byte for byte.
    auto mails = h.smtp().wait_for(4);
    auto fwd = mails_to(mails, "ien-io.douai@ac-lille.fr");
    ASSERT_EQ(fwd.size(), 1u);
    auto parsed = ppo::parsers::parse_mime_message(fwd[0].data);
    ASSERT_EQ(parsed.attachments.size(), 1u);
    EXPECT_EQ(parsed.attachments[0].data, big);

    for (const auto& e : std::filesystem::recursive_directory_iterator(h.dir()))
        EXPECT_EQ(e.path().filename().string().rfind(".ppo-fetch-", 0), std::string::npos) << e.path();
}
