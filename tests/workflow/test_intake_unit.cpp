// The intake's exactly-once logic against fakes of the mail source and the
// archive (and the real store on an in-memory SQLite database): crash between
// commit and move, UIDVALIDITY change, transient failures, batching.
#include "daemon/store/database.h"
#include "daemon/store/sql_store.h"
#include "parsers/text/error.h"
#include "workflow/intake/intake.h"
#include "workflow/mail/mail_builder.h"
#include "workflow/intake/sender_auth.h"

#include <gtest/gtest.h>

#include <set>

#include <map>

using namespace ppo::workflow;

namespace {

class FakeSource : public MailSource {
public:
    std::uint32_t uidvalidity = 7;
    std::map<std::uint32_t, std::string> inbox;
    std::map<Folder, std::vector<std::string>> folders;
    int fail_moves = 0;          // the next N move() calls throw (a crash before the move)
    int fetch_calls = 0;
    std::set<std::uint32_t> undeliverable;   // a FETCH naming one of these is refused (NO)

    std::uint32_t open() override { return uidvalidity; }
    std::vector<MessageSummary> list(std::uint32_t after) override {
        std::vector<MessageSummary> out;
        for (const auto& [uid, raw] : inbox) {
            if (uid <= after) continue;
            auto mid = raw.find("Message-ID: ");
            std::string id = mid == std::string::npos ? "" : raw.substr(mid + 12, raw.find("\r\n", mid) - mid - 12);
            out.push_back({uid, raw.size(), id});
        }
        return out;
    }
    std::vector<FetchedMessage> fetch(const std::vector<std::uint32_t>& uids) override {
        ++fetch_calls;
        for (auto u : uids)
            if (undeliverable.count(u)) throw ppo::permanent_error("IMAP UID FETCH: NO [SERVERBUG] Internal error");
        std::vector<FetchedMessage> out;
        for (auto u : uids)
            if (inbox.count(u)) out.push_back({u, inbox[u], 0, nullptr});
        return out;
    }
    void move(const std::vector<std::uint32_t>& uids, Folder folder) override {
        if (fail_moves > 0) {
            --fail_moves;
            throw ppo::transient_error("connection lost during MOVE");
        }
        for (auto u : uids) {
            folders[folder].push_back(inbox.at(u));
            inbox.erase(u);
        }
    }
    void wait(std::chrono::seconds) override {}
    void interrupt() override {}
    void close() override {}
};

class FakeArchive : public Archive {
public:
    std::map<std::string, std::string> files;
    int fail_writes = 0;
    int syncs = 0;
    std::string refuse_name;     // a name this "file system" refuses (ENAMETOOLONG, EILSEQ...)
    StoredFile write(const std::string& dir, const std::string& name, std::string_view data) override {
        if (name == refuse_name) throw ppo::permanent_error("archive: cannot create " + name + ": File name too long");
        if (fail_writes > 0) {
            --fail_writes;
            throw ppo::transient_error("archive: No space left on device");
        }
        std::string path = "/archive/" + dir + "/" + name;
        files[path] = std::string(data);
        return {path, static_cast<std::int64_t>(data.size()), "sha"};
    }
    void sync() override { ++syncs; }
    std::string read(const std::string& path) const override { return files.at(path); }
};

class FixedClock : public Clock {
public:
    std::chrono::system_clock::time_point now() const override {
        return std::chrono::system_clock::time_point(std::chrono::seconds(1646125200));  // 2022-03-01 09:00Z
    }
};

std::string mail(const std::string& from, const std::string& id, const std::string& file) {
    MailSpec s;
    s.from = from;
    s.to = {"ppo@region-academique-hauts-de-france.fr"};
    s.subject = "PPO";
    s.message_id = id;
    s.text = "Bonjour";
    s.attachments = {{file, "application/pdf", "%PDF-1.4\n" + file + "\n%%EOF\n", ""}};
    return build_mail(s);
}

struct Fixture : ::testing::Test {
    Config config = parse_config("[database]\nurl = sqlite://:memory:\n[storage]\narchive_dir = /archive\n", "/x/t.conf");
    std::unique_ptr<ppo::daemon::Database> db;
    std::unique_ptr<ppo::daemon::SqlStore> store;
    FakeSource source;
    FakeArchive archive;
    FixedClock clock;
    Templates templates = Templates::load(std::string(PPO_SOURCE_DIR) + "/etc/templates");

