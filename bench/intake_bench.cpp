// The intake benchmark (issue 3): ppo-intake's `poll --once` against mbsync
// (isync) copying the same mailbox, on throwaway Dovecot servers filled with
// generated PPO submissions, plus the memory checks (one 30 MB attachment;
// peak RSS at N=100 against N). Not a test: it prints figures. Run it through
// bench/run_bench.sh (Release build); see bench/README.md.
//
//   ppo_intake_bench [N] [--no-small] [--no-big] [--keep]
#include "bench/harness.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace ppo::testbench;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// One child process: wall time, rusage (peak RSS) and every output line with
// the time it arrived (the daemon's own log stamps are whole seconds).
struct Measured {
    int exit_code = -1;
    double wall_s = 0;
    long max_rss_kb = 0;
    double user_s = 0;
    double sys_s = 0;
    std::vector<std::pair<double, std::string>> lines;  // (seconds since start, line)
    std::vector<double> line_cpu_s;                      // the child's user+sys CPU when each line arrived
    std::vector<long> line_hwm_kb;                       // the child's peak RSS so far (VmHWM) then
};

// VmHWM (peak RSS so far, KiB) of a running process, -1 if gone.
long hwm_kb(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// user+sys CPU seconds of a running process (/proc/PID/stat), -1 if gone.
double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return -1;
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) return -1;
    std::istringstream fields(stat.substr(close_paren + 2));
    std::string f;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i)
        if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Measured run_measured(const std::vector<std::string>& argv) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    const auto start = Clock::now();
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(out[1], 2);
        close(out[0]);
        close(out[1]);
        unsetenv("JOURNAL_STREAM");  // the plain log format, not journald's
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(out[1]);
    Measured m;
    std::string pending;
    char buf[65536];
    for (;;) {
        ssize_t n = read(out[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        const double t = std::chrono::duration<double>(Clock::now() - start).count();
        pending.append(buf, static_cast<std::size_t>(n));
        std::size_t pos;
        double cpu = -2;
        long hwm = -1;
        while ((pos = pending.find('\n')) != std::string::npos) {
            if (cpu == -2) cpu = cpu_seconds(pid), hwm = hwm_kb(pid);
            m.line_cpu_s.push_back(cpu);
            m.line_hwm_kb.push_back(hwm);
            m.lines.emplace_back(t, pending.substr(0, pos));
            pending.erase(0, pos + 1);
        }
    }
    if (!pending.empty()) m.line_cpu_s.push_back(-1), m.line_hwm_kb.push_back(-1), m.lines.emplace_back(std::chrono::duration<double>(Clock::now() - start).count(), pending);
    close(out[0]);
    int status = 0;
    rusage ru{};
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    m.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
    m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    m.max_rss_kb = ru.ru_maxrss;
    m.user_s = static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6;
    m.sys_s = static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
    return m;
}

std::string tail_of(const Measured& m, std::size_t n = 15) {
    std::string s;
    for (std::size_t i = m.lines.size() > n ? m.lines.size() - n : 0; i < m.lines.size(); ++i) s += m.lines[i].second + "\n";
    return s;
}

std::vector<std::string> split(const std::string& line, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : line) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else if (c != '\r') {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

struct Lycee {
    std::string uai, name, mail;
};

struct Directory {
    std::string csv, routing;
    std::vector<Lycee> lycees;  // the campaign's (LGT) lycées, in file order
};

// bench/gen_annuaire.py: n LGTs (plus other schools) with distinct addresses.
Directory generate_directory(const std::string& dir, std::size_t n) {
    Directory d;
    d.csv = dir + "/annuaire.csv";
    d.routing = dir + "/routing.csv";
    auto r = run_command({"/usr/bin/python3", std::string(PPO_SOURCE_DIR) + "/bench/gen_annuaire.py", "20220301",
                          std::to_string(n), d.csv, d.routing});
    if (r.exit_code != 0) throw std::runtime_error("gen_annuaire.py failed: " + r.err);
    std::ifstream in(d.csv);
    std::string line;
    std::getline(in, line);
    auto header = split(line, ';');
    auto col = [&](const std::string& name) {
        auto it = std::find(header.begin(), header.end(), name);
        if (it == header.end()) throw std::runtime_error("annuaire: no column " + name);
        return static_cast<std::size_t>(it - header.begin());
    };
    const auto c_uai = col("Identifiant_de_l_etablissement"), c_name = col("Nom_etablissement"), c_mail = col("Mail"),
               c_nature = col("code_nature");
    while (std::getline(in, line)) {
        auto f = split(line, ';');
        if (f.size() != header.size()) continue;
        const auto& nature = f[c_nature];
        if (nature != "300" && nature != "301" && nature != "306") continue;
        d.lycees.push_back({f[c_uai], f[c_name], f[c_mail]});
    }
    if (d.lycees.empty()) throw std::runtime_error("annuaire: no lycée generated");
    return d;
}

// Submission i: from lycée i (cycling), one PDF of about `pdf_bytes`.
std::string submission(const Directory& d, std::size_t i, std::size_t pdf_bytes) {
    const Lycee& l = d.lycees[i % d.lycees.size()];
    TestMail m;
    m.from = l.mail;
    m.subject = "PPO " + l.name;
    m.message_id = "<bench." + std::to_string(i) + "." + l.uai + "@client.example>";
    m.files = {{"PPO " + l.uai + ".pdf", "application/pdf", sample_pdf(l.uai + "/" + std::to_string(i), pdf_bytes), ""}};
    return build_test_mail(m);
}

std::size_t count_files(const fs::path& dir, const std::string& ext = "") {
    std::size_t n = 0;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return 0;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec))
        if (e.is_regular_file() && (ext.empty() || e.path().extension() == ext)) ++n;
    return n;
}

