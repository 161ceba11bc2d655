// Documents are parsed in child processes of the real binary
// (`ppo-intake document-worker`, daemon/documents/document_reader.h): a child that
// hangs, spins, crashes, allocates without end or talks nonsense costs the
// caller one error and at most the timeout, never a zombie, and the next
// document is read by a fresh child. The misbehaviour is asked for through the
// worker's test-only requests (PPO_TEST_DOCUMENT_WORKER=1), and through the
// hostile PDFs of tests/data/hostile_pdf/ with the real poppler.
#include "daemon/documents/document_reader.h"
#include "parsers/text/error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace ppo::daemon;
using ppo::parsers::DocumentKind;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

const std::string kTestOp = std::string("\0PPO-TEST-WORKER ", 17);

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string data_file(const std::string& rel) { return read_file(std::string(PPO_TEST_DATA_DIR) + "/" + rel); }

bool contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

double seconds_since(steady::time_point t0) { return std::chrono::duration<double>(steady::now() - t0).count(); }

// A one-page PDF showing `text` in Helvetica, with a correct xref table.
std::string small_pdf(const std::string& text) {
    const std::string content = "BT /F1 24 Tf 72 720 Td (" + text + ") Tj ET";
    const std::vector<std::string> objects = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
    std::string pdf = "%PDF-1.4\n";
    std::vector<std::size_t> offsets;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        offsets.push_back(pdf.size());
        pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
    }
    const std::size_t xref = pdf.size();
    pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (auto off : offsets) {
        char line[32];
        std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
        pdf += line;
    }
    pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
           std::to_string(xref) + "\n%%EOF\n";
    return pdf;
}

// This process's children as /proc sees them: pid and state ('Z': zombie).
std::vector<std::pair<pid_t, char>> children() {
    std::vector<std::pair<pid_t, char>> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    const pid_t self = ::getpid();
    while (dirent* e = ::readdir(d)) {
        const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
        if (pid <= 0) continue;
        const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        const auto close = stat.rfind(')');
        if (close == std::string::npos || close + 4 >= stat.size()) continue;
        char state = stat[close + 2];
        pid_t ppid = static_cast<pid_t>(std::atoi(stat.c_str() + close + 4));
        if (ppid == self) out.emplace_back(pid, state);
    }
    ::closedir(d);
    return out;
}

