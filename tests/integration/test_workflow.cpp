// Reminders, digests and routing end to end: the real binary's `tick` driven
// with --now, against a real SMTP capture (and Dovecot for the submissions).
// Deadline 2022-03-25 (Europe/Paris, CET): J-21 09:00 = 2022-03-04T09:00+01:00.
#include "bench/harness.h"
#include "parsers/mime/mime_message.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <set>
#include <thread>

using namespace ppo::testbench;

namespace {

std::set<std::string> missing_uais(Harness& h, const std::string& now) {
    std::set<std::string> out;
    auto lycees = h.status(now)->getArray("lycees");
    for (unsigned i = 0; i < lycees->size(); ++i) {
        auto l = lycees->getObject(i);
        if (l->getValue<std::string>("state") == "missing") out.insert(l->getValue<std::string>("uai"));
    }
    return out;
}

// UAI of each captured reminder, from its X-PPO-UAI header.
std::multiset<std::string> reminded(const std::vector<CapturedMail>& mails, const std::string& offset) {
    std::multiset<std::string> out;
    for (const auto& m : mails)
        if (header_of(m.data, "X-PPO-Reminder") == offset) out.insert(header_of(m.data, "X-PPO-UAI"));
    return out;
}

void submit(Harness& h, const std::string& from, const std::string& tag, const std::string& now) {
    TestMail m;
    m.from = from;
    m.files = {{"PPO " + tag + ".pdf", "application/pdf", sample_pdf(tag), ""}};
    h.deliver(m);
    auto r = h.ppo({"poll", "--once"}, now);
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::size_t settle(Harness& h) {
    // The capture writes each mail as it comes; poll until the count is stable.
    std::size_t n = h.smtp().messages().size();
    for (int i = 0; i < 10; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto m = h.smtp().messages().size();
        if (m == n) break;
        n = m;
    }
    return n;
}

}  // namespace

TEST(Workflow, RemindersGoExactlyToMissingLyceesOncePerOffset) {
    Harness h;
    submit(h, "ce.0596082r@ac-lille.fr", "a", "2022-03-01T10:00:00+01:00");
    settle(h);
    h.smtp().clear();

    const std::string j21 = "2022-03-04T09:00:00+01:00";
    auto expected = missing_uais(h, j21);
    ASSERT_EQ(expected.size(), 139u);
    auto r = h.ppo({"tick"}, j21);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    h.smtp().wait_for(expected.size(), std::chrono::seconds(30));
    settle(h);
    auto mails = h.smtp().messages();
    auto got = reminded(mails, "-21");
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), expected);
    EXPECT_EQ(got.size(), expected.size()) << "one reminder per lycée";
    EXPECT_EQ(got.count("0596082R"), 0u) << "a lycée that submitted is not reminded";
    for (const auto& m : mails) EXPECT_EQ(header_of(m.data, "Auto-Submitted"), "auto-generated");

    // The same instant again: nothing more.
    r = h.ppo({"tick"}, j21);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(settle(h), mails.size());
    auto lycee = h.lycee("0597091M");
    auto sent = lycee->getArray("reminders_sent");
    ASSERT_EQ(sent->size(), 1u);
    EXPECT_EQ(sent->getElement<std::string>(0), "-21");
}

TEST(Workflow, ALyceeThatSubmitsBetweenJ7AndJ2GetsNoJ2Reminder) {
    Harness h;
    ASSERT_EQ(h.ppo({"tick"}, "2022-03-18T09:00:00+01:00").exit_code, 0);  // J-7
    h.smtp().wait_for(140, std::chrono::seconds(30));
    settle(h);
    submit(h, "ce.0597091m@ac-lille.fr", "between", "2022-03-20T11:00:00+01:00");
    settle(h);
    h.smtp().clear();
    ASSERT_EQ(h.ppo({"tick"}, "2022-03-23T09:00:00+01:00").exit_code, 0);  // J-2
    h.smtp().wait_for(139, std::chrono::seconds(30));
    settle(h);
    auto got = reminded(h.smtp().messages(), "-2");
    EXPECT_EQ(got.size(), 139u);
    EXPECT_EQ(got.count("0597091M"), 0u);
    auto sent = h.lycee("0597091M")->getArray("reminders_sent");
    ASSERT_EQ(sent->size(), 1u);
    EXPECT_EQ(sent->getElement<std::string>(0), "-7");
}

