// The administrators' commands of the web interface's CLI parity, through the
// real binary against Dovecot and the SMTP capture: outbox list / retry, the
// queue's give-up after [smtp] max_age, ack resend, status --bassin and
// export files. Lycées (tests/data/annuaire-hdf-sample.csv): 0596082R Camille
// Claudel and 0595391P Ronsard (bassin 095912, Douai), 0592587S Jean Rostand
// (bassin 095911, Cambrai).
#include "bench/harness.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <thread>

using namespace ppo::testbench;
namespace fs = std::filesystem;

namespace {

const std::string kT0 = "2022-03-01T10:00:00+01:00";

void submit(Harness& h, const std::string& from, const std::string& tag, const std::string& now = kT0) {
    TestMail m;
    m.from = from;
    m.message_id = "<" + tag + "@ac-lille.fr>";
    m.files = {{"PPO " + tag + ".pdf", "application/pdf", sample_pdf(tag), ""}};
    h.deliver(m);
    auto r = h.ppo({"poll", "--once"}, now);
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

std::size_t settle(Harness& h) {
    std::size_t n = h.smtp().messages().size();
    for (int i = 0; i < 10; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto m = h.smtp().messages().size();
        if (m == n) break;
        n = m;
    }
    return n;
}

Poco::JSON::Array::Ptr outbox(Harness& h, const std::string& now = "") {
    auto r = h.ppo({"outbox", "list", "--json"}, now);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Array::Ptr>();
}

// The outbox mail of this kind in `outbox list --json`, nullptr if none.
Poco::JSON::Object::Ptr mail_of_kind(const Poco::JSON::Array::Ptr& list, const std::string& kind) {
    for (unsigned i = 0; i < list->size(); ++i)
        if (list->getObject(i)->getValue<std::string>("kind") == kind) return list->getObject(i);
    return nullptr;
}

std::int64_t first_submission_id(Harness& h, const std::string& uai) {
    auto subs = h.lycee(uai)->getArray("submissions");
    if (subs->size() == 0) return 0;
    return subs->getObject(0)->getValue<std::int64_t>("id");
}

std::size_t count_to(const std::vector<CapturedMail>& mails, const std::string& rcpt, const std::string& header = "",
                     const std::string& value = "") {
    std::size_t n = 0;
    for (const auto& m : mails)
        if (std::find(m.rcpt_to.begin(), m.rcpt_to.end(), rcpt) != m.rcpt_to.end() &&
            (header.empty() || header_of(m.data, header) == value))
            ++n;
    return n;
}

std::map<std::string, std::string> unzip_file(const std::string& path) {
    std::map<std::string, std::string> out;
    std::ifstream in(path, std::ios::binary);
    Poco::Zip::ZipArchive archive(in);
    for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
        std::ifstream again(path, std::ios::binary);
        Poco::Zip::ZipInputStream zin(again, it->second, true);
        std::ostringstream content;
        content << zin.rdbuf();
        out[it->first] = content.str();
    }
    return out;
}

}  // namespace

