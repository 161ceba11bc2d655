#include "bench/harness.h"

#include "bench/process.h"

#include "daemon/store/database.h"
#include "workflow/config/config.h"

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>


#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <poll.h>
#include <random>
#include <signal.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ppo::testbench {

namespace fs = std::filesystem;

namespace {

// The tests run as root in CI, their state in root-owned temporary folders: a
// root-only deployment, which ppo-intake refuses unless told so
// (daemon/app/privileges.h). tests/integration/test_privileges.cpp unsets it.
[[maybe_unused]] const int kAllowRoot = ::setenv("PPO_ALLOW_ROOT", "1", 0);

}  // namespace

RunResult run_command(const std::vector<std::string>& argv, int timeout_s) {
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    SpawnOptions o;
    o.stdout_fd = out_pipe[1];
    o.stderr_fd = err_pipe[1];
    pid_t pid = -1;
    try {
        pid = spawn_process(argv, o);
    } catch (...) {
        for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
        throw;
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    RunResult r;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
        int left = static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
        if (left <= 0) {
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, left) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = exit_code_of(status);
    return r;
}

std::string sample_pdf(const std::string& tag, std::size_t pad_bytes) {
    std::string body = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
                       "2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n% PPO " +
                       tag + "\n";
    std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(tag)));
    for (std::size_t i = 0; i < pad_bytes; ++i) body += static_cast<char>(rng() & 0xff);
    body += "\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    return body;
}

namespace {

std::string base64(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                     static_cast<unsigned char>(in[i + 2]);
        out += t[(n >> 18) & 63];
        out += t[(n >> 12) & 63];
        out += t[(n >> 6) & 63];
        out += t[n & 63];
    }
    if (i < in.size()) {
        unsigned n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += t[(n >> 18) & 63];
        out += t[(n >> 12) & 63];
        out += i + 1 < in.size() ? t[(n >> 6) & 63] : '=';
        out += '=';
    }
    std::string lines;
    for (std::size_t p = 0; p < out.size(); p += 76) lines += out.substr(p, 76) + "\r\n";
    return lines;
}

std::string fresh_message_id() {
    static std::atomic<int> counter{0};
    static std::mt19937_64 rng{std::random_device{}()};
    return "<test." + std::to_string(++counter) + "." + std::to_string(rng()) + "@client.example>";
}

bool ascii(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string encode_word(const std::string& s) {
    if (ascii(s)) return s;
    std::string b = base64(s);
    b.erase(std::remove(b.begin(), b.end(), '\r'), b.end());
    b.erase(std::remove(b.begin(), b.end(), '\n'), b.end());
    return "=?UTF-8?B?" + b + "?=";
}

}  // namespace

std::string build_test_mail(const TestMail& m) {
    std::string id = m.message_id.empty() ? fresh_message_id() : m.message_id;
    std::string out = "From: " + m.from + "\r\nTo: " + m.to + "\r\nSubject: " + encode_word(m.subject) +
                      "\r\nDate: Tue, 01 Mar 2022 10:02:11 +0100\r\nMessage-ID: " + id + "\r\nMIME-Version: 1.0\r\n";
    for (const auto& [k, v] : m.headers) out += k + ": " + v + "\r\n";
    if (m.files.empty()) {
        return out + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + m.body + "\r\n";
    }
    const std::string b = "=_test_boundary_42";
    out += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n--" + b +
           "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + m.body + "\r\n";
    for (const auto& f : m.files) {
        out += "--" + b + "\r\n";
        if (!f.raw_disposition.empty()) {
            out += f.raw_disposition;
        } else {
            out += "Content-Type: " + f.content_type + "; name=\"" + encode_word(f.name) +
                   "\"\r\nContent-Disposition: attachment; filename=\"" + encode_word(f.name) + "\"\r\n";
        }
        out += "Content-Transfer-Encoding: base64\r\n\r\n" + base64(f.data);
    }
    return out + "--" + b + "--\r\n";
}

DaemonProcess::DaemonProcess(std::string config_path, std::string log_path, std::string now)
    : config_(std::move(config_path)), log_(std::move(log_path)), now_(std::move(now)) {}

DaemonProcess::~DaemonProcess() { kill9(); }

void DaemonProcess::start() {
    std::vector<std::string> argv = {PPO_BINARY, "-c", config_};
    if (!now_.empty()) argv.insert(argv.end(), {"--now", now_});
    argv.push_back("run");
    process_.start(argv, log_);
}

bool DaemonProcess::alive() { return process_.alive(); }

void DaemonProcess::kill9() { process_.kill9(); }

int DaemonProcess::terminate(std::chrono::seconds timeout) { return process_.terminate(timeout); }

