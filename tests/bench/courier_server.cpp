#include "bench/courier_server.h"

#include "bench/smtp_capture.h"   // free_port()

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace ppo::testbench {

namespace fs = std::filesystem;

namespace {

// Single-quoted for sh.
std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

// The mount namespace of a process ("mnt:[4026532xyz]"), "" when gone.
std::string mount_namespace(pid_t pid) {
    std::error_code ec;
    auto target = fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/mnt", ec);
    return ec ? "" : target.string();
}

// SIGKILL to every process left in mount namespace `ns` (the fixture's own:
// IMAP sessions, authdaemond's workers, the gam_server an IDLE started).
void kill_namespace(const std::string& ns) {
    if (ns.empty() || ns == mount_namespace(::getpid())) return;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(name));
        if (mount_namespace(pid) == ns) ::kill(pid, SIGKILL);
    }
}

}  // namespace

CourierServer::CourierServer(CourierOptions options) : options_(std::move(options)) {
    user_ = options_.user;
    password_ = options_.password;
    if (::geteuid() != 0)
        throw std::runtime_error("CourierServer needs root: it runs in a mount namespace of its own (unshare --mount) "
                                 "with bind mounts over /etc/courier and /run");
    try {
        root_ = imap_servers_root();
        if (!fs::exists(root_ + "/usr/lib/courier/courier/imaplogin"))
            throw std::runtime_error("CourierServer: no " + root_ + "/usr/lib/courier/courier/imaplogin (scripts/fetch-imap-servers.sh)");
        if (!fs::is_directory("/etc/courier") || !fs::exists("/usr/lib/courier/courier-authlib/authdaemond"))
            throw std::runtime_error("CourierServer: courier-authdaemon is not installed (scripts/setup.sh)");
        dir_ = detail::make_temp_dir("ppo-courier-");
        log_ = dir_ + "/courier.log";
        ::chmod(dir_.c_str(), 0755);   // the IMAP session runs as nobody
        fs::create_directories(dir_ + "/etc");
        fs::create_directories(dir_ + "/run/courier/authdaemon");
        const std::string maildir = dir_ + "/home/" + user_ + "/Maildir";
        for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(maildir + "/" + sub);
        passwd* nobody = ::getpwnam("nobody");
        if (!nobody) throw std::runtime_error("CourierServer: no user nobody");
        for (const std::string& p : {dir_ + "/home", dir_ + "/home/" + user_, maildir, maildir + "/cur", maildir + "/new",
                                     maildir + "/tmp"})
            if (::chown(p.c_str(), nobody->pw_uid, nobody->pw_gid) != 0)
                throw std::runtime_error("CourierServer: chown " + p + ": " + std::strerror(errno));

        // STARTTLS as Debian ships it: a certificate (key and chain in one PEM)
        // and Diffie-Hellman parameters (a fixed RFC 7919 group: no slow generation).
        // couriertcpd runs couriertls as the courier user (made by courier-authlib's
        // postinst): the key file and the TLS session cache are that user's, as
        // Debian's mkimapdcert and init script make them.
        passwd* courier = ::getpwnam("courier");
        if (!courier) throw std::runtime_error("CourierServer: no user courier (is courier-authlib installed?)");
        tls_ = make_self_signed_cert(dir_, "courier");
        fs::create_directories(dir_ + "/var");
        for (const auto& [path, content] : {std::pair<std::string, std::string>{dir_ + "/etc/imapd.pem",
                                                                                detail::read_file(tls_.key) + detail::read_file(tls_.cert)},
                                            {dir_ + "/var/couriersslcache", ""}}) {
            detail::write_file(path, content);
            ::chmod(path.c_str(), 0600);
            if (::chown(path.c_str(), courier->pw_uid, courier->pw_gid) != 0)
                throw std::runtime_error("CourierServer: chown " + path + ": " + std::strerror(errno));
        }
        detail::run({"openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out",
                     dir_ + "/etc/dhparams.pem"},
                    dir_ + "/openssl.log");

        for (int attempt = 0;; ++attempt) {
            port_ = free_port();
            write_files();
            std::string failure = launch();
            if (failure.empty()) break;
            // free_port() can race with another fixture: try another port.
            if (attempt < 4 && detail::read_file(log_).find("in use") != std::string::npos) continue;
            throw std::runtime_error("CourierServer: " + failure + "; folder " + dir_ + "; log:\n" + log());
        }
    } catch (...) {
        stop();
        detail::remove_temp_dir(dir_);
        throw;
    }
}

CourierServer::~CourierServer() {
    stop();
    detail::remove_temp_dir(dir_);
}

