// Replays every seed corpus file of the libFuzzer targets (fuzz/corpus/<target>/)
// through the same entry functions (fuzz/fuzz_entries.h), so that the corpora
// (and the crashes found and added to them) are regression tests in every build.
#include "fuzz/fuzz_entries.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace {

namespace fs = std::filesystem;

using Entry = void (*)(const std::uint8_t*, std::size_t);

std::size_t replay(const std::string& target, Entry entry) {
    const fs::path dir = fs::path(PPO_SOURCE_DIR) / "fuzz" / "corpus" / target;
    std::size_t n = 0;
    if (!fs::is_directory(dir)) return n;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        SCOPED_TRACE(e.path().string());
        entry(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
        ++n;
    }
    return n;
}

TEST(FuzzCorpus, Mime) { EXPECT_GT(replay("mime", ppo::fuzz::fuzz_mime), 0u); }
TEST(FuzzCorpus, Header) { EXPECT_GT(replay("header", ppo::fuzz::fuzz_header), 0u); }
TEST(FuzzCorpus, Identify) { EXPECT_GT(replay("identify", ppo::fuzz::fuzz_identify), 0u); }
TEST(FuzzCorpus, Csv) { EXPECT_GT(replay("csv", ppo::fuzz::fuzz_csv), 0u); }
TEST(FuzzCorpus, SafeFileName) { EXPECT_GT(replay("safe_file_name", ppo::fuzz::fuzz_safe_file_name), 0u); }
TEST(FuzzCorpus, AuthResults) { EXPECT_GT(replay("auth_results", ppo::fuzz::fuzz_auth_results), 0u); }
TEST(FuzzCorpus, MsgId) { EXPECT_GT(replay("msg_id", ppo::fuzz::fuzz_msg_id), 0u); }
TEST(FuzzCorpus, Forward) { EXPECT_GT(replay("forward", ppo::fuzz::fuzz_forward), 0u); }
TEST(FuzzCorpus, DocumentText) { EXPECT_GT(replay("document_text", ppo::fuzz::fuzz_document_text), 0u); }

// TNEF and download links.
TEST(FuzzCorpus, Tnef) { EXPECT_GT(replay("tnef", ppo::fuzz::fuzz_tnef), 0u); }
TEST(FuzzCorpus, DownloadLinks) { EXPECT_GT(replay("download_links", ppo::fuzz::fuzz_download_links), 0u); }

// The hostile integration corpus is MIME input too.
TEST(FuzzCorpus, HostileMessages) {
    const fs::path dir = fs::path(PPO_SOURCE_DIR) / "tests" / "data" / "hostile";
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".eml") continue;
        std::ifstream in(e.path(), std::ios::binary);
        const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        SCOPED_TRACE(e.path().string());
        ppo::fuzz::fuzz_mime(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
        ++n;
    }
    EXPECT_GT(n, 0u);
}

}  // namespace
