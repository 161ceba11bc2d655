// The web application (daemon/web/web_app.h) driven through handle(), as the web
// server calls it, over a real SQLite database and archive in a temporary
// folder, with the shipped templates: figures equal to build_status, filters,
// what an IEN-IO may see, triage actions and the mails they queue, files,
// exports, escaping, the outbox page.
#include "daemon/web/web_app.h"

#include "daemon/app/service.h"
#include "daemon/store/sql_store.h"
#include "parsers/text/uai.h"
#include "bench/postgres_server.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/status/digest.h"
#include "workflow/mail/outbox.h"
#include "workflow/status/status.h"
#include "workflow/mail/templates.h"
#include "workflow/intake/triage.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>
#include <time.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ppo::daemon {
namespace {

using web::Viewer;
using web::WebRequest;
using web::WebResponse;

const std::string kNow = "2022-03-28T09:00:00+02:00";

double cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

std::int64_t at(const std::string& iso) { return workflow::parse_instant(iso, "Europe/Paris"); }

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
    return n;
}

// data-figure="name">N< of a dashboard.
std::map<std::string, long> figures(const std::string& html) {
    std::map<std::string, long> out;
    static const std::regex re(R"re(data-figure="([a-z]+)">([0-9]+)<)re");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
        out[(*it)[1].str()] = std::stol((*it)[2].str());
    return out;
}

// The UAIs of the rows of table#lycees.
std::vector<std::string> listed_uais(const std::string& html) {
    std::vector<std::string> out;
    static const std::regex re(R"re(<tr data-uai="([0-9A-Z]+)")re");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), re); it != std::sregex_iterator(); ++it)
        out.push_back((*it)[1].str());
    return out;
}

class WebAppTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "ppo-web-XXXXXX").string();
        dir_ = ::mkdtemp(tmpl.data());
        config_path_ = dir_ + "/ppo-intake.conf";
        // PPO_TEST_DATABASE=postgresql (with the tests' server started, see
        // tests/bench/postgres_server.h): the same tests on PostgreSQL.
        std::string url = "sqlite://" + dir_ + "/ppo.db";
        if (ppo::testbench::postgres_wanted()) {
            pg_database_ = ppo::testbench::PostgresServer::shared().create_database();
            url = ppo::testbench::PostgresServer::shared().url(pg_database_);
        }
        std::ofstream(config_path_) << "[imap]\nurl = imap://127.0.0.1:1\nuser = x\npassword = y\n"
                                       "[smtp]\nurl = smtp://127.0.0.1:1\n"
                                       "[database]\nurl = " + url + "\n"
                                       "[storage]\narchive_dir = " + dir_ + "/archive\n"
                                       "[campaign]\ndeadline = 2022-03-25\n"
                                       "[digest]\nto =\n[http]\nlisten =\n";
        ctx_ = std::make_unique<Context>(config_path_, kNow);
        ctx_->templates_dir = PPO_SOURCE_DIR "/etc/templates";
        store_ = &ctx_->store();

        store_->upsert_bassin({"095912", "BASSIN DOUAI", "Mme Io Douai", "ien-io.douai@ac-lille.fr"}, true);
        store_->upsert_bassin({"096212", "BASSIN BOULOGNE", "M. Io Boulogne", "ien-io.boulogne@ac-lille.fr"}, true);
        store_->upsert_bassin({"200801", "BASSIN AMIENS", "", ""}, true);   // no IEN-IO
        add("0590072H", "Lycée Camille Claudel", "Douai", "059", "09", "095912", "BASSIN DOUAI");
        add("0596082R", "Lycée Albert Châtelet", "Douai", "059", "09", "095912", "BASSIN DOUAI");
        add("0626769W", "LEGT Édouard Branly", "Boulogne-sur-Mer", "062", "09", "096212", "BASSIN BOULOGNE");
        add("0801234G", "Lycée Madeleine Michelis", "Amiens", "080", "20", "200801", "BASSIN AMIENS");
        campaign_ = store_->ensure_campaign(ctx_->config.campaign.name, ctx_->config.campaign.deadline, "09,20",
                                            at("2022-01-10"));

        claudel_ = message("0590072H", at("2022-03-01T10:00:00+01:00"), "submission", "ce.0590072h@ac-lille.fr", "PPO");
        claudel_file_ = file(claudel_, "PPO Claudel 2022.pdf", "%PDF-1.4 claudel");
        branly_ = message("0626769W", at("2022-03-26T10:00:00+01:00"), "submission", "ce.0626769w@ac-lille.fr", "PPO",
                          "", true);
        file(branly_, "ppo.pdf", "%PDF-1.4 branly");
        hostile_ = message("", at("2022-03-03T11:00:00+01:00"), "unidentified", "<script>alert(1)</script>@evil.example",
                           "<script>alert('x')</script> PPO", "no evidence: sender not a lycée address, no UAI, no lycée "
                                                                "name with its town");
        file(hostile_, "document.pdf", "%PDF-1.4 hostile");
        link_only_ = message("0596082R", at("2022-03-04T11:00:00+01:00"), "unidentified", "secretariat@gmail.com",
                             "Lien vers notre PPO", "download link: nuage03.apps.education.fr",
                             false, "https://nuage03.apps.education.fr/index.php/s/abc\njavascript:alert(1)");

        // The acknowledgement of Claudel's submission, sent; a forward that failed for good.
        workflow::OutboxMail ack;
        ack.campaign_id = campaign_.id;
        ack.kind = "ack";
        ack.message_ref = claudel_;
        ack.uai = "0590072H";
        ack.dedupe_key = "ack:test";
        ack.envelope_from = "ppo@region-academique-hauts-de-france.fr";
        ack.recipients = {"ce.0590072h@ac-lille.fr"};
        ack.data = "From: x\r\nTo: y\r\nSubject: =?UTF-8?B?QWNjdXPDqSBkZSByw6ljZXB0aW9u?=\r\n\r\nbody";
        ack.next_attempt_at = ack.created_at = at("2022-03-01T10:00:05+01:00");
        auto failed = ack;
        failed.kind = "forward";
        failed.dedupe_key = "forward:test";
        failed.recipients = {"ien-io.douai@ac-lille.fr"};
        failed.data = "From: x\r\nTo: y\r\nSubject: PPO <Claudel>\r\n\r\nbody";
        store_->begin();
        auto ack_id = store_->enqueue(ack);
        failed_id_ = store_->enqueue(failed);
        store_->mark_sent(ack_id, at("2022-03-01T10:00:06+01:00"));
        store_->mark_attempt_failed(failed_id_, "550 5.1.1 <ien-io.douai@ac-lille.fr>: user unknown", 0, true);
        store_->commit();
        store_->record_reminder(campaign_.id, "0596082R", -21, 0, at("2022-03-04T09:00:00+01:00"));

        app_ = std::make_unique<WebApp>(*ctx_);
    }

    void TearDown() override {
        app_.reset();
        ctx_.reset();
        std::error_code ec;
        if (!pg_database_.empty()) ppo::testbench::PostgresServer::shared().drop_database(pg_database_);
        if (std::getenv("PPO_KEEP_TEST_DIRS")) std::printf("kept %s\n", dir_.c_str());
        else fs::remove_all(dir_, ec);
    }

    void add(const std::string& uai, const std::string& name, const std::string& commune, const std::string& dep,
             const std::string& academie, const std::string& bassin, const std::string& label) {
        workflow::Lycee l;
        l.uai = uai;
        l.name = name;
        l.commune = commune;
        l.departement = dep;
        l.academie = academie;
        l.bassin_code = bassin;
        l.bassin_label = label;
        l.mail = "ce." + uai + "@ac-lille.fr";
        std::transform(l.mail.begin(), l.mail.end(), l.mail.begin(), [](unsigned char c) { return std::tolower(c); });
        l.statut = "Public";
        store_->upsert_lycee({l, "300"}, at("2022-01-10"));
    }

    std::int64_t message(const std::string& uai, std::int64_t when, const std::string& outcome, const std::string& from,
                         const std::string& subject, const std::string& reason = "", bool late = false,
                         const std::string& links = "") {
        workflow::MessageRecord r;
        r.campaign_id = campaign_.id;
        r.mailbox = "INBOX";
        r.uidvalidity = 1;
        r.uid = ++uid_;
        r.message_id = "<m" + std::to_string(uid_) + "@example.fr>";
        r.received_at = when;
        r.from = from;
        r.subject = subject;
        r.outcome = outcome;
        r.reason = reason;
        r.uai = uai;
        r.identified_by = outcome == "submission" ? "sender" : "";
        r.evidence = outcome == "submission" ? "sender " + from : "";
        r.late = late;
        r.folder = outcome == "submission" ? "processed" : "triage";
        r.links = links;
        store_->begin();
        auto id = store_->insert_message(r);
        store_->commit();
        return id;
    }

    std::int64_t file(std::int64_t message_ref, const std::string& name, const std::string& content) {
        const auto folder = fs::path(dir_) / "archive" / std::to_string(message_ref);
        fs::create_directories(folder);
        const auto path = folder / ("f" + std::to_string(++files_) + ".pdf");
        std::ofstream(path, std::ios::binary) << content;
        workflow::FileRecord f;
        f.message_ref = message_ref;
        f.name = name;
        f.path = path.string();
        f.size = static_cast<std::int64_t>(content.size());
        f.sha256 = std::string(64, 'a');
        f.kind = "pdf";
        f.looks_like_ppo = "yes";
        return store_->insert_file(f);
    }

    WebResponse get(const std::string& path, const Viewer& viewer, const web::Params& query = {}) {
        WebRequest r;
        r.method = "GET";
        r.path = path;
        r.query = query;
        r.csrf = "csrf-token-123";
        return app_->handle(r, viewer);
    }

    WebResponse post(const std::string& path, const Viewer& viewer, const web::Params& form = {}) {
        WebRequest r;
        r.method = "POST";
        r.path = path;
        r.form = form;
        r.form.emplace_back("csrf", "csrf-token-123");
        r.csrf = "csrf-token-123";
        return app_->handle(r, viewer);
    }

    workflow::CampaignStatus status() {
        auto directory = store_->load_directory(ctx_->config.campaign.academies);
        return workflow::build_status(*store_, ctx_->config, campaign_.id, directory);
    }

    std::string dir_, config_path_, pg_database_;
    std::unique_ptr<Context> ctx_;
    SqlStore* store_ = nullptr;
    workflow::CampaignInfo campaign_;
    std::unique_ptr<WebApp> app_;
    std::uint32_t uid_ = 0;
    int files_ = 0;
    std::int64_t claudel_ = 0, claudel_file_ = 0, branly_ = 0, hostile_ = 0, link_only_ = 0, failed_id_ = 0;

    const Viewer draio_{"draio", "draio", {}};
    const Viewer douai_{"ien.douai", "ien-io", {"095912"}};
};

