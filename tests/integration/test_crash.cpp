// Crash safety: the real `ppo-intake run` is SIGKILLed at random moments while
// a burst of submissions arrives, restarted, killed again, and finally left to
// drain the inbox and the outbox. The end state must be exactly once: one
// submission per message, every file archived intact, every message filed,
// one acknowledgement and one forward per submission. The only duplicates the
// design allows are mails the SMTP server accepted just before a kill (send,
// then mark sent): they are counted and reported, bounded by the number of
// kills, never a failure by themselves.
//
// Size from the environment (defaults are scaled for CI):
//   PPO_CRASH_MESSAGES (60)  PPO_CRASH_KILLS (15)  PPO_CRASH_SEED (random, printed)
//   PPO_CRASH_BATCH ([intake] batch_size, 64K: a few messages per commit, so
//   that kills also land between a commit and the IMAP move, and in the
//   outbox; with the default 32M the whole burst is one transaction and a
//   kill before its commit simply starts it over)
// The full run is done by hand, e.g.
//   PPO_CRASH_MESSAGES=300 PPO_CRASH_KILLS=100 ppo_integration_tests --gtest_filter='Crash.*'
#include "bench/harness.h"

#include "daemon/store/file_archive.h"
#include "parsers/mime/mime_message.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

using namespace ppo::testbench;
namespace fs = std::filesystem;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";  // before the deadline, no reminder due

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    return std::max(0, std::atoi(v));
}



struct Lycee {
    std::string uai;
    std::string mail;    // ce.<uai>@ac-...
    std::string ien_io;  // the bassin's IEN-IO
};

// Public LGT / LG / LPO of the sample directory with their official address
// and an IEN-IO in the routing sample.
std::vector<Lycee> public_lycees() {
    auto read_rows = [](const std::string& file) {
        std::ifstream in(std::string(PPO_TEST_DATA_DIR) + "/" + file, std::ios::binary);
        std::vector<std::vector<std::string>> rows;
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            std::vector<std::string> cells;
            std::string cell;
            std::istringstream ls(line);
            while (std::getline(ls, cell, ';')) cells.push_back(cell);
            if (!line.empty() && line.back() == ';') cells.emplace_back();
            rows.push_back(cells);
        }
        return rows;
    };
    auto col = [](const std::vector<std::string>& header, const std::string& name) {
        auto it = std::find(header.begin(), header.end(), name);
        if (it == header.end()) throw std::runtime_error("column " + name + " missing");
        return static_cast<std::size_t>(it - header.begin());
    };
    std::map<std::string, std::string> ien_io;
    auto routing = read_rows("routing-sample.csv");
    for (std::size_t i = 1; i < routing.size(); ++i)
        if (routing[i].size() >= 4 && !routing[i][3].empty()) ien_io[routing[i][0]] = routing[i][3];
    auto rows = read_rows("annuaire-hdf-sample.csv");
    const auto& h = rows.at(0);
    auto c_uai = col(h, "Identifiant_de_l_etablissement"), c_type = col(h, "Type_etablissement"),
         c_statut = col(h, "Statut_public_prive"), c_mail = col(h, "Mail"), c_nature = col(h, "code_nature"),
         c_bassin = col(h, "code_bassin_formation");
    std::vector<Lycee> out;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& r = rows[i];
        if (r.size() <= std::max({c_uai, c_type, c_statut, c_mail, c_nature, c_bassin})) continue;
        if (r[c_type] != "Lycée" || r[c_statut] != "Public") continue;
        if (r[c_nature] != "300" && r[c_nature] != "301" && r[c_nature] != "306") continue;
        std::string uai = r[c_uai];
        std::string lower_uai = uai;
        std::transform(lower_uai.begin(), lower_uai.end(), lower_uai.begin(), ::tolower);
        const std::string& mail = r[c_mail];
        if (mail != "ce." + lower_uai + "@ac-lille.fr" && mail != "ce." + lower_uai + "@ac-amiens.fr") continue;
        auto io = ien_io.find(r[c_bassin]);
        if (io == ien_io.end()) continue;
        out.push_back({uai, mail, io->second});
    }
    return out;
}