    void SetUp() override {
        config.database.connection = ":memory:";
        db = std::make_unique<ppo::daemon::Database>(config.database);
        db->migrate(std::string(PPO_SOURCE_DIR) + "/sql");
        store = std::make_unique<ppo::daemon::SqlStore>(*db);
        store->ensure_campaign(config.campaign.name, config.campaign.deadline, "09,20", 0);
        store->upsert_bassin({"095912", "BASSIN DOUAI", "IEN-IO Douai", "ien-io.douai@ac-lille.fr"}, true);
        ppo::daemon::LyceeRow l;
        l.lycee = {"0596082R", "Lycée Camille Claudel", "Douai", "059", "09", "095912", "BASSIN DOUAI",
                   "ce.0596082r@ac-lille.fr", "Public", true};
        store->upsert_lycee(l, 0);
    }
    IntakeStats poll() {
        Intake intake(config, *store, source, archive, templates, clock);
        return intake.poll_once();
    }
    std::size_t count(const std::string& sql) { return static_cast<std::size_t>(db->query(sql).front().i64(0)); }
    // A bare record of a message (ignored, no files), Message-ID <k{uid}@x>.
    MessageRecord row(std::uint32_t uid, std::uint32_t uidvalidity = 1) {
        MessageRecord r;
        r.campaign_id = store->ensure_campaign(config.campaign.name, config.campaign.deadline, "09,20", 0).id;
        r.mailbox = "INBOX";
        r.uidvalidity = uidvalidity;
        r.uid = uid;
        r.message_id = "<k" + std::to_string(uid) + "@x>";
        r.content_sha256 = "d" + std::to_string(uid);
        r.received_at = 1;
        r.from = "a@b.fr";
        r.outcome = "ignored";
        r.folder = "ignored";
        return r;
    }
};

}  // namespace

TEST_F(Fixture, CrashBetweenCommitAndMoveRefilesWithoutHandlingAgain) {
    source.inbox[1] = mail("ce.0596082r@ac-lille.fr", "<a@x>", "a.pdf");
    source.inbox[2] = mail("ce.0596082r@ac-lille.fr", "<b@x>", "b.pdf");
    source.fail_moves = 1;
    EXPECT_THROW(poll(), ppo::Error);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 2u);   // committed before the move
    EXPECT_EQ(source.inbox.size(), 2u);                        // still in the inbox
    auto stats = poll();
    EXPECT_EQ(stats.refiled, 2u);
    EXPECT_EQ(stats.submissions, 0u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 2u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE kind = 'ack'"), 2u);
    EXPECT_EQ(source.folders[Folder::processed].size(), 2u);
    EXPECT_TRUE(source.inbox.empty());
}

TEST_F(Fixture, UidvalidityChangeRecognisesRecordedMessagesByContent) {
    source.inbox[1] = mail("ce.0596082r@ac-lille.fr", "<a@x>", "a.pdf");
    poll();  // records UIDVALIDITY 7
    source.inbox[2] = mail("ce.0596082r@ac-lille.fr", "<b@x>", "b.pdf");
    source.fail_moves = 1;
    EXPECT_THROW(poll(), ppo::Error);  // <b@x> committed, not moved
    // The server renumbers everything; a new message arrives too.
    std::map<std::uint32_t, std::string> renumbered = {{10, source.inbox[2]},
                                                        {11, mail("ce.0596082r@ac-lille.fr", "<c@x>", "c.pdf")}};
    source.inbox = renumbered;
    source.uidvalidity = 8;
    auto stats = poll();
    EXPECT_EQ(stats.uidvalidity_resyncs, 1u);
    EXPECT_EQ(stats.refiled, 1u);
    EXPECT_EQ(stats.submissions, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE outcome = 'submission'"), 3u);
    EXPECT_TRUE(source.inbox.empty());
}

TEST_F(Fixture, ArchiveFailureCommitsNothingAndTheNextPassCatchesUp) {
    source.inbox[1] = mail("ce.0596082r@ac-lille.fr", "<a@x>", "a.pdf");
    archive.fail_writes = 1;
    EXPECT_THROW(poll(), ppo::Error);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 0u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), 0u);
    EXPECT_EQ(source.inbox.size(), 1u);
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM files"), 1u);
    EXPECT_TRUE(source.inbox.empty());
}

