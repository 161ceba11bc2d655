#include "bench/cyrus_server.h"

#include "bench/smtp_capture.h"   // free_port()
#include "bench/tls_cert.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <grp.h>
#include <map>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ppo::testbench {

namespace fs = std::filesystem;

namespace {

// "key: value" lines of an imapd.conf, comments and blank lines left out.
std::vector<std::pair<std::string, std::string>> parse_imapd_conf(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        out.emplace_back(key, value);
    }
    return out;
}

void chown_tree(const std::string& path, uid_t uid, gid_t gid) {
    if (::lchown(path.c_str(), uid, gid) != 0)
        throw std::runtime_error("CyrusServer: chown " + path + ": " + std::strerror(errno));
    if (!fs::is_directory(path)) return;
    for (const auto& entry : fs::recursive_directory_iterator(path))
        if (::lchown(entry.path().c_str(), uid, gid) != 0)
            throw std::runtime_error("CyrusServer: chown " + entry.path().string() + ": " + std::strerror(errno));
}

}  // namespace

CyrusServer::CyrusServer(CyrusOptions options) : options_(std::move(options)) {
    user_ = options_.user;
    password_ = options_.password;
    try {
        root_ = imap_servers_root();
        if (!fs::exists(root_ + "/usr/lib/cyrus/bin/master"))
            throw std::runtime_error("CyrusServer: no " + root_ + "/usr/lib/cyrus/bin/master (scripts/fetch-imap-servers.sh)");
        dir_ = detail::make_temp_dir("ppo-cyrus-");
        log_ = dir_ + "/master.log";
        ::chmod(dir_.c_str(), 0755);   // the services run as nobody under root
        // conf/socket: where each imapd binds its end of the idled socket.
        for (const char* sub : {"conf", "conf/socket", "spool", "proc", "lock", "socket", "sieve"}) fs::create_directories(dir_ + "/" + sub);

        // The user, in a sasldb of our own (saslpasswd2 reads the password on stdin).
        detail::write_file(dir_ + "/password", password_);
        detail::run({"sh", "-c", "exec saslpasswd2 -p -c -f \"$1\" -u localhost \"$2\" < \"$3\"", "saslpasswd2",
                     dir_ + "/sasldb2", user_, dir_ + "/password"},
                    dir_ + "/saslpasswd2.log");
        fs::remove(dir_ + "/password");
        ::chmod((dir_ + "/sasldb2").c_str(), 0600);

        if (::geteuid() == 0) {
            passwd* pw = ::getpwnam("nobody");
            if (!pw) throw std::runtime_error("CyrusServer: no user nobody");
            for (const char* sub : {"conf", "spool", "proc", "lock", "socket", "sieve", "sasldb2"})
                chown_tree(dir_ + "/" + sub, pw->pw_uid, pw->pw_gid);
        }

        for (int attempt = 0;; ++attempt) {
            port_ = free_port();
            write_config();
            std::string failure = launch();
            if (failure.empty()) break;
            // free_port() can race with another fixture: try another port.
            if (attempt < 4) continue;
            throw std::runtime_error("CyrusServer: " + failure + "; config " + dir_ + "/imapd.conf; log:\n" + log());
        }
    } catch (...) {
        detail::terminate(pid_);
        detail::remove_temp_dir(dir_);
        throw;
    }
}

CyrusServer::~CyrusServer() {
    detail::terminate(pid_, std::chrono::seconds(10));
    detail::remove_temp_dir(dir_);
}

