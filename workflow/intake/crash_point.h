// Test-only crash points, as isync's test suite uses them: with the
// environment variable PPO_TEST_CRASH_AFTER_STEP=N, the process ends abruptly
// (_exit(86), no destructor, no commit, no QUIT) right after the N-th step of
// the intake and the sender: "fetch" (a batch fetched), "archive" (a batch's
// files written and synced), "commit" (a batch's rows committed), "move" (a
// folder's messages moved), "send" (a mail accepted by the SMTP server, not yet
// marked), "mark" (a mail marked sent). The integration tests run N = 1, 2, ...
// then restart without it and compare the final state with an uninterrupted
// run. Unset (always, in production), each step costs one relaxed load.
#pragma once

namespace ppo::workflow {

void crash_point(const char* step);

}  // namespace ppo::workflow
