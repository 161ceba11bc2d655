// The DRAIO digest: its counts against build_status, its slots, its rendering.
// Over the real SQLite store (in memory).
#include "workflow/status/digest.h"

#include "daemon/store/database.h"
#include "daemon/store/sql_store.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/campaign/scheduler.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

std::int64_t at(const std::string& iso) { return parse_instant(iso, "Europe/Paris"); }

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
    return n;
}

class DigestTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_ = std::make_unique<daemon::Database>(DatabaseConfig{"sqlite://:memory:", "sqlite", ":memory:"});
        db_->migrate(PPO_SOURCE_DIR "/sql");
        store_ = std::make_unique<daemon::SqlStore>(*db_);

        config_.smtp.from = "PPO Hauts-de-France <ppo@region-academique-hauts-de-france.fr>";
        config_.smtp.from_address = "ppo@region-academique-hauts-de-france.fr";
        config_.intake.message_id_domain = "region-academique-hauts-de-france.fr";
        config_.campaign.deadline = "2022-03-25";
        config_.campaign.reminders = {};   // the reminders have their own tests
        config_.digest.to = {"draio@region-academique-hauts-de-france.fr", "chef.draio@ac-lille.fr"};

        store_->upsert_bassin({"095912", "BASSIN DOUAI", "Mme Io Douai", "ien-io.douai@ac-lille.fr"}, true);
        store_->upsert_bassin({"096212", "BASSIN BOULOGNE", "M. Io Boulogne", "ien-io.boulogne@ac-lille.fr"}, true);
        store_->upsert_bassin({"200801", "BASSIN AMIENS", "", ""}, true);   // no IEN-IO
        store_->upsert_bassin({"200201", "BASSIN LAON", "M. Io Laon", "ien-io.laon@ac-amiens.fr"}, true);
        add("0590072H", "Lycée Camille Claudel", "Douai", "059", "09", "095912", "BASSIN DOUAI");
        add("0596082R", "Lycée Albert Châtelet", "Douai", "059", "09", "095912", "BASSIN DOUAI");
        add("0626769W", "LEGT Édouard Branly", "Boulogne-sur-Mer", "062", "09", "096212", "BASSIN BOULOGNE");
        add("0801234G", "Lycée Madeleine Michelis", "Amiens", "080", "20", "200801", "BASSIN AMIENS");
        add("0020001J", "Lycée <Pierre> & \"Marie\" Curie", "Laon", "002", "20", "200201", "BASSIN LAON");
        add("0600009J", "Lycée Jean Moulin", "Beauvais", "060", "20", "200201", "BASSIN LAON");
        campaign_ = store_->ensure_campaign(config_.campaign.name, config_.campaign.deadline, "09,20", at("2022-01-10"));
        templates_ = Templates::load(PPO_SOURCE_DIR "/etc/templates");
    }

    void add(const std::string& uai, const std::string& name, const std::string& commune, const std::string& dep,
             const std::string& academie, const std::string& bassin, const std::string& label) {
        Lycee l;
        l.uai = uai;
        l.name = name;
        l.commune = commune;
        l.departement = dep;
        l.academie = academie;
        l.bassin_code = bassin;
        l.bassin_label = label;
        l.statut = "Public";
        store_->upsert_lycee({l, "300"}, at("2022-01-10"));
    }

    std::int64_t message(const std::string& uai, std::int64_t when, const std::string& outcome, bool late = false,
                         const std::string& subject = "PPO", const std::string& reason = "") {
        MessageRecord r;
        r.campaign_id = campaign_.id;
        r.mailbox = "INBOX";
        r.uidvalidity = 1;
        r.uid = ++uid_;
        r.message_id = "<m" + std::to_string(uid_) + "@example.fr>";
        r.received_at = when;
        r.from = uai.empty() ? "inconnu@gmail.com" : "ce." + uai + "@ac-lille.fr";
        r.subject = subject;
        r.outcome = outcome;
        r.reason = reason;
        r.uai = uai;
        r.identified_by = uai.empty() ? "" : "sender";
        r.late = late;
        r.folder = outcome == "submission" ? "processed" : "triage";
        store_->begin();
        auto id = store_->insert_message(r);
        store_->commit();
        return id;
    }

    Directory directory() { return store_->load_directory({"09", "20"}); }

    std::vector<ScheduledAction> run(std::int64_t now) {
        return run_scheduled(config_, *store_, templates_, directory(), campaign_.id, now, false);
    }

    std::vector<OutboxMail> digests() { return store_->outbox_of_kind(campaign_.id, "digest"); }

    std::unique_ptr<daemon::Database> db_;
    std::unique_ptr<daemon::SqlStore> store_;
    Config config_;
    CampaignInfo campaign_;
    Templates templates_;
    std::uint32_t uid_ = 0;
};

