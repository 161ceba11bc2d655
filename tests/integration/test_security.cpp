// Security properties, end to end through the real binary, Dovecot and the SMTP
// capture: a lycée's address the trusted MX did not authenticate identifies
// nothing (see also test_injection.cpp); acknowledgements are rate limited per recipient; our own
// mail and loops are never answered; nothing is ever sent to an outside domain;
// archived files are not world-readable; SQL only uses bound parameters.
//
// Lycées (tests/data/annuaire-hdf-sample.csv):
//   0596082R  LGT Camille Claudel, Douai (ce.0596082r@ac-lille.fr)
//   0597091M  LGT Alexandre Ribot, Armentières (ce.0597091m@ac-lille.fr)
//   0626769W  Lycée privé Jeanne d'Arc, Saint-Omer (direction.jeanne-darc@orange.fr)
#include "bench/harness.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

using namespace ppo::testbench;

namespace {

namespace fs = std::filesystem;

const std::string kBefore = "2022-03-01T10:30:00+01:00";
const std::string kFailed = "mx.example.fr; dmarc=fail header.from=ac-lille.fr; spf=fail";

std::vector<CapturedMail> mails_to(const std::vector<CapturedMail>& all, const std::string& rcpt) {
    std::vector<CapturedMail> out;
    for (const auto& m : all)
        if (std::find(m.rcpt_to.begin(), m.rcpt_to.end(), rcpt) != m.rcpt_to.end()) out.push_back(m);
    return out;
}

// The submission of status --json whose message_id is `id` (nullptr if none).
Poco::JSON::Object::Ptr submission_by_message_id(Harness& h, const std::string& uai, const std::string& id) {
    auto l = h.lycee(uai, kBefore);
    if (!l) return nullptr;
    auto subs = l->getArray("submissions");
    for (unsigned i = 0; i < subs->size(); ++i)
        if (subs->getObject(i)->getValue<std::string>("message_id") == id) return subs->getObject(i);
    return nullptr;
}

TestMail claudel(const std::string& message_id, const std::string& tag) {
    TestMail m;
    m.from = "ce.0596082r@ac-lille.fr";
    m.subject = "PPO";
    m.message_id = message_id;
    m.files = {{"PPO.pdf", "application/pdf", sample_pdf(tag), ""}};
    return m;
}

}  // namespace

TEST(Security, FailedDmarcFromTheTrustedServerRevokesTheSenderEvidence) {
    Harness::Options o;
    o.extra_config = {{"intake.trusted_authserv_id", "mx.example.fr"}};
    Harness h(o);

    // 1. Trusted server says DMARC and SPF failed, nothing else points at a lycée.
    TestMail forged = claudel("<forged.1@client.example>", "forged");
    forged.headers = {{"Authentication-Results", kFailed}};
    h.deliver(forged);
    // 2. The same, but the UAI is in the subject: an unauthenticated lycée
    //    address is a forgery, not identified whatever the subject says.
    TestMail with_uai = claudel("<forged.2@client.example>", "forged-uai");
    with_uai.subject = "PPO 0596082R";
    with_uai.headers = {{"Authentication-Results", kFailed}};
    h.deliver(with_uai);
    // 3. The same failure, but claimed by a server we do not trust: ignored, and
    //    with nothing from the trusted server the sender is not authenticated.
    TestMail untrusted = claudel("<forged.3@client.example>", "untrusted");
    untrusted.headers = {{"Authentication-Results", "mx.attacker.example; dmarc=fail header.from=ac-lille.fr; spf=fail"}};
    h.deliver(untrusted);

    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(h.imap().count("INBOX"), 0u);

    auto un = h.status(kBefore)->getArray("unidentified");
    ASSERT_EQ(un->size(), 3u);
    for (unsigned i = 0; i < un->size(); ++i)
        EXPECT_EQ(un->getObject(i)->getValue<std::string>("reason").rfind("sender not authenticated", 0), 0u)
            << un->getObject(i)->getValue<std::string>("reason");
    EXPECT_EQ(h.imap().count("PPO.A-trier"), 3u);

    EXPECT_FALSE(submission_by_message_id(h, "0596082R", "<forged.1@client.example>"));
    EXPECT_FALSE(submission_by_message_id(h, "0596082R", "<forged.2@client.example>"));
    EXPECT_FALSE(submission_by_message_id(h, "0596082R", "<forged.3@client.example>"));
    EXPECT_TRUE(h.smtp().messages().empty());
}