TEST(AdminCli, OutboxListShowsRefusedMailsAndRetryPutsThemBackAndSends) {
    Harness h;
    h.smtp().set_fail_permanently(2);   // the acknowledgement and the forward: 550
    submit(h, "ce.0596082r@ac-lille.fr", "refused");
    settle(h);
    EXPECT_EQ(h.smtp().messages().size(), 0u);

    auto list = outbox(h);
    ASSERT_EQ(list->size(), 2u);
    auto ack = mail_of_kind(list, "ack");
    auto fwd = mail_of_kind(list, "forward");
    ASSERT_TRUE(ack && fwd);
    for (const auto& m : {ack, fwd}) {
        EXPECT_EQ(m->getValue<std::string>("state"), "failed");
        EXPECT_EQ(m->getValue<int>("attempts"), 1);
        EXPECT_NE(m->getValue<std::string>("last_error").find("550"), std::string::npos) << m->getValue<std::string>("last_error");
        EXPECT_EQ(m->getValue<std::string>("uai"), "0596082R");
        EXPECT_EQ(m->getValue<std::string>("created_at").rfind("2022-03-01T10:00:0", 0), 0u);
    }
    EXPECT_EQ(fwd->getArray("recipients")->getElement<std::string>(0), "ien-io.douai@ac-lille.fr");
    auto table = h.ppo({"outbox", "list"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find("0 pending, 0 deferred, 2 failed"), std::string::npos) << table.out;
    const auto ack_id = ack->getValue<std::int64_t>("id");
    const auto fwd_id = fwd->getValue<std::int64_t>("id");

    // Wrong ids are refused, and say why.
    auto none = h.ppo({"outbox", "retry", "99999"});
    EXPECT_EQ(none.exit_code, 2);
    EXPECT_NE(none.err.find("does not exist"), std::string::npos) << none.err;
    EXPECT_EQ(h.ppo({"outbox", "retry"}).exit_code, 2);
    EXPECT_EQ(h.ppo({"outbox", "retry", "abc"}).exit_code, 2);

    // One mail back: it is sent at once, the other stays failed.
    auto one = h.ppo({"outbox", "retry", std::to_string(ack_id)}, kT0);
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_NE(one.out.find("Mail " + std::to_string(ack_id) + ": sent"), std::string::npos) << one.out;
    settle(h);
    EXPECT_EQ(count_to(h.smtp().messages(), "ce.0596082r@ac-lille.fr"), 1u);
    list = outbox(h);
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(list->getObject(0)->getValue<std::int64_t>("id"), fwd_id);
    auto sent = h.ppo({"outbox", "retry", std::to_string(ack_id)});
    EXPECT_EQ(sent.exit_code, 2);
    EXPECT_NE(sent.err.find("is sent, not failed"), std::string::npos) << sent.err;

    // Every failed mail back.
    auto all = h.ppo({"outbox", "retry", "--all"}, kT0);
    ASSERT_EQ(all.exit_code, 0) << all.err;
    EXPECT_NE(all.out.find("1 failed mail(s) put back"), std::string::npos) << all.out;
    settle(h);
    EXPECT_EQ(count_to(h.smtp().messages(), "ien-io.douai@ac-lille.fr"), 1u);
    EXPECT_EQ(outbox(h)->size(), 0u);
    EXPECT_NE(h.ppo({"outbox", "list"}).out.find("The outbox is empty"), std::string::npos);
    auto again = h.ppo({"outbox", "retry", "--all"});
    EXPECT_EQ(again.exit_code, 0);
    EXPECT_NE(again.out.find("No failed mail to retry"), std::string::npos) << again.out;

    auto s = h.lycee("0596082R")->getArray("submissions")->getObject(0);
    EXPECT_TRUE(s->getValue<bool>("acknowledged"));
    EXPECT_TRUE(s->getValue<bool>("forwarded"));
}

TEST(AdminCli, ADeferredMailIsGivenUpAfterMaxAgeAndCanBeRetried) {
    Harness::Options o;
    o.extra_config = {{"smtp.max_age", "2d"}};
    Harness h(o);
    h.smtp().set_fail_temporarily(1000);
    submit(h, "ce.0596082r@ac-lille.fr", "deferred");
    auto list = outbox(h);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ(mail_of_kind(list, "ack")->getValue<std::string>("state"), "deferred");
    EXPECT_EQ(mail_of_kind(list, "ack")->getValue<int>("attempts"), 1);
    EXPECT_NE(mail_of_kind(list, "ack")->getValue<std::string>("next_attempt_at"), "");
    EXPECT_NE(mail_of_kind(list, "forward")->getValue<std::string>("state"), "failed");

    // A day later: tried again, still deferred.
    ASSERT_EQ(h.ppo({"poll", "--once"}, "2022-03-02T10:00:00+01:00").exit_code, 0);
    list = outbox(h);
    EXPECT_EQ(mail_of_kind(list, "ack")->getValue<std::string>("state"), "deferred");
    EXPECT_EQ(mail_of_kind(list, "ack")->getValue<int>("attempts"), 2);

    // Two days after they were queued: both given up in one pass, with the reason.
    auto r = h.ppo({"poll", "--once"}, "2022-03-03T10:30:00+01:00");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("given up"), std::string::npos) << tail(r.err);
    list = outbox(h);
    ASSERT_EQ(list->size(), 2u);
    for (unsigned i = 0; i < list->size(); ++i) {
        auto m = list->getObject(i);
        EXPECT_EQ(m->getValue<std::string>("state"), "failed");
        const auto err = m->getValue<std::string>("last_error");
        EXPECT_EQ(err.rfind("gave up after 2 days: ", 0), 0u) << err;
        EXPECT_NE(err.find("451"), std::string::npos) << err;
    }
    EXPECT_EQ(h.smtp().messages().size(), 0u);
    // Failed mails are not tried any more.
    ASSERT_EQ(h.ppo({"poll", "--once"}, "2022-03-04T10:30:00+01:00").exit_code, 0);
    EXPECT_EQ(outbox(h)->size(), 2u);

    // The server is back: outbox retry --all sends both.
    h.smtp().set_fail_temporarily(0);
    auto all = h.ppo({"outbox", "retry", "--all"}, "2022-03-04T11:00:00+01:00");
    ASSERT_EQ(all.exit_code, 0) << all.err;
    EXPECT_NE(all.out.find("2 sent"), std::string::npos) << all.out;
    EXPECT_EQ(settle(h), 2u);
    EXPECT_EQ(outbox(h)->size(), 0u);
}