TEST_F(DigestTest, CountsEqualTheStatus) {
    message("0590072H", at("2022-03-01T10:00:00+01:00"), "submission");
    message("0590072H", at("2022-03-02T10:00:00+01:00"), "submission");   // a second version
    message("0626769W", at("2022-03-03T10:00:00+01:00"), "submission");
    message("0801234G", at("2022-03-26T10:00:00+01:00"), "submission", true);
    message("", at("2022-03-03T11:00:00+01:00"), "unidentified", false, "Document", "no UAI found");
    const auto now = at("2022-03-28T07:00:00+02:00");

    auto dir = directory();
    auto status = build_status(*store_, config_, campaign_.id, dir);
    auto d = collect_digest(config_, *store_, dir, campaign_.id, now, 0);

    auto json = status_json(status);
    EXPECT_EQ(d.total.expected, status.lycees.size());
    EXPECT_EQ(d.total.received, occurrences(json, "\"state\": \"received\""));
    EXPECT_EQ(d.total.late, occurrences(json, "\"state\": \"late\""));
    EXPECT_EQ(d.total.missing, occurrences(json, "\"state\": \"missing\""));
    EXPECT_EQ(d.total.expected, 6u);
    EXPECT_EQ(d.total.received, 2u);
    EXPECT_EQ(d.total.late, 1u);
    EXPECT_EQ(d.total.missing, 3u);
    EXPECT_EQ(d.triage.size(), status.unidentified.size());
    ASSERT_EQ(d.triage.size(), 1u);
    EXPECT_EQ(d.triage[0].reason, "no UAI found");

    // Every breakdown adds up to the totals.
    for (const auto* groups : {&d.academies, &d.departements, &d.bassins}) {
        DigestCounts sum;
        for (const auto& g : *groups) {
            sum.expected += g.counts.expected;
            sum.received += g.counts.received;
            sum.late += g.counts.late;
            sum.missing += g.counts.missing;
        }
        EXPECT_EQ(sum.expected, d.total.expected);
        EXPECT_EQ(sum.received, d.total.received);
        EXPECT_EQ(sum.late, d.total.late);
        EXPECT_EQ(sum.missing, d.total.missing);
    }
    ASSERT_EQ(d.academies.size(), 2u);
    EXPECT_EQ(d.academies[0].code, "09");
    EXPECT_EQ(d.academies[0].label, "Académie de Lille");
    EXPECT_EQ(d.academies[0].counts.submitted(), 2u);
    EXPECT_EQ(d.academies[1].label, "Académie d'Amiens");
    ASSERT_EQ(d.departements.size(), 5u);
    EXPECT_EQ(d.departements[0].code, "059");
    EXPECT_EQ(d.departements[0].label, "Nord");
    EXPECT_EQ(d.departements[1].label, "Pas-de-Calais");
    EXPECT_EQ(d.departements[2].label, "Aisne");
    EXPECT_EQ(d.departements[3].label, "Oise");
    EXPECT_EQ(d.departements[4].label, "Somme");
    EXPECT_EQ(d.bassins.size(), 4u);

    // The subject and the text carry the same totals.
    EXPECT_EQ(digest_subject(d), "PPO 2021-2022 — point quotidien du 28 mars 2022 : 3/6 reçus (50 %)");
    auto text = digest_text(d, templates_.views());
    EXPECT_NE(text.find("Lycées attendus : 6"), std::string::npos) << text;
    EXPECT_NE(text.find("PPO reçus       : 3 (50 %), dont 2 dans les délais et 1 en retard"), std::string::npos) << text;
    EXPECT_NE(text.find("PPO manquants   : 3 (50 %)"), std::string::npos) << text;
    EXPECT_NE(text.find("dépassée depuis 3 jours"), std::string::npos) << text;

    // Arrivals since the start, with the version of each.
    ASSERT_EQ(d.arrivals.size(), 4u);
    EXPECT_EQ(d.arrivals[1].uai, "0590072H");
    EXPECT_EQ(d.arrivals[1].version, 2u);
    EXPECT_TRUE(d.arrivals[3].late);
}