TEST_F(WebAppTest, DashboardFiguresEqualTheStatus) {
    auto r = get("/", draio_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    auto st = status();
    std::map<std::string, long> expected = {{"expected", 0}, {"received", 0}, {"late", 0}, {"missing", 0}};
    for (const auto& l : st.lycees) {
        ++expected["expected"];
        ++expected[l.state];
    }
    expected["triage"] = static_cast<long>(st.unidentified.size());
    expected["failed"] = 1;
    EXPECT_EQ(figures(r.body), expected) << r.body;
    EXPECT_EQ(expected["received"], 1);
    EXPECT_EQ(expected["late"], 1);
    EXPECT_EQ(expected["missing"], 2);
    EXPECT_EQ(expected["triage"], 2);
    for (const char* hook : {"<table id=\"by-academie\"", "<table id=\"by-departement\"", "<table id=\"by-bassin\"",
                             "<svg id=\"arrivals\"", "<section id=\"attention\"", "<nav", "href=\"/triage\"",
                             "href=\"/outbox\"", "<form id=\"logout\" method=\"post\" action=\"/logout\"",
                             "name=\"csrf\" value=\"csrf-token-123\"", "Date limite", "Jour de réception"})
        EXPECT_NE(r.body.find(hook), std::string::npos) << hook;
    // What needs attention: triage, the failed forward, Amiens without IEN-IO.
    EXPECT_NE(r.body.find("data-attention=\"triage\""), std::string::npos);
    EXPECT_NE(r.body.find("data-attention=\"failed\""), std::string::npos);
    EXPECT_NE(r.body.find("data-attention=\"without-ien-io\""), std::string::npos);
    EXPECT_NE(r.body.find("BASSIN AMIENS (200801) : 1 lycée(s)"), std::string::npos);
    // No external asset.
    for (const char* forbidden : {"<script", "<link", "src=", "url(", "http://", "https://", "<img"})
        EXPECT_EQ(r.body.find(forbidden), std::string::npos) << forbidden;
}

TEST_F(WebAppTest, IenIoSeesTheirBassinOnly) {
    auto r = get("/", douai_);
    ASSERT_EQ(r.status, 200);
    auto f = figures(r.body);
    EXPECT_EQ(f["expected"], 2);   // Claudel and Châtelet
    EXPECT_EQ(f["received"], 1);
    EXPECT_EQ(f["missing"], 1);
    EXPECT_EQ(f.count("triage"), 0u);
    EXPECT_EQ(f.count("failed"), 0u);
    EXPECT_EQ(r.body.find("href=\"/triage\""), std::string::npos);
    EXPECT_EQ(r.body.find("href=\"/outbox\""), std::string::npos);
    EXPECT_EQ(r.body.find("Branly"), std::string::npos);

    EXPECT_EQ(get("/triage", douai_).status, 403);
    EXPECT_EQ(get("/outbox", douai_).status, 403);
    EXPECT_EQ(post("/triage/" + std::to_string(hostile_) + "/assign", douai_, {{"uai", "0590072H"}}).status, 403);
    EXPECT_EQ(post("/triage/" + std::to_string(hostile_) + "/reject", douai_).status, 403);
    EXPECT_EQ(post("/outbox/retry", douai_).status, 403);
    EXPECT_EQ(store_->message(hostile_)->outcome, "unidentified");

    EXPECT_EQ(get("/lycees/0590072H", douai_).status, 200);
    EXPECT_EQ(get("/lycees/0626769W", douai_).status, 404);   // Boulogne
    EXPECT_EQ(get("/lycees/0626769W", draio_).status, 200);
    EXPECT_EQ(get("/lycees/0000000A", draio_).status, 404);

    EXPECT_EQ(listed_uais(get("/lycees", douai_).body), (std::vector<std::string>{"0590072H", "0596082R"}));
}

TEST_F(WebAppTest, LyceesFilters) {
    EXPECT_EQ(listed_uais(get("/lycees", draio_).body).size(), 4u);
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"state", "missing"}}).body),
              (std::vector<std::string>{"0596082R", "0801234G"}));
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"state", "late"}}).body), (std::vector<std::string>{"0626769W"}));
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"academie", "20"}}).body), (std::vector<std::string>{"0801234G"}));
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"bassin", "096212"}}).body), (std::vector<std::string>{"0626769W"}));
    // Accents and case folded; name, UAI or town.
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"q", "chatelet"}}).body), (std::vector<std::string>{"0596082R"}));
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"q", "ÉDOUARD"}}).body), (std::vector<std::string>{"0626769W"}));
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"q", "0801234g"}}).body), (std::vector<std::string>{"0801234G"}));
    EXPECT_EQ(listed_uais(get("/lycees", draio_, {{"q", "douai"}, {"state", "received"}}).body),
              (std::vector<std::string>{"0590072H"}));
    auto none = get("/lycees", draio_, {{"q", "zzz"}});
    EXPECT_TRUE(listed_uais(none.body).empty());
    EXPECT_NE(none.body.find("Aucun lycée ne correspond"), std::string::npos);
    // Hooks: form#filters, td.state in French.
    auto all = get("/lycees", draio_).body;
    EXPECT_NE(all.find("<form id=\"filters\""), std::string::npos);
    EXPECT_NE(all.find("<table id=\"lycees\""), std::string::npos);
    for (const char* s : {">reçu<", ">en retard<", ">manquant<"}) EXPECT_NE(all.find(s), std::string::npos) << s;
    EXPECT_NE(all.find("<td class=\"state\">"), std::string::npos);
    // The search text is escaped back into its input.
    auto hostile = get("/lycees", draio_, {{"q", "\"><script>x</script>"}}).body;
    EXPECT_EQ(hostile.find("<script>x"), std::string::npos);
    EXPECT_NE(hostile.find("value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""), std::string::npos);
}

TEST_F(WebAppTest, LyceesArePagedBy200) {
    store_->begin();
    for (int i = 0; i < 250; ++i) {
        const std::string digits = std::to_string(5910000 + i);
        add(digits + parsers::uai_check_letter(digits), "Lycée n° " + std::to_string(i), "Lens", "062", "09", "096212",
            "BASSIN BOULOGNE");
    }
    store_->commit();
    auto first = get("/lycees", draio_);
    EXPECT_EQ(listed_uais(first.body).size(), 200u);
    EXPECT_NE(first.body.find("Page 1 sur 2"), std::string::npos);
    EXPECT_NE(first.body.find("href=\"/lycees?page=2\""), std::string::npos);
    auto second = get("/lycees", draio_, {{"page", "2"}});
    EXPECT_EQ(listed_uais(second.body).size(), 54u);
    EXPECT_NE(second.body.find("254 lycées — lycées 201 à 254 affichés."), std::string::npos) << second.body;
    auto lens = get("/lycees", draio_, {{"q", "lens"}, {"page", "2"}});
    EXPECT_EQ(listed_uais(lens.body).size(), 50u);
    EXPECT_NE(lens.body.find("href=\"/lycees?page=1&amp;q=lens\""), std::string::npos) << lens.body;
    // The dashboard counts them all.
    EXPECT_EQ(figures(get("/", draio_).body)["expected"], 254);
}

TEST_F(WebAppTest, LyceePage) {
    auto r = get("/lycees/0590072h", draio_);
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("<h1>Lycée Camille Claudel</h1>"), std::string::npos);
    EXPECT_NE(r.body.find("<article class=\"submission\" data-id=\"" + std::to_string(claudel_) + "\""),
              std::string::npos);
    EXPECT_NE(r.body.find("<a class=\"file\" href=\"/files/" + std::to_string(claudel_) + "/PPO%20Claudel%202022.pdf\""),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("1er mars 2022 à 10 h 00"), std::string::npos);
    EXPECT_NE(r.body.find("adresse de l’expéditeur"), std::string::npos);
    EXPECT_NE(r.body.find("envoyé le 1er mars 2022 à 10 h 00"), std::string::npos);   // the ack
    EXPECT_NE(r.body.find("en échec : 550 5.1.1 &lt;ien-io.douai@ac-lille.fr&gt;"), std::string::npos);   // the forward
    auto chatelet = get("/lycees/0596082R", draio_).body;
    EXPECT_NE(chatelet.find("J-21"), std::string::npos);
    EXPECT_NE(chatelet.find("Aucun PPO reçu"), std::string::npos);
    auto michelis = get("/lycees/0801234G", draio_).body;
    EXPECT_NE(michelis.find("aucun IEN-IO pour ce bassin"), std::string::npos);
}