void CyrusServer::write_config() {
    std::string cyrus_user = "nobody", cyrus_group = "nogroup";
    if (::geteuid() != 0) {
        if (passwd* pw = ::getpwuid(::geteuid())) cyrus_user = pw->pw_name;
        if (group* gr = ::getgrgid(::getegid())) cyrus_group = gr->gr_name;
    } else if (!::getgrnam("nogroup")) {
        if (group* gr = ::getgrgid(::getpwnam("nobody")->pw_gid)) cyrus_group = gr->gr_name;
    }
    // Debian's imapd.conf, its paths moved into dir_ (Cyrus refuses a key
    // given twice: each is replaced where it stands, or added at the end).
    const std::vector<std::pair<std::string, std::string>> changed = {
        {"configdirectory", dir_ + "/conf"},
        {"proc_path", dir_ + "/proc"},
        {"mboxname_lockpath", dir_ + "/lock"},
        {"partition-default", dir_ + "/spool"},
        {"sievedir", dir_ + "/sieve"},
        {"lmtpsocket", dir_ + "/socket/lmtp"},
        {"idlesocket", dir_ + "/socket/idle"},
        {"notifysocket", dir_ + "/socket/notify"},
        {"altnamespace", options_.altnamespace ? "yes" : "no"},
        {"syslog_prefix", "ppo-test-cyrus-" + std::to_string(port_)},
        {"servername", "localhost"},
        {"cyrus_user", cyrus_user},
        {"cyrus_group", cyrus_group},
        {"sasl_auxprop_plugin", "sasldb"},
        {"sasl_sasldb_path", dir_ + "/sasldb2"},
    };
    const std::map<std::string, std::string> moved(changed.begin(), changed.end());
    const std::string shipped = detail::read_file(root_ + "/etc/imapd.conf");
    if (shipped.empty()) throw std::runtime_error("CyrusServer: cannot read " + root_ + "/etc/imapd.conf");
    std::ostringstream c;
    c << "# Debian's /etc/imapd.conf with its paths moved (ppo::testbench::CyrusServer)\n";
    std::map<std::string, bool> written;
    for (const auto& [key, value] : parse_imapd_conf(shipped)) {
        // The news partition and spool are for nntpd, which is not started.
        if (key == "partition-news" || key == "newsspool") continue;
        auto it = moved.find(key);
        c << key << ": " << (it == moved.end() ? value : it->second) << "\n";
        written[key] = true;
    }
    c << "# added for the test\n";
    for (const auto& [key, value] : changed)
        if (!written[key]) c << key << ": " << value << "\n";
    detail::write_file(dir_ + "/imapd.conf", c.str());

    const std::string bin = root_ + "/usr/lib/cyrus/bin/";
    const std::string conf = " -C " + dir_ + "/imapd.conf";
    std::ostringstream m;
    // idled: Debian's cyrus.conf has it commented out; without it an IMAP
    // IDLE notices new mail only every imapidlepoll (60 s) seconds. In
    // DAEMON, not START: the master stops it when it exits.
    m << "# generated by ppo::testbench::CyrusServer: Debian's recover step, idled and the imap service\n"
      << "START {\n  recover cmd=\"" << bin << "ctl_cyrusdb" << conf << " -r\"\n}\n"
      << "DAEMON {\n  idled cmd=\"" << bin << "idled" << conf << "\"\n}\n"
      << "SERVICES {\n  imap cmd=\"" << bin << "imapd" << conf << " -U 30\" listen=\"127.0.0.1:" << port_
      << "\" prefork=0 maxchild=100\n}\n"
      << "EVENTS {\n  checkpoint cmd=\"" << bin << "ctl_cyrusdb" << conf << " -c\" period=30\n}\n";
    detail::write_file(dir_ + "/cyrus.conf", m.str());
}

std::string CyrusServer::launch() {
    // The unpacked libcyrus*.so are found through LD_LIBRARY_PATH, which the
    // services inherit from the master. setsid: a session (and process group)
    // of its own, for the master signals its whole process group when it
    // stops, which would stop another fixture's Cyrus (and ctest's tests).
    pid_ = detail::spawn({"setsid", "env", "LD_LIBRARY_PATH=" + root_ + "/usr/lib/x86_64-linux-gnu",
                          root_ + "/usr/lib/cyrus/bin/master", "-C", dir_ + "/imapd.conf", "-M", dir_ + "/cyrus.conf",
                          "-p", dir_ + "/master.pid", "-D"},
                         log_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!detail::alive(pid_)) {
            pid_ = -1;
            return "the Cyrus master exited during start-up";
        }
        if (detail::can_connect(port_)) return "";
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    detail::terminate(pid_);
    pid_ = -1;
    return "Cyrus did not accept connections within 20 s";
}

std::string CyrusServer::name() const {
    return std::string("Cyrus IMAP 3.6 (altnamespace: ") + (options_.altnamespace ? "yes" : "no") + ")";
}

std::string CyrusServer::log() const {
    return detail::read_file(log_) + "\n(Cyrus logs to syslog only; config " + dir_ + "/imapd.conf)";
}

void CyrusServer::stop() {
    detail::terminate(pid_, std::chrono::seconds(10));
    pid_ = -1;
}

void CyrusServer::start() {
    if (detail::alive(pid_)) return;
    pid_ = -1;
    std::string failure = launch();
    if (!failure.empty()) throw std::runtime_error("CyrusServer restart: " + failure + "; log:\n" + log());
}

}  // namespace ppo::testbench