struct MbsyncResult {
    Measured run;
    std::size_t copied = 0;
};

MbsyncResult run_mbsync(DovecotServer& imap) {
    char tmpl[] = "/tmp/ppo-bench-mbsync-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    fs::create_directories(dir + "/mail");
    const std::string rc = dir + "/mbsyncrc";
    {
        std::ofstream out(rc);
        out << "IMAPAccount bench\nHost 127.0.0.1\nPort " << imap.port() << "\nUser " << imap.user() << "\nPass "
            << imap.password() << "\nSSLType None\nAuthMechs LOGIN\n\n"
            << "IMAPStore far\nAccount bench\n\n"
            << "MaildirStore near\nPath " << dir << "/mail/\nInbox " << dir << "/mail/INBOX\n\n"
            << "Channel bench\nFar :far:INBOX\nNear :near:\nSync Pull\nCreate Near\n"
            << "SyncState *\n";  // in the maildir, not ~/.mbsync
    }
    MbsyncResult r;
    r.run = run_measured({"/usr/bin/mbsync", "-c", rc, "-a"});
    r.copied = count_files(dir + "/mail/INBOX/cur") + count_files(dir + "/mail/INBOX/new");
    if (r.run.exit_code != 0) std::cerr << "mbsync exited with " << r.run.exit_code << ":\n" << tail_of(r.run);
    if (!std::getenv("PPO_KEEP_TEST_DIRS")) fs::remove_all(dir);
    return r;
}

struct PpoResult {
    Measured run;
    std::string summary;               // the "poll: ..." line
    std::size_t submissions = 0;       // "submission ...: submission UAI" outcome lines
    std::size_t outcomes = 0;          // every outcome line
    std::size_t captured = 0;          // mails the SMTP capture received
    double first_outcome_s = -1;       // first message handled (after LIST + first FETCH)
    double last_outcome_s = -1;        // last message handled (before the last fsync/commit/MOVE)
    double first_outbox_s = -1;        // first mail sent: intake is over (plus one SMTP connect + send)
    double intake_cpu_s = -1;          // ppo-intake's user+sys CPU by then
    long intake_hwm_kb = -1;           // and its peak RSS so far
    bool valid = false;                // exit 0, every message a submission, 2 mails each
    double intake_s() const { return first_outbox_s >= 0 ? first_outbox_s : run.wall_s; }
};