TEST_F(WebAppTest, TriagePageEscapesAndTranslates) {
    auto r = get("/triage", draio_);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("<script"), std::string::npos);
    EXPECT_NE(r.body.find("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; PPO"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("&lt;script&gt;alert(1)&lt;/script&gt;@evil.example"), std::string::npos);
    EXPECT_NE(r.body.find("Aucun indice : l’expéditeur n’est pas l’adresse d’un lycée"), std::string::npos);
    EXPECT_NE(r.body.find("Un lien de téléchargement au lieu du fichier (nuage03.apps.education.fr)"), std::string::npos);
    // Hooks: one article per message with its two forms.
    for (auto id : {hostile_, link_only_}) {
        const auto sid = std::to_string(id);
        EXPECT_NE(r.body.find("<article class=\"triage\" data-id=\"" + sid + "\""), std::string::npos);
        EXPECT_NE(r.body.find("<form class=\"assign\" method=\"post\" action=\"/triage/" + sid + "/assign\">"),
                  std::string::npos);
        EXPECT_NE(r.body.find("<form class=\"reject\" method=\"post\" action=\"/triage/" + sid + "/reject\">"),
                  std::string::npos);
    }
    EXPECT_EQ(count_of(r.body, "<input type=\"hidden\" name=\"csrf\" value=\"csrf-token-123\">"), 2u * 2 + 1);
    // The lycée the link names pre-fills the input; the https link is a link, javascript: is not.
    EXPECT_NE(r.body.find("name=\"uai\" value=\"0596082R\""), std::string::npos);
    EXPECT_NE(r.body.find("<a href=\"https://nuage03.apps.education.fr/index.php/s/abc\""), std::string::npos);
    EXPECT_EQ(r.body.find("href=\"javascript:"), std::string::npos);
    EXPECT_NE(r.body.find("<li>javascript:alert(1)</li>"), std::string::npos);
    EXPECT_NE(r.body.find("href=\"/files/" + std::to_string(hostile_) + "/document.pdf\""), std::string::npos);
}

