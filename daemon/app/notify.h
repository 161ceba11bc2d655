// The sd_notify(3) protocol: READY=1, STATUS=..., WATCHDOG=1, RELOADING=1,
// STOPPING=1 to $NOTIFY_SOCKET. No-ops when not started by systemd (Type=notify).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace ppo::daemon {

void sd_notify_state(const std::string& state);

// The watchdog interval (WatchdogSec=) when systemd expects WATCHDOG=1 from
// this process ($WATCHDOG_USEC, and $WATCHDOG_PID is ours or unset).
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace ppo::daemon
