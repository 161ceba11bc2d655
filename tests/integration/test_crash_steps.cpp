// Stop after step N, for every N (as isync's test suite does): the real
// binary, the real Dovecot and SMTP capture, PPO_TEST_CRASH_AFTER_STEP=N
// (workflow/intake/crash_point.h: fetch, archive, commit, move, send, mark). Each
// run of `poll --once` ends abruptly after its N-th step; it is then run
// again without the variable, and the final state must be the one an
// uninterrupted run reaches: the same submissions with the same files, the
// same folders, every acknowledgement and forward sent. The only difference
// allowed is a mail the SMTP server accepted just before the stop (after
// "send", before "mark"), which is sent again: at most one per stop.
#include "bench/harness.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>
#include <sstream>

using namespace ppo::testbench;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";

// The mailbox every run starts from: three lycées (one sends two files), a
// message without evidence, one delivered twice (identical bytes), one
// auto-reply; batch_size small enough for several batches.
void deliver_all(Harness& h) {
    TestMail a;
    a.from = "ce.0596082r@ac-lille.fr";
    a.message_id = "<a@ac-lille.fr>";
    a.files = {{"PPO Claudel.pdf", "application/pdf", sample_pdf("a", 30000), ""}};
    const std::string raw_a = build_test_mail(a);
    h.imap().append(raw_a);
    TestMail b;
    b.from = "ce.0597091m@ac-lille.fr";
    b.message_id = "<b@ac-lille.fr>";
    b.files = {{"PPO.pdf", "application/pdf", sample_pdf("b", 30000), ""},
               {"annexe.pdf", "application/pdf", sample_pdf("b2", 30000), ""}};
    h.deliver(b);
    TestMail unknown;
    unknown.from = "someone@gmail.com";
    unknown.subject = "document";
    unknown.body = "Bonjour";
    unknown.message_id = "<u@gmail.com>";
    unknown.files = {{"scan.pdf", "application/pdf", sample_pdf("u", 30000), ""}};
    h.deliver(unknown);
    h.imap().append(raw_a);   // delivered twice
    TestMail ooo;
    ooo.from = "ce.0596082r@ac-lille.fr";
    ooo.subject = "Absence";
    ooo.headers = {{"Auto-Submitted", "auto-replied"}};
    ooo.message_id = "<ooo@ac-lille.fr>";
    h.deliver(ooo);
}

Harness::Options options() {
    Harness::Options o;
    o.extra_config["intake.batch_size"] = "64K";
    return o;
}

struct State {
    std::string status;                 // status --json without ids or times
    std::map<std::string, std::size_t> folders;
    std::set<std::string> mails;        // distinct (kind, lycée, files) of the mails sent
    std::size_t mails_sent = 0;
};

std::string get(const Poco::JSON::Object::Ptr& o, const std::string& key) {
    return o->has(key) ? o->get(key).toString() : "";
}

State state_of(Harness& h) {
    State st;
    auto status = h.status(kBefore);
    std::ostringstream out;
    auto lycees = status->getArray("lycees");
    for (std::size_t i = 0; i < lycees->size(); ++i) {
        auto l = lycees->getObject(static_cast<unsigned>(i));
        auto subs = l->getArray("submissions");
        if (subs->size() == 0) continue;
        out << get(l, "uai") << " " << get(l, "state") << ":";
        for (std::size_t j = 0; j < subs->size(); ++j) {
            auto s = subs->getObject(static_cast<unsigned>(j));
            out << " [" << get(s, "identified_by") << " ack=" << get(s, "acknowledged") << " fwd=" << get(s, "forwarded");
            auto files = s->getArray("files");
            for (std::size_t k = 0; k < files->size(); ++k) {
                auto f = files->getObject(static_cast<unsigned>(k));
                out << " " << get(f, "name") << "=" << get(f, "sha256").substr(0, 12);
            }
            out << "]";
        }
        out << "\n";
    }
    for (const char* list : {"unidentified", "quarantined", "duplicates"}) {
        auto arr = status->getArray(list);
        out << list << ": " << (arr ? arr->size() : 0) << "\n";
    }
    st.status = out.str();
    for (const char* f : {"INBOX", "PPO.Traites", "PPO.A-trier", "PPO.Ignores"}) st.folders[f] = h.imap().count(f);
    for (const auto& m : h.smtp().messages()) {
        ++st.mails_sent;
        std::string rcpt;
        for (const auto& r : m.rcpt_to) rcpt += r + ",";
        st.mails.insert(rcpt + " " + header_of(m.data, "Subject") + " " + header_of(m.data, "X-PPO-UAI"));
    }
    return st;
}

RunResult poll_stopping_after(Harness& h, int step) {
    return run_command({"/usr/bin/env", "PPO_TEST_CRASH_AFTER_STEP=" + std::to_string(step), PPO_BINARY, "-c",
                        h.config_path(), "--now", kBefore, "poll", "--once"});
}

}  // namespace

TEST(CrashSteps, StoppingAfterAnyStepThenRestartingReachesTheUninterruptedState) {
    State reference;
    {
        Harness h(options());
        deliver_all(h);
        auto r = h.ppo({"poll", "--once"}, kBefore);
        ASSERT_EQ(r.exit_code, 0) << tail(r.err);
        reference = state_of(h);
    }
    ASSERT_EQ(reference.folders["INBOX"], 0u);
    ASSERT_EQ(reference.folders["PPO.Traites"], 2u);
    ASSERT_EQ(reference.folders["PPO.A-trier"], 1u);
    ASSERT_EQ(reference.folders["PPO.Ignores"], 2u);   // the auto-reply and the second copy
    ASSERT_NE(reference.status.find("duplicates: 1"), std::string::npos) << reference.status;
    ASSERT_EQ(reference.mails_sent, 4u);   // two acknowledgements, two forwards
    ASSERT_EQ(reference.mails.size(), 4u);

    int stopped = 0;
    for (int n = 1; n <= 60; ++n) {
        SCOPED_TRACE("stop after step " + std::to_string(n));
        Harness h(options());
        deliver_all(h);
        auto first = poll_stopping_after(h, n);
        if (first.exit_code == 0) break;   // fewer than n steps: every stopping point was tried
        ASSERT_EQ(first.exit_code, 86) << tail(first.err);
        ASSERT_NE(first.err.find("PPO_TEST_CRASH_AFTER_STEP"), std::string::npos);
        ++stopped;
        auto again = h.ppo({"poll", "--once"}, kBefore);
        ASSERT_EQ(again.exit_code, 0) << tail(again.err);
        State st = state_of(h);
        EXPECT_EQ(st.status, reference.status);
        EXPECT_EQ(st.folders, reference.folders);
        EXPECT_EQ(st.mails, reference.mails);
        EXPECT_LE(st.mails_sent, reference.mails_sent + 1);   // a mail sent just before the stop
    }
    std::cout << "stopping points tried: " << stopped << "\n";
    // Every step kind was crossed: fetch, archive, commit and move for the
    // batches, send and mark for each of the four mails.
    EXPECT_GE(stopped, 4 * 2 + 2);
}