PpoResult run_poll(Harness& h) {
    PpoResult r;
    // PPO_BENCH_WRAP="perf record -g -o /tmp/ppo.perf --" (split on spaces) profiles the
    // poll; its figures are then the wrapper's, not ppo-intake's.
    std::vector<std::string> argv;
    if (const char* wrap = std::getenv("PPO_BENCH_WRAP")) {
        std::istringstream in(wrap);
        for (std::string w; in >> w;) argv.push_back(w);
    }
    for (const std::string& a : {std::string(PPO_BINARY), std::string("-c"), h.config_path(), std::string("--now"),
                                 std::string("2022-03-10T14:00:00+01:00"), std::string("poll"), std::string("--once")})
        argv.push_back(a);
    r.run = run_measured(argv);
    // PPO_BENCH_LOG=FILE: the poll's log, each line prefixed with its arrival time (s).
    if (const char* log = std::getenv("PPO_BENCH_LOG")) {
        std::ofstream out(log, std::ios::app);
        char stamp[32];
        for (std::size_t i = 0; i < r.run.lines.size(); ++i) {
        const auto& [t, line] = r.run.lines[i];
            std::snprintf(stamp, sizeof stamp, "%9.3f ", t);
            out << stamp << line << "\n";
        }
    }
    for (std::size_t i = 0; i < r.run.lines.size(); ++i) {
        const auto& [t, line] = r.run.lines[i];
        if (line.find(" uid ") != std::string::npos && line.find(": submission ") != std::string::npos) {
            ++r.outcomes;
            if (r.first_outcome_s < 0) r.first_outcome_s = t;
            r.last_outcome_s = t;
            if (line.find(": submission UAI ") != std::string::npos) ++r.submissions;
        } else if (line.find(" outbox ") != std::string::npos && r.first_outbox_s < 0) {
            r.first_outbox_s = t;
            r.intake_cpu_s = r.run.line_cpu_s[i];
            r.intake_hwm_kb = r.run.line_hwm_kb[i];
        } else if (line.find(" poll: ") != std::string::npos) {
            r.summary = line.substr(line.find("poll: "));
        }
    }
    r.captured = count_files(h.smtp().dir(), ".json");
    if (fs::exists(h.smtp().dir() + "/control.json")) --r.captured;
    if (r.run.exit_code != 0) std::cerr << "ppo-intake poll --once exited with " << r.run.exit_code << ":\n" << tail_of(r.run);
    return r;
}

Harness::Options harness_options() {
    Harness::Options o;
    o.import_directory = false;
    return o;
}

void import_directory(Harness& h, const Directory& d) {
    auto r = h.ppo({"directory", "import", "--annuaire", d.csv, "--routing", d.routing});
    if (r.exit_code != 0) throw std::runtime_error("directory import failed: " + r.err + r.out);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Round {
    std::size_t n = 0;
    std::size_t pdf_bytes = 0;
    std::size_t message_bytes = 0;
    MbsyncResult mbsync;
    PpoResult ppo;
};

// Two Dovecot servers filled with the same messages: mbsync copies one, ppo-intake handles the other.
Round run_round(const Directory& d, std::size_t n, std::size_t pdf_bytes) {
    Round round;
    round.n = n;
    round.pdf_bytes = pdf_bytes;
    DovecotServer far;
    Harness h(harness_options());
    import_directory(h, d);
    auto t = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        auto raw = submission(d, i, pdf_bytes);
        round.message_bytes += raw.size();
        far.append(raw);
        h.imap().append(raw);
    }
    std::cout << "  filled 2 Dovecot servers with " << n << " message(s), " << round.message_bytes / n / 1024
              << " KiB each, in " << seconds_since(t) << " s\n"
              << std::flush;
    round.mbsync = run_mbsync(far);
    round.ppo = run_poll(h);
    if (round.mbsync.copied != n) std::cerr << "  WARNING: mbsync copied " << round.mbsync.copied << " of " << n << "\n";
    round.ppo.valid = round.ppo.run.exit_code == 0 && round.ppo.submissions == n && round.mbsync.copied == n &&
                      round.mbsync.run.exit_code == 0;
    if (round.ppo.submissions != n)
        std::cerr << "  WARNING: ppo-intake recorded " << round.ppo.submissions << " submission(s) of " << n << "\n";
    if (h.imap().count("INBOX") != 0) std::cerr << "  WARNING: messages left in the ppo-intake INBOX\n";
    return round;
}

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one, five;
    in >> one >> five;
    return one + " " + five;
}