TEST(AdminCli, AckResendQueuesTheAcknowledgementAgainWithinTheRateLimit) {
    Harness::Options o;
    o.extra_config = {{"smtp.max_per_recipient_per_hour", "3"}};
    Harness h(o);
    submit(h, "ce.0596082r@ac-lille.fr", "resend");
    settle(h);
    const auto id = first_submission_id(h, "0596082R");
    ASSERT_GT(id, 0);
    const std::string sid = std::to_string(id);
    ASSERT_EQ(count_to(h.smtp().messages(), "ce.0596082r@ac-lille.fr", "X-PPO-Submission", sid), 1u);
    std::string subject;
    for (const auto& m : h.smtp().messages())
        if (count_to({m}, "ce.0596082r@ac-lille.fr")) subject = header_of(m.data, "Subject");
    ASSERT_NE(subject, "");

    auto r = h.ppo({"ack", "resend", sid}, kT0);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("(ack:" + sid + ":resend:1)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(": sent"), std::string::npos) << r.out;
    settle(h);
    auto acks = count_to(h.smtp().messages(), "ce.0596082r@ac-lille.fr", "X-PPO-Submission", sid);
    EXPECT_EQ(acks, 2u);
    for (const auto& m : h.smtp().messages()) {
        if (header_of(m.data, "X-PPO-Submission") == sid && count_to({m}, "ce.0596082r@ac-lille.fr")) {
            EXPECT_EQ(header_of(m.data, "Subject"), subject);
        }
    }

    r = h.ppo({"ack", "resend", sid}, kT0);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("(ack:" + sid + ":resend:2)"), std::string::npos) << r.out;
    settle(h);
    EXPECT_EQ(count_to(h.smtp().messages(), "ce.0596082r@ac-lille.fr", "X-PPO-Submission", sid), 3u);

    // The fourth acknowledgement within the hour: over the limit of 3, nothing queued.
    r = h.ppo({"ack", "resend", sid}, kT0);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.err.find("no recipient left"), std::string::npos) << r.err;
    settle(h);
    EXPECT_EQ(count_to(h.smtp().messages(), "ce.0596082r@ac-lille.fr", "X-PPO-Submission", sid), 3u);
    // An hour later it goes again.
    r = h.ppo({"ack", "resend", sid}, "2022-03-01T11:30:00+01:00");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("(ack:" + sid + ":resend:3)"), std::string::npos) << r.out;

    // Only submissions.
    EXPECT_EQ(h.ppo({"ack", "resend", "99999"}).exit_code, 2);
    EXPECT_EQ(h.ppo({"ack", "resend"}).exit_code, 2);
    TestMail stranger;
    stranger.from = "quelquun@gmail.com";
    stranger.subject = "document";
    stranger.body = "Bonjour";
    stranger.files = {{"doc.pdf", "application/pdf", sample_pdf("stranger"), ""}};
    h.deliver(stranger);
    ASSERT_EQ(h.ppo({"poll", "--once"}, kT0).exit_code, 0);
    auto triage = h.status()->getArray("unidentified");
    ASSERT_EQ(triage->size(), 1u);
    const auto tid = triage->getObject(0)->getValue<std::int64_t>("id");
    auto refused = h.ppo({"ack", "resend", std::to_string(tid)});
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("is not a submission (unidentified)"), std::string::npos) << refused.err;
}