struct Sent {
    const Lycee* lycee;
    std::string message_id;
    std::string file_name;
    std::string pdf;
    std::string sha256;
};

}  // namespace

TEST(Crash, RandomKillsDuringABurstLoseAndDuplicateNothing) {
    const int n_messages = std::max(1, env_int("PPO_CRASH_MESSAGES", 60));
    const int n_kills = env_int("PPO_CRASH_KILLS", 15);
    const unsigned seed = std::getenv("PPO_CRASH_SEED") ? static_cast<unsigned>(std::strtoul(std::getenv("PPO_CRASH_SEED"), nullptr, 10))
                                                        : std::random_device{}();
    const std::string batch = std::getenv("PPO_CRASH_BATCH") && *std::getenv("PPO_CRASH_BATCH") ? std::getenv("PPO_CRASH_BATCH") : "64K";
    std::cout << "[crash] messages=" << n_messages << " kills=" << n_kills << " batch_size=" << batch << " seed=" << seed
              << " (PPO_CRASH_SEED=" << seed << " replays the delays)" << std::endl;
    std::mt19937 rng(seed);

    Harness::Options opts;
    opts.extra_config = {{"imap.poll_interval", "2"}, {"smtp.max_per_recipient_per_hour", "100000"},
                          {"intake.batch_size", batch}};
    Harness h(opts);

    auto lycees = public_lycees();
    {
        // Keep those the campaign knows (status --json lists them).
        auto st = h.status(kBefore);
        std::set<std::string> known;
        auto arr = st->getArray("lycees");
        for (unsigned i = 0; i < arr->size(); ++i) known.insert(arr->getObject(i)->getValue<std::string>("uai"));
        std::erase_if(lycees, [&](const Lycee& l) { return !known.count(l.uai); });
    }
    ASSERT_GE(lycees.size(), 20u) << "too few public lycées in the sample directory";

    std::vector<Sent> sent;
    for (int i = 0; i < n_messages; ++i) {
        const Lycee& l = lycees[static_cast<std::size_t>(i) % lycees.size()];
        Sent s;
        s.lycee = &l;
        s.message_id = "<crash." + std::to_string(i) + "." + std::to_string(seed) + "@client.example>";
        s.file_name = "PPO " + l.uai + " n" + std::to_string(i) + ".pdf";
        s.pdf = sample_pdf("crash-" + std::to_string(i) + "-" + l.uai, 1000 + (static_cast<std::size_t>(i) * 977) % 20000);
        s.sha256 = ppo::daemon::sha256_hex(s.pdf);
        sent.push_back(std::move(s));
    }
    std::size_t next = 0;
    auto deliver_upto = [&](std::size_t count) {
        for (; next < std::min(count, sent.size()); ++next) {
            TestMail m;
            m.from = sent[next].lycee->mail;
            m.subject = "PPO " + sent[next].lycee->uai;
            m.message_id = sent[next].message_id;
            m.files = {{sent[next].file_name, "application/pdf", sent[next].pdf, ""}};
            h.deliver(m);
        }
    };

    const std::string log_path = h.dir() + "/daemon.log";
    DaemonProcess d(h.config_path(), log_path, kBefore);
    // Half the burst is waiting before the first start; the rest arrives in
    // chunks between (and so also during) the runs that get killed.
    deliver_upto(sent.size() / 2);
    const std::size_t chunk = (sent.size() - next + static_cast<std::size_t>(n_kills)) / (static_cast<std::size_t>(n_kills) + 1);
    std::uniform_int_distribution<int> delay_ms(50, 800);
    int kills = 0;
    for (int k = 0; k < n_kills; ++k) {
        d.start();
        int ms = delay_ms(rng);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms / 2));
        deliver_upto(next + chunk);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms - ms / 2));
        ASSERT_TRUE(d.alive()) << "the daemon died on its own before kill " << k + 1 << " (status " << d.exit_status()
                               << ")\n"
                               << tail(d.log());
        d.kill9();
        ++kills;
        std::ofstream(log_path, std::ios::app) << "=== test: SIGKILL " << kills << " after " << ms << " ms ===\n";
    }
    deliver_upto(sent.size());

    // Last run: until the inbox is empty and every submission is acknowledged and forwarded.
    d.start();
    auto all_done = [&] {
        if (h.imap().count("INBOX") != 0) return false;
        auto st = h.status(kBefore);
        auto arr = st->getArray("lycees");
        std::size_t done = 0;
        for (unsigned i = 0; i < arr->size(); ++i) {
            auto subs = arr->getObject(i)->getArray("submissions");
            for (unsigned j = 0; j < subs->size(); ++j) {
                auto s = subs->getObject(j);
                if (s->getValue<bool>("acknowledged") && s->getValue<bool>("forwarded")) ++done;
            }
        }
        return done >= sent.size();
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60 + n_messages / 2);
    bool done = false;
    while (!(done = all_done()) && std::chrono::steady_clock::now() < deadline) {
        ASSERT_TRUE(d.alive()) << "the daemon died during the final run\n" << tail(d.log());
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    EXPECT_TRUE(done) << "not drained in time\n" << tail(d.log());
    // Anything still in flight reaches the capture.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ASSERT_TRUE(d.alive()) << tail(d.log());
    EXPECT_EQ(d.terminate(), 0) << tail(d.log());

    // --- Submissions and files ---
    std::map<std::string, const Sent*> by_message_id, by_sha;
    for (const auto& s : sent) {
        by_message_id[s.message_id] = &s;
        by_sha[s.sha256] = &s;
    }
    std::map<std::string, fs::path> archived;  // "<UAI>/<id>/<name>" -> path
    for (const auto& e : fs::recursive_directory_iterator(h.dir() + "/archive")) {
        if (!e.is_regular_file()) continue;
        auto p = e.path();
        archived[p.parent_path().parent_path().filename().string() + "/" + p.parent_path().filename().string() + "/" +
                 p.filename().string()] = p;
    }
    auto st = h.status(kBefore);
    std::map<std::string, int> submissions_of;  // Message-ID -> count
    int unexpected = 0, corrupted = 0, not_acked = 0;
    auto arr = st->getArray("lycees");
    for (unsigned i = 0; i < arr->size(); ++i) {
        auto l = arr->getObject(i);
        auto subs = l->getArray("submissions");
        for (unsigned j = 0; j < subs->size(); ++j) {
            auto s = subs->getObject(j);
            auto mid = s->getValue<std::string>("message_id");
            auto it = by_message_id.find(mid);
            if (it == by_message_id.end() || it->second->lycee->uai != l->getValue<std::string>("uai")) {
                ++unexpected;
                ADD_FAILURE() << "unexpected submission " << s->getValue<int>("id") << " for "
                              << l->getValue<std::string>("uai") << " (Message-ID " << mid << ")";
                continue;
            }
            ++submissions_of[mid];
            if (!s->getValue<bool>("acknowledged") || !s->getValue<bool>("forwarded")) ++not_acked;
            const Sent& want = *it->second;
            auto files = s->getArray("files");
            bool ok = files->size() == 1;
            if (ok) {
                auto f = files->getObject(0);
                ok = f->getValue<std::string>("name") == want.file_name &&
                     f->getValue<std::string>("sha256") == want.sha256 &&
                     f->getValue<std::int64_t>("size") == static_cast<std::int64_t>(want.pdf.size());
                auto a = archived.find(want.lycee->uai + "/" + std::to_string(s->getValue<std::int64_t>("id")) + "/" +
                                       want.file_name);
                ok = ok && a != archived.end() && read_file(a->second.string()) == want.pdf;
            }
            if (!ok) {
                ++corrupted;
                ADD_FAILURE() << "submission " << s->getValue<int>("id") << " (" << mid << "): file missing or corrupted";
            }
        }
    }
    EXPECT_EQ(st->getArray("unidentified")->size(), 0u);
    EXPECT_EQ(not_acked, 0);

    // --- IMAP ---
    const std::size_t inbox = h.imap().count("INBOX");
    const std::size_t processed = h.imap().count("PPO.Traites");
    EXPECT_EQ(inbox, 0u);
    EXPECT_EQ(processed, sent.size());
    EXPECT_EQ(h.imap().count("PPO.A-trier"), 0u);
    EXPECT_EQ(h.imap().count("PPO.Ignores"), 0u);

    // --- Mails: acks by In-Reply-To, forwards by the attached bytes ---
    std::map<std::string, int> acks, forwards;  // Message-ID -> count
    std::map<std::string, std::set<std::string>> mail_ids;  // "ack|forward <Message-ID>" -> Message-IDs of the copies
    int foreign_mails = 0;
    for (const auto& m : h.smtp().messages()) {
        auto auto_submitted = header_of(m.data, "Auto-Submitted");
        if (auto_submitted == "auto-replied") {
            auto it = by_message_id.find(header_of(m.data, "In-Reply-To"));
            if (it == by_message_id.end() || std::find(m.rcpt_to.begin(), m.rcpt_to.end(), it->second->lycee->mail) == m.rcpt_to.end()) {
                ++foreign_mails;
                ADD_FAILURE() << "acknowledgement not matching any submission: " << m.file;
                continue;
            }
            ++acks[it->first];
            mail_ids["ack " + it->first].insert(header_of(m.data, "Message-ID"));
        } else if (auto_submitted == "auto-generated") {
            auto parsed = ppo::parsers::parse_mime_message(m.data);
            const Sent* match = nullptr;
            if (parsed.attachments.size() == 1) {
                auto it = by_sha.find(ppo::daemon::sha256_hex(parsed.attachments[0].data));
                if (it != by_sha.end()) match = it->second;
            }
            if (!match || m.rcpt_to != std::vector<std::string>{match->lycee->ien_io}) {
                ++foreign_mails;
                ADD_FAILURE() << "forward not matching any submission byte for byte (or wrong IEN-IO): " << m.file;
                continue;
            }
            ++forwards[match->message_id];
            mail_ids["forward " + match->message_id].insert(header_of(m.data, "Message-ID"));
        } else {
            ++foreign_mails;
            ADD_FAILURE() << "unexpected mail " << m.file << " (Auto-Submitted: " << auto_submitted << ")";
        }
    }

    // A duplicate must be the same stored mail sent again (same Message-ID,
    // so the recipient's client shows one), never a second mail queued anew.
    int requeued = 0;
    for (const auto& [what, ids] : mail_ids)
        if (ids.size() > 1) {
            ++requeued;
            ADD_FAILURE() << what << ": " << ids.size() << " different mails (queued twice)";
        }

    int lost = 0, dup_submissions = 0, dup_acks = 0, dup_forwards = 0, lost_acks = 0, lost_forwards = 0;
    for (const auto& s : sent) {
        int n = submissions_of[s.message_id];
        if (n == 0) ++lost;
        if (n > 1) dup_submissions += n - 1;
        int a = acks[s.message_id], f = forwards[s.message_id];
        if (a == 0) ++lost_acks;
        if (f == 0) ++lost_forwards;
        if (a > 1) dup_acks += a - 1;
        if (f > 1) dup_forwards += f - 1;
        if (n != 1 || a != 1 || f != 1)
            std::cout << "[crash] " << s.message_id << " " << s.lycee->uai << ": " << n << " submission(s), " << a
                      << " ack(s), " << f << " forward(s)" << std::endl;
    }
    std::cout << "[crash] summary: kills=" << kills << " messages=" << sent.size() << " lost=" << lost
              << " lost_acks=" << lost_acks << " lost_forwards=" << lost_forwards
              << " duplicated_submissions=" << dup_submissions << " duplicated_mails=" << dup_acks + dup_forwards
              << " (acks " << dup_acks << ", forwards " << dup_forwards << ") corrupted_files=" << corrupted
              << " requeued_mails=" << requeued << " inbox=" << inbox << " processed=" << processed << " seed=" << seed << std::endl;

    EXPECT_EQ(lost, 0);
    EXPECT_EQ(lost_acks, 0);
    EXPECT_EQ(lost_forwards, 0);
    EXPECT_EQ(dup_submissions, 0);
    EXPECT_EQ(unexpected, 0);
    EXPECT_EQ(corrupted, 0);
    EXPECT_EQ(foreign_mails, 0);
    EXPECT_EQ(requeued, 0);
    // Send-then-mark-sent: at most the one mail in flight per kill.
    EXPECT_LE(dup_acks + dup_forwards, kills);
    if (HasFailure()) std::cout << tail(d.log(), 20000) << std::endl;
}
