// Helpers shared by the test bench fixtures: a self-signed TLS certificate made
// at test time with the openssl command (no key is ever committed), temporary
// folders, and the child processes (dovecot, the SMTP capture script).
#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ppo::testbench {

struct TlsFiles {
    std::string cert;   // PEM certificate, CN=localhost, SAN DNS:localhost, IP:127.0.0.1
    std::string key;    // PEM private key (EC P-256), unencrypted
};

// Writes <dir>/<name>.crt and <dir>/<name>.key with `openssl req -x509`; valid two days.
TlsFiles make_self_signed_cert(const std::string& dir, const std::string& name = "bench");

// A throwaway certificate authority: <dir>/<name>.crt (CA:TRUE) and .key.
TlsFiles make_test_ca(const std::string& dir, const std::string& name);
// A server certificate signed by `ca`: <dir>/<name>.crt and .key, CN=<first
// name of `san`>, subjectAltName `san` (e.g. "DNS:localhost,IP:127.0.0.1"),
// valid `days` days from now; days = -1 makes one that expired yesterday.
TlsFiles make_signed_cert(const TlsFiles& ca, const std::string& dir, const std::string& name, const std::string& san,
                          int days = 2);

namespace detail {

// mkdtemp under $TMPDIR (or /tmp) with the given prefix; returns the path.
std::string make_temp_dir(const std::string& prefix);
// Removes the folder unless the environment has PPO_KEEP_TEST_DIRS=1.
void remove_temp_dir(const std::string& dir);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

// posix_spawn of argv[0] (looked up in PATH). stdout goes to `stdout_fd` when
// >= 0 (else to `log_path`), stderr to `log_path` (appended; /dev/null if empty).
// `close_fds` are closed in the child.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path, int stdout_fd = -1,
            const std::vector<int>& close_fds = {});
// Runs to completion; throws with the log when the exit status is not 0.
void run(const std::vector<std::string>& argv, const std::string& log_path);
// SIGTERM, waits up to `grace`, then SIGKILL; always reaps. No-op for pid <= 0.
void terminate(pid_t pid, std::chrono::milliseconds grace = std::chrono::seconds(5));
// True while the child is running (reaps it and returns false once it exited).
bool alive(pid_t pid);

// spawn() with stdout on a pipe, then waits (up to 20 s) for the child's
// first line "READY <port>"; returns the port, or throws with the log and
// stops the child. `pid` is set as soon as the child runs.
int spawn_until_ready(const std::vector<std::string>& argv, const std::string& log_path, pid_t& pid);

// True once a TCP connection to 127.0.0.1:port succeeds.
bool can_connect(int port);

}  // namespace detail
}  // namespace ppo::testbench
