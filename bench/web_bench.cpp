// The web interface's pages under a full campaign (issue 13: "every page
// renders in under 100 ms with 3,000 lycées and 10,000 submissions"). Builds
// the campaign: bench/gen_annuaire.py's directory imported with `directory
// import`, then the messages written straight into the configured database
// through daemon::SqlStore (what the intake would have recorded: several
// versions for some lycées, their files on disk, acknowledgements and forwards
// sent, reminders, digests, messages in triage, quarantined, duplicates,
// auto-replies, failed and deferred mails). Then a DRAIO user, `ppo-intake web`
// (or `run`), a login through the form with Poco's HTTP client, and every page
// timed: a warm-up, then R runs each (one keep-alive connection, from the
// request to the last byte of the body); median, p95, max in ms.
// A program that prints figures, not a test. bench/run_web_bench.sh runs it.
#include "bench/harness.h"
#include "bench/smtp_capture.h"
#include "bench/web_client.h"

#include "daemon/store/database.h"
#include "daemon/store/sql_store.h"
#include "workflow/config/config.h"
#include "workflow/campaign/directory.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace tb = ppo::testbench;
using Clock = std::chrono::steady_clock;
using ppo::workflow::FileRecord;
using ppo::workflow::MessageRecord;
using ppo::workflow::OutboxMail;

namespace {

struct Options {
    int lycees = 3000;
    int submissions = 10000;
    int runs = 20;
    int forward_kb = 64;          // size of each forward kept in the outbox (it carries the PPO)
    std::string command = "web";  // or "run"
    bool keep = false;
};

[[noreturn]] void usage() {
    std::cerr << "usage: ppo_web_bench [--lycees N] [--submissions N] [--runs N] [--forward-kb N] [--command web|run] "
                 "[--keep]\n";
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto number = [&](int& into) {
            if (i + 1 >= argc) usage();
            into = std::atoi(argv[++i]);
            if (into <= 0) usage();
        };
        if (a == "--lycees") number(o.lycees);
        else if (a == "--submissions") number(o.submissions);
        else if (a == "--runs") number(o.runs);
        else if (a == "--forward-kb") number(o.forward_kb);
        else if (a == "--command" && i + 1 < argc) o.command = argv[++i];
        else if (a == "--keep") o.keep = true;
        else usage();
    }
    if (o.command != "web" && o.command != "run") usage();
    return o;
}

// Campaign times (Europe/Paris): the first mails a week into February, the
// deadline 2022-03-25 (the whole day), the last mails two weeks after.
constexpr std::int64_t kFirst = 1644217200;     // 2022-02-07T08:00+01:00
constexpr std::int64_t kDeadline = 1648249199;  // 2022-03-25T23:59:59+01:00
constexpr std::int64_t kLast = 1649433600;      // 2022-04-08T18:00+02:00

std::string hex(std::mt19937_64& rng, std::size_t n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += digits[rng() & 15];
    return s;
}

std::string ppo_text(const ppo::workflow::Lycee& l) {
    std::string t = "Programme pluriannuel d'orientation 2022-2023\n" + l.name + " - " + l.commune + " - UAI " + l.uai +
                    "\nAcadémie de " + (l.academie == "09" ? "Lille" : "Amiens") + "\n";
    for (int i = 0; i < 12; ++i)
        t += "Axe " + std::to_string(i + 1) +
             " : accompagner chaque élève dans la construction de son parcours d'orientation, de la seconde à la "
             "terminale, avec les professeurs principaux et les psychologues de l'Éducation nationale.\n";
    return t;
}

// A mail as the outbox keeps it: headers and a body of about `bytes`.
std::string mail_text(const std::string& to, const std::string& subject, std::size_t bytes) {
    std::string m = "From: PPO <ppo@region-academique-hauts-de-france.fr>\r\nTo: " + to + "\r\nSubject: " + subject +
                    "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n";
    while (m.size() < bytes) m += "Bonjour, ceci est le contenu du message envoyé par ppo-intake pour la campagne PPO.\r\n";
    return m;
}

struct Generated {
    std::size_t submissions = 0, files = 0, triage = 0, quarantined = 0, duplicates = 0, ignored = 0;
    std::size_t outbox = 0, failed = 0, deferred = 0, reminders = 0;
    std::size_t received_lycees = 0, late_lycees = 0;
    std::string busiest_uai;      // the lycée with the most submissions
    std::size_t busiest_count = 0;
    std::string bassin;           // a bassin with many lycées
    std::string search;           // a search term (a town)
};

