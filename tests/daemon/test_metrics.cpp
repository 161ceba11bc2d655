// daemon/app/metrics: the Prometheus text rendering, the ack-latency histogram, the
// /healthz verdict, and the thread safety of the counters.
#include "daemon/app/metrics.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

using ppo::daemon::Histogram;
using ppo::daemon::Metrics;

namespace {

// The value of one sample line ("name{labels} value"), -1 if absent.
double sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
}

bool has_line(const std::string& text, const std::string& wanted) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line == wanted) return true;
    return false;
}

}  // namespace

TEST(Metrics, LabelValuesAreEscaped) {
    EXPECT_EQ(ppo::daemon::escape_label_value("plain"), "plain");
    EXPECT_EQ(ppo::daemon::escape_label_value("a\"b"), "a\\\"b");
    EXPECT_EQ(ppo::daemon::escape_label_value("back\\slash"), "back\\\\slash");
    EXPECT_EQ(ppo::daemon::escape_label_value("two\nlines"), "two\\nlines");
    EXPECT_EQ(ppo::daemon::escape_label_value("é ✓"), "é ✓");

    Metrics m;
    m.message_handled("we\"ird\\\n");
    EXPECT_TRUE(has_line(m.render_prometheus(), "ppo_messages_handled_total{outcome=\"we\\\"ird\\\\\\n\"} 1"))
        << m.render_prometheus();
}

TEST(Metrics, HistogramBucketsAreCumulativeAndInclusive) {
    Histogram h({1, 5, 10});
    for (double v : {0.5, 1.0, 3.0, 5.0, 7.0, 100.0}) h.observe(v);
    auto c = h.cumulative();
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0], 2u);   // <= 1: 0.5, 1
    EXPECT_EQ(c[1], 4u);   // <= 5: + 3, 5
    EXPECT_EQ(c[2], 5u);   // <= 10: + 7
    EXPECT_EQ(c[3], 6u);   // +Inf
    EXPECT_EQ(h.count(), 6u);
    EXPECT_DOUBLE_EQ(h.sum(), 116.5);
}

TEST(Metrics, EverySeriesIsPresentFromTheStartWithHelpAndType) {
    Metrics m;
    auto text = m.render_prometheus();
    for (const char* name : {"ppo_messages_handled_total", "ppo_mails_sent_total", "ppo_send_failures_total",
                             "ppo_outbox_pending", "ppo_last_successful_poll_timestamp_seconds", "ppo_ack_latency_seconds"}) {
        EXPECT_NE(text.find(std::string("# HELP ") + name + " "), std::string::npos) << name;
        EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name;
    }
    EXPECT_TRUE(has_line(text, "# TYPE ppo_messages_handled_total counter"));
    EXPECT_TRUE(has_line(text, "# TYPE ppo_outbox_pending gauge"));
    EXPECT_TRUE(has_line(text, "# TYPE ppo_ack_latency_seconds histogram"));
    for (const char* o : {"submission", "unidentified", "ignored", "quarantined"})
        EXPECT_EQ(sample(text, std::string("ppo_messages_handled_total{outcome=\"") + o + "\"}"), 0) << o;
    for (const char* k : {"ack", "forward", "reminder", "digest"}) {
        EXPECT_EQ(sample(text, std::string("ppo_mails_sent_total{kind=\"") + k + "\"}"), 0) << k;
        EXPECT_EQ(sample(text, std::string("ppo_send_failures_total{kind=\"") + k + "\"}"), 0) << k;
    }
    EXPECT_EQ(sample(text, "ppo_ack_latency_seconds_bucket{le=\"+Inf\"}"), 0);
    EXPECT_EQ(sample(text, "ppo_ack_latency_seconds_count"), 0);
    EXPECT_EQ(text.back(), '\n');
}

TEST(Metrics, RendersCountersGaugesAndTheAckLatencyHistogram) {
    Metrics m;
    m.message_handled("submission");
    m.message_handled("submission");
    m.message_handled("ignored");
    m.mail_sent("ack");
    m.mail_sent("forward");
    m.send_failed("forward");
    m.set_outbox_pending(3);
    m.poll_succeeded(1700000000);
    for (double s : {0.0, 1.0, 4.0, 45.0, 4000.0}) m.observe_ack_latency(s);
    auto text = m.render_prometheus();
    EXPECT_EQ(sample(text, "ppo_messages_handled_total{outcome=\"submission\"}"), 2);
    EXPECT_EQ(sample(text, "ppo_messages_handled_total{outcome=\"ignored\"}"), 1);
    EXPECT_EQ(sample(text, "ppo_mails_sent_total{kind=\"ack\"}"), 1);
    EXPECT_EQ(sample(text, "ppo_send_failures_total{kind=\"forward\"}"), 1);
    EXPECT_EQ(sample(text, "ppo_outbox_pending"), 3);
    EXPECT_TRUE(has_line(text, "ppo_last_successful_poll_timestamp_seconds 1700000000"));

    // Buckets 1,2,5,10,30,60,300,900,3600,+Inf, cumulative, in that order.
    const std::vector<std::pair<std::string, double>> expected = {
        {"1", 2}, {"2", 2}, {"5", 3}, {"10", 3}, {"30", 3}, {"60", 4}, {"300", 4}, {"900", 4}, {"3600", 4}, {"+Inf", 5}};
    std::size_t last_pos = 0;
    for (const auto& [le, n] : expected) {
        const std::string series = "ppo_ack_latency_seconds_bucket{le=\"" + le + "\"}";
        EXPECT_EQ(sample(text, series), n) << le;
        auto pos = text.find(series);
        EXPECT_GT(pos, last_pos) << le << " out of order";
        last_pos = pos;
    }
    EXPECT_EQ(sample(text, "ppo_ack_latency_seconds_sum"), 4050);
    EXPECT_EQ(sample(text, "ppo_ack_latency_seconds_count"), 5);
}