std::size_t zombies() {
    auto c = children();
    return static_cast<std::size_t>(std::count_if(c.begin(), c.end(), [](auto& p) { return p.second == 'Z'; }));
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

class DocumentReader : public ::testing::Test {
protected:
    static void SetUpTestSuite() { ::setenv("PPO_TEST_DOCUMENT_WORKER", "1", 1); }
    void TearDown() override {
        // Every test destroys its readers: nothing may be left, dead or alive.
        EXPECT_TRUE(children().empty()) << children().size() << " children left";
    }

    static DocumentLimits limits(milliseconds timeout = milliseconds(3000)) {
        DocumentLimits l;
        l.timeout = timeout;
        l.memory_bytes = 512u * 1024 * 1024;
        l.workers = 2;
        return l;
    }

    // The reader still works: a plain document is read in full.
    static void expect_works(SubprocessDocumentReader& reader) {
        auto t = reader.read_text(DocumentKind::pdf, small_pdf("Still standing"));
        EXPECT_EQ(t.error, "");
        EXPECT_TRUE(contains(t.text, "Still standing")) << t.text;
    }
};

TEST_F(DocumentReader, ReadsAPdfInAChild) {
    SubprocessDocumentReader reader(PPO_BINARY, limits());
    auto t = reader.read_text(DocumentKind::pdf, small_pdf("Bonjour le lycee"));
    EXPECT_EQ(t.error, "");
    EXPECT_EQ(t.pages, 1);
    EXPECT_TRUE(contains(t.text, "Bonjour le lycee")) << t.text;

    // A real one (LibreOffice's), with its letterhead.
    auto boucher = reader.read_text(DocumentKind::pdf, data_file("documents/ppo-boucher.pdf"));
    EXPECT_EQ(boucher.error, "");
    EXPECT_TRUE(contains(boucher.text, "programme pluriannuel d'orientation")) << boucher.text;
    EXPECT_TRUE(contains(boucher.head, "0597757L")) << boucher.head;

    // Not a PDF: the parser's own error comes back through the protocol.
    auto bad = reader.read_text(DocumentKind::pdf, "not a pdf at all");
    EXPECT_NE(bad.error, "");
    expect_works(reader);
}

TEST_F(DocumentReader, ReadsEveryKindAndZipMembers) {
    SubprocessDocumentReader reader(PPO_BINARY, limits());
    auto docx = reader.read_text(DocumentKind::docx, data_file("documents/ppo-boucher.docx"));
    EXPECT_EQ(docx.error, "");
    EXPECT_TRUE(contains(docx.text, "programme pluriannuel d'orientation"));
    auto zip = reader.read_text(DocumentKind::zip, data_file("documents/envoi-ppo.zip"));
    EXPECT_EQ(zip.error, "");
    EXPECT_FALSE(zip.members.empty());
    EXPECT_TRUE(std::any_of(zip.members.begin(), zip.members.end(),
                            [](const std::string& m) { return contains(m, "Hélène Boucher.pdf"); }));
    auto scan = reader.read_text(DocumentKind::pdf, data_file("documents/scan-ppo.pdf"));
    EXPECT_TRUE(scan.image_only);
    EXPECT_EQ(scan.pages, 1);
}

TEST_F(DocumentReader, UnpacksTnefInAChild) {
    SubprocessDocumentReader reader(PPO_BINARY, limits());
    auto c = reader.unpack_tnef(data_file("tnef/winmail.dat"));
    EXPECT_EQ(c.error, "");
    ASSERT_EQ(c.files.size(), 3u);
    EXPECT_EQ(c.files[0].name, "PPO 2022 – Lycée Gambetta.pdf");
    EXPECT_EQ(c.files[0].data, data_file("tnef/payload/ppo_gambetta.pdf"));
    EXPECT_EQ(c.files[2].data, data_file("tnef/payload/recap.txt"));
    EXPECT_NE(reader.unpack_tnef("not TNEF").error, "");
}

TEST_F(DocumentReader, HangingChildIsKilledAtTheTimeout) {
    SubprocessDocumentReader reader(PPO_BINARY, limits(milliseconds(2500)));
    for (const char* op : {"sleep", "spin"}) {
        expect_works(reader);  // the child is up: what follows is the document's time only
        const auto t0 = steady::now();
        auto t = reader.read_text(DocumentKind::pdf, kTestOp + op);
        const double took = seconds_since(t0);
        EXPECT_EQ(t.error, "timed out after 2.5 s (document parsing killed)") << op;
        EXPECT_GE(took, 2.5) << op;
        EXPECT_LT(took, 3.5) << op;
        std::cout << "[ measure  ] '" << op << "' killed after " << took << " s (timeout 2.5 s)\n";
        EXPECT_EQ(zombies(), 0u);
        expect_works(reader);
    }
}

TEST_F(DocumentReader, CrashingChildIsReportedAndReplaced) {
    SubprocessDocumentReader reader(PPO_BINARY, limits());
    expect_works(reader);  // a child that served before, then crashes
    auto t = reader.read_text(DocumentKind::pdf, kTestOp + "segv");
    EXPECT_EQ(t.error, "document parser crashed (signal 11)");
    EXPECT_EQ(zombies(), 0u);
    expect_works(reader);
}

TEST_F(DocumentReader, AllocationOverTheLimitIsAnError) {
    if (!document_memory_limit_applied()) GTEST_SKIP() << "RLIMIT_AS is not applied under AddressSanitizer";
    auto l = limits();
    l.memory_bytes = 256u * 1024 * 1024;
    SubprocessDocumentReader reader(PPO_BINARY, l);
    // Within the limit: fine.
    auto small = reader.read_text(DocumentKind::pdf, kTestOp + "alloc 50000000");
    EXPECT_EQ(small.error, "");
    EXPECT_EQ(small.text, "allocated 50000000 bytes");
    // Over it: refused by the kernel, reported, the child replaced.
    auto big = reader.read_text(DocumentKind::pdf, kTestOp + "alloc 1000000000");
    EXPECT_EQ(big.error, "document parser ran out of memory (limit 256 MB)");
    EXPECT_EQ(zombies(), 0u);
    expect_works(reader);
}

TEST_F(DocumentReader, GarbageFromTheChildIsRejected) {
    SubprocessDocumentReader reader(PPO_BINARY, limits());
    for (const char* op : {"garbage", "malformed"}) {
        auto t = reader.read_text(DocumentKind::pdf, kTestOp + op);
        EXPECT_TRUE(contains(t.error, "document parser gave an invalid answer")) << op << ": " << t.error;
        EXPECT_EQ(t.text, "");
        expect_works(reader);
    }
    // An answer to a text request is not a TNEF answer either way round.
    EXPECT_EQ(zombies(), 0u);
}

TEST_F(DocumentReader, ChildKilledWhileIdleIsReplacedSilently) {
    auto l = limits();
    l.workers = 1;
    SubprocessDocumentReader reader(PPO_BINARY, l);
    expect_works(reader);
    auto kids = children();
    ASSERT_EQ(kids.size(), 1u);
    ::kill(kids[0].first, SIGKILL);
    // Give it time to die: the reader finds out only when it writes.
    for (int i = 0; i < 100 && zombies() == 0; ++i) std::this_thread::sleep_for(milliseconds(5));
    expect_works(reader);
    EXPECT_EQ(zombies(), 0u);
}

TEST_F(DocumentReader, ChildIsRecycledAfter200Documents) {
    auto l = limits();
    l.workers = 1;
    SubprocessDocumentReader reader(PPO_BINARY, l);
    std::set<pid_t> seen;
    for (int i = 0; i < 201; ++i) {
        auto t = reader.read_text(DocumentKind::pdf, kTestOp + "echo " + std::to_string(i));
        ASSERT_EQ(t.text, std::to_string(i));
        for (auto& [pid, state] : children()) seen.insert(pid);
    }
    EXPECT_EQ(seen.size(), 2u);
    EXPECT_LE(children().size(), 1u);
    EXPECT_EQ(zombies(), 0u);
}

TEST_F(DocumentReader, FourThreadsAllGetTheirOwnAnswers) {
    SubprocessDocumentReader reader(PPO_BINARY, limits());  // 2 children for 4 threads
    std::atomic<int> right{0};
    std::atomic<std::size_t> most_children{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th)
        threads.emplace_back([&, th] {
            for (int i = 0; i < 10; ++i) {
                const std::string text = "Thread " + std::to_string(th) + " document " + std::to_string(i);
                auto t = (i % 2) ? reader.read_text(DocumentKind::pdf, small_pdf(text))
                                 : reader.read_text(DocumentKind::pdf, kTestOp + "echo " + text);
                if (t.error.empty() && contains(t.text, text)) ++right;
                std::size_t n = children().size();
                std::size_t prev = most_children.load();
                while (n > prev && !most_children.compare_exchange_weak(prev, n)) {
                }
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(right.load(), 40);
    EXPECT_LE(most_children.load(), 2u);
}

TEST_F(DocumentReader, NoExecutableIsATransientError) {
    SubprocessDocumentReader reader("/nonexistent/ppo-intake", limits());
    try {
        reader.read_text(DocumentKind::pdf, small_pdf("x"));
        FAIL() << "no exception";
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::transient);
        EXPECT_TRUE(contains(e.what(), "cannot start the document parser")) << e.what();
    }
}

TEST_F(DocumentReader, AProgramThatIsNotTheWorkerIsATransientError) {
    SubprocessDocumentReader reader("/bin/true", limits());
    try {
        reader.read_text(DocumentKind::pdf, small_pdf("x"));
        FAIL() << "no exception";
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::transient);
        EXPECT_TRUE(contains(e.what(), "document parser exited (status 0)")) << e.what();
    }
}

TEST_F(DocumentReader, ADocumentOverTheMemoryLimitIsNotSent) {
    auto l = limits();
    l.memory_bytes = 1024 * 1024;
    SubprocessDocumentReader reader(PPO_BINARY, l);
    auto t = reader.read_text(DocumentKind::pdf, std::string(2 * 1024 * 1024, ' '));
    EXPECT_TRUE(contains(t.error, "too large")) << t.error;
    EXPECT_TRUE(children().empty());
}

// The figures of the report: a request through a warm child, and a start.
TEST_F(DocumentReader, MeasuresOverheadAndSpawn) {
    auto l = limits();
    l.workers = 1;
    const std::string pdf = small_pdf("Measure");
    {
        SubprocessDocumentReader reader(PPO_BINARY, l);
        expect_works(reader);
        std::vector<double> echo, doc;
        for (int i = 0; i < 50; ++i) {
            auto t0 = steady::now();
            reader.read_text(DocumentKind::pdf, kTestOp + "echo x");
            echo.push_back(seconds_since(t0));
            t0 = steady::now();
            auto t = reader.read_text(DocumentKind::pdf, pdf);
            doc.push_back(seconds_since(t0));
            EXPECT_EQ(t.error, "");
        }
        std::cout << "[ measure  ] warm child, median of 50: empty request " << median(echo) * 1e3
                  << " ms, small PDF " << median(doc) * 1e3 << " ms\n";
    }
    std::vector<double> first;
    for (int i = 0; i < 10; ++i) {
        auto t0 = steady::now();
        SubprocessDocumentReader reader(PPO_BINARY, l);
        reader.read_text(DocumentKind::pdf, kTestOp + "echo x");  // starts the child, waits for its hello
        first.push_back(seconds_since(t0));
    }
    std::cout << "[ measure  ] child start + first empty request, median of 10: " << median(first) * 1e3 << " ms\n";
}

// ---------------------------------------------------------------------------
// Hostile PDFs (tests/data/hostile_pdf/make_hostile_pdf.py), through the real
// poppler: each costs at most the timeout and the memory limit, ends in an
// error or some text, and the next document is read.

// "deep_array.pdf" -> "deeparray": a test name.
std::string hostile_name(const ::testing::TestParamInfo<const char*>& param) {
    std::string n = param.param;
    n = n.substr(0, n.find('.'));
    n.erase(std::remove(n.begin(), n.end(), '_'), n.end());
    return n;
}

class HostilePdf : public DocumentReader, public ::testing::WithParamInterface<const char*> {};

TEST_P(HostilePdf, CostsAtMostTheLimits) {
    auto l = limits(milliseconds(3000));
    l.memory_bytes = 384u * 1024 * 1024;
    l.workers = 1;
    const std::string pdf = data_file(std::string("hostile_pdf/") + GetParam());
    ASSERT_FALSE(pdf.empty());
    {
        SubprocessDocumentReader reader(PPO_BINARY, l);
        expect_works(reader);  // the child is up: what follows is the document's time only
        const auto t0 = steady::now();
        auto t = reader.read_text(DocumentKind::pdf, pdf);
        const double took = seconds_since(t0);
        std::cout << "[ measure  ] " << GetParam() << ": " << took << " s, pages " << t.pages << ", "
                  << t.text.size() << " bytes of text, error '" << t.error << "'\n";
        EXPECT_LT(took, 4.0);
        EXPECT_TRUE(!t.error.empty() || t.text.size() <= l.text.max_text_bytes);
        EXPECT_EQ(zombies(), 0u);
        expect_works(reader);
    }
    // Every child is reaped by now: the largest of them stayed under the limit.
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    if (document_memory_limit_applied()) {
        EXPECT_LT(static_cast<std::size_t>(ru.ru_maxrss) * 1024, l.memory_bytes) << "peak RSS of a child";
    }
}

INSTANTIATE_TEST_SUITE_P(DocumentReader, HostilePdf,
                         ::testing::Values("deep_array.pdf", "deep_dict.pdf", "deep_content.pdf", "flate_bomb.pdf",
                                           "xref_loop.pdf", "reference_cycle.pdf", "many_pages.pdf"), hostile_name);

}  // namespace