TEST_F(WebAppTest, AssignCreditsTheLyceeAndQueuesItsMails) {
    auto before = figures(get("/", draio_).body);
    EXPECT_EQ(before["missing"], 2);
    auto r = post("/triage/" + std::to_string(hostile_) + "/assign", draio_, {{"uai", " 0596082r "}});
    ASSERT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(r.location, "/triage?ok=assigned&id=" + std::to_string(hostile_));

    auto m = store_->message(hostile_);
    EXPECT_EQ(m->outcome, "submission");
    EXPECT_EQ(m->uai, "0596082R");
    EXPECT_EQ(m->identified_by, "manual");
    EXPECT_FALSE(m->late);
    auto mails = store_->outbox_for_message(hostile_);
    ASSERT_EQ(mails.size(), 2u);
    EXPECT_EQ(mails[0].kind, "ack");
    EXPECT_EQ(mails[0].state, "pending");
    EXPECT_EQ(mails[0].recipients, (std::vector<std::string>{"ce.0596082r@ac-lille.fr"}));
    EXPECT_EQ(mails[1].kind, "forward");
    EXPECT_EQ(mails[1].recipients, (std::vector<std::string>{"ien-io.douai@ac-lille.fr"}));

    // The figures follow at once.
    auto after = figures(get("/", draio_).body);
    EXPECT_EQ(after["missing"], 1);
    EXPECT_EQ(after["received"], 2);
    EXPECT_EQ(after["triage"], 1);
    auto page = get("/triage", draio_, {{"ok", "assigned"}, {"id", std::to_string(hostile_)}});
    EXPECT_NE(page.body.find("a été attribué au Lycée Albert Châtelet (0596082R)"), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("data-id=\"" + std::to_string(hostile_) + "\""), std::string::npos);

    // Again: not waiting any more.
    auto again = post("/triage/" + std::to_string(hostile_) + "/assign", draio_, {{"uai", "0596082R"}});
    EXPECT_EQ(again.status, 409);
    EXPECT_NE(again.body.find("n’attend plus d’être trié"), std::string::npos);
    EXPECT_EQ(store_->outbox_for_message(hostile_).size(), 2u);
}

TEST_F(WebAppTest, AssignErrorsAreFrenchAndChangeNothing) {
    const auto path = "/triage/" + std::to_string(hostile_) + "/assign";
    auto unknown = post(path, draio_, {{"uai", "0000000A"}});
    EXPECT_EQ(unknown.status, 400);
    EXPECT_NE(unknown.body.find("L’UAI « 0000000A » n’est celle d’aucun lycée de la campagne"), std::string::npos);
    EXPECT_NE(unknown.body.find("<article class=\"triage\""), std::string::npos);   // the page, with the error
    auto hostile_uai = post(path, draio_, {{"uai", "<b>x</b>"}});
    EXPECT_EQ(hostile_uai.status, 400);
    EXPECT_EQ(hostile_uai.body.find("<B>X"), std::string::npos);
    EXPECT_EQ(post(path, draio_, {{"uai", ""}}).status, 400);
    // A link and no document: nothing to credit.
    auto link = post("/triage/" + std::to_string(link_only_) + "/assign", draio_, {{"uai", "0596082R"}});
    EXPECT_EQ(link.status, 409);
    EXPECT_NE(link.body.find("aucun document à attribuer"), std::string::npos);
    // Not a message in triage.
    EXPECT_EQ(post("/triage/" + std::to_string(claudel_) + "/assign", draio_, {{"uai", "0596082R"}}).status, 409);
    EXPECT_EQ(post("/triage/abc/assign", draio_, {{"uai", "0596082R"}}).status, 404);
    EXPECT_EQ(get("/triage/" + std::to_string(hostile_) + "/assign", draio_).status, 405);
    EXPECT_EQ(store_->message(hostile_)->outcome, "unidentified");
    EXPECT_TRUE(store_->outbox_for_message(hostile_).empty());
}

// Another process's writes (the daemon, a CLI command) show at the next page.
TEST_F(WebAppTest, FiguresFollowOtherProcessesWrites) {
    EXPECT_EQ(figures(get("/", draio_).body)["missing"], 2);
    EXPECT_NE(get("/", draio_).body.find("data-attention=\"without-ien-io\""), std::string::npos);
    // `triage assign` from the command line: its own connection.
    workflow::Templates templates = workflow::Templates::load(PPO_SOURCE_DIR "/etc/templates");
    auto directory = store_->load_directory(ctx_->config.campaign.academies);
    workflow::assign_from_triage(ctx_->config, *store_, templates, directory, hostile_, "0801234G", at("2022-03-28T09:00:00+02:00"));
    auto after = figures(get("/", draio_).body);
    EXPECT_EQ(after["missing"], 1);
    EXPECT_EQ(after["triage"], 1);
    // The routing file gives Amiens an IEN-IO.
    store_->upsert_bassin({"200801", "BASSIN AMIENS", "Mme Io Amiens", "ien-io.amiens@ac-amiens.fr"}, true);
    EXPECT_EQ(get("/", draio_).body.find("data-attention=\"without-ien-io\""), std::string::npos);
    EXPECT_NE(get("/lycees/0801234G", draio_).body.find("ien-io.amiens@ac-amiens.fr"), std::string::npos);
    // A mail sent by the daemon's sender.
    EXPECT_EQ(figures(get("/", draio_).body)["failed"], 1);
    store_->retry_outbox(0, at("2022-03-28T09:00:00+02:00"));
    EXPECT_EQ(figures(get("/", draio_).body)["failed"], 0);
}