void CourierServer::write_files() {
    const std::string etc = dir_ + "/etc";
    // authdaemond: Debian's authdaemonrc with the userdb module only (Debian's
    // default, authpam, would look the user up in the system's passwd).
    detail::write_file(etc + "/authdaemonrc",
                       "# generated by ppo::testbench::CourierServer (seen as /etc/courier/authdaemonrc)\n"
                       "authmodulelist=\"authuserdb\"\n"
                       "daemons=2\n"
                       "authdaemonvar=/run/courier/authdaemon\n"
                       "DEBUG_LOGIN=0\n"
                       "DEFAULTOPTIONS=\"\"\n"
                       "LOGGEROPTS=\"\"\n");
    detail::write_file(dir_ + "/password", password_);
    passwd* nobody = ::getpwnam("nobody");
    const std::string home = dir_ + "/home/" + user_;
    std::ostringstream user_line;
    user_line << user_ << "\tuid=" << nobody->pw_uid << "|gid=" << nobody->pw_gid << "|home=" << home
              << "|mail=" << home << "/Maildir";
    // Debian's /etc/courier/imapd and imapd-ssl, then what the test moves.
    std::ostringstream env;
    env << "# sourced after Debian's /etc/courier/imapd and imapd-ssl (ppo::testbench::CourierServer)\n"
        << "ADDRESS=127.0.0.1\n"
        << "PORT=" << port_ << "\n"
        << "IMAP_STARTTLS=$IMAPDSTARTTLS\n"
        // Debian ships 0: an IDLE session then looks for new mail only every
        // IMAP_IDLE_TIMEOUT (60 s); 1 has it told at once through FAM (gamin).
        << "IMAP_ENHANCEDIDLE=1\n"
        << "COURIERTLS=" << root_ << "/usr/bin/couriertls\n"
        << "TLS_CERTFILE=/etc/courier/imapd.pem\n"
        << "TLS_DHPARAMS=/etc/courier/dhparams.pem\n"
        << "TLS_CACHEFILE=" << dir_ << "/var/couriersslcache\n"
        << "IMAP_SHAREDINDEXFILE=/etc/courier/shared/index\n"
        << "LD_LIBRARY_PATH=" << root_ << "/usr/lib/x86_64-linux-gnu\n";
    detail::write_file(dir_ + "/imapd.env", env.str());

    const std::string imapd_files =
        ". " + sh_quote(root_ + "/etc/courier/imapd") + "; . " + sh_quote(root_ + "/etc/courier/imapd-ssl") + "; . " +
        sh_quote(dir_ + "/imapd.env");
    std::ostringstream s;
    s << "# generated by ppo::testbench::CourierServer; run in a mount namespace of its own\n"
      << "set -e\n"
      << "mount --bind " << sh_quote(etc) << " /etc/courier\n"
      << "mount --bind " << sh_quote(dir_ + "/run") << " /run\n"
      << "hash=$(openssl passwd -6 -stdin < " << sh_quote(dir_ + "/password") << ")\n"
      << "printf '%s|systempw=%s\\n' " << sh_quote(user_line.str()) << " \"$hash\" > /etc/courier/userdb\n"
      << "chmod 600 /etc/courier/userdb\n"
      << "makeuserdb\n"
      << "/usr/lib/courier/courier-authlib/authdaemond &\n"
      << "auth=$!\n"
      << "i=0; while [ ! -S /run/courier/authdaemon/socket ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n"
      // As Debian's /usr/lib/courier/imapd start does, less -access, courierlogger
      // and -pid (with which couriertcpd detaches: it stays our child here).
      << "/usr/bin/env -i PATH=/usr/bin:/bin /bin/sh -c " << sh_quote(
             "set -a; " + imapd_files + "; umask $IMAP_UMASK; "
             "if test -n \"$IMAP_ULIMITD\"; then ulimit -v $IMAP_ULIMITD; fi; "
             "exec " + root_ + "/usr/sbin/couriertcpd -address=$ADDRESS -maxprocs=$MAXDAEMONS -maxperip=$MAXPERIP "
             "$TCPDOPTS $PORT " + root_ + "/usr/lib/courier/courier/imaplogin " + root_ +
             "/usr/bin/imapd $MAILDIRPATH")
      << " &\n"
      << "tcpd=$!\n"
      << "trap 'kill $tcpd $auth 2>/dev/null; wait; exit 0' TERM INT\n"
      << "wait\n";
    detail::write_file(dir_ + "/start.sh", s.str());
}

std::string CourierServer::launch() {
    // setsid: a session of its own, as the Cyrus fixture's (no signal of its
    // processes to their process group reaches the tests).
    pid_ = detail::spawn({"setsid", "unshare", "--mount", "--propagation", "private", "sh", dir_ + "/start.sh"}, log_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!detail::alive(pid_)) {
            pid_ = -1;
            return "Courier's start script exited during start-up";
        }
        if (detail::can_connect(port_)) return "";
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    detail::terminate(pid_);
    pid_ = -1;
    return "Courier did not accept connections within 20 s";
}

std::string CourierServer::log() const { return detail::read_file(log_); }

void CourierServer::stop() {
    if (pid_ <= 0) return;
    const std::string ns = mount_namespace(pid_);
    detail::terminate(pid_, std::chrono::seconds(10));
    pid_ = -1;
    kill_namespace(ns);
}

void CourierServer::start() {
    if (detail::alive(pid_)) return;
    pid_ = -1;
    std::string failure = launch();
    if (!failure.empty()) throw std::runtime_error("CourierServer restart: " + failure + "; log:\n" + log());
}

}  // namespace ppo::testbench
