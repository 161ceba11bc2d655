// The verdict rules, one by one, on facts made by hand (no mailbox, no store).
#include "workflow/intake/intake.h"
#include "workflow/intake/judge.h"

#include <gtest/gtest.h>

using namespace ppo::workflow;

namespace {

Identification by(const std::string& uai, const std::string& how) {
    Identification id;
    id.identified = true;
    id.uai = uai;
    id.identified_by = how;
    id.evidence = {how + " " + uai};
    return id;
}

Identification none() {
    Identification id;
    id.reason = "no evidence: sender not a lycée address, no UAI, no lycée name with its town";
    return id;
}

struct JudgeTest : ::testing::Test {
    Directory directory;
    JudgeContext ctx;
    MessageFacts facts;
    void SetUp() override {
        directory = Directory({Lycee{"0596082R", "LGT Camille Claudel", "Douai", "059", "09", "095912", "", "", "", true},
                               Lycee{"0597091M", "LGT Alexandre Ribot", "Armentières", "059", "09", "095912", "", "", "", true}},
                              {});
        ctx.directory = &directory;
        ctx.uidvalidity = 7;
        ctx.deadline_end = 1000;
        facts.base.mailbox = "INBOX";
        facts.base.uidvalidity = 7;
        facts.base.uid = 5;
        facts.base.received_at = 500;
        facts.documents = 1;
        facts.attachments = 1;
        facts.own = none();
    }
    MessageRecord recorded(std::int64_t id, bool moved, std::uint32_t uidvalidity) {
        MessageRecord m;
        m.id = id;
        m.mailbox = "INBOX";
        m.uidvalidity = uidvalidity;
        m.moved = moved;
        m.outcome = "submission";
        m.folder = "processed";
        return m;
    }
};

}  // namespace

TEST_F(JudgeTest, OwnEvidenceMakesASubmission) {
    facts.own = by("0596082R", "sender");
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "submission");
    EXPECT_EQ(v.uai, "0596082R");
    EXPECT_EQ(v.identified_by, "sender");
    EXPECT_EQ(v.folder, "processed");
    EXPECT_TRUE(v.send_mails);
    EXPECT_FALSE(v.late);
    facts.base.received_at = 1000;
    EXPECT_TRUE(judge(facts, {}, ctx).late);
}

TEST_F(JudgeTest, ForwardedAndThreadEvidence) {
    facts.forwarded = {by("0596082R", "sender")};
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "submission");
    EXPECT_EQ(v.identified_by, "forwarded");
    facts.forwarded.clear();
    Known k;
    k.thread_uais = {"0597091M"};
    v = judge(facts, k, ctx);
    EXPECT_EQ(v.uai, "0597091M");
    EXPECT_EQ(v.identified_by, "thread");
    // A UAI in the subject of a reply: the thread is the stronger evidence.
    facts.own = by("0597091M", "uai");
    EXPECT_EQ(judge(facts, k, ctx).identified_by, "thread");
    // A thread to a lycée no longer in the directory is no evidence.
    facts.own = none();
    k.thread_uais = {"0599999Z"};
    EXPECT_EQ(judge(facts, k, ctx).outcome, "unidentified");
}

TEST_F(JudgeTest, TwoLyceesGoToTriage) {
    facts.own = by("0596082R", "sender");
    facts.forwarded = {by("0597091M", "sender")};
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "unidentified");
    EXPECT_EQ(v.folder, "triage");
    EXPECT_NE(v.reason.find("two lycées"), std::string::npos);
    EXPECT_FALSE(v.send_mails);
    // Blocked own evidence (a bad check letter) is not outvoted by a forward.
    facts.own = none();
    facts.own.reason = "UAI 0596082A in subject has a wrong check letter";
    facts.forwarded = {by("0596082R", "sender")};
    EXPECT_EQ(judge(facts, {}, ctx).outcome, "unidentified");
}

TEST_F(JudgeTest, SameContentIsADuplicateOrTheSameMessageRefiled) {
    facts.own = by("0596082R", "sender");
    Known k;
    k.same_content = {recorded(3, true, 7)};
    auto v = judge(facts, k, ctx);
    EXPECT_EQ(v.outcome, "duplicate");
    EXPECT_EQ(v.duplicate_of, 3);
    EXPECT_EQ(v.folder, "ignored");
    EXPECT_FALSE(v.send_mails);
    EXPECT_FALSE(v.keep_files);
    // A duplicate of a duplicate names the first copy.
    auto dup = recorded(4, true, 7);
    dup.outcome = "duplicate";
    dup.duplicate_of = 3;
    k.same_content = {dup};
    EXPECT_EQ(judge(facts, k, ctx).duplicate_of, 3);
    // Never moved, recorded under the old UIDVALIDITY: this very message.
    k.same_content = {recorded(3, false, 6)};
    v = judge(facts, k, ctx);
    EXPECT_EQ(v.action, Verdict::Action::refile);
    EXPECT_EQ(v.refile_of, 3);
    EXPECT_EQ(v.folder, "processed");
    // Never moved, same UIDVALIDITY: another copy still in the inbox.
    k.same_content = {recorded(3, false, 7)};
    EXPECT_EQ(judge(facts, k, ctx).outcome, "duplicate");
    // A quarantined message moved back to the inbox by a person is judged afresh.
    auto quarantined = recorded(3, true, 7);
    quarantined.outcome = "quarantined";
    k.same_content = {quarantined};
    v = judge(facts, k, ctx);
    EXPECT_EQ(v.outcome, "submission");
    EXPECT_EQ(v.action, Verdict::Action::record);
    // ... but a later copy of it is a duplicate of the one that was not quarantined.
    k.same_content = {quarantined, recorded(5, true, 7)};
    EXPECT_EQ(judge(facts, k, ctx).duplicate_of, 5);
}