TEST(Metrics, HealthNeedsTheSessionUpAndARecentPoll) {
    Metrics m;
    auto h = m.health(1000, 75);
    EXPECT_FALSE(h.healthy);   // no poll yet
    EXPECT_EQ(h.json(), "{\"imap_session\":\"down\",\"last_poll_age_seconds\":null,\"outbox_pending\":0}");

    m.poll_succeeded(1000);
    m.set_outbox_pending(2);
    h = m.health(1010, 75);
    EXPECT_TRUE(h.healthy);
    EXPECT_EQ(h.json(), "{\"imap_session\":\"up\",\"last_poll_age_seconds\":10,\"outbox_pending\":2}");
    EXPECT_TRUE(m.health(1075, 75).healthy);
    EXPECT_FALSE(m.health(1076, 75).healthy);   // too old

    m.set_imap_session_up(false);
    EXPECT_FALSE(m.health(1010, 75).healthy);
    m.poll_succeeded(1020);
    EXPECT_TRUE(m.health(1020, 75).healthy);
}

TEST(Metrics, AConfigurationErrorMakesHealthNotReadyWithItsReasonAndIsCountedOncePerRefusal) {
    Metrics m;
    m.poll_succeeded(1000);
    ASSERT_TRUE(m.health(1010, 75).healthy);
    auto text = m.render_prometheus();
    EXPECT_TRUE(has_line(text, "# TYPE ppo_imap_config_errors_total counter"));
    EXPECT_EQ(sample(text, "ppo_imap_config_errors_total"), 0);
    EXPECT_EQ(sample(text, "ppo_imap_config_error"), 0);

    const std::string reason = "IMAP CREATE \"PPO.x\" (for [imap] triage_folder = \"PPO/x\"): refused\n; change it";
    m.set_config_error(reason);
    m.set_config_error(reason);   // the same refusal, checked again: not counted again
    auto h = m.health(1010, 75);
    EXPECT_FALSE(h.healthy);
    EXPECT_EQ(h.config_error, reason);
    EXPECT_EQ(h.json(), "{\"imap_session\":\"up\",\"last_poll_age_seconds\":10,\"outbox_pending\":0,"
                        "\"config_error\":\"IMAP CREATE \\\"PPO.x\\\" (for [imap] triage_folder = \\\"PPO/x\\\"): "
                        "refused\\u000a; change it\"}");
    text = m.render_prometheus();
    EXPECT_EQ(sample(text, "ppo_imap_config_errors_total"), 1);
    EXPECT_EQ(sample(text, "ppo_imap_config_error"), 1);
    m.set_config_error("another refusal");
    EXPECT_EQ(sample(m.render_prometheus(), "ppo_imap_config_errors_total"), 2);

    m.clear_config_error();
    EXPECT_TRUE(m.health(1010, 75).healthy);
    EXPECT_EQ(m.health(1010, 75).json().find("config_error"), std::string::npos);
    EXPECT_EQ(sample(m.render_prometheus(), "ppo_imap_config_error"), 0);
}

TEST(Metrics, CountersAreThreadSafe) {
    Metrics m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                m.message_handled("submission");
                m.mail_sent("ack");
                m.observe_ack_latency(3);
            }
        });
    std::thread reader([&] {
        for (int i = 0; i < 200; ++i) (void)m.render_prometheus();
    });
    for (auto& t : threads) t.join();
    reader.join();
    auto text = m.render_prometheus();
    EXPECT_EQ(sample(text, "ppo_messages_handled_total{outcome=\"submission\"}"), 8000);
    EXPECT_EQ(sample(text, "ppo_mails_sent_total{kind=\"ack\"}"), 8000);
    EXPECT_EQ(sample(text, "ppo_ack_latency_seconds_bucket{le=\"5\"}"), 8000);
}
