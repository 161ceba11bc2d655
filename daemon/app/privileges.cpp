#include "daemon/app/privileges.h"

#include "parsers/text/error.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace ppo::daemon {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string user_name(uid_t uid) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return found->pw_name;
    return "uid " + std::to_string(uid);
}

}  // namespace

std::string state_directory(const workflow::Config& config) {
    fs::path dir = config.database.backend == "sqlite" && config.database.connection != ":memory:"
                       ? fs::path(config.database.connection).parent_path()
                       : fs::path(config.storage.archive_dir);
    if (dir.empty()) dir = fs::current_path();
    dir = fs::absolute(dir).lexically_normal();
    std::error_code ec;
    while (!fs::exists(dir, ec) && dir.has_relative_path()) dir = dir.parent_path();
    return dir.string();
}

bool drop_root_privileges(const workflow::Config& config, bool allow_root, Identity* became) {
    if (geteuid() != 0) return false;
    const std::string dir = state_directory(config);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) throw permanent_error("cannot examine the state directory " + dir + ": " + errno_text());
    if (st.st_uid == 0) {
        if (allow_root) return false;
        throw config_error("refusing to run as root: the state directory " + dir +
                           " is owned by root, so the files this command creates could not be written by the "
                           "service. Run it as the service user (sudo -u ppo-intake ppo-intake ...), or give the "
                           "directory to that user (chown ppo-intake: " + dir +
                           "); PPO_ALLOW_ROOT=1 runs as root on purpose (a root-only container)");
    }
    Identity who;
    who.uid = st.st_uid;
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    const bool known = getpwuid_r(st.st_uid, &pw, buf.data(), buf.size(), &found) == 0 && found;
    who.gid = known ? found->pw_gid : st.st_gid;
    who.name = known ? std::string(found->pw_name) : "uid " + std::to_string(st.st_uid);

    // A database file left by an earlier run as root (or by another user)
    // would be opened read-only, or not at all: say so before anything fails.
    if (config.database.backend == "sqlite" && config.database.connection != ":memory:") {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
            const std::string f = config.database.connection + suffix;
            struct stat fst {};
            if (::stat(f.c_str(), &fst) == 0 && fst.st_uid != who.uid)
                throw config_error(f + " is owned by " + user_name(fst.st_uid) + ", not by " + who.name +
                                   ", the owner of " + dir + " (left by an earlier run as root?): the service could "
                                   "not write it. Give it back: chown " + who.name + ": " + config.database.connection +
                                   "*");
        }
    }

    // Supplementary groups first (root's would stay otherwise), then the
    // group, then the user: after setuid() nothing else can be changed.
    if (known ? initgroups(found->pw_name, who.gid) != 0 : setgroups(0, nullptr) != 0)
        throw permanent_error("cannot set the groups of " + who.name + ": " + errno_text());
    if (setgid(who.gid) != 0) throw permanent_error("cannot become group " + std::to_string(who.gid) + ": " + errno_text());
    if (setuid(who.uid) != 0) throw permanent_error("cannot become " + who.name + ": " + errno_text());
    // setuid() as root sets the real, effective and saved uids: there must be
    // no way back.
    if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != who.uid || geteuid() != who.uid || getgid() != who.gid ||
        getegid() != who.gid)
        throw permanent_error("dropping root privileges to " + who.name + " failed: root could be regained");
    if (became) *became = who;
    return true;
}

}  // namespace ppo::daemon