TEST_F(JudgeTest, UnreadableMalformedAutoReplyAndNoDocument) {
    facts.unreadable = "internal error while reading the message: boom";
    EXPECT_EQ(judge(facts, {}, ctx).outcome, "quarantined");
    facts.unreadable.clear();
    facts.corrupt_reason = "more than 10000 MIME parts";
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "quarantined");
    EXPECT_EQ(v.folder, "triage");
    facts.corrupt_reason.clear();
    facts.auto_reply = "bounce (empty Return-Path)";
    EXPECT_EQ(judge(facts, {}, ctx).outcome, "ignored");
    facts.auto_reply.clear();
    facts.documents = 0;
    v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "unidentified");
    EXPECT_NE(v.reason.find("no document"), std::string::npos);
    EXPECT_TRUE(v.keep_files);
    auto big = judge_oversized({9, 60'000'000, "<x@y>"}, 50'000'000);
    EXPECT_EQ(big.outcome, "quarantined");
    EXPECT_NE(big.reason.find("max_message_size"), std::string::npos);
}

TEST(ListingPlan, KnownUidsAreRefiledNewOnesFetchedOrOversized) {
    MessageRecord known;
    known.id = 12;
    known.uid = 4;
    known.folder = "triage";
    auto plan = plan_listing({{3, 100, ""}, {4, 100, ""}, {5, 999, ""}}, {known}, 500, 2);
    ASSERT_EQ(plan.refile.size(), 1u);
    EXPECT_EQ(plan.refile[0].id, 12);
    EXPECT_EQ(plan.refile[0].folder, Folder::triage);
    ASSERT_EQ(plan.fresh.size(), 2u);
    EXPECT_EQ(plan.fresh[0].summary.uid, 3u);
    EXPECT_FALSE(plan.fresh[0].oversized);
    EXPECT_TRUE(plan.fresh[1].oversized);
    EXPECT_EQ(plan.max_uid, 5u);
    EXPECT_EQ(plan_listing({}, {}, 500, 9).max_uid, 9u);
}

// Issue 12: a document's letterhead identifies a message that names no lycée
// itself; never against what the message says; two lycées go to triage.
Identification named_by_document(const std::string& uai) {
    auto id = by(uai, "document");
    id.lycees = {uai};
    return id;
}

TEST_F(JudgeTest, TheLetterheadIdentifiesAMessageThatNamesNoLycee) {
    facts.documents_named = {named_by_document("0596082R")};
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "submission");
    EXPECT_EQ(v.uai, "0596082R");
    EXPECT_EQ(v.identified_by, "document");
    EXPECT_TRUE(v.send_mails);
}

TEST_F(JudgeTest, DocumentsNamingTwoLyceesGoToTriage) {
    facts.documents_named = {named_by_document("0596082R"), named_by_document("0597091M")};
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "unidentified");
    EXPECT_NE(v.reason.find("two lycées"), std::string::npos) << v.reason;
    EXPECT_NE(v.reason.find("0596082R (document)"), std::string::npos) << v.reason;

    Identification both;
    both.reason = "evidence for two lycées: 0596082R (UAI in body), 0597091M (UAI in body)";
    both.lycees = {"0596082R", "0597091M"};
    facts.documents_named = {both};
    v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "unidentified");
    EXPECT_NE(v.reason.find("document: evidence for two lycées"), std::string::npos) << v.reason;
}

TEST_F(JudgeTest, TheMessageOutranksItsDocumentsLetterhead) {
    // The sender says Claudel; the document names Ribot: a check, not a block.
    facts.own = by("0596082R", "sender");
    facts.documents_named = {named_by_document("0597091M")};
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "submission");
    EXPECT_EQ(v.uai, "0596082R");
    EXPECT_EQ(v.identified_by, "sender");
}

TEST_F(JudgeTest, ALinkInsteadOfAFileGoesToTriageAndAsksTheLyceeForTheFile) {
    facts.documents = 0;
    facts.attachments = 0;
    facts.links = {"nuage03.apps.education.fr https://nuage03.apps.education.fr/index.php/s/AbC123",
                   "filesender.renater.fr https://filesender.renater.fr/?s=download&token=x"};
    auto v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "unidentified");
    EXPECT_EQ(v.reason, "download link: nuage03.apps.education.fr, filesender.renater.fr");
    EXPECT_EQ(v.links, "https://nuage03.apps.education.fr/index.php/s/AbC123\n"
                       "https://filesender.renater.fr/?s=download&token=x");
    EXPECT_FALSE(v.send_link_reply);   // nobody to ask
    EXPECT_FALSE(v.send_mails);

    facts.own = by("0596082R", "sender");
    v = judge(facts, {}, ctx);
    EXPECT_EQ(v.outcome, "unidentified");
    EXPECT_TRUE(v.send_link_reply);
    EXPECT_EQ(v.uai, "0596082R");
    EXPECT_EQ(v.folder, "triage");
}