class CampaignWriter {
public:
    CampaignWriter(ppo::daemon::SqlStore& store, std::int64_t campaign, std::string archive)
        : store_(store), campaign_(campaign), archive_(std::move(archive)) {}

    std::int64_t message(MessageRecord m) {
        m.campaign_id = campaign_;
        m.mailbox = "INBOX";
        m.uidvalidity = 1;
        m.uid = ++uid_;
        m.message_id = "<bench." + std::to_string(uid_) + "." + hex(rng_, 8) + "@client.example>";
        m.content_sha256 = hex(rng_, 64);
        m.moved = true;
        return store_.insert_message(m);
    }

    void file(std::int64_t message, const std::string& dir, const std::string& name, const std::string& kind,
              const std::string& text, const std::string& uai) {
        const fs::path folder = fs::path(archive_) / dir;
        fs::create_directories(folder);
        std::string data = tb::sample_pdf(dir + "/" + name, 2000 + rng_() % 6000);
        std::ofstream(folder / name, std::ios::binary) << data;
        FileRecord f;
        f.message_ref = message;
        f.name = name;
        f.path = (folder / name).string();
        f.size = static_cast<std::int64_t>(data.size());
        f.sha256 = hex(rng_, 64);
        f.kind = kind;
        f.text = text;
        f.looks_like_ppo = text.empty() ? "unknown" : (rng_() % 10 ? "yes" : "no");
        f.school_years = "2022-2023";
        f.named_uais = uai;
        f.check_detail = text.empty() ? "" : "title, school year 2022-2023, UAI " + uai;
        store_.insert_file(f);
    }

    std::int64_t mail(const std::string& kind, std::int64_t message, const std::string& uai, const std::string& to,
                      std::size_t bytes, std::int64_t at, const std::string& key) {
        OutboxMail o;
        o.campaign_id = campaign_;
        o.kind = kind;
        o.message_ref = message;
        o.uai = uai;
        o.dedupe_key = key;
        o.message_id = "<" + kind + "." + std::to_string(++mails_) + "@ppo.region-academique-hauts-de-france.fr>";
        o.envelope_from = "ppo@region-academique-hauts-de-france.fr";
        o.recipients = {to};
        o.data = mail_text(to, "PPO " + kind, bytes);
        o.state = "pending";
        o.next_attempt_at = at;
        o.created_at = at;
        return store_.enqueue(o);
    }

    std::mt19937_64& rng() { return rng_; }

private:
    ppo::daemon::SqlStore& store_;
    std::int64_t campaign_;
    std::string archive_;
    std::mt19937_64 rng_{20220325};
    std::uint32_t uid_ = 0;
    std::size_t mails_ = 0;
};

std::string addr_of(const ppo::workflow::Lycee& l) {
    return l.mail.empty() ? "ce." + l.uai + "@ac-lille.fr" : l.mail;
}

