// The ppo-intake command line (see doc/design.md, "Contracts", and ppo-intake(8)): global options, one function per
// command, exit codes 0 (done), 1 (runtime failure), 2 (usage or configuration).
#pragma once

namespace ppo::daemon {

int run_cli(int argc, char** argv);

}  // namespace ppo::daemon
