// make_message_id from many threads at once (issue 22: it drew from an
// unlocked static generator, called at once by the intake and a web triage
// request): every id unique and well-formed. Also built alone as
// ppo_message_id_tests, for the sanitizer build.
#include "parsers/mime/msg_id.h"
#include "workflow/mail/mail_builder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace ppo::workflow;

TEST(MessageId, WellFormed) {
    const std::string id = make_message_id("ppo.ac-lille.fr", 1646647331);
    EXPECT_TRUE(std::regex_match(id, std::regex(R"(<1646647331\.[0-9a-f]{16}@ppo\.ac-lille\.fr>)"))) << id;
    const auto parsed = ppo::parsers::parse_msg_id(id);
    ASSERT_TRUE(parsed.has_value()) << id;
    EXPECT_EQ(*parsed, id);
}

TEST(MessageId, UniqueAndWellFormedFromManyThreadsAtOnce) {
    constexpr int kThreads = 16;
    constexpr int kPerThread = 5000;
    // One instant for all: only the random part tells the ids apart.
    constexpr std::int64_t kNow = 1646647331;
    std::vector<std::vector<std::string>> made(kThreads);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            made[t].reserve(kPerThread);
            ++ready;
            while (ready.load() < kThreads) std::this_thread::yield();   // start together
            for (int i = 0; i < kPerThread; ++i) made[t].push_back(make_message_id("ppo.ac-amiens.fr", kNow));
        });
    for (auto& th : threads) th.join();

    const std::regex shape(R"(<1646647331\.[0-9a-f]{16}@ppo\.ac-amiens\.fr>)");
    std::set<std::string> all;
    std::size_t malformed = 0;
    for (const auto& ids : made)
        for (const auto& id : ids) {
            if (!std::regex_match(id, shape) || !ppo::parsers::parse_msg_id(id)) ++malformed;
            all.insert(id);
        }
    EXPECT_EQ(malformed, 0u);
    EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads) * kPerThread) << "some Message-IDs were made twice";
}
