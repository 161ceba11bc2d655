#include "daemon/app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace ppo::daemon {

namespace {

// Maps spdlog levels to the sd-daemon(3) priority prefixes journald understands.
class JournalPrefixFormatter final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        static const char* prefixes[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
        const char* p = prefixes[static_cast<int>(msg.level)];
        dest.append(p, p + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPrefixFormatter>(); }
};

}  // namespace

void set_log_level(const std::string& level) {
    spdlog::set_level(spdlog::level::from_str(level));
}

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_logger_mt("ppo-intake");
    const char* journal = std::getenv("JOURNAL_STREAM");
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (journal && *journal) {
        formatter->add_flag<JournalPrefixFormatter>('*').set_pattern("%*%v");
    } else {
        formatter->set_pattern("%Y-%m-%d %H:%M:%S %^%l%$ %v");
    }
    logger->set_formatter(std::move(formatter));
    spdlog::set_default_logger(logger);
    set_log_level(level);
    spdlog::flush_on(spdlog::level::info);
}

}  // namespace ppo::daemon