std::string DaemonProcess::log() const { return read_file(log_); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string tail(const std::string& s, std::size_t n) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

std::string header_of(const std::string& raw, const std::string& name) {
    std::istringstream in(raw);
    std::string line, value;
    bool found = false;
    std::string lname = name;
    std::transform(lname.begin(), lname.end(), lname.begin(), ::tolower);
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) break;
        if (found) {
            if (line[0] == ' ' || line[0] == '\t') {
                value += " " + line.substr(line.find_first_not_of(" \t"));
                continue;
            }
            return value;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string h = line.substr(0, colon);
        std::transform(h.begin(), h.end(), h.begin(), ::tolower);
        if (h == lname) {
            found = true;
            value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(" \t"));
        }
    }
    return found ? value : "";
}

Harness::Harness() : Harness(Options{}) {}

Harness::Harness(Options options) : options_(std::move(options)), imap_(options_.imap) {
    char tmpl[] = "/tmp/ppo-it-XXXXXX";
    dir_ = mkdtemp(tmpl);
    config_ = dir_ + "/ppo-intake.conf";
    if (postgres_wanted()) pg_database_ = PostgresServer::shared().create_database();
    write_config(options_.extra_config);
    if (options_.import_directory) {
        auto r = ppo({"directory", "import", "--annuaire", std::string(PPO_TEST_DATA_DIR) + "/annuaire-hdf-sample.csv",
                      "--routing", std::string(PPO_TEST_DATA_DIR) + "/routing-sample.csv"});
        if (r.exit_code != 0) throw std::runtime_error("directory import failed: " + r.err);
    }
}

Harness::~Harness() {
    if (!pg_database_.empty() && !std::getenv("PPO_KEEP_TEST_DIRS")) {
        try {
            PostgresServer::shared().drop_database(pg_database_);
        } catch (const std::exception&) {
            // The server is thrown away at the end of the run anyway.
        }
    }
    if (!std::getenv("PPO_KEEP_TEST_DIRS")) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

void Harness::write_config(const std::map<std::string, std::string>& extra) {
    std::map<std::string, std::map<std::string, std::string>> c;
    c["imap"] = {{"url", imap_.url()}, {"user", imap_.user()}, {"password", imap_.password()}, {"poll_interval", "5"},
                 {"timeout", "20"}};
    c["smtp"] = {{"url", smtp_.url()}, {"timeout", "20"}};
    c["database"] = {{"url", database_url()}};
    c["storage"] = {{"archive_dir", dir_ + "/archive"}};
    c["digest"] = {{"to", ""}};
    c["http"] = {{"listen", ""}};
    for (const auto& [k, v] : extra) {
        auto dot = k.find('.');
        c[k.substr(0, dot)][k.substr(dot + 1)] = v;
    }
    std::ofstream out(config_);
    for (const auto& [section, keys] : c) {
        out << "[" << section << "]\n";
        for (const auto& [k, v] : keys) out << k << " = " << v << "\n";
    }
}

std::string Harness::database_url() const {
    if (!pg_database_.empty()) return PostgresServer::shared().url(pg_database_);
    return "sqlite://" + dir_ + "/ppo.db";
}

RunResult Harness::ppo(const std::vector<std::string>& args, const std::string& now) {
    std::vector<std::string> argv = {PPO_BINARY, "-c", config_};
    if (!now.empty()) {
        argv.push_back("--now");
        argv.push_back(now);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

Poco::Data::Session database_session(const std::string& harness_dir) {
    if (postgres_wanted()) {
        Poco::Data::PostgreSQL::Connector::registerConnector();
        const auto config = workflow::load_config(harness_dir + "/ppo-intake.conf");
        return Poco::Data::Session("PostgreSQL", daemon::postgres_conninfo(config.database));
    }
    Poco::Data::SQLite::Connector::registerConnector();
    return Poco::Data::Session("SQLite", harness_dir + "/ppo.db");
}

Poco::JSON::Object::Ptr Harness::status(const std::string& now) {
    auto r = ppo({"status", "--json"}, now);
    if (r.exit_code != 0) throw std::runtime_error("status --json failed: " + r.err);
    Poco::JSON::Parser parser;
    return parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Object::Ptr Harness::lycee(const std::string& uai, const std::string& now) {
    auto st = status(now);
    auto lycees = st->getArray("lycees");
    for (std::size_t i = 0; i < lycees->size(); ++i) {
        auto l = lycees->getObject(static_cast<unsigned>(i));
        if (l->getValue<std::string>("uai") == uai) return l;
    }
    return nullptr;
}

}  // namespace ppo::testbench
