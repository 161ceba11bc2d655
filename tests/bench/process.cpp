#include "bench/process.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace ppo::testbench {

namespace {

std::vector<std::string> child_environment(const SpawnOptions& o) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string kv = *e;
        const std::string key = kv.substr(0, kv.find('='));
        bool drop = o.set_env.count(key) > 0;
        for (const auto& u : o.unset_env) drop = drop || u == key;
        if (!drop) env.push_back(kv);
    }
    for (const auto& [k, v] : o.set_env) env.push_back(k + "=" + v);
    return env;
}

}  // namespace

pid_t spawn_process(const std::vector<std::string>& argv, const SpawnOptions& o) {
    if (argv.empty()) throw std::runtime_error("spawn_process: no program");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = o.log_path.empty() ? "/dev/null" : o.log_path;
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (o.stderr_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, o.stderr_fd, STDERR_FILENO);
    else
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (o.stdout_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, o.stdout_fd, STDOUT_FILENO);
    else
        posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    for (int fd : o.close_fds) posix_spawn_file_actions_addclose(&actions, fd);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const bool own_env = !o.set_env.empty() || !o.unset_env.empty();
    std::vector<std::string> env_strings = own_env ? child_environment(o) : std::vector<std::string>{};
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    char** env = own_env ? envp.data() : environ;
    pid_t pid = 0;
    const int rc = o.path_lookup ? ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), env)
                                 : ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    return pid;
}

int exit_code_of(int st) { return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1; }

int terminate_process(pid_t pid, std::chrono::milliseconds grace) {
    if (pid <= 0) return -1;
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return exit_code_of(status);
        if (r < 0 && errno == ECHILD) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return -1;
}

void BackgroundProcess::start(const std::vector<std::string>& argv, const std::string& log_path,
                              const SpawnOptions& extra) {
    SpawnOptions o = extra;
    o.log_path = log_path;
    pid_ = spawn_process(argv, o);
    exit_status_ = 0;
}

bool BackgroundProcess::alive() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == 0) return true;
    exit_status_ = st;
    pid_ = -1;
    return false;
}

void BackgroundProcess::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &exit_status_, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

int BackgroundProcess::terminate(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    const int code = terminate_process(pid_, timeout);
    pid_ = -1;
    return code;
}

}  // namespace ppo::testbench
