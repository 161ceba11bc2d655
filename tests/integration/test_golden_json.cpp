// The public JSON contracts pinned byte for byte (issue 22): `status --json`
// with every section populated (submissions on time, late, acknowledged,
// forwarded and not; document checks; reminders sent; unidentified with files
// and links; quarantined; duplicates), `outbox list --json` (failed and
// deferred mails) and `triage list --json`, from one deterministic run of the
// real binary against Dovecot and the SMTP capture, compared with the files
// in tests/golden/.
//
// Deterministic by construction: fixed --now for every command, fixed
// Message-IDs and file contents, the SMTP capture's scripted replies. Two
// things the run cannot fix are set by the test in the database before the
// JSON is read, rather than masked in the output: messages.received_at (the
// IMAP server's INTERNALDATE, the real time of the APPEND) and the outbox's
// created_at / next_attempt_at (--now's clock moves on with real time, so a
// run lasts a few seconds of it).
//
// One thing is masked: the SMTP capture's port (a free port, chosen when it
// starts) in the outbox's last_error, written 127.0.0.1:PORT.
//
// PPO_UPDATE_GOLDEN=1 rewrites the golden files from this run (and the test
// then fails, so that an update is never taken for a pass).
#include "bench/harness.h"

#include <Poco/Data/Session.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

using namespace ppo::testbench;
using namespace Poco::Data::Keywords;

namespace {

const std::string kGoldenDir = std::string(PPO_SOURCE_DIR) + "/tests/golden/";

void expect_golden(const std::string& name, const std::string& actual) {
    const std::string path = kGoldenDir + name;
    if (const char* update = std::getenv("PPO_UPDATE_GOLDEN"); update && std::string(update) == "1") {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
        ADD_FAILURE() << path << " rewritten from this run (PPO_UPDATE_GOLDEN=1): check it, commit it, run again";
        return;
    }
    const std::string expected = read_file(path);
    ASSERT_FALSE(expected.empty()) << path << " is missing (PPO_UPDATE_GOLDEN=1 writes it)";
    if (expected == actual) return;
    std::size_t at = 0;
    while (at < expected.size() && at < actual.size() && expected[at] == actual[at]) ++at;
    const std::size_t from = at < 200 ? 0 : at - 200;
    ADD_FAILURE() << name << " differs from " << path << " at byte " << at << " (sizes " << expected.size() << " and "
                  << actual.size() << ")\n--- expected from byte " << from << ":\n"
                  << expected.substr(from, 400) << "\n--- actual:\n"
                  << actual.substr(from, 400);
}

TestMail mail(const std::string& from, const std::string& tag, const std::string& subject) {
    TestMail m;
    m.from = from;
    m.subject = subject;
    m.message_id = "<" + tag + "@golden.test>";
    m.files = {{"PPO " + tag + ".pdf", "application/pdf", sample_pdf(tag), ""}};
    return m;
}

void poll(Harness& h, const std::string& now) {
    auto r = h.ppo({"poll", "--once"}, now);
    ASSERT_EQ(r.exit_code, 0) << r.err;
}

// The times the run cannot fix (see the file's comment), set by id.
void fix_times(Harness& h) {
    Poco::Data::Session s = database_session(h.dir());
    s << "UPDATE messages SET received_at = 1646125200 + 60 * id", now;
    s << "UPDATE outbox SET created_at = 1648450800 + 60 * id, next_attempt_at = 1648454400 + 60 * id", now;
}

// "127.0.0.1:38173" -> "127.0.0.1:PORT" (see the file's comment).
std::string mask_port(std::string s, int port) {
    const std::string from = "127.0.0.1:" + std::to_string(port);
    for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p)) s.replace(p, from.size(), "127.0.0.1:PORT");
    return s;
}

}  // namespace

TEST(GoldenJson, StatusOutboxAndTriageListsAreByteIdenticalToTheGoldenFiles) {
    Harness::Options o;
    o.extra_config = {{"intake.max_message_size", "200K"}};
    Harness h(o);

    // On time, acknowledged and forwarded (0597091M).
    h.deliver(mail("ce.0597091m@ac-lille.fr", "golden-on-time", "PPO du lycée"));
    poll(h, "2022-03-01T10:00:00+01:00");
    // Reminders J-21 to every lycée still missing.
    auto tick = h.ppo({"tick"}, "2022-03-04T09:05:00+01:00");
    ASSERT_EQ(tick.exit_code, 0) << tick.err;

    // Every RCPT refused for good: the acknowledgement and the forward fail.
    // A subject to escape; the same message twice (a duplicate); one too big
    // (quarantined).
    h.smtp().set_fail_permanently(100);
    TestMail escaped = mail("ce.0596082r@ac-lille.fr", "golden-escaped", "PPO \"2022\" \\ lycée\tClaudel");
    h.deliver(escaped);
    h.deliver(escaped);
    TestMail big = mail("ce.0595391p@ac-lille.fr", "golden-too-big", "PPO trop gros");
    big.files = {{"PPO.pdf", "application/pdf", sample_pdf("golden-too-big", 300 * 1024), ""}};
    h.deliver(big);
    poll(h, "2022-03-02T10:00:00+01:00");
    h.smtp().set_fail_permanently(0);

    // After the deadline: late (0592587S).
    h.deliver(mail("ce.0592587s@ac-lille.fr", "golden-late", "PPO en retard"));
    poll(h, "2022-03-28T10:00:00+02:00");

    // Every RCPT deferred: the link reply waits in the queue. A stranger's
    // file (unidentified) and a lycée's download link (unidentified, its UAI
    // and the link).
    h.smtp().set_fail_temporarily(100);
    h.deliver(mail("inconnu@example.org", "golden-stranger", "Document"));
    TestMail link;
    link.from = "ce.0595391p@ac-lille.fr";
    link.subject = "PPO lycée Ronsard";
    link.message_id = "<golden-link@golden.test>";
    link.body = "Bonjour,\nle fichier est trop gros, le voici :\n"
                "https://nuage03.apps.education.fr/index.php/s/Golden22\nCordialement";
    h.deliver(link);
    poll(h, "2022-03-28T11:00:00+02:00");
    h.smtp().set_fail_temporarily(0);

    fix_times(h);
    const std::string now = "2022-03-28T12:00:00+02:00";
    auto status = h.ppo({"status", "--json"}, now);
    ASSERT_EQ(status.exit_code, 0) << status.err;
    auto outbox = h.ppo({"outbox", "list", "--json"}, now);
    ASSERT_EQ(outbox.exit_code, 0) << outbox.err;
    auto triage = h.ppo({"triage", "list", "--json"}, now);
    ASSERT_EQ(triage.exit_code, 0) << triage.err;

    // The run made what the golden files are meant to pin.
    for (const char* part : {"\"late\": true", "\"acknowledged\": true", "\"acknowledged\": false", "\"checks\": [\n",
                             "\"reminders_sent\": [\"-21\"]", "\"duplicate_of\": ", "exceeds max_message_size",
                             "Golden22", "\\\"2022\\\" \\\\ lyc", "\\t"})
        EXPECT_NE(status.out.find(part), std::string::npos) << part << "\n" << status.out.substr(0, 4000);
    for (const char* state : {"\"state\": \"failed\"", "\"state\": \"deferred\""})
        EXPECT_NE(outbox.out.find(state), std::string::npos) << state << "\n" << outbox.out;

    expect_golden("status.json", status.out);
    expect_golden("outbox-list.json", mask_port(outbox.out, h.smtp().port()));
    expect_golden("triage-list.json", triage.out);
}