// Message n of those that are not submissions: the first `triage` in triage
// (unidentified, with their reasons), then quarantined, duplicates, auto-replies.
void write_other_message(CampaignWriter& w, Generated& g, std::size_t n, std::size_t triage, std::int64_t at,
                         const std::vector<std::int64_t>& submission_ids) {
    static const std::vector<std::string> reasons = {
        "no evidence: sender not a lycée address, no UAI, no lycée name with its town",
        "evidence for 2 lycées: 0596082R (sender), 0597091M (uai)",
        "no document attached (0 other attachment(s))",
        "sender ce.0596082r@ac-lille.fr not authenticated (dmarc=fail), no UAI, no lycée name with its town",
        "download link: drive.google.com",
    };
    MessageRecord x;
    x.received_at = at;
    if (n < triage) {
        x.from = "parent" + std::to_string(n) + "@gmail.com";
        x.subject = n % 3 ? "Document PPO" : "Question sur le PPO";
        x.outcome = "unidentified";
        x.reason = reasons[n % reasons.size()];
        x.folder = "triage";
        if (n % 5 == 4) x.links = "https://drive.google.com/file/d/" + hex(w.rng(), 20) + "/view";
        const auto id = w.message(x);
        if (n % 5 != 2 && n % 5 != 4)
            w.file(id, "_triage/" + std::to_string(id), "scan " + std::to_string(n) + ".pdf", "pdf", "", "");
        ++g.triage;
    } else if (n < triage + triage / 5) {
        x.from = "secretariat" + std::to_string(n) + "@lycee.example.fr";
        x.subject = "PPO";
        x.outcome = "quarantined";
        x.reason = "message of 41 MB over max_message_bytes";
        x.folder = "triage";
        w.message(x);
        ++g.quarantined;
    } else if (n < triage + triage / 5 + triage / 3 && !submission_ids.empty()) {
        const auto first = submission_ids[w.rng()() % submission_ids.size()];
        x.from = "ce.copie@ac-lille.fr";
        x.subject = "PPO";
        x.outcome = "duplicate";
        x.duplicate_of = first;
        x.reason = "same content as message " + std::to_string(first) + " (delivered again)";
        x.folder = "processed";
        w.message(x);
        ++g.duplicates;
    } else {
        x.from = "absent" + std::to_string(n) + "@example.org";
        x.subject = "Réponse automatique : absence";
        x.outcome = "ignored";
        x.reason = "auto-reply (Auto-Submitted: auto-replied)";
        x.folder = "ignored";
        w.message(x);
        ++g.ignored;
    }
}

