// The SMTP DATA payload written a piece at a time (forwards stream their files):
// line ends made CRLF, dots doubled at line starts, the terminating "."; the
// same bytes whatever the pieces, even when a piece ends inside a CRLF.
#include "daemon/smtp/smtp_sender.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using ppo::daemon::SmtpDataPayload;

namespace {

std::string payload(const std::vector<std::string>& pieces) {
    std::string out;
    std::size_t flushes = 0;
    SmtpDataPayload p([&](std::string_view bytes) {
        out.append(bytes);
        ++flushes;
    });
    for (const auto& piece : pieces) p.feed(piece);
    p.finish();
    EXPECT_GE(flushes, 1u);
    return out;
}

}  // namespace

TEST(SmtpDataPayload, LineEndsAndDots) {
    EXPECT_EQ(payload({"a\r\nb\r\n"}), "a\r\nb\r\n.\r\n");
    EXPECT_EQ(payload({"a\nb"}), "a\r\nb\r\n.\r\n");            // lone LF; a last line without its end
    EXPECT_EQ(payload({"a\rb\r\r\n"}), "a\r\nb\r\n\r\n.\r\n");  // lone CRs end lines too
    EXPECT_EQ(payload({".x\r\n..y\r\nz.\r\n."}), "..x\r\n...y\r\nz.\r\n..\r\n.\r\n");
    EXPECT_EQ(payload({""}), ".\r\n");
    // Cut inside a CRLF, before a dot, inside a line.
    EXPECT_EQ(payload({"a\r", "\n.b", "c\r", "", "\r\n", "."}), "a\r\n..bc\r\n\r\n..\r\n.\r\n");
}

TEST(SmtpDataPayload, TheSameBytesWhateverThePieces) {
    std::mt19937 rng(7);
    const std::string alphabet = "ab.\r\n\r\n..x";
    for (int round = 0; round < 300; ++round) {
        std::string text(static_cast<std::size_t>(rng() % 400), ' ');
        for (auto& c : text) c = alphabet[rng() % alphabet.size()];
        const std::string whole = payload({text});
        std::vector<std::string> pieces;
        for (std::size_t pos = 0; pos < text.size();) {
            const std::size_t n = std::min<std::size_t>(text.size() - pos, rng() % 6);
            pieces.push_back(text.substr(pos, n));
            pos += n;
        }
        ASSERT_EQ(payload(pieces), whole) << round;
        // No bare CR or LF, and the end is ".\r\n" after a line end.
        for (std::size_t i = 0; i < whole.size(); ++i) {
            if (whole[i] == '\r') {
                ASSERT_EQ(whole[i + 1], '\n');
            }
            if (whole[i] == '\n') {
                ASSERT_EQ(whole[i - 1], '\r');
            }
        }
        ASSERT_EQ(whole.substr(whole.size() - 3), ".\r\n");
    }
}

TEST(SmtpDataPayload, LargeInputIsFlushedInRuns) {
    std::string line(76, 'Q');
    line += "\r\n";
    std::string big;
    for (int i = 0; i < 20000; ++i) big += line;   // about 1.5 MB
    std::size_t flushes = 0, largest = 0, total = 0;
    SmtpDataPayload p([&](std::string_view bytes) {
        ++flushes;
        largest = std::max(largest, bytes.size());
        total += bytes.size();
    });
    p.feed(big);
    p.finish();
    EXPECT_GE(flushes, 5u);
    EXPECT_LT(largest, 300u * 1024);
    EXPECT_EQ(total, big.size() + 3);
}