TEST_F(Fixture, BatchesShareOneFetchAndOneSync) {
    for (std::uint32_t u = 1; u <= 20; ++u)
        source.inbox[u] = mail("ce.0596082r@ac-lille.fr", "<m" + std::to_string(u) + "@x>", "f.pdf");
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 20u);
    EXPECT_EQ(source.fetch_calls, 1);
    EXPECT_EQ(archive.syncs, 1);
    // Versions: one lycée, twenty submissions; the files of each in its own folder.
    EXPECT_EQ(archive.files.size(), 20u);
    EXPECT_EQ(count("SELECT COUNT(DISTINCT path) FROM files"), 20u);
}

TEST_F(Fixture, ARedeliveredMessageIsRecordedAsADuplicateNeverASecondSubmission) {
    auto raw = mail("ce.0596082r@ac-lille.fr", "<same@x>", "a.pdf");
    source.inbox[1] = raw;
    poll();
    // The same message delivered again, through another relay (one more Received).
    source.inbox[2] = "Received: from relay2.ac-lille.fr by mx; Tue, 1 Mar 2022 10:00:00 +0100\r\n" + raw;
    auto stats = poll();
    EXPECT_EQ(stats.duplicates, 1u);
    EXPECT_EQ(stats.submissions, 0u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE outcome = 'submission'"), 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE outcome = 'duplicate' AND duplicate_of = "
                    "(SELECT id FROM messages WHERE outcome = 'submission')"), 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE kind = 'ack'"), 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM files"), 1u);
    EXPECT_EQ(source.folders[Folder::processed].size(), 1u);
    EXPECT_EQ(source.folders[Folder::ignored].size(), 1u);
    EXPECT_TRUE(source.inbox.empty());
}

TEST_F(Fixture, IdenticalCopiesInOneBatchAreOneSubmissionAndOneDuplicate) {
    auto raw = mail("ce.0596082r@ac-lille.fr", "<same@x>", "a.pdf");
    source.inbox[1] = raw;
    source.inbox[2] = raw;
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 1u);
    EXPECT_EQ(stats.duplicates, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE kind = 'ack'"), 1u);
    EXPECT_EQ(count("SELECT uid FROM messages WHERE outcome = 'duplicate'"), 2u);
}

TEST_F(Fixture, DifferentMessagesSharingOrLackingAMessageIdAreEachASubmission) {
    // A copier with a fixed Message-ID, in one batch and in a later one; and two without any.
    source.inbox[1] = mail("ce.0596082r@ac-lille.fr", "<fixed@copier>", "a.pdf");
    source.inbox[2] = mail("ce.0596082r@ac-lille.fr", "<fixed@copier>", "b.pdf");
    source.inbox[3] = mail("ce.0596082r@ac-lille.fr", "<fixed@copier>", "c.pdf");
    auto no_id = [](const std::string& raw) {
        auto p = raw.find("Message-ID: ");
        return raw.substr(0, p) + raw.substr(raw.find("\r\n", p) + 2);
    };
    source.inbox[4] = no_id(mail("ce.0596082r@ac-lille.fr", "<x@y>", "d.pdf"));
    source.inbox[5] = no_id(mail("ce.0596082r@ac-lille.fr", "<x@y>", "e.pdf"));
    ASSERT_EQ(source.inbox[4].find("Message-ID"), std::string::npos);
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 5u);
    source.inbox[6] = mail("ce.0596082r@ac-lille.fr", "<fixed@copier>", "f.pdf");
    stats = poll();
    EXPECT_EQ(stats.submissions, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE outcome = 'submission'"), 6u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM outbox WHERE kind = 'ack'"), 6u);
    EXPECT_TRUE(source.inbox.empty());
}