Generated build_campaign(const Options& o, const std::string& config_path) {
    const auto config = ppo::workflow::load_config(config_path);
    ppo::daemon::Database db(config.database);
    ppo::daemon::SqlStore store(db);
    std::string academies;
    for (const auto& a : config.campaign.academies) academies += (academies.empty() ? "" : ",") + a;
    const auto campaign =
        store.ensure_campaign(config.campaign.name, config.campaign.deadline, academies, static_cast<std::int64_t>(std::time(nullptr)));
    const auto directory = store.load_directory(config.campaign.academies);
    std::vector<ppo::workflow::Lycee> lycees = directory.lycees();
    if (lycees.empty()) throw std::runtime_error("no lycée imported");

    CampaignWriter w(store, campaign.id, config.storage.archive_dir);
    auto& rng = w.rng();
    Generated g;

    // Who sent what: 80 % of the lycées at least once, 4 % of them only after
    // the deadline (late), a hundred busy ones many versions.
    std::vector<std::size_t> order(lycees.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    const std::size_t senders = std::max<std::size_t>(1, order.size() * 8 / 10);
    const std::size_t late_only = senders / 25;
    const std::size_t busy = std::min<std::size_t>(100, senders);
    std::vector<std::size_t> count(lycees.size(), 0);
    for (std::size_t k = 0; k < senders && k < static_cast<std::size_t>(o.submissions); ++k) ++count[order[k]];
    for (int k = static_cast<int>(std::min<std::size_t>(senders, o.submissions)); k < o.submissions; ++k) {
        const std::size_t pick = rng() % 10 < 3 ? late_only + rng() % busy : rng() % senders;
        ++count[order[std::min(pick, senders - 1)]];
    }
    struct Planned {
        std::int64_t at;
        std::size_t lycee;
    };
    std::vector<Planned> plan;
    std::set<std::size_t> late_set(order.begin(), order.begin() + static_cast<long>(late_only));
    for (std::size_t i = 0; i < lycees.size(); ++i) {
        for (std::size_t v = 0; v < count[i]; ++v) {
            const double u = std::uniform_real_distribution<double>(0, 1)(rng);
            std::int64_t at;
            if (late_set.count(i)) at = kDeadline + 1 + static_cast<std::int64_t>(u * static_cast<double>(kLast - kDeadline - 1));
            else if (v > 0 && rng() % 10 == 0) at = kDeadline + 1 + static_cast<std::int64_t>(u * 7 * 86400);
            else at = kFirst + static_cast<std::int64_t>(std::sqrt(u) * static_cast<double>(kDeadline - kFirst));
            plan.push_back({at, i});
        }
        if (count[i] > g.busiest_count) {
            g.busiest_count = count[i];
            g.busiest_uai = lycees[i].uai;
        }
    }
    std::sort(plan.begin(), plan.end(), [](const Planned& a, const Planned& b) { return a.at < b.at; });

    // The other messages, spread over the same weeks.
    const std::size_t triage = std::max<std::size_t>(5, static_cast<std::size_t>(o.submissions) / 65);

    std::map<std::string, std::size_t> versions;
    std::vector<std::int64_t> submission_ids;
    const std::size_t batch = 500;
    std::size_t in_batch = 0;
    auto commit_now = [&](bool force) {
        if (++in_batch >= batch || force) {
            store.commit();
            store.begin();
            in_batch = 0;
        }
    };
    store.begin();
    std::size_t next_other = 0;
    const std::size_t others = triage + triage / 5 + triage / 3 + triage / 2;   // triage, quarantined, duplicates, ignored
    for (std::size_t k = 0; k < plan.size(); ++k) {
        const auto& p = plan[k];
        const auto& l = lycees[p.lycee];
        const std::size_t version = ++versions[l.uai];
        MessageRecord m;
        m.received_at = p.at;
        m.from = addr_of(l);
        m.subject = version > 1 ? "PPO - nouvelle version " + std::to_string(version) : "PPO " + l.name;
        m.outcome = "submission";
        m.uai = l.uai;
        const auto how = rng() % 20;
        m.identified_by = how < 16 ? "sender" : how < 18 ? "uai" : how < 19 ? "forwarded" : "name";
        m.evidence = m.identified_by == "sender" ? "sender " + m.from : "UAI " + l.uai + " in the subject";
        m.late = p.at > kDeadline;
        m.folder = "processed";
        const auto id = w.message(m);
        submission_ids.push_back(id);
        const std::string dir = l.academie + "/" + (l.bassin_code.empty() ? std::string("sans-bassin") : l.bassin_code) +
                                "/" + l.uai + "/" + std::to_string(id);
        w.file(id, dir, "PPO " + l.uai + " v" + std::to_string(version) + ".pdf", "pdf", ppo_text(l), l.uai);
        ++g.files;
        if (rng() % 7 == 0) {
            w.file(id, dir, "Annexe - calendrier des actions.docx", "docx", "Calendrier des actions d'orientation", l.uai);
            ++g.files;
        }
        // Acknowledgement and forward, sent a minute later; a few refused for
        // good (failed), a few still deferred.
        const auto ack = w.mail("ack", id, l.uai, m.from, 3000, p.at + 60, "ack:" + std::to_string(id));
        const auto roll = rng() % 1000;
        if (roll < 4) {
            store.mark_attempt_failed(ack, "550 5.1.1 <" + m.from + ">: Recipient address rejected: User unknown",
                                      p.at + 120, true);
            ++g.failed;
        } else if (roll < 7) {
            store.mark_attempt_failed(ack, "451 4.3.0 Temporary lookup failure", std::time(nullptr) + 86400, false);
            ++g.deferred;
        } else {
            store.mark_sent(ack, p.at + 61);
        }
        const auto* bassin = directory.bassin(l.bassin_code);
        if (bassin && !bassin->ien_io_mail.empty()) {
            const auto fwd = w.mail("forward", id, l.uai, bassin->ien_io_mail, static_cast<std::size_t>(o.forward_kb) * 1024,
                                    p.at + 60, "forward:" + std::to_string(id));
            store.mark_sent(fwd, p.at + 62);
            g.outbox += 1;
        }
        g.outbox += 1;
        ++g.submissions;

        // The other messages, interleaved.
        while (next_other < others && next_other * plan.size() <= k * others)
            write_other_message(w, g, next_other++, triage, p.at + 30, submission_ids);
        commit_now(false);
    }

    // Reminders J-21 and J-7 to those that had not sent at the time, and the
    // weekly digests.
    std::set<std::string> sent_before_21, sent_before_7;
    for (const auto& p : plan) {
        if (p.at < kDeadline - 21 * 86400) sent_before_21.insert(lycees[p.lycee].uai);
        if (p.at < kDeadline - 7 * 86400) sent_before_7.insert(lycees[p.lycee].uai);
    }
    for (const auto& [offset, sent] : std::vector<std::pair<int, std::set<std::string>*>>{{-21, &sent_before_21}, {-7, &sent_before_7}}) {
        const std::int64_t at = kDeadline - (-offset) * 86400 - 15 * 3600;
        for (const auto& l : lycees) {
            if (sent->count(l.uai)) continue;
            const auto id = w.mail("reminder", 0, l.uai, addr_of(l), 2500, at,
                                   "reminder:" + l.uai + ":" + std::to_string(offset));
            store.mark_sent(id, at + 5);
            store.record_reminder(campaign.id, l.uai, offset, id, at);
            ++g.reminders;
            ++g.outbox;
            commit_now(false);
        }
    }
    for (int week = 0; week < 9; ++week) {
        const std::int64_t at = kFirst + week * 7 * 86400 - 3600;
        const std::string slot = "2022-W" + std::to_string(6 + week);
        const auto id = w.mail("digest", 0, "", "draio@region-academique-hauts-de-france.fr", 40000, at, "digest:" + slot);
        store.mark_sent(id, at + 5);
        store.record_digest(campaign.id, slot, id, at);
        ++g.outbox;
    }
    commit_now(true);
    store.commit();

    g.received_lycees = versions.size();
    g.late_lycees = late_only;
    // The bassin with the most lycées, and the busiest lycée's town to search for.
    std::map<std::string, std::size_t> per_bassin;
    for (const auto& l : lycees) ++per_bassin[l.bassin_code];
    for (const auto& [code, n] : per_bassin)
        if (g.bassin.empty() || n > per_bassin[g.bassin]) g.bassin = code;
    if (const auto* l = directory.by_uai(g.busiest_uai)) g.search = l->commune;
    return g;
}

struct Timing {
    std::string page;
    int status = 0;
    std::size_t bytes = 0;
    double first = 0, median = 0, p95 = 0, max = 0;
    std::string error;
};

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

Timing time_page(tb::WebClient& client, const std::string& page, int runs) {
    Timing t;
    t.page = page;
    auto t0 = Clock::now();
    auto r = client.get(page);
    t.first = ms_since(t0);
    for (int i = 0; i < 2; ++i) r = client.get(page);   // warm-up
    t.status = r.status;
    t.bytes = r.body.size();
    if (r.status != 200) {
        t.error = r.status < 0 ? r.error : "HTTP " + std::to_string(r.status) + (r.location.empty() ? "" : " to " + r.location);
        return t;
    }
    std::vector<double> v;
    for (int i = 0; i < runs; ++i) {
        t0 = Clock::now();
        r = client.get(page);
        v.push_back(ms_since(t0));
        if (r.status != 200) {
            t.status = r.status;
            t.error = "HTTP " + std::to_string(r.status) + " on run " + std::to_string(i + 1);
            return t;
        }
    }
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    t.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    t.p95 = v[static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(n))) - 1];
    t.max = v.back();
    return t;
}