TEST_F(DigestTest, MissingLyceesMostRemindedFirst) {
    store_->record_reminder(campaign_.id, "0600009J", -21, 0, at("2022-03-04T09:00:00+01:00"));
    store_->record_reminder(campaign_.id, "0600009J", -7, 0, at("2022-03-18T09:00:00+01:00"));
    store_->record_reminder(campaign_.id, "0801234G", -7, 0, at("2022-03-18T09:00:00+01:00"));
    message("0590072H", at("2022-03-01T10:00:00+01:00"), "submission");
    auto d = collect_digest(config_, *store_, directory(), campaign_.id, at("2022-03-21T07:00:00+01:00"), 0);
    ASSERT_EQ(d.missing.size(), 5u);
    EXPECT_EQ(d.missing[0].uai, "0600009J");
    EXPECT_EQ(d.missing[0].reminders, (std::vector<int>{-21, -7}));
    EXPECT_EQ(d.missing[1].uai, "0801234G");
    // Then by name.
    EXPECT_EQ(d.missing[2].name, "LEGT Édouard Branly");
    EXPECT_EQ(d.missing[3].name, "Lycée <Pierre> & \"Marie\" Curie");
    EXPECT_EQ(d.missing[4].name, "Lycée Albert Châtelet");
    auto text = digest_text(d, templates_.views());
    EXPECT_NE(text.find("0600009J Lycée Jean Moulin (Beauvais) — BASSIN LAON — relances : J-21, J-7"), std::string::npos)
        << text;
}

TEST_F(DigestTest, OneDigestPerSlotOnDigestDaysOnly) {
    // Friday 2022-03-04: nothing before 07:00, one at 07:00, none after.
    EXPECT_TRUE(run(at("2022-03-04T06:59:59+01:00")).empty());
    auto actions = run(at("2022-03-04T07:00:00+01:00"));
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, "digest");
    EXPECT_EQ(actions[0].key, "2022-03-04");
    EXPECT_EQ(actions[0].recipients, config_.digest.to);
    EXPECT_EQ(actions[0].subject, "PPO 2021-2022 — point quotidien du 4 mars 2022 : 0/6 reçus (0 %)");
    EXPECT_TRUE(run(at("2022-03-04T07:00:00+01:00")).empty());
    EXPECT_TRUE(run(at("2022-03-04T18:00:00+01:00")).empty());
    EXPECT_TRUE(store_->digest_recorded(campaign_.id, "2022-03-04"));

    auto mails = digests();
    ASSERT_EQ(mails.size(), 1u);
    const auto& m = mails[0];
    EXPECT_EQ(m.dedupe_key, "digest:" + std::to_string(campaign_.id) + ":2022-03-04");
    EXPECT_EQ(m.recipients, config_.digest.to);
    EXPECT_NE(m.data.find("text/plain"), std::string::npos);
    EXPECT_NE(m.data.find("text/html"), std::string::npos);
    EXPECT_NE(m.data.find("text/csv; charset=UTF-8"), std::string::npos);
    EXPECT_NE(m.data.find("etat-ppo-2022-03-04.csv"), std::string::npos);
    EXPECT_NE(m.data.find("Auto-Submitted: auto-generated"), std::string::npos);
    EXPECT_NE(m.data.find("X-Loop: ppo@region-academique-hauts-de-france.fr"), std::string::npos);

    // Saturday and Sunday (days = mon..fri): none, even after 07:00.
    EXPECT_TRUE(run(at("2022-03-05T09:00:00+01:00")).empty());
    EXPECT_TRUE(run(at("2022-03-06T09:00:00+01:00")).empty());
    // Monday: the next one; a missed Tuesday is not sent on Wednesday as a backlog.
    EXPECT_EQ(run(at("2022-03-07T07:05:00+01:00")).size(), 1u);
    EXPECT_EQ(run(at("2022-03-09T08:00:00+01:00")).size(), 1u);
    EXPECT_FALSE(store_->digest_recorded(campaign_.id, "2022-03-08"));
    EXPECT_EQ(digests().size(), 3u);
}