// One message's failure, wherever it happens, is that message's only: it is
// quarantined with its reason and the others of its batch are recorded.
TEST_F(Fixture, AFailureAtAnyStageAndPositionQuarantinesThatMessageOnly) {
    for (const std::string stage : {"read", "judge", "archive", "record"}) {
        for (std::uint32_t bad = 1; bad <= 4; ++bad) {
            SCOPED_TRACE(stage + " at uid " + std::to_string(bad));
            SetUp();   // a fresh database
            source = FakeSource{};
            archive = FakeArchive{};
            for (std::uint32_t u = 1; u <= 4; ++u)
                source.inbox[u] = mail("ce.0596082r@ac-lille.fr", "<m" + std::to_string(u) + "@x>", "f" + std::to_string(u) + ".pdf");
            Intake intake(config, *store, source, archive, templates, clock);
            intake.fault_hook = [&](const char* at, std::uint32_t uid) {
                if (at == stage && uid == bad) throw std::runtime_error("injected at " + stage);
            };
            IntakeStats stats;
            ASSERT_NO_THROW(stats = intake.poll_once());
            EXPECT_EQ(stats.submissions, 3u);
            EXPECT_EQ(stats.quarantined, 1u);
            EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE outcome = 'quarantined' AND uid = " + std::to_string(bad) +
                            " AND reason LIKE '%injected at " + stage + "%'"), 1u);
            // Nothing of the failed message is left half-written: no file row, no mail.
            EXPECT_EQ(count("SELECT COUNT(*) FROM files f JOIN messages m ON m.id = f.message_ref WHERE m.uid = " +
                            std::to_string(bad)), 0u);
            EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), 6u);   // ack + forward of each other message
            EXPECT_EQ(source.folders[Folder::triage].size(), 1u);
            EXPECT_EQ(source.folders[Folder::processed].size(), 3u);
            EXPECT_TRUE(source.inbox.empty());
        }
    }
}

TEST_F(Fixture, AMessageTheServerCannotDeliverIsQuarantinedAndTheOthersAreTaken) {
    for (std::uint32_t u = 1; u <= 4; ++u)
        source.inbox[u] = mail("ce.0596082r@ac-lille.fr", "<m" + std::to_string(u) + "@x>", "f.pdf");
    source.undeliverable = {3};
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 3u);
    EXPECT_EQ(stats.quarantined, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE uid = 3 AND outcome = 'quarantined' AND reason LIKE "
                    "'the IMAP server cannot deliver%'"), 1u);
    EXPECT_TRUE(source.inbox.empty());
    EXPECT_EQ(source.folders[Folder::triage].size(), 1u);
}

TEST_F(Fixture, AFileNameTheDiskRefusesQuarantinesTheMessageNotTheBatch) {
    source.inbox[1] = mail("ce.0596082r@ac-lille.fr", "<a@x>", "a.pdf");
    source.inbox[2] = mail("ce.0596082r@ac-lille.fr", "<b@x>", "b.pdf");
    archive.refuse_name = "b.pdf";
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 1u);
    EXPECT_EQ(stats.quarantined, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE uid = 2 AND outcome = 'quarantined' AND reason LIKE "
                    "'cannot archive the files:%'"), 1u);
    EXPECT_TRUE(source.inbox.empty());
}

