// The cost of reading documents (issue 12): for every test document
// (tests/data/documents, and the hostile PDFs of tests/data/hostile_pdf when
// present), the extraction time through the daemon's own path — a
// SubprocessDocumentReader whose child is `ppo-intake document-worker`, reused
// between documents — over R rounds: median and worst per document, and the
// same for the parse alone, in this process (what the child spends).
// A program that prints figures, not a test. bench/run_document_bench.sh runs it.
#include "daemon/documents/document_reader.h"
#include "parsers/document/document_text.h"
#include "parsers/document/document_type.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Figures {
    double median = 0, worst = 0;
};

Figures figures(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.back()};
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 20;
    const bool in_process = argc <= 2 || std::string(argv[2]) != "--child-only";
    const fs::path data = fs::path(PPO_SOURCE_DIR) / "tests" / "data";
    std::vector<fs::path> files;
    for (const auto* dir : {"documents", "hostile_pdf"}) {
        if (!fs::is_directory(data / dir)) continue;
        for (const auto& e : fs::directory_iterator(data / dir))
            if (e.is_regular_file() && e.path().extension() != ".md" && e.path().extension() != ".py") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());

    ppo::daemon::DocumentLimits limits;   // the shipped [documents] defaults
    ppo::daemon::SubprocessDocumentReader reader(PPO_BINARY, limits);
    std::printf("%d round(s) per document; child: %s document-worker, timeout %lld ms, max_memory %zu MB\n\n", rounds,
                PPO_BINARY, static_cast<long long>(limits.timeout.count()), limits.memory_bytes >> 20);
    std::printf("%-34s %6s %9s  %10s %10s  %10s %10s  %s\n", "document", "kind", "bytes", "child med", "child max",
                "parse med", "parse max", "result");
    std::vector<double> all_child, all_parse;
    for (const auto& path : files) {
        const std::string bytes = slurp(path);
        const auto kind = ppo::parsers::classify_document(path.filename().string(), "", bytes);
        const auto k = kind == ppo::parsers::DocumentKind::none ? ppo::parsers::DocumentKind::pdf : kind;
        std::vector<double> child, parse;
        std::string result;
        for (int r = 0; r < rounds; ++r) {
            auto t0 = Clock::now();
            auto t = reader.read_text(k, bytes);
            child.push_back(ms_since(t0));
            result = t.error.empty() ? (t.image_only ? "image only" : std::to_string(t.text.size()) + " bytes of text")
                                     : "error: " + t.error;
            // A hostile file: one round is enough to know its cost.
            if (!t.error.empty() && path.parent_path().filename() == "hostile_pdf") break;
        }
        const bool hostile = path.parent_path().filename() == "hostile_pdf";
        if (in_process && !hostile) {
            ppo::parsers::TextLimits tl = limits.text;
            for (int r = 0; r < rounds; ++r) {
                auto t0 = Clock::now();
                (void)ppo::parsers::extract_document_text(k, bytes, tl);
                parse.push_back(ms_since(t0));
            }
        }
        auto c = figures(child);
        all_child.insert(all_child.end(), child.begin(), child.end());
        std::printf("%-34s %6s %9zu  %8.1f ms %7.1f ms  ", path.filename().string().substr(0, 34).c_str(),
                    std::string(ppo::parsers::to_string(k)).c_str(), bytes.size(), c.median, c.worst);
        if (!parse.empty()) {
            auto p = figures(parse);
            all_parse.insert(all_parse.end(), parse.begin(), parse.end());
            std::printf("%7.1f ms %7.1f ms  ", p.median, p.worst);
        } else {
            std::printf("%10s %10s  ", "-", "-");
        }
        std::printf("%s\n", result.substr(0, 70).c_str());
    }
    if (!all_child.empty()) {
        auto c = figures(all_child);
        std::printf("\nall documents through the child: median %.1f ms, worst %.1f ms (%zu reads)\n", c.median, c.worst,
                    all_child.size());
    }
    if (!all_parse.empty()) {
        auto p = figures(all_parse);
        std::printf("all documents parsed in process:  median %.1f ms, worst %.1f ms (%zu reads)\n", p.median, p.worst,
                    all_parse.size());
    }
    return 0;
}