// The server calls handle() from several threads at once.
TEST_F(WebAppTest, ConcurrentRequests) {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            const std::vector<std::string> paths = {"/", "/lycees", "/lycees/0590072H", "/triage", "/outbox",
                                                    "/api/status", "/export/status.csv"};
            for (int i = 0; i < 15; ++i) {
                const auto& path = paths[static_cast<std::size_t>(i + t) % paths.size()];
                auto r = get(path, t % 2 ? douai_ : draio_);
                if (r.status != 200 && !(t % 2 && (path == "/triage" || path == "/outbox"))) ++failures;
            }
        });
    threads.emplace_back([&] {
        if (post("/triage/" + std::to_string(hostile_) + "/assign", draio_, {{"uai", "0596082R"}}).status != 303) ++failures;
        store_->retry_outbox(0, at("2022-03-28T09:00:00+02:00"));   // another process's write meanwhile
    });
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(figures(get("/", draio_).body)["missing"], 1);
    EXPECT_EQ(figures(get("/", draio_).body)["failed"], 0);
}

TEST_F(WebAppTest, Reject) {
    auto r = post("/triage/" + std::to_string(link_only_) + "/reject", draio_);
    ASSERT_EQ(r.status, 303);
    EXPECT_EQ(r.location, "/triage?ok=rejected&id=" + std::to_string(link_only_));
    auto m = store_->message(link_only_);
    EXPECT_EQ(m->outcome, "rejected");
    EXPECT_EQ(m->reason, "rejected by hand (was: download link: nuage03.apps.education.fr)");
    EXPECT_TRUE(store_->outbox_for_message(link_only_).empty());
    EXPECT_EQ(figures(get("/", draio_).body)["triage"], 1);
    EXPECT_EQ(post("/triage/" + std::to_string(link_only_) + "/reject", draio_).status, 409);
}

TEST_F(WebAppTest, FileDownloads) {
    const auto base = "/files/" + std::to_string(claudel_) + "/";
    auto r = get(base + "PPO Claudel 2022.pdf", douai_);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.download_name, "PPO Claudel 2022.pdf");
    EXPECT_EQ(r.content_type, "application/pdf");
    EXPECT_TRUE(fs::equivalent(r.file_path, fs::path(dir_) / "archive" / std::to_string(claudel_) / "f1.pdf"));
    EXPECT_EQ(get(base + "autre.pdf", draio_).status, 404);
    EXPECT_EQ(get(base + "../../ppo.db", draio_).status, 404);
    EXPECT_EQ(get(base + "f1.pdf", draio_).status, 404);   // the archive's name is not the file's name
    EXPECT_EQ(get("/files/999999/ppo.pdf", draio_).status, 404);
    // Another bassin's file, and a message in triage: not for an IEN-IO.
    EXPECT_EQ(get("/files/" + std::to_string(branly_) + "/ppo.pdf", douai_).status, 404);
    EXPECT_EQ(get("/files/" + std::to_string(branly_) + "/ppo.pdf", draio_).status, 200);
    EXPECT_EQ(get("/files/" + std::to_string(hostile_) + "/document.pdf", douai_).status, 404);
    EXPECT_EQ(get("/files/" + std::to_string(hostile_) + "/document.pdf", draio_).status, 200);
    // A recorded path outside the archive is never served.
    workflow::FileRecord outside;
    outside.message_ref = claudel_;
    outside.name = "passwd";
    outside.path = "/etc/passwd";
    outside.sha256 = std::string(64, 'b');
    outside.kind = "other";
    store_->insert_file(outside);
    EXPECT_EQ(get(base + "passwd", draio_).status, 404);
}

TEST_F(WebAppTest, ExportsAreFilteredByRole) {
    auto csv = get("/export/status.csv", douai_);
    ASSERT_EQ(csv.status, 200);
    EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
    EXPECT_EQ(csv.download_name, "etat-ppo-2022-03-28.csv");
    EXPECT_NE(csv.body.find("0590072H"), std::string::npos);
    EXPECT_NE(csv.body.find("0596082R"), std::string::npos);
    EXPECT_EQ(csv.body.find("0626769W"), std::string::npos);
    EXPECT_EQ(csv.body.find("0801234G"), std::string::npos);

    auto json = get("/api/status", draio_);
    ASSERT_EQ(json.status, 200);
    EXPECT_EQ(json.content_type, "application/json; charset=utf-8");
    EXPECT_EQ(json.body, workflow::status_json(status()));
    auto mine = get("/api/status", douai_);
    EXPECT_EQ(mine.body, workflow::status_json(workflow::filter_status(status(), {"095912"})));
    EXPECT_EQ(mine.body.find("script"), std::string::npos);   // no triage list
    EXPECT_EQ(get("/api/nothing", draio_).content_type, "application/json; charset=utf-8");
    auto xlsx = get("/export/status.xlsx", draio_);
    EXPECT_EQ(xlsx.status, 200);
    EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
    auto zip = get("/export/files.zip", douai_, {{"bassin", "095912"}});
    ASSERT_EQ(zip.status, 200);
    EXPECT_TRUE(zip.remove_file);   // a temporary file the server streams, then removes
    std::ifstream zip_in(zip.file_path, std::ios::binary);
    std::string magic(2, '\0');
    zip_in.read(magic.data(), 2);
    EXPECT_EQ(magic, "PK");
    std::remove(zip.file_path.c_str());
    EXPECT_EQ(get("/export/files.zip", douai_, {{"bassin", "096212"}}).status, 404);   // not their bassin
}