TEST_F(Fixture, AForwardedLyceeMailIsCreditedToThatLycee) {
    // A secretary forwards the lycée's own mail as an attachment (message/rfc822).
    const std::string inner = mail("ce.0596082r@ac-lille.fr", "<orig@ac-lille.fr>", "PPO.pdf");
    const std::string outer =
        "From: Secretariat <secretariat.claudel@gmail.com>\r\nTo: ppo@region-academique-hauts-de-france.fr\r\n"
        "Subject: TR: envoi\r\nMessage-ID: <fwd1@gmail.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Voir ci-dessous.\r\n--b1\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" +
        inner + "\r\n--b1--\r\n";
    source.inbox[1] = outer;
    // And inline, as Outlook writes it, the PDF attached again.
    MailSpec s;
    s.from = "Secretariat <secretariat.claudel@gmail.com>";
    s.to = {"ppo@region-academique-hauts-de-france.fr"};
    s.subject = "TR: document";
    s.message_id = "<fwd2@gmail.com>";
    s.text = "Bonjour,\n\n________________________________\nDe : Proviseur <ce.0596082r@ac-lille.fr>\n"
             "Envoyé : mardi 1 mars 2022 09:12\nÀ : Secrétariat\nObjet : document\n\nVoici le document.\n";
    s.attachments = {{"document.pdf", "application/pdf", "%PDF-1.4\nx\n%%EOF\n", ""}};
    source.inbox[2] = build_mail(s);
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 2u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE outcome = 'submission' AND uai = '0596082R' AND "
                    "identified_by = 'forwarded'"), 2u);
}

TEST_F(Fixture, AReplyToOurReminderIsCreditedToTheRemindedLycee) {
    const auto campaign = store->ensure_campaign(config.campaign.name, config.campaign.deadline, "09,20", 0);
    OutboxMail reminder;
    reminder.campaign_id = campaign.id;
    reminder.kind = "reminder";
    reminder.uai = "0596082R";
    reminder.dedupe_key = "reminder:test";
    reminder.envelope_from = "ppo@region-academique-hauts-de-france.fr";
    reminder.recipients = {"ce.0596082r@ac-lille.fr"};
    reminder.data = "x";
    reminder.message_id = "<1646125200.abc@region-academique-hauts-de-france.fr>";
    store->begin();
    store->enqueue(reminder);
    store->commit();
    MailSpec s;
    s.from = "Marie Dupont <marie.dupont@gmail.com>";
    s.to = {"ppo@region-academique-hauts-de-france.fr"};
    s.subject = "le document";
    s.message_id = "<reply@gmail.com>";
    s.in_reply_to = reminder.message_id;
    s.references = "<older@x> " + reminder.message_id;
    s.text = "Bonjour, voici.";
    s.attachments = {{"doc.pdf", "application/pdf", "%PDF-1.4\nx\n%%EOF\n", ""}};
    source.inbox[1] = build_mail(s);
    auto stats = poll();
    EXPECT_EQ(stats.submissions, 1u);
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE uai = '0596082R' AND identified_by = 'thread'"), 1u);
}

TEST(IntakeRules, AutoReplies) {
    auto config = parse_config("", "/x/t.conf");
    auto reason = [&](const std::string& headers) {
        return auto_reply_reason(ppo::parsers::parse_mime_message(headers + "\r\n\r\nbody\r\n"), config);
    };
    EXPECT_EQ(reason("From: a@ac-lille.fr\r\nMessage-ID: <1@x>"), "");
    EXPECT_EQ(reason("From: a@ac-lille.fr\r\nAuto-Submitted: no"), "");
    EXPECT_NE(reason("From: a@ac-lille.fr\r\nAuto-Submitted: auto-replied"), "");
    EXPECT_NE(reason("From: a@ac-lille.fr\r\nPrecedence: bulk"), "");
    EXPECT_NE(reason("From: a@ac-lille.fr\r\nList-Id: <x.lists>"), "");
    EXPECT_NE(reason("From: a@ac-lille.fr\r\nReturn-Path: <>"), "");
    EXPECT_NE(reason("From: MAILER-DAEMON@ac-lille.fr"), "");
    EXPECT_NE(reason("From: a@ac-lille.fr\r\nMessage-ID: <9.x@region-academique-hauts-de-france.fr>"), "");
    EXPECT_NE(reason("From: a@ac-lille.fr\r\nX-Loop: ppo@region-academique-hauts-de-france.fr"), "");
}