TEST_F(DigestTest, SaturdayDigestWhenConfigured) {
    config_.digest.days = {6};
    EXPECT_TRUE(run(at("2022-03-04T09:00:00+01:00")).empty());
    EXPECT_EQ(run(at("2022-03-05T09:00:00+01:00")).size(), 1u);
}

TEST_F(DigestTest, DisabledDigestIsNeverQueued) {
    config_.digest.enabled = false;
    EXPECT_TRUE(run(at("2022-03-04T09:00:00+01:00")).empty());
    EXPECT_TRUE(digests().empty());
}

TEST_F(DigestTest, ArrivalsAreThoseSinceThePreviousDigest) {
    message("0590072H", at("2022-03-03T10:00:00+01:00"), "submission");
    ASSERT_EQ(run(at("2022-03-04T07:00:00+01:00")).size(), 1u);
    message("0626769W", at("2022-03-04T10:00:00+01:00"), "submission");
    auto since = store_->last_digest_at(campaign_.id);
    EXPECT_EQ(since, at("2022-03-04T07:00:00+01:00"));
    auto d = collect_digest(config_, *store_, directory(), campaign_.id, at("2022-03-07T07:00:00+01:00"), since);
    ASSERT_EQ(d.arrivals.size(), 1u);
    EXPECT_EQ(d.arrivals[0].uai, "0626769W");
    EXPECT_EQ(d.arrivals[0].name, "LEGT Édouard Branly");
    auto text = digest_text(d, templates_.views());
    EXPECT_NE(text.find("Reçus depuis le point précédent (4 mars 2022 à 7 h 00) : 1"), std::string::npos) << text;
    EXPECT_NE(text.find("4 mars 2022 à 10 h 00 — 0626769W LEGT Édouard Branly (Boulogne-sur-Mer) — dépôt n°"),
              std::string::npos)
        << text;
}

