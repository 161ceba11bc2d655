#include "workflow/intake/crash_point.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace ppo::workflow {

namespace {

long configured_step() {
    const char* v = std::getenv("PPO_TEST_CRASH_AFTER_STEP");
    if (v == nullptr || *v == '\0') return 0;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    return (end != nullptr && *end == '\0' && n > 0) ? n : 0;
}

}  // namespace

void crash_point(const char* step) {
    static const long target = configured_step();
    static std::atomic<long> count{0};
    if (target == 0) return;
    const long n = count.fetch_add(1) + 1;
    if (n != target) return;
    std::fprintf(stderr, "PPO_TEST_CRASH_AFTER_STEP: stopping after step %ld (%s)\n", n, step);
    std::fflush(stderr);
    ::_exit(86);
}

}  // namespace ppo::workflow
