// Issue 12 end to end, through the real binary, Dovecot and the SMTP capture:
// the daemon reads what was sent (in its document child processes), credits a
// lycée from a letterhead, unpacks winmail.dat, answers a download link, and
// flags a document that is not a PPO in status, acknowledgement, forward and
// digest. The documents are LibreOffice's, poppler's and img2pdf's
// (tests/data/documents/README.md); the winmail.dat follows MS-OXTNEF
// (tests/data/tnef/README.md).
#include "bench/harness.h"
#include "parsers/mime/mime_message.h"

#include <Poco/DigestEngine.h>
#include <Poco/JSON/Array.h>
#include <Poco/SHA2Engine.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace ppo::testbench;

namespace {

const std::string kDocs = std::string(PPO_TEST_DATA_DIR) + "/documents/";
const std::string kBoucher = "0597757L";   // Lycée Hélène Boucher, Tourcoing: the letterhead of ppo-boucher.*
const std::string kClaudel = "0596082R";   // Lycée Camille Claudel, Douai
const std::string kNow = "2022-03-10T10:00:00+01:00";

std::string sha256_hex(const std::string& data) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(data);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

TestFile doc(const std::string& file, const std::string& name, const std::string& type) {
    return {name, type, read_file(kDocs + file), ""};
}

const char* kPdf = "application/pdf";
const char* kDocx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

// A personal address and a subject that names nobody: only the document can tell.
TestMail anonymous(std::vector<TestFile> files) {
    TestMail m;
    m.from = "jean.dupont@gmail.com";
    m.subject = "PPO";
    m.body = "Bonjour,\nci-joint le document demandé.\nBonne journée";
    m.files = std::move(files);
    return m;
}

void poll(Harness& h) {
    auto r = h.ppo({"poll", "--once"}, kNow);
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::vector<Poco::JSON::Object::Ptr> submissions_of(Harness& h, const std::string& uai) {
    std::vector<Poco::JSON::Object::Ptr> out;
    auto l = h.lycee(uai, kNow);
    if (!l) return out;
    auto subs = l->getArray("submissions");
    for (unsigned i = 0; i < subs->size(); ++i) out.push_back(subs->getObject(i));
    return out;
}

std::vector<Poco::JSON::Object::Ptr> unidentified(Harness& h) {
    std::vector<Poco::JSON::Object::Ptr> out;
    auto a = h.status(kNow)->getArray("unidentified");
    for (unsigned i = 0; i < a->size(); ++i) out.push_back(a->getObject(i));
    return out;
}

// The decoded text of the captured mails whose Subject contains `subject_part`.
std::vector<std::string> texts_of(Harness& h, const std::string& subject_part, std::size_t at_least) {
    h.smtp().wait_for(at_least, std::chrono::seconds(30));
    std::vector<std::string> out;
    for (const auto& m : h.smtp().messages()) {
        auto parsed = ppo::parsers::parse_mime_message(m.data);
        if (parsed.subject.find(subject_part) != std::string::npos) out.push_back(parsed.text);
    }
    return out;
}

}  // namespace

TEST(Documents, APdfAndADocxAreCreditedFromTheirLetterheadAlone) {
    Harness h;
    h.deliver(anonymous({doc("ppo-boucher.pdf", "PPO.pdf", kPdf)}));
    h.deliver(anonymous({doc("ppo-boucher.docx", "document.docx", kDocx)}));
    poll(h);
    auto subs = submissions_of(h, kBoucher);
    ASSERT_EQ(subs.size(), 2u) << "both credited to Hélène Boucher; triage: " << unidentified(h).size();
    for (const auto& s : subs) {
        EXPECT_EQ(s->getValue<std::string>("identified_by"), "document");
        auto checks = s->getArray("checks");
        ASSERT_EQ(checks->size(), 1u);
        EXPECT_EQ(checks->getObject(0)->getValue<std::string>("looks_like_ppo"), "yes");
        EXPECT_EQ(checks->getObject(0)->getValue<std::string>("lycee"), "same");
        EXPECT_FALSE(checks->getObject(0)->getValue<bool>("flagged"));
    }
    // Acknowledged at the lycée's official address, never at the gmail one.
    auto acks = texts_of(h, "Accusé de réception", 4);   // two acknowledgements, two forwards
    EXPECT_EQ(acks.size(), 2u);
    for (const auto& m : h.smtp().messages())
        for (const auto& r : m.rcpt_to) EXPECT_NE(r, "jean.dupont@gmail.com");
}

TEST(Documents, DocumentsNamingTwoLyceesGoToTriage) {
    Harness h;
    // Hélène Boucher's PPO and Camille Claudel's minutes, from nobody in particular.
    h.deliver(anonymous({doc("ppo-boucher.pdf", "PPO.pdf", kPdf), doc("cr-ca.pdf", "CR.pdf", kPdf)}));
    poll(h);
    EXPECT_TRUE(submissions_of(h, kBoucher).empty());
    EXPECT_TRUE(submissions_of(h, kClaudel).empty());
    auto triage = unidentified(h);
    ASSERT_EQ(triage.size(), 1u);
    const auto reason = triage[0]->getValue<std::string>("reason");
    EXPECT_NE(reason.find("two lycées"), std::string::npos) << reason;
    EXPECT_NE(reason.find(kBoucher + " (document)"), std::string::npos) << reason;
    EXPECT_NE(reason.find(kClaudel + " (document)"), std::string::npos) << reason;
}

TEST(Documents, AScanWithNoTextStaysInTriageAndIsNotFlagged) {
    Harness h;
    h.deliver(anonymous({doc("scan-ppo.pdf", "SCAN0001.pdf", kPdf)}));
    poll(h);
    auto triage = unidentified(h);
    ASSERT_EQ(triage.size(), 1u);
    EXPECT_NE(triage[0]->getValue<std::string>("reason").find("no evidence"), std::string::npos);
}

TEST(Documents, WinmailDatYieldsItsFilesByteForByte) {
    Harness h;
    h.imap().append(read_file(std::string(PPO_TEST_DATA_DIR) + "/tnef/outlook_winmail.eml"));
    poll(h);
    auto subs = submissions_of(h, kClaudel);
    ASSERT_EQ(subs.size(), 1u) << "triage: " << unidentified(h).size();
    auto files = subs[0]->getArray("files");
    std::map<std::string, std::string> sha;   // name -> sha256
    for (unsigned i = 0; i < files->size(); ++i)
        sha[files->getObject(i)->getValue<std::string>("name")] = files->getObject(i)->getValue<std::string>("sha256");
    const std::string payload = std::string(PPO_TEST_DATA_DIR) + "/tnef/payload/";
    ASSERT_TRUE(sha.count("PPO 2022 – Lycée Gambetta.pdf")) << files->size() << " file(s), the first: " << sha.begin()->first;
    EXPECT_EQ(sha["PPO 2022 – Lycée Gambetta.pdf"], sha256_hex(read_file(payload + "ppo_gambetta.pdf")));
    // The container is kept as received too.
    ASSERT_TRUE(sha.count("winmail.dat"));
    EXPECT_EQ(sha["winmail.dat"], sha256_hex(read_file(std::string(PPO_TEST_DATA_DIR) + "/tnef/winmail.dat")));

    // The lycée and the IEN-IO get its files, not the container.
    h.smtp().wait_for(2, std::chrono::seconds(30));
    bool forwarded = false;
    for (const auto& m : h.smtp().messages()) {
        auto parsed = ppo::parsers::parse_mime_message(m.data);
        EXPECT_EQ(parsed.text.find("winmail.dat"), std::string::npos) << parsed.subject;
        for (const auto& a : parsed.attachments) {
            EXPECT_NE(a.filename, "winmail.dat");
            if (a.filename == "PPO 2022 – Lycée Gambetta.pdf") {
                forwarded = true;
                EXPECT_EQ(a.data, read_file(payload + "ppo_gambetta.pdf"));
            }
        }
    }
    EXPECT_TRUE(forwarded);
}

TEST(Documents, ALinkInsteadOfAFileGoesToTriageAndTheLyceeIsAskedForTheFile) {
    Harness h;
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.subject = "PPO lycée Claudel";
    m.body = "Bonjour,\nle fichier dépasse 20 Mo, le voici sur le Nuage :\n"
             "https://nuage03.apps.education.fr/index.php/s/Ab12Cd34Ef56\nCordialement";
    h.deliver(m);
    poll(h);
    auto triage = unidentified(h);
    ASSERT_EQ(triage.size(), 1u);
    EXPECT_EQ(triage[0]->getValue<std::string>("reason"), "download link: nuage03.apps.education.fr");
    EXPECT_EQ(triage[0]->getValue<std::string>("uai"), kClaudel);
    auto links = triage[0]->getArray("links");
    ASSERT_EQ(links->size(), 1u);
    EXPECT_EQ(links->getElement<std::string>(0), "https://nuage03.apps.education.fr/index.php/s/Ab12Cd34Ef56");
    auto list = h.ppo({"triage", "list"}, kNow);
    EXPECT_NE(list.out.find("https://nuage03.apps.education.fr/index.php/s/Ab12Cd34Ef56"), std::string::npos) << list.out;

    auto replies = texts_of(h, "merci de joindre le document", 1);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_NE(replies[0].find("en pièce jointe"), std::string::npos) << replies[0];
    EXPECT_NE(replies[0].find("https://nuage03.apps.education.fr/index.php/s/Ab12Cd34Ef56"), std::string::npos);
    EXPECT_EQ(h.smtp().messages().front().rcpt_to, std::vector<std::string>{"ce.0596082r@ac-lille.fr"});
    EXPECT_TRUE(submissions_of(h, kClaudel).empty());
}

TEST(Documents, ADocumentThatIsNotAPpoIsFlaggedInStatusAckForwardAndDigest) {
    Harness::Options options;
    options.extra_config["digest.to"] = "draio@region-academique-hauts-de-france.fr";
    Harness h(options);
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.subject = "PPO";
    m.files = {doc("cr-ca.pdf", "PPO Claudel.pdf", kPdf)};
    h.deliver(m);
    poll(h);
    auto subs = submissions_of(h, kClaudel);
    ASSERT_EQ(subs.size(), 1u);
    auto check = subs[0]->getArray("checks")->getObject(0);
    EXPECT_EQ(check->getValue<std::string>("looks_like_ppo"), "no") << check->getValue<std::string>("detail");
    EXPECT_TRUE(check->getValue<bool>("flagged"));

    auto acks = texts_of(h, "Accusé de réception", 2);
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_NE(acks[0].find("Le document « PPO Claudel.pdf » ne semble pas être un programme pluriannuel d'orientation."),
              std::string::npos)
        << acks[0];
    auto forwards = texts_of(h, "PPO du Lycée", 2);
    ASSERT_EQ(forwards.size(), 1u);
    EXPECT_NE(forwards[0].find("« PPO Claudel.pdf » : ne ressemble pas à un PPO"), std::string::npos) << forwards[0];

    h.smtp().clear();
    auto r = h.ppo({"tick"}, "2022-03-11T07:00:00+01:00");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto digests = texts_of(h, "point quotidien", 1);
    ASSERT_FALSE(digests.empty());
    EXPECT_NE(digests[0].find("Documents à vérifier : 1"), std::string::npos) << digests[0];
    EXPECT_NE(digests[0].find("ne semble pas être un programme pluriannuel d'orientation"), std::string::npos);
}

TEST(Documents, APpoNamingAnotherLyceeIsCreditedToTheSenderAndFlagged) {
    Harness h;
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";   // Camille Claudel sends Hélène Boucher's PPO
    m.files = {doc("ppo-boucher.odt", "PPO.odt", "application/vnd.oasis.opendocument.text")};
    h.deliver(m);
    poll(h);
    auto subs = submissions_of(h, kClaudel);
    ASSERT_EQ(subs.size(), 1u);
    EXPECT_EQ(subs[0]->getValue<std::string>("identified_by"), "sender");
    auto check = subs[0]->getArray("checks")->getObject(0);
    EXPECT_EQ(check->getValue<std::string>("lycee"), "other");
    EXPECT_EQ(check->getArray("named_uais")->getElement<std::string>(0), kBoucher);
    auto acks = texts_of(h, "Accusé de réception", 2);
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_NE(acks[0].find("semble concerner un autre établissement"), std::string::npos) << acks[0];
    EXPECT_NE(acks[0].find("Hélène Boucher"), std::string::npos) << acks[0];
}

TEST(Documents, AHostilePdfCostsAtMostTheTimeoutAndTheNextMessageIsHandled) {
    const std::string hostile = std::string(PPO_TEST_DATA_DIR) + "/hostile_pdf/";
    Harness::Options options;
    options.extra_config["documents.timeout"] = "3";
    options.extra_config["documents.max_memory"] = "256M";
    Harness h(options);
    TestMail bomb;
    bomb.from = "ce.0596082r@ac-lille.fr";
    bomb.files = {{"PPO.pdf", kPdf, read_file(hostile + "flate_bomb.pdf"), ""},
                  {"annexe.pdf", kPdf, read_file(hostile + "deep_dict.pdf"), ""}};
    h.deliver(bomb);
    TestMail next;
    next.from = "ce.0597757l@ac-lille.fr";
    next.files = {doc("ppo-boucher.pdf", "PPO Boucher.pdf", kPdf)};
    h.deliver(next);

    const auto t0 = std::chrono::steady_clock::now();
    poll(h);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("poll with a decompression bomb and a 100,000-deep dictionary (timeout 3 s): %.1f s\n", seconds);
    // Two documents at most 3 s each, plus the ordinary work of a poll.
    EXPECT_LT(seconds, 2 * 3 + 20);

    auto claudel = submissions_of(h, kClaudel);
    ASSERT_EQ(claudel.size(), 1u) << "the hostile message is still recorded (its sender is known)";
    auto checks = claudel[0]->getArray("checks");
    ASSERT_EQ(checks->size(), 2u);
    for (unsigned i = 0; i < checks->size(); ++i) {
        EXPECT_NE(checks->getObject(i)->getValue<std::string>("looks_like_ppo"), "yes");
    }
    auto boucher = submissions_of(h, kBoucher);
    ASSERT_EQ(boucher.size(), 1u);
    EXPECT_EQ(boucher[0]->getArray("checks")->getObject(0)->getValue<std::string>("looks_like_ppo"), "yes");
}