TEST(Workflow, DryRunListsWithoutSendingOrRecording) {
    Harness h;
    auto r = h.ppo({"tick", "--dry-run"}, "2022-03-04T09:30:00+01:00");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("would send reminder -21 UAI 0596082R"), std::string::npos) << r.out;
    EXPECT_EQ(settle(h), 0u);
    EXPECT_EQ(h.lycee("0596082R")->getArray("reminders_sent")->size(), 0u);
}

TEST(Workflow, DigestCountsEqualStatusJson) {
    Harness::Options o;
    o.extra_config = {{"digest.to", "draio@region-academique-hauts-de-france.fr"}};
    Harness h(o);
    submit(h, "ce.0596082r@ac-lille.fr", "on-time", "2022-03-01T10:00:00+01:00");
    submit(h, "Direction <direction.jeanne-darc@orange.fr>", "private", "2022-03-02T10:00:00+01:00");
    settle(h);
    h.smtp().clear();
    const std::string monday = "2022-03-07T07:05:00+01:00";
    ASSERT_EQ(h.ppo({"tick"}, monday).exit_code, 0);
    auto mails = h.smtp().wait_for(1);
    settle(h);
    std::vector<CapturedMail> digests;
    for (const auto& m : h.smtp().messages())
        if (std::find(m.rcpt_to.begin(), m.rcpt_to.end(), "draio@region-academique-hauts-de-france.fr") != m.rcpt_to.end())
            digests.push_back(m);
    ASSERT_EQ(digests.size(), 1u);
    auto parsed = ppo::parsers::parse_mime_message(digests[0].data);
    // The subject carries received/expected as status --json counts them.
    auto st = h.status(monday);
    auto lycees = st->getArray("lycees");
    int received = 0;
    for (unsigned i = 0; i < lycees->size(); ++i)
        if (lycees->getObject(i)->getValue<std::string>("state") != "missing") ++received;
    EXPECT_EQ(received, 2);
    EXPECT_NE(parsed.subject.find(std::to_string(received) + "/" + std::to_string(lycees->size())), std::string::npos)
        << parsed.subject;
    // The CSV attachment has one row per expected lycée (+ header).
    const ppo::parsers::Attachment* csv = nullptr;
    for (const auto& a : parsed.attachments)
        if (a.filename.find(".csv") != std::string::npos) csv = &a;
    ASSERT_NE(csv, nullptr);
    EXPECT_EQ(static_cast<std::size_t>(std::count(csv->data.begin(), csv->data.end(), '\n')), lycees->size() + 1);
    // One digest per slot, whatever the reruns.
    ASSERT_EQ(h.ppo({"tick"}, "2022-03-07T12:00:00+01:00").exit_code, 0);
    settle(h);
    std::size_t again = 0;
    for (const auto& m : h.smtp().messages())
        if (std::find(m.rcpt_to.begin(), m.rcpt_to.end(), "draio@region-academique-hauts-de-france.fr") != m.rcpt_to.end())
            ++again;
    EXPECT_EQ(again, 1u);
}

TEST(Workflow, ForwardingCanBeTurnedOff) {
    Harness::Options o;
    o.extra_config = {{"workflow.forward", "false"}};
    Harness h(o);
    submit(h, "ce.0596082r@ac-lille.fr", "noforward", "2022-03-01T10:00:00+01:00");
    settle(h);
    auto mails = h.smtp().messages();
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0].rcpt_to.front(), "ce.0596082r@ac-lille.fr");
    auto s = h.lycee("0596082R")->getArray("submissions")->getObject(0);
    EXPECT_TRUE(s->getValue<bool>("acknowledged"));
    EXPECT_FALSE(s->getValue<bool>("forwarded"));
}