TEST_F(WebAppTest, OutboxPageAndRetry) {
    auto r = get("/outbox", draio_);
    ASSERT_EQ(r.status, 200);
    const auto sid = std::to_string(failed_id_);
    EXPECT_NE(r.body.find("<tr data-id=\"" + sid + "\" data-state=\"failed\">"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("<form class=\"retry\" method=\"post\" action=\"/outbox/" + sid + "/retry\">"),
              std::string::npos);
    EXPECT_NE(r.body.find("PPO &lt;Claudel&gt;"), std::string::npos);   // the subject, escaped
    EXPECT_NE(r.body.find("transmission à l’IEN-IO"), std::string::npos);
    EXPECT_NE(r.body.find("action=\"/outbox/retry\""), std::string::npos);

    auto retry = post("/outbox/" + sid + "/retry", draio_);
    ASSERT_EQ(retry.status, 303);
    EXPECT_EQ(retry.location, "/outbox?ok=retried&n=1");
    auto mails = store_->outbox_list({"failed"});
    EXPECT_TRUE(mails.empty());
    auto pending = store_->outbox_list({"pending"});
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].id, failed_id_);
    EXPECT_EQ(workflow::outbox_state(pending[0]), "deferred");   // due now, its attempts kept (postqueue -f)
    EXPECT_EQ(post("/outbox/" + sid + "/retry", draio_).status, 409);
    auto page = get("/outbox", draio_, {{"ok", "retried"}, {"n", "1"}});
    EXPECT_NE(page.body.find("1 envoi remis dans la file d’envoi."), std::string::npos);
    EXPECT_NE(page.body.find("<tr data-id=\"" + sid + "\" data-state=\"deferred\">"), std::string::npos) << page.body;
    EXPECT_EQ(figures(get("/", draio_).body)["failed"], 0);
}

TEST_F(WebAppTest, LoginAndErrorPages) {
    auto login = app_->login_page("tok<en>", "Identifiant ou mot de passe incorrect.", "jean\"dupont");
    EXPECT_EQ(login.status, 200);
    EXPECT_NE(login.body.find("<form id=\"login\" method=\"post\" action=\"/login\">"), std::string::npos);
    EXPECT_NE(login.body.find("name=\"csrf\" value=\"tok&lt;en&gt;\""), std::string::npos);
    EXPECT_NE(login.body.find("name=\"login\" value=\"jean&quot;dupont\""), std::string::npos);
    EXPECT_NE(login.body.find("name=\"password\""), std::string::npos);
    EXPECT_NE(login.body.find("Identifiant ou mot de passe incorrect."), std::string::npos);
    EXPECT_EQ(login.body.find("<nav"), std::string::npos);
    auto error = app_->error_page(429, "Trop de tentatives <b>");
    EXPECT_EQ(error.status, 429);
    EXPECT_NE(error.body.find("Trop de tentatives &lt;b&gt;"), std::string::npos);
    EXPECT_EQ(get("/nowhere", draio_).status, 404);
}

// PPO_WRITE_PAGES=DIR: the pages, to open in a browser (scripts or by hand).
TEST_F(WebAppTest, PagesToLookAt) {
    const char* out = std::getenv("PPO_WRITE_PAGES");
    if (!out) GTEST_SKIP() << "PPO_WRITE_PAGES=DIR writes the pages there";
    auto write = [&](const std::string& name, const WebResponse& r) { std::ofstream(std::string(out) + "/" + name) << r.body; };
    write("dashboard.html", get("/", draio_));
    write("dashboard-ien-io.html", get("/", douai_));
    write("lycees.html", get("/lycees", draio_));
    write("lycee.html", get("/lycees/0590072H", draio_));
    write("lycee-missing.html", get("/lycees/0596082R", draio_));
    write("triage.html", get("/triage", draio_));
    write("triage-error.html", post("/triage/" + std::to_string(hostile_) + "/assign", draio_, {{"uai", "0000000A"}}));
    write("outbox.html", get("/outbox", draio_));
    write("login.html", app_->login_page("x", "Identifiant ou mot de passe incorrect.", "draio"));
    write("error.html", get("/lycees/0626769W", douai_));
}