TEST(AdminCli, StatusOfSomeBassinsOnly) {
    Harness h;
    auto full = h.status();
    auto all = full->getArray("lycees");
    std::size_t douai = 0, cambrai = 0;
    for (unsigned i = 0; i < all->size(); ++i) {
        const auto b = all->getObject(i)->getValue<std::string>("bassin");
        douai += b == "095912";
        cambrai += b == "095911";
    }
    ASSERT_GT(douai, 0u);
    ASSERT_GT(cambrai, 0u);

    auto r = h.ppo({"status", "--bassin", "095912", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto st = Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
    auto lycees = st->getArray("lycees");
    EXPECT_EQ(lycees->size(), douai);
    for (unsigned i = 0; i < lycees->size(); ++i) EXPECT_EQ(lycees->getObject(i)->getValue<std::string>("bassin"), "095912");
    EXPECT_EQ(st->getArray("unidentified")->size(), 0u);

    auto csv = h.ppo({"status", "--csv", "--bassin", "095912", "--bassin", "095911"});
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    EXPECT_EQ(static_cast<std::size_t>(std::count(csv.out.begin(), csv.out.end(), '\n')), 1 + douai + cambrai);
    EXPECT_NE(csv.out.find(";manquant;"), std::string::npos);
    EXPECT_EQ(csv.out.find(";missing;"), std::string::npos);

    auto table = h.ppo({"status", "--bassin", "095911"});
    ASSERT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find(std::to_string(cambrai) + " lycées expected"), std::string::npos) << table.out;

    auto unknown = h.ppo({"status", "--bassin", "NOPE"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.err.find("no bassin 'NOPE'"), std::string::npos) << unknown.err;
}

TEST(AdminCli, ExportFilesWritesTheLatestPpoOfEachLyceeOfTheBassin) {
    Harness h;
    submit(h, "ce.0596082r@ac-lille.fr", "claudel-v1");
    submit(h, "ce.0596082r@ac-lille.fr", "claudel-v2", "2022-03-02T10:00:00+01:00");
    submit(h, "ce.0595391p@ac-lille.fr", "ronsard");
    submit(h, "ce.0592587s@ac-lille.fr", "rostand");   // another bassin

    const std::string out = h.dir() + "/exports/douai.zip";
    fs::create_directories(h.dir() + "/exports");
    auto r = h.ppo({"export", "files", "--bassin", "095912", "--out", out});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("2 file(s) from 2 of the"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("No PPO received from"), std::string::npos) << r.out;

    const auto files = unzip_file(out);
    std::map<std::string, std::string> expected = {
        {"0596082R - Lycée général et technologique Camille Claudel.pdf", sample_pdf("claudel-v2")},
        {"0595391P - Lycée général et technologique Ronsard.pdf", sample_pdf("ronsard")},
    };
    EXPECT_EQ(files.size(), expected.size());
    for (const auto& [name, content] : expected) {
        ASSERT_EQ(files.count(name), 1u) << name;
        EXPECT_EQ(files.at(name), content) << name;
    }
    struct stat st {};
    ASSERT_EQ(::stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);

    // An existing file is kept unless --force.
    auto again = h.ppo({"export", "files", "--bassin", "095912", "--out", out});
    EXPECT_EQ(again.exit_code, 2);
    EXPECT_NE(again.err.find("exists; --force replaces it"), std::string::npos) << again.err;
    auto forced = h.ppo({"export", "files", "--bassin", "095911", "--out", out, "--force"});
    ASSERT_EQ(forced.exit_code, 0) << forced.err;
    const auto cambrai = unzip_file(out);
    ASSERT_EQ(cambrai.size(), 1u);
    EXPECT_EQ(cambrai.begin()->first.substr(0, 11), "0592587S - ");
    // Nothing else left beside it (the temporary file was renamed).
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(h.dir() + "/exports")) {
        ++entries;
        EXPECT_EQ(e.path().filename(), "douai.zip");
    }
    EXPECT_EQ(entries, 1u);

    EXPECT_EQ(h.ppo({"export", "files", "--bassin", "NOPE", "--out", h.dir() + "/x.zip"}).exit_code, 2);
    EXPECT_EQ(h.ppo({"export", "files", "--bassin", "095912"}).exit_code, 2);
    EXPECT_FALSE(fs::exists(h.dir() + "/x.zip"));
}