TEST(IntakeRules, AuthenticationResultsOnlyFromTheTrustedServer) {
    auto m = [](const std::string& ar) {
        return ppo::parsers::parse_mime_message("From: ce.0596082r@ac-lille.fr\r\nAuthentication-Results: " + ar +
                                                "\r\n\r\nx\r\n");
    };
    auto sender_authenticated = [](const ppo::parsers::MimeMessage& msg, const std::string& trusted) {
        return authenticate_sender(msg, trusted).authenticated;
    };
    EXPECT_FALSE(sender_authenticated(m("mx.example.fr; dmarc=fail header.from=ac-lille.fr"), "mx.example.fr"));
    EXPECT_FALSE(sender_authenticated(m("mx.example.fr 1; spf=fail smtp.mailfrom=ac-lille.fr"), "mx.example.fr"));
    EXPECT_TRUE(sender_authenticated(m("mx.example.fr; dmarc=pass; spf=pass"), "mx.example.fr"));
    // Only the trusted server speaks: another's header (fail or pass) leaves the sender unauthenticated.
    EXPECT_FALSE(sender_authenticated(m("evil.example; dmarc=fail"), "mx.example.fr"));
    EXPECT_FALSE(sender_authenticated(m("evil.example; dmarc=pass"), "mx.example.fr"));
    EXPECT_FALSE(sender_authenticated(m("mx.example.fr; dmarc = fail"), "mx.example.fr"));
    EXPECT_FALSE(sender_authenticated(m("mx.example.fr; dmarc=none"), "mx.example.fr"));
    EXPECT_TRUE(sender_authenticated(m("mx.example.fr; dmarc=fail"), ""));
}

TEST_F(Fixture, ReservedMessageIdsAreNeverGivenTwice) {
    EXPECT_TRUE(store->reserve_message_ids(0).empty());
    const auto a = store->reserve_message_ids(3);
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[1], a[0] + 1);
    EXPECT_EQ(a[2], a[0] + 2);
    store->begin();
    auto reserved = row(1);
    reserved.id = a[1];
    EXPECT_EQ(store->insert_message(reserved), a[1]);
    const auto picked = store->insert_message(row(2));   // the database's own choice
    store->commit();
    EXPECT_GT(picked, a[2]);
    const auto b = store->reserve_message_ids(2);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_GT(b[0], picked);
    ASSERT_TRUE(store->message(a[1]).has_value());
    EXPECT_EQ(store->message(a[1])->uid, 1u);
}

TEST_F(Fixture, KnownMessagesAreFoundByUidAndByContentInBulk) {
    store->begin();
    for (std::uint32_t uid : {3u, 7u}) store->insert_message(row(uid));
    store->insert_message(row(9, 2));   // an older UIDVALIDITY
    store->commit();
    auto uids = [](const std::vector<MessageRecord>& v) {
        std::set<std::uint32_t> out;
        for (const auto& m : v) out.insert(m.uid);
        return out;
    };
    EXPECT_EQ(uids(store->messages_after_uid("INBOX", 1, 0)), (std::set<std::uint32_t>{3, 7}));
    EXPECT_EQ(uids(store->messages_after_uid("INBOX", 1, 3)), (std::set<std::uint32_t>{7}));
    EXPECT_TRUE(store->messages_after_uid("Other", 1, 0).empty());
    // More digests than one query takes (500), empty ones, unknown ones.
    std::vector<std::string> digests(1200, "unknown");
    digests[0] = "";
    digests[10] = "d3";
    digests[700] = "d9";
    digests[1199] = "d7";
    EXPECT_EQ(uids(store->messages_with_content(digests)), (std::set<std::uint32_t>{3, 7, 9}));
    EXPECT_TRUE(store->messages_with_content({}).empty());
}