long peak_rss_kib(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    return -1;
}

std::string encode(const std::string& s) {
    std::string out;
    Poco::URI::encode(s, "&=+;#?/", out);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    if (o.keep) ::setenv("PPO_KEEP_TEST_DIRS", "1", 1);
    try {
        tb::Harness::Options ho;
        ho.import_directory = false;
        tb::Harness h(ho);
        const int port = tb::free_port();
        h.write_config({{"web.listen", "127.0.0.1:" + std::to_string(port)}, {"web.users_file", h.dir() + "/users"},
                        {"workflow.forward", "true"}});
        std::cout << "Folder: " << h.dir() << (o.keep ? " (kept)" : "") << "\nDatabase: " << h.database_url() << "\n";

        // The directory.
        const std::string csv = h.dir() + "/annuaire.csv", routing = h.dir() + "/routing.csv";
        auto r = tb::run_command({"/usr/bin/python3", std::string(PPO_SOURCE_DIR) + "/bench/gen_annuaire.py", "20220301",
                                  std::to_string(o.lycees), csv, routing});
        if (r.exit_code != 0) throw std::runtime_error("gen_annuaire.py failed: " + r.err);
        r = h.ppo({"directory", "import", "--annuaire", csv, "--routing", routing});
        if (r.exit_code != 0) throw std::runtime_error("directory import failed: " + r.err);

        // The campaign's messages.
        auto t0 = Clock::now();
        const auto g = build_campaign(o, h.config_path());
        std::printf("Campaign: %d lycées (bench/gen_annuaire.py), %zu of them with a submission (%zu only after the "
                    "deadline); %zu submissions with %zu files; %zu in triage, %zu quarantined, %zu duplicates, %zu "
                    "auto-replies; %zu mails in the outbox (%zu reminders; %zu failed, %zu deferred; forwards of %d KiB). "
                    "Written in %.1f s.\n",
                    o.lycees, g.received_lycees, g.late_lycees, g.submissions, g.files, g.triage, g.quarantined,
                    g.duplicates, g.ignored, g.outbox, g.reminders, g.failed, g.deferred, o.forward_kb, ms_since(t0) / 1000);

        r = tb::add_web_user(h.config_path(), "bench", "mot de passe du banc d'essai", "draio");
        if (r.exit_code != 0) throw std::runtime_error("user add failed: " + r.out + r.err);

        tb::PpoProcess server(h.config_path(), {o.command}, h.dir() + "/web.log");
        server.start();
        if (!tb::wait_for_http(port, "/login", std::chrono::seconds(120), [&] { return server.alive(); }))
            throw std::runtime_error("ppo-intake " + o.command + " does not answer on port " + std::to_string(port) + "\n" +
                                     tb::tail(server.log()));
        tb::WebClient client(port, std::chrono::seconds(120));
        std::string why;
        if (!client.login("bench", "mot de passe du banc d'essai", &why)) throw std::runtime_error("login failed: " + why);

        // The API as a sanity check: the whole campaign is there.
        auto api = client.get("/api/status");
        if (api.status == 200) {
            Poco::JSON::Parser parser;
            auto st = parser.parse(api.body).extract<Poco::JSON::Object::Ptr>();
            std::printf("/api/status: %zu lycées, %zu in triage\n", st->getArray("lycees")->size(),
                        st->getArray("unidentified") ? st->getArray("unidentified")->size() : 0);
        }

        const std::vector<std::string> pages = {
            "/",
            "/lycees",
            "/lycees?state=missing",
            "/lycees?state=late",
            "/lycees?bassin=" + g.bassin,
            "/lycees?q=" + encode(g.search),
            "/lycees/" + g.busiest_uai,
            "/triage",
            "/outbox",
            "/api/status",
            "/export/status.csv",
            "/export/status.xlsx",
        };
        std::printf("\n%d runs per page after a warm-up (one keep-alive connection; request to last byte); /lycees/%s has "
                    "%zu submissions\n\n",
                    o.runs, g.busiest_uai.c_str(), g.busiest_count);
        std::printf("%-32s %6s %10s %10s %10s %10s %10s\n", "page", "status", "bytes", "first ms", "median ms", "p95 ms",
                    "max ms");
        std::vector<Timing> all;
        for (const auto& page : pages) {
            auto t = time_page(client, page, o.runs);
            if (t.error.empty())
                std::printf("%-32s %6d %10zu %10.1f %10.1f %10.1f %10.1f\n", t.page.c_str(), t.status, t.bytes, t.first,
                            t.median, t.p95, t.max);
            else
                std::printf("%-32s %6d %10zu %10.1f  failed: %s\n", t.page.c_str(), t.status, t.bytes, t.first,
                            t.error.c_str());
            std::fflush(stdout);
            all.push_back(t);
        }
        const long rss = peak_rss_kib(server.pid());
        if (rss > 0) std::printf("\nppo-intake %s peak RSS: %.1f MiB\n", o.command.c_str(), static_cast<double>(rss) / 1024);
        std::string slow, failed;
        for (const auto& t : all) {
            if (!t.error.empty()) failed += " " + t.page;
            else if (t.p95 >= 100) slow += " " + t.page + " (" + std::to_string(static_cast<int>(std::lround(t.p95))) + " ms)";
        }
        std::printf("\n");
        if (!failed.empty()) std::printf("Pages that failed:%s\n", failed.c_str());
        if (failed.empty() && slow.empty())
            std::printf("Every page's p95 is under 100 ms: yes (%d lycées, %zu submissions)\n", o.lycees, g.submissions);
        else
            std::printf("Every page's p95 is under 100 ms: NO (%s%s%s)\n", failed.empty() ? "" : "pages that failed",
                        !failed.empty() && !slow.empty() ? "; " : "", slow.empty() ? "" : ("over 100 ms:" + slow).c_str());
        const int code = server.terminate();
        if (code != 0) std::printf("ppo-intake %s exited with %d\n%s\n", o.command.c_str(), code, tb::tail(server.log(), 2000).c_str());
        return failed.empty() ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ppo_web_bench: %s\n", e.what());
        return 1;
    }
}