TEST(Security, AcknowledgementsAreRateLimitedPerRecipient) {
    Harness::Options o;
    o.extra_config = {{"smtp.max_per_recipient_per_hour", "2"}};
    Harness h(o);
    for (int i = 1; i <= 3; ++i) {
        h.deliver(claudel("<rate." + std::to_string(i) + "@client.example>", "rate" + std::to_string(i)));
        auto r = h.ppo({"poll", "--once"}, kBefore);
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    auto l = h.lycee("0596082R", kBefore);
    ASSERT_EQ(l->getArray("submissions")->size(), 3u);
    // Acks: 2 to the lycée; forwards (not acknowledgements) are not limited.
    auto mails = h.smtp().wait_for(5);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    mails = h.smtp().messages();
    EXPECT_EQ(mails_to(mails, "ce.0596082r@ac-lille.fr").size(), 2u);
    EXPECT_EQ(mails_to(mails, "ien-io.douai@ac-lille.fr").size(), 3u);
    int acknowledged = 0;
    auto subs = l->getArray("submissions");
    for (unsigned i = 0; i < subs->size(); ++i) acknowledged += subs->getObject(i)->getValue<bool>("acknowledged");
    EXPECT_EQ(acknowledged, 2);
}

TEST(Security, OwnMessageIdAndXLoopAreIgnoredAndNeverAnswered) {
    Harness h;
    TestMail own = claudel("<20220301.abc@region-academique-hauts-de-france.fr>", "own-id");
    h.deliver(own);
    TestMail looped = claudel("<loop.1@client.example>", "x-loop");
    looped.headers = {{"X-Loop", "ppo@region-academique-hauts-de-france.fr"}};
    h.deliver(looped);
    // Upper case and a display name do not hide the loop either.
    TestMail looped2 = claudel("<loop.2@client.example>", "x-loop-2");
    looped2.headers = {{"X-Loop", "PPO Hauts-de-France <PPO@Region-Academique-Hauts-de-France.fr>"}};
    h.deliver(looped2);

    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    EXPECT_EQ(h.imap().count("PPO.Ignores"), 3u);
    EXPECT_EQ(h.lycee("0596082R", kBefore)->getArray("submissions")->size(), 0u);
    EXPECT_EQ(h.status(kBefore)->getArray("unidentified")->size(), 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_TRUE(h.smtp().messages().empty());
}

TEST(Security, NothingIsEverSentToAnOutsideDomain) {
    Harness h;
    // An outside sender naming a lycée by UAI: the lycée is acknowledged, not the sender.
    TestMail gmail;
    gmail.from = "Secrétariat <secretariat.lycee@gmail.com>";
    gmail.subject = "PPO 0597091M";
    gmail.files = {{"PPO.pdf", "application/pdf", sample_pdf("gmail"), ""}};
    h.deliver(gmail);
    // An outside sender nobody can identify: triage, no answer.
    TestMail stranger;
    stranger.from = "stranger@gmail.com";
    stranger.subject = "document";
    stranger.files = {{"doc.pdf", "application/pdf", sample_pdf("stranger"), ""}};
    h.deliver(stranger);
    // A lycée's message whose Reply-To / Return-Path point outside: answered at the lycée only.
    TestMail reply_to = claudel("<reply-to@client.example>", "reply-to");
    reply_to.headers = {{"Reply-To", "attacker@gmail.com"}, {"Return-Path", "<bounces@gmail.com>"}};
    h.deliver(reply_to);
    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    h.smtp().wait_for(4);  // two acknowledgements, two forwards
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    auto mails = h.smtp().messages();
    EXPECT_FALSE(mails.empty());
    for (const auto& m : mails)
        for (const auto& rcpt : m.rcpt_to) {
            EXPECT_EQ(rcpt.find("gmail.com"), std::string::npos) << "sent to " << rcpt;
        }
    EXPECT_EQ(mails_to(mails, "ce.0597091m@ac-lille.fr").size(), 1u);
    EXPECT_EQ(mails_to(mails, "ce.0596082r@ac-lille.fr").size(), 1u);
}

TEST(Security, ArchivedFilesAreNotWorldReadable) {
    Harness h;
    h.deliver(claudel("<perm.1@client.example>", "perm"));
    TestMail stranger;
    stranger.from = "stranger@gmail.com";
    stranger.subject = "document";
    stranger.files = {{"doc.pdf", "application/pdf", sample_pdf("perm-triage"), ""}};
    h.deliver(stranger);
    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::size_t files = 0;
    for (const auto& e : fs::recursive_directory_iterator(h.dir() + "/archive")) {
        struct stat st {};
        ASSERT_EQ(::lstat(e.path().c_str(), &st), 0) << e.path();
        EXPECT_EQ(st.st_mode & 0007, 0u) << e.path() << " is accessible to others (mode " << std::oct
                                         << (st.st_mode & 07777) << ")";
        if (S_ISREG(st.st_mode)) ++files;
    }
    EXPECT_EQ(files, 2u);  // the submission's file and the triaged one
}

// Every SQL statement binds its values ($1, $2, ... placeholders): no value is
// ever spliced into SQL text. The pragmatic check: in the two files that build
// SQL, no string literal ends or starts with a quote next to a '+' (the shape of
// "... = '" + value + "'"), except in exception messages (…_error("...'" + x + "'")).
// SQL text may be concatenated only from constants (column lists) and
// placeholders(...).
namespace {

// True when the line quotes a value into SQL text (the shape of "... = '" + v + "'").
bool splices_a_value_into_sql(const std::string& line) {
    static const std::regex spliced(R"('"\s*\+|\+\s*"')");
    static const std::regex sql(R"(\b(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES|SET|LIKE|IN|PRAGMA)\b)");
    if (!std::regex_search(line, spliced)) return false;
    const bool error_message = line.find("_error(") != std::string::npos || line.find("spdlog::") != std::string::npos;
    return !error_message || std::regex_search(line, sql);
}

}  // namespace

TEST(Security, SqlStatementsOnlyUseBoundParameters) {
    // The rule catches the usual shapes, and lets exception messages be.
    EXPECT_TRUE(splices_a_value_into_sql(R"(db_.query("SELECT id FROM lycees WHERE uai = '" + uai + "'");)"));
    EXPECT_TRUE(splices_a_value_into_sql(R"(std::string sql = "DELETE FROM outbox WHERE kind='"+kind;)"));
    EXPECT_FALSE(splices_a_value_into_sql(R"(db_.query("SELECT id FROM lycees WHERE uai = $1", {uai});)"));
    EXPECT_FALSE(splices_a_value_into_sql(R"(throw config_error("unsupported backend '" + backend_ + "'");)"));
    for (const char* file : {"daemon/store/sql_store.cpp", "daemon/store/database.cpp"}) {
        std::ifstream in(std::string(PPO_SOURCE_DIR) + "/" + file);
        ASSERT_TRUE(in) << file;
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            EXPECT_FALSE(splices_a_value_into_sql(line))
                << file << ":" << n << ": a value quoted into SQL text; bind it as a parameter ($1, $2, ...) instead:\n"
                << line;
        }
    }
}