double mib(long kb) { return static_cast<double>(kb) / 1024.0; }

void print_round(const Round& r) {
    const auto& m = r.mbsync.run;
    const auto& p = r.ppo.run;
    const double n = static_cast<double>(r.n);
    std::printf("\nN = %zu message(s), 1 PDF of %zu KiB each (%zu KiB per message)\n", r.n, r.pdf_bytes / 1024,
                r.message_bytes / r.n / 1024);
    std::printf("  %-34s %9s %9s %12s %9s %9s\n", "", "seconds", "msgs/s", "peak RSS MiB", "user s", "sys s");
    std::printf("  %-34s %9.2f %9.1f %12.1f %9.2f %9.2f   (copied %zu, exit %d)\n", "mbsync -a (fetch only)", m.wall_s,
                n / m.wall_s, mib(m.max_rss_kb), m.user_s, m.sys_s, r.mbsync.copied, m.exit_code);
    std::printf("  %-34s %9.2f %9.1f %12.1f %9.2f %9.2f   (%zu submission(s), %zu mail(s) sent, exit %d)\n",
                "ppo-intake poll --once (total)", p.wall_s, n / p.wall_s, mib(p.max_rss_kb), p.user_s, p.sys_s,
                r.ppo.submissions, r.ppo.captured, p.exit_code);
    std::printf("  %-34s %9.2f %9.1f %12.1f %9s %9s   (user+sys CPU by then: %.2f s)\n", "ppo-intake intake only (to 1st ack)",
                r.ppo.intake_s(), n / r.ppo.intake_s(), mib(r.ppo.intake_hwm_kb), "", "", r.ppo.intake_cpu_s);
    std::printf("  %-34s %9.2f %9.1f   (%zu mail(s) via aiosmtpd)\n", "ppo-intake outbox flush",
                p.wall_s - r.ppo.intake_s(), static_cast<double>(r.ppo.captured) / (p.wall_s - r.ppo.intake_s()),
                r.ppo.captured);
    std::printf("  timeline of poll --once: first message handled at %.2f s (LIST + first FETCH), last at %.2f s,\n"
                "    first mail sent at %.2f s (last fsync/commit/MOVE + SMTP connect), exit at %.2f s\n",
                r.ppo.first_outcome_s, r.ppo.last_outcome_s, r.ppo.first_outbox_s, p.wall_s);
    if (!r.ppo.summary.empty()) std::printf("  %s\n", r.ppo.summary.c_str());
    if (!r.ppo.valid) std::printf("  INVALID ROUND: a run failed or not every message was handled (see above)\n");
    const double ratio_total = p.wall_s / m.wall_s, ratio_intake = r.ppo.intake_s() / m.wall_s;
    std::printf("  ratio ppo-intake / mbsync: intake only %.2fx -> %s the 1.5x target; with the outbox flush %.2fx -> %s\n",
                ratio_intake, ratio_intake <= 1.5 ? "MEETS" : "MISSES", ratio_total, ratio_total <= 1.5 ? "meets" : "misses");
    std::printf("  CPU (user+sys) of the client: mbsync %.2f s, ppo-intake intake %.2f s, whole poll %.2f s (load average now %s)\n",
                m.user_s + m.sys_s, r.ppo.intake_cpu_s, p.user_s + p.sys_s, load_average().c_str());
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 1000;
    bool small = true, big = true;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--no-small") small = false;
        else if (a == "--no-big") big = false;
        else if (a == "--keep") setenv("PPO_KEEP_TEST_DIRS", "1", 1);
        else if (!a.empty() && std::all_of(a.begin(), a.end(), ::isdigit)) n = std::stoul(a);
        else {
            std::cerr << "usage: ppo_intake_bench [N] [--no-small] [--no-big] [--keep]\n";
            return 2;
        }
    }
    if (n == 0) n = 1;
    try {
        char tmpl[] = "/tmp/ppo-bench-XXXXXX";
        const std::string work = mkdtemp(tmpl);
        std::cout << "ppo-intake intake benchmark: " << PPO_BINARY << "\n";
        auto d = generate_directory(work, std::max<std::size_t>(n, 100));
        std::cout << "Directory: " << d.lycees.size() << " lycées generated (bench/gen_annuaire.py), imported with "
                     "`ppo-intake directory import`\n";

        std::vector<Round> rounds;
        if (small && n != 100) {
            std::cout << "\n[1/3] N = 100 (memory growth reference)\n";
            rounds.push_back(run_round(d, 100, 200 * 1024));
            print_round(rounds.back());
        }
        std::cout << "\n[2/3] N = " << n << "\n";
        rounds.push_back(run_round(d, n, 200 * 1024));
        print_round(rounds.back());

        std::optional<Round> huge;
        if (big) {
            std::cout << "\n[3/3] one message with a 30 MB PDF\n";
            huge = run_round(d, 1, 30 * 1000 * 1000);
            print_round(*huge);
        }

        const Round& main_round = rounds.back();
        std::printf("\n===== Summary\n");
        std::printf("%6s | %9s %8s %9s | %9s %8s %9s | %9s %8s | %7s %7s %s\n", "N", "mbsync s", "msgs/s", "RSS MiB",
                    "ppo s", "msgs/s", "RSS MiB", "intake s", "msgs/s", "ratio", "intake", "target 1.5x (intake / total)");
        for (const auto& r : rounds) {
            const double nn = static_cast<double>(r.n);
            const double rt = r.ppo.run.wall_s / r.mbsync.run.wall_s, ri = r.ppo.intake_s() / r.mbsync.run.wall_s;
            std::printf("%6zu | %9.2f %8.1f %9.1f | %9.2f %8.1f %9.1f | %9.2f %8.1f | %6.2fx %6.2fx %s / %s\n", r.n,
                        r.mbsync.run.wall_s, nn / r.mbsync.run.wall_s, mib(r.mbsync.run.max_rss_kb), r.ppo.run.wall_s,
                        nn / r.ppo.run.wall_s, mib(r.ppo.run.max_rss_kb), r.ppo.intake_s(), nn / r.ppo.intake_s(), rt, ri,
                        !r.ppo.valid ? "INVALID" : ri <= 1.5 ? "meets" : "MISSES",
                        !r.ppo.valid ? "INVALID" : rt <= 1.5 ? "meets" : "MISSES");
        }
        if (rounds.size() == 2)
            std::printf("Memory growth: ppo-intake peak RSS %.1f MiB at N=100, %.1f MiB at N=%zu (%+.1f MiB); "
                        "by the end of intake %.1f and %.1f MiB%s\n",
                        mib(rounds[0].ppo.run.max_rss_kb), mib(main_round.ppo.run.max_rss_kb), main_round.n,
                        mib(main_round.ppo.run.max_rss_kb - rounds[0].ppo.run.max_rss_kb), mib(rounds[0].ppo.intake_hwm_kb),
                        mib(main_round.ppo.intake_hwm_kb),
                        rounds[0].ppo.valid && main_round.ppo.valid ? "" : " (INVALID: a round failed)");
        if (huge)
            std::printf("30 MB attachment: ppo-intake poll --once peak RSS %.1f MiB (target < 200 MB: %s); mbsync %.1f MiB\n",
                        mib(huge->ppo.run.max_rss_kb),
                        !huge->ppo.valid ? "INVALID"
                        : static_cast<double>(huge->ppo.run.max_rss_kb) * 1024.0 < 200e6 ? "meets" : "MISSES",
                        mib(huge->mbsync.run.max_rss_kb));
        if (!std::getenv("PPO_KEEP_TEST_DIRS")) fs::remove_all(work);
        else std::cout << "Kept " << work << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "intake bench failed: " << e.what() << "\n";
        return 1;
    }
}