TEST_F(DigestTest, FailuresQuarantineAndBassinsWithoutIenIo) {
    OutboxMail ok;
    ok.campaign_id = campaign_.id;
    ok.kind = "ack";
    ok.dedupe_key = "ack:test-ok";
    ok.envelope_from = config_.smtp.from_address;
    ok.recipients = {"ce.0590072h@ac-lille.fr"};
    ok.data = "x";
    OutboxMail failed = ok;
    failed.kind = "forward";
    failed.uai = "0590072H";
    failed.dedupe_key = "forward:test-failed";
    failed.recipients = {"ien-io.douai@ac-lille.fr"};
    OutboxMail retrying = ok;
    retrying.kind = "reminder";
    retrying.dedupe_key = "reminder:test-retrying";
    store_->begin();
    store_->enqueue(ok);
    auto failed_id = store_->enqueue(failed);
    auto retrying_id = store_->enqueue(retrying);
    store_->mark_attempt_failed(failed_id, "550 5.1.1 <ien-io.douai@ac-lille.fr>: user unknown", 0, true);
    store_->mark_attempt_failed(retrying_id, "421 try later", 0, false);
    store_->commit();
    message("", at("2022-03-03T11:00:00+01:00"), "quarantined", false, "Facture <urgente>", "malformed message: x");

    auto d = collect_digest(config_, *store_, directory(), campaign_.id, at("2022-03-07T07:00:00+01:00"), 0);
    ASSERT_EQ(d.failures.size(), 2u);
    EXPECT_EQ(d.failures[0].id, failed_id);
    EXPECT_EQ(d.failures[0].state, "failed");
    EXPECT_EQ(d.failures[1].id, retrying_id);
    EXPECT_EQ(d.failures[1].attempts, 1);
    ASSERT_EQ(d.quarantined.size(), 1u);
    EXPECT_EQ(d.quarantined[0].subject, "Facture <urgente>");
    ASSERT_EQ(d.without_ien_io.size(), 1u);
    EXPECT_EQ(d.without_ien_io[0].code, "200801");
    EXPECT_EQ(d.without_ien_io[0].lycees, (std::vector<std::string>{"0801234G Lycée Madeleine Michelis"}));

    auto text = digest_text(d, templates_.views());
    EXPECT_NE(text.find("Envois en échec (2)"), std::string::npos) << text;
    EXPECT_NE(text.find("550 5.1.1"), std::string::npos);
    EXPECT_NE(text.find("Messages en quarantaine (1)"), std::string::npos);
    EXPECT_NE(text.find("Bassins sans IEN-IO (1)"), std::string::npos);
    auto html = digest_html(d, templates_.views());
    EXPECT_NE(html.find("550 5.1.1 &lt;ien-io.douai@ac-lille.fr&gt;: user unknown"), std::string::npos);
    EXPECT_NE(html.find("Facture &lt;urgente&gt;"), std::string::npos);
    EXPECT_EQ(html.find("<urgente>"), std::string::npos);
}

TEST_F(DigestTest, HtmlEscapesTextAndUsesOnlyInlineStyles) {
    message("0590072H", at("2022-03-01T10:00:00+01:00"), "submission");
    auto d = collect_digest(config_, *store_, directory(), campaign_.id, at("2022-03-07T07:00:00+01:00"), 0);
    auto html = digest_html(d, templates_.views());
    EXPECT_NE(html.find("Lycée &lt;Pierre&gt; &amp; &quot;Marie&quot; Curie"), std::string::npos);
    EXPECT_EQ(html.find("<Pierre>"), std::string::npos);
    EXPECT_EQ(html.find("& \"Marie\""), std::string::npos);
    for (const char* forbidden : {"<script", "<link", "<img", "<style", "src=", "url(", "http://", "https://"})
        EXPECT_EQ(html.find(forbidden), std::string::npos) << forbidden;
    // Progress bars: width percentages and background colours.
    EXPECT_NE(html.find("width:17%;background:#2e7d32"), std::string::npos);   // 1/6 on time
    EXPECT_NE(html.find("width:83%;background:#e0e0e0"), std::string::npos);
    EXPECT_NE(html.find("Académie de Lille (09)"), std::string::npos);
    EXPECT_NE(html.find("Pas-de-Calais (062)"), std::string::npos);
    // The text part is plain: the name as is.
    EXPECT_NE(digest_text(d, templates_.views()).find("Lycée <Pierre> & \"Marie\" Curie"), std::string::npos);
}

TEST_F(DigestTest, CsvAttachmentIsTheStatusCsv) {
    auto dir = directory();
    auto d = collect_digest(config_, *store_, dir, campaign_.id, at("2022-03-07T07:00:00+01:00"), 0);
    EXPECT_EQ(digest_csv_name(d), "etat-ppo-2022-03-07.csv");
    EXPECT_EQ(status_csv(d.status), status_csv(build_status(*store_, config_, campaign_.id, dir)));
}

