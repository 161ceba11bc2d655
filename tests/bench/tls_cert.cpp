#include "bench/tls_cert.h"
#include "bench/process.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace ppo::testbench {

TlsFiles make_self_signed_cert(const std::string& dir, const std::string& name) {
    TlsFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
    detail::run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                 "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", files.key, "-out", files.cert},
                dir + "/" + name + "-openssl.log");
    return files;
}

TlsFiles make_test_ca(const std::string& dir, const std::string& name) {
    TlsFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
    detail::run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-days", "2", "-subj", "/CN=" + name + " test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", files.key, "-out", files.cert},
                dir + "/" + name + "-openssl.log");
    return files;
}

TlsFiles make_signed_cert(const TlsFiles& ca, const std::string& dir, const std::string& name, const std::string& san,
                          int days) {
    TlsFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
    const std::string log = dir + "/" + name + "-openssl.log";
    const std::string csr = dir + "/" + name + ".csr";
    const std::string ext = dir + "/" + name + ".ext";
    std::string cn = san.substr(san.find(':') + 1);
    cn = cn.substr(0, cn.find(','));
    detail::write_file(ext, "subjectAltName=" + san + "\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
    detail::run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-subj", "/CN=" + cn, "-keyout", files.key, "-out", csr},
                log);
    static unsigned serial = 1000;
    // -days -1: notAfter is yesterday (OpenSSL 3 accepts it), an expired certificate.
    detail::run({"openssl", "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial",
                 std::to_string(++serial) + std::to_string(::getpid()), "-days", std::to_string(days), "-extfile", ext,
                 "-out", files.cert},
                log);
    return files;
}

namespace detail {

int spawn_until_ready(const std::vector<std::string>& argv, const std::string& log_path, pid_t& pid) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    try {
        pid = spawn(argv, log_path, fds[1], {fds[0]});
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[1]);
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (out.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fds[0], POLLIN, 0};
        const int r = ::poll(&p, 1, 100);
        if (r < 0 && errno == EINTR) continue;
        if (r > 0) {
            char buffer[256];
            const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
            if (n <= 0) break;   // the child ended
            out.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fds[0]);
    int port = 0;
    if (std::sscanf(out.c_str(), "READY %d", &port) == 1 && port > 0) return port;
    terminate(pid, std::chrono::seconds(1));
    pid = -1;
    throw std::runtime_error(argv[0] + " did not start (stdout: " + out + "); log:\n" + read_file(log_path));
}

std::string make_temp_dir(const std::string& prefix) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data()))
        throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    return buffer.data();
}

void remove_temp_dir(const std::string& dir) {
    if (dir.empty()) return;
    const char* keep = std::getenv("PPO_KEEP_TEST_DIRS");
    if (keep && std::string(keep) == "1") return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path);
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path, int stdout_fd,
            const std::vector<int>& close_fds) {
    SpawnOptions o;
    o.log_path = log_path;
    o.stdout_fd = stdout_fd;
    o.close_fds = close_fds;
    return spawn_process(argv, o);
}

void run(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_t pid = spawn(argv, log_path);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(argv[0] + " failed (status " + std::to_string(status) + "): " + read_file(log_path));
}

bool alive(pid_t pid) {
    if (pid <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    return r == 0;
}

void terminate(pid_t pid, std::chrono::milliseconds grace) { (void)terminate_process(pid, grace); }

bool can_connect(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

}  // namespace detail
}  // namespace ppo::testbench