// A page under 100 ms with 3,000 lycées and 10,000 submissions (on by
// PPO_WEB_TIMINGS=1: it fills a database first, which takes a while).
TEST_F(WebAppTest, Timings) {
    if (!std::getenv("PPO_WEB_TIMINGS")) GTEST_SKIP() << "PPO_WEB_TIMINGS=1 to measure the pages";
    const int lycees = 3000, submissions = 10000;
    store_->begin();
    for (int i = 0; i < 40; ++i)
        store_->upsert_bassin({"B" + std::to_string(i), "BASSIN " + std::to_string(i), "IEN " + std::to_string(i),
                               "ien" + std::to_string(i) + "@ac-lille.fr"},
                              true);
    std::vector<std::string> uais;
    for (int i = 0; i < lycees; ++i) {
        std::string digits = std::to_string(5900000 + i);
        std::string uai = digits + parsers::uai_check_letter(digits);
        uais.push_back(uai);
        add(uai, "Lycée n° " + std::to_string(i), "Ville " + std::to_string(i % 300), "059", i % 2 ? "09" : "20",
            "B" + std::to_string(i % 40), "BASSIN " + std::to_string(i % 40));
    }
    store_->commit();
    const std::string text(20000, 'x');   // a PPO's extracted text
    store_->begin();
    for (int i = 0; i < submissions; ++i) {
        workflow::MessageRecord r;
        r.campaign_id = campaign_.id;
        r.mailbox = "INBOX";
        r.uidvalidity = 1;
        r.uid = ++uid_;
        r.received_at = at("2022-02-20T10:00:00+01:00") + i * 300;
        r.from = "ce@ac-lille.fr";
        r.subject = "PPO";
        r.outcome = "submission";
        r.uai = uais[static_cast<std::size_t>(i) % (lycees * 4 / 5)];
        r.identified_by = "sender";
        r.folder = "processed";
        auto id = store_->insert_message(r);
        for (int k = 0; k < 2; ++k) {
            workflow::FileRecord f;
            f.message_ref = id;
            f.name = "ppo" + std::to_string(k) + ".pdf";
            f.path = dir_ + "/archive/x.pdf";
            f.size = 1000;
            f.sha256 = std::string(64, 'c');
            f.kind = "pdf";
            f.text = text;
            f.looks_like_ppo = "yes";
            f.school_years = "2022-2023";
            store_->insert_file(f);
        }
        for (const char* kind : {"ack", "forward"}) {
            workflow::OutboxMail m;
            m.campaign_id = campaign_.id;
            m.kind = kind;
            m.message_ref = id;
            m.uai = r.uai;
            m.dedupe_key = std::string(kind) + ":" + std::to_string(id);
            m.envelope_from = "ppo@x.fr";
            m.recipients = {"a@ac-lille.fr"};
            m.data = std::string(3000, 'm');
            m.next_attempt_at = m.created_at = r.received_at;
            auto oid = store_->enqueue(m);
            store_->mark_sent(oid, r.received_at + 5);
        }
    }
    store_->commit();
    // Wall time, and this thread's CPU time (the machine may be shared).
    std::string cpu;
    auto time = [&](const std::string& path, const Viewer& v, const web::Params& q = {}) {
        auto t0 = std::chrono::steady_clock::now();
        const auto c = cpu_ms();
        auto r = get(path, v, q);
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        char buf[64];
        std::snprintf(buf, sizeof buf, " (CPU %.1f ms)", cpu_ms() - c);
        cpu = buf;
        EXPECT_EQ(r.status, 200) << path;
        return ms;
    };
    auto timed = [](const char* what, auto&& f) {
        auto t = std::chrono::steady_clock::now();
        const auto c = cpu_ms();
        auto n = f();
        std::printf("  %s: %zu rows, %.1f ms (CPU %.1f ms)\n", what, n,
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count(), cpu_ms() - c);
    };
    timed("load_directory", [&] { return store_->load_directory({"09", "20"}).lycees().size(); });
    timed("submissions", [&] { return store_->submissions(campaign_.id).size(); });
    timed("campaign_files", [&] { return store_->campaign_files(campaign_.id, 0).size(); });
    timed("message_mail_states", [&] { return store_->message_mail_states(campaign_.id).size(); });
    timed("campaign_reminders", [&] { return store_->campaign_reminders(campaign_.id).size(); });
    timed("outbox_list failed+pending", [&] { return store_->outbox_list({"failed", "pending"}).size(); });
    timed("outbox_for_message", [&] { return store_->outbox_for_message(claudel_).size(); });
    workflow::FilesByMessage by_message;
    for (auto& f : store_->campaign_files(campaign_.id, 0)) by_message[f.message_ref].push_back(std::move(f));
    auto directory = store_->load_directory(ctx_->config.campaign.academies);
    timed("build_status (files kept)", [&] {
        return workflow::build_status(*store_, ctx_->config, campaign_.id, directory, by_message).lycees.size();
    });
    if (const char* loop = std::getenv("PPO_WEB_TIMINGS_LOOP"))   // for a profiler
        for (int i = 0; i < std::atoi(loop); ++i)
            (void)workflow::build_status(*store_, ctx_->config, campaign_.id, directory, by_message);
    timed("outbox_failures", [&] { return workflow::outbox_failures(*store_, campaign_.id).size(); });
    auto st = status();
    timed("status_json", [&] { return workflow::status_json(st).size(); });
    timed("status_csv", [&] { return workflow::status_csv(st).size(); });
    auto t0 = std::chrono::steady_clock::now();
    (void)status();
    const auto build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const Viewer ien{"ien", "ien-io", {"B1", "B2"}};
    spdlog::set_level(spdlog::level::debug);
    // After a change (a new message): the status read again, files kept.
    auto changed = [&] {
        message(uais[1], at("2022-03-20T10:00:00+01:00"), "submission", "ce@ac-lille.fr", "PPO");
    };
    std::printf("build_status: %.1f ms\n", build_ms);
    {
        auto ms = time("/", draio_);
        std::printf("first /: %.1f ms%s, the status built\n", ms, cpu.c_str());
    }
    for (int round = 0; round < 2; ++round) {
        { auto ms = time("/", draio_); std::printf("/ draio: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/", ien); std::printf("/ ien-io: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/lycees", draio_); std::printf("/lycees: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/lycees", draio_, {{"q", "ville 12"}}); std::printf("/lycees?q=: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/lycees/" + uais[7], draio_); std::printf("/lycees/UAI: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/triage", draio_); std::printf("/triage: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/outbox", draio_); std::printf("/outbox: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/api/status", draio_); std::printf("/api/status: %.1f ms%s\n", ms, cpu.c_str()); }
        { auto ms = time("/export/status.csv", draio_); std::printf("/export/status.csv: %.1f ms%s\n", ms, cpu.c_str()); }
        changed();
        { auto ms = time("/", draio_); std::printf("/ after a new message: %.1f ms%s\n", ms, cpu.c_str()); }
    }
}

}  // namespace
}  // namespace ppo::daemon