TEST(DigestHelpers, PercentAndNames) {
    EXPECT_EQ(percent(0, 0), 0);
    EXPECT_EQ(percent(87, 140), 62);
    EXPECT_EQ(percent(1, 8), 13);   // 12.5 rounds up
    EXPECT_EQ(percent(1, 3), 33);
    EXPECT_EQ(percent(2, 3), 67);
    EXPECT_EQ(percent(5, 5), 100);
    EXPECT_EQ(departement_name("059"), "Nord");
    EXPECT_EQ(departement_name("062"), "Pas-de-Calais");
    EXPECT_EQ(departement_name("080"), "Somme");
    EXPECT_EQ(departement_name("002"), "Aisne");
    EXPECT_EQ(departement_name("060"), "Oise");
    EXPECT_EQ(academie_name("09"), "Lille");
    EXPECT_EQ(academie_name("20"), "Amiens");
}

}  // namespace
}  // namespace ppo::workflow

namespace ppo::workflow {
namespace {

// The digest's two parts come from etc/templates/digest.txt and digest.html,
// with the dashboard's view model and partials; a link to the dashboard when
// [web] base_url is set. PPO_WRITE_PAGES=DIR writes them there to look at.
TEST_F(DigestTest, BothPartsFromTheTemplatesWithTheDashboardLink) {
    message("0590072H", at("2022-03-01T10:00:00+01:00"), "submission");
    message("", at("2022-03-03T11:00:00+01:00"), "unidentified", false, "Document <b>", "no document attached (2 other attachment(s))");
    auto d = collect_digest(config_, *store_, directory(), campaign_.id, at("2022-03-07T07:00:00+01:00"), 0);
    auto text = digest_text(d, templates_.views());
    auto html = digest_html(d, templates_.views());
    EXPECT_NE(text.find("Vue d’ensemble\n==============\n"), std::string::npos) << text;
    EXPECT_NE(text.find("Aucun document joint (seulement 2 pièces jointes qui ne sont pas des documents)"),
              std::string::npos);
    EXPECT_EQ(text.find("Tableau de bord"), std::string::npos);
    EXPECT_NE(text.find("Lycée <Pierre> & \"Marie\" Curie"), std::string::npos) << "the text part is not HTML-escaped";
    EXPECT_EQ(text.find("&amp;"), std::string::npos);
    // The dashboard's partials: its figures and its tables.
    EXPECT_NE(html.find("data-figure=\"expected\""), std::string::npos) << html;
    EXPECT_NE(html.find(">6</span>"), std::string::npos);
    EXPECT_NE(html.find("id=\"by-bassin\""), std::string::npos);
    EXPECT_NE(html.find("id=\"attention\""), std::string::npos);
    EXPECT_NE(html.find("Document &lt;b&gt;"), std::string::npos);
    EXPECT_NE(html.find("style=\"display:inline-block;"), std::string::npos);   // styles inlined
    EXPECT_EQ(html.find("href="), std::string::npos);

    config_.web.base_url = "https://ppo.example.fr/";
    d = collect_digest(config_, *store_, directory(), campaign_.id, at("2022-03-07T07:00:00+01:00"), 0);
    text = digest_text(d, templates_.views());
    html = digest_html(d, templates_.views());
    EXPECT_NE(text.find("Tableau de bord : https://ppo.example.fr/\n"), std::string::npos) << text;
    EXPECT_NE(text.find("Pour trier : https://ppo.example.fr/triage\n"), std::string::npos);
    EXPECT_NE(html.find("<a href=\"https://ppo.example.fr/\""), std::string::npos);
    EXPECT_NE(html.find("href=\"https://ppo.example.fr/triage\""), std::string::npos);
    if (const char* out = std::getenv("PPO_WRITE_PAGES")) {
        std::ofstream(std::string(out) + "/digest.txt") << text;
        std::ofstream(std::string(out) + "/digest.html") << html;
    }
}

}  // namespace
}  // namespace ppo::workflow
