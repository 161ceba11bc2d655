// The test bench's one way to start a program: posix_spawn with default signal
// dispositions and an empty mask (whatever the test process did: gtest death
// tests, a daemon's handlers), stdin from /dev/null, stdout and stderr where
// asked, and an environment of the caller's when given. Everything that starts
// a process in the tests and benchmarks goes through here: run_command
// (harness.h), spawn/run (tls_cert.h), DaemonProcess, PpoProcess and the
// servers of the bench.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ppo::testbench {

struct SpawnOptions {
    // stdout and stderr: these descriptors when >= 0; otherwise appended to
    // `log_path` (/dev/null when empty).
    int stdout_fd = -1;
    int stderr_fd = -1;
    std::string log_path;
    std::vector<int> close_fds;    // closed in the child (the other ends of pipes)
    bool path_lookup = true;       // argv[0] looked up in PATH (posix_spawnp)
    // Variables set (or replaced) in the child's environment, and variables removed from it.
    std::map<std::string, std::string> set_env;
    std::vector<std::string> unset_env;
};

// Starts argv; throws std::runtime_error when it cannot be started.
pid_t spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// The exit code as a shell gives it: the status, or 128 + the signal.
int exit_code_of(int wait_status);

// SIGTERM, waits up to `grace`, then SIGKILL; always reaps. Returns the exit
// code (exit_code_of), or -1 when it had to be killed. No-op (-1) for pid <= 0.
int terminate_process(pid_t pid, std::chrono::milliseconds grace);

// A program in the background, its stdout and stderr appended to a log file;
// killed (SIGKILL) and reaped by the destructor if still running.
class BackgroundProcess {
public:
    BackgroundProcess() = default;
    ~BackgroundProcess() { kill9(); }
    BackgroundProcess(const BackgroundProcess&) = delete;
    BackgroundProcess& operator=(const BackgroundProcess&) = delete;

    void start(const std::vector<std::string>& argv, const std::string& log_path, const SpawnOptions& extra = {});
    // False (and the exit status kept) once the process has ended.
    bool alive();
    void kill9();
    // SIGTERM; the exit code (-1 on timeout, then SIGKILL).
    int terminate(std::chrono::milliseconds timeout);
    int exit_status() const { return exit_status_; }   // as waitpid gives it
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int exit_status_ = 0;
};

}  // namespace ppo::testbench
