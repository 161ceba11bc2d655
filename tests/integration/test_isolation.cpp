// One message never blocks the others, against the real Dovecot: a message
// whose file in the server's store cannot be read (FETCH answered NO) is
// quarantined on its own, the rest of its batch is taken and acknowledged,
// and the intake goes on with the next messages.
#include "bench/harness.h"

#include <Poco/JSON/Array.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

using namespace ppo::testbench;
namespace fs = std::filesystem;

namespace {

const std::string kBefore = "2022-03-01T10:30:00+01:00";

// The maildir file of the message whose body contains `marker`.
std::string maildir_file_with(const std::string& root, const std::string& marker) {
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        const auto parent = e.path().parent_path().filename();
        if (parent != "cur" && parent != "new") continue;
        if (read_file(e.path().string()).find(marker) != std::string::npos) return e.path().string();
    }
    return "";
}

}  // namespace

TEST(Isolation, AMessageTheServerCannotReadIsQuarantinedAndTheOthersAreTaken) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the test makes a file of Dovecot's store unreadable to it";
    Harness h;
    for (const char* uai : {"0596082r", "0597091m", "0599821e"}) {
        TestMail m;
        m.from = std::string("ce.") + uai + "@ac-lille.fr";
        m.body = std::string("Bonjour, le PPO de ") + uai;
        m.files = {{"PPO.pdf", "application/pdf", sample_pdf(uai), ""}};
        h.deliver(m);
    }
    // Dovecot reads the store as dovenull: the second message's file becomes unreadable to it.
    const auto broken = maildir_file_with(h.imap().dir() + "/mail", "le PPO de 0597091m");
    ASSERT_FALSE(broken.empty());
    ASSERT_EQ(::chmod(broken.c_str(), 0), 0);

    auto r = h.ppo({"poll", "--once"}, kBefore);
    EXPECT_EQ(r.exit_code, 0) << tail(r.err);
    EXPECT_EQ(h.imap().count("INBOX"), 0u) << tail(r.err);
    EXPECT_EQ(h.imap().count("PPO.Traites"), 2u);
    EXPECT_EQ(h.imap().count("PPO.A-trier"), 1u);
    auto status = h.status(kBefore);
    auto quarantined = status->getArray("quarantined");
    ASSERT_TRUE(quarantined);
    ASSERT_EQ(quarantined->size(), 1u);
    EXPECT_NE(quarantined->getObject(0)->getValue<std::string>("reason").find("cannot deliver"), std::string::npos);
    EXPECT_EQ(h.lycee("0596082R", kBefore)->getValue<std::string>("state"), "received");
    EXPECT_EQ(h.lycee("0599821E", kBefore)->getValue<std::string>("state"), "received");
    EXPECT_EQ(h.lycee("0597091M", kBefore)->getValue<std::string>("state"), "missing");
    EXPECT_EQ(h.smtp().wait_for(4).size(), 4u);   // two acknowledgements, two forwards

    // And the intake goes on.
    TestMail later;
    later.from = "ce.0597091m@ac-lille.fr";
    later.files = {{"PPO bis.pdf", "application/pdf", sample_pdf("bis"), ""}};
    h.deliver(later);
    r = h.ppo({"poll", "--once"}, kBefore);
    EXPECT_EQ(r.exit_code, 0) << tail(r.err);
    EXPECT_EQ(h.lycee("0597091M", kBefore)->getValue<std::string>("state"), "received");
}
