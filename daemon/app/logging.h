// spdlog set-up: one logger to stderr. Under systemd (JOURNAL_STREAM set) lines
// carry a syslog priority prefix ("<6>") and no timestamp, since the journal
// adds its own; on a terminal they carry a local timestamp.
#pragma once

#include <string>

namespace ppo::daemon {

void setup_logging(const std::string& level);
void set_log_level(const std::string& level);

}  // namespace ppo::daemon
