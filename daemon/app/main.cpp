#include "daemon/cli/cli.h"

int main(int argc, char** argv) { return ppo::daemon::run_cli(argc, argv); }
