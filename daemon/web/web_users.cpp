#include "daemon/web/web_users.h"

#include "daemon/store/atomic_file.h"

#include "parsers/text/error.h"
#include "workflow/campaign/directory_import.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <semaphore>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace ppo::daemon::web {

namespace {

namespace fs = std::filesystem;

void ensure_sodium() {
    // sodium_init is thread-safe and idempotent; < 0 is a broken libsodium.
    if (sodium_init() < 0) throw permanent_error("libsodium cannot be initialised");
}

std::string errno_text(int err) { return std::strerror(err); }

// A hand-edited line may hold anything: quoted in messages without control
// characters and cut short.
std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s.substr(0, 80)) out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
    return out + (s.size() > 80 ? "..." : "");
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, sep)) out.push_back(item);
    if (!s.empty() && s.back() == sep) out.emplace_back();
    if (s.empty()) out.emplace_back();
    return out;
}

bool plausible_hash(const std::string& h) {
    if (h.rfind("$argon2id$", 0) != 0 || h.size() >= crypto_pwhash_STRBYTES) return false;
    return std::all_of(h.begin(), h.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '$' || c == '=' || c == ',' || c == '+' || c == '/';
    });
}

// At most two Argon2id verifications at once: each takes 64 MiB and a core.
std::counting_semaphore<2> g_verifications{2};

}  // namespace

bool valid_login(const std::string& login) {
    return !login.empty() && login.size() <= 64 && std::all_of(login.begin(), login.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    });
}

bool valid_role(const std::string& role) { return role == "draio" || role == "ien-io"; }

bool valid_bassin_code(const std::string& code) { return workflow::is_valid_bassin_code(code); }

std::vector<User> parse_users(const std::string& text, const std::string& source) {
    std::vector<User> users;
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#') continue;
        const std::string where = source + ":" + std::to_string(n) + ": ";
        const auto fields = split(line, ':');
        if (fields.size() != 4)
            throw config_error(where + "expected login:role:bassins:hash (4 fields separated by ':'), got " +
                               std::to_string(fields.size()) + " field(s)");
        User u;
        u.login = fields[0];
        u.role = fields[1];
        u.hash = fields[3];
        if (!valid_login(u.login))
            throw config_error(where + "login '" + printable(u.login) +
                               "': expected 1 to 64 characters among a-z, 0-9, '.', '_' and '-'");
        if (!valid_role(u.role))
            throw config_error(where + "user " + u.login + ": role '" + printable(u.role) + "': expected draio or ien-io");
        if (!fields[2].empty()) {
            for (const auto& code : split(fields[2], ',')) {
                if (!valid_bassin_code(code))
                    throw config_error(where + "user " + u.login + ": bassin '" + printable(code) +
                                       "': expected a bassin code (1 to 16 letters and digits)");
                if (std::find(u.bassins.begin(), u.bassins.end(), code) == u.bassins.end()) u.bassins.push_back(code);
            }
        }
        if (u.role == "ien-io" && u.bassins.empty())
            throw config_error(where + "user " + u.login + ": an ien-io needs at least one bassin code");
        if (u.role == "draio" && !u.bassins.empty())
            throw config_error(where + "user " + u.login + ": a draio sees every bassin; leave the bassins empty");
        if (!plausible_hash(u.hash))
            throw config_error(where + "user " + u.login +
                               ": expected an Argon2id hash ($argon2id$...) as 'ppo-intake user add' writes it");
        if (std::any_of(users.begin(), users.end(), [&](const User& o) { return o.login == u.login; }))
            throw config_error(where + "user " + u.login + " is listed twice");
        users.push_back(std::move(u));
    }
    return users;
}

std::string format_users(const std::vector<User>& users) {
    std::string out =
        "# ppo-intake web users: login:role:bassins:hash (Argon2id). Written by 'ppo-intake user add|remove'.\n";
    for (const auto& u : users) {
        std::string bassins;
        for (const auto& b : u.bassins) bassins += (bassins.empty() ? "" : ",") + b;
        out += u.login + ":" + u.role + ":" + bassins + ":" + u.hash + "\n";
    }
    return out;
}

std::vector<User> load_users(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) return {};
        throw config_error(path + ": cannot read the users file (" + errno_text(errno) + ")");
    }
    std::stringstream buf;
    buf << in.rdbuf();
    return parse_users(buf.str(), path);
}

void save_users(const std::string& path, const std::vector<User>& users, gid_t group) {
    AtomicFile file(path, 0640, ErrorKind::permanent, "cannot write the users file " + path);
    file.write(format_users(users));
    // Owner and group: those of the file replaced; a first file written by
    // root gets the service user's group. Who may not give them (an
    // administrator who is not root) keeps their own: the mode still holds.
    struct stat old {};
    if (::stat(path.c_str(), &old) == 0) {
        if (::fchown(file.fd(), old.st_uid, old.st_gid) != 0 && ::fchown(file.fd(), static_cast<uid_t>(-1), old.st_gid) != 0)
            spdlog::warn("{}: the previous file's group (gid {}) could not be kept: check that the daemon can "
                         "still read it", path, old.st_gid);
    } else if (::geteuid() == 0 && group != static_cast<gid_t>(-1)) {
        if (::fchown(file.fd(), static_cast<uid_t>(-1), group) != 0)
            spdlog::warn("{}: could not give the file to group {}: check that the daemon can read it", path, group);
    }
    file.commit(true);
}

std::string hash_password(const std::string& password) {
    ensure_sodium();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        throw permanent_error("cannot hash the password (libsodium: out of memory?)");
    std::string hash(out);
    sodium_memzero(out, sizeof out);
    return hash;
}

bool verify_password(const std::string& hash, const std::string& password) {
    ensure_sodium();
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
    g_verifications.acquire();
    const int rc = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size());
    g_verifications.release();
    return rc == 0;
}

UserDirectory::UserDirectory(std::string path) : path_(std::move(path)) {
    // The hash an unknown login is checked against: same algorithm and cost
    // as the real ones, of a password nobody knows.
    unsigned char random[32];
    ensure_sodium();
    randombytes_buf(random, sizeof random);
    dummy_hash_ = hash_password(std::string(reinterpret_cast<const char*>(random), sizeof random));
    sodium_memzero(random, sizeof random);
    std::lock_guard lock(mutex_);
    refresh_locked();
}

void UserDirectory::refresh_locked() {
    struct stat st {};
    Stamp now;
    if (::stat(path_.c_str(), &st) == 0) {
        now.exists = true;
        now.dev = st.st_dev;
        now.ino = st.st_ino;
        now.size = st.st_size;
        now.mtime = st.st_mtim;
    }
    const bool same = loaded_ && now.exists == stamp_.exists && now.dev == stamp_.dev && now.ino == stamp_.ino &&
                      now.size == stamp_.size && now.mtime.tv_sec == stamp_.mtime.tv_sec &&
                      now.mtime.tv_nsec == stamp_.mtime.tv_nsec;
    if (same) return;
    const bool first = !loaded_;
    stamp_ = now;
    loaded_ = true;
    if (!now.exists) {
        if (first || !users_.empty())
            spdlog::warn("web: no users file {}: nobody can log in (add one with 'ppo-intake user add')", path_);
        users_.clear();
        return;
    }
    try {
        users_ = load_users(path_);
        spdlog::info("web: {} user(s) in {}{}", users_.size(), path_, first ? "" : " (changed, read again)");
    } catch (const std::exception& e) {
        spdlog::error("web: {}; {}", e.what(),
                      first ? "nobody can log in until it is fixed" : "the previous users stay until it is fixed");
        if (first) users_.clear();
    }
}

std::optional<Viewer> UserDirectory::authenticate(const std::string& login, const std::string& password) {
    std::string hash;
    std::optional<Viewer> viewer;
    {
        std::lock_guard lock(mutex_);
        refresh_locked();
        for (const auto& u : users_)
            if (u.login == login) {
                hash = u.hash;
                viewer = u.viewer();
            }
    }
    if (!viewer) {
        (void)verify_password(dummy_hash_, password);
        return std::nullopt;
    }
    if (!verify_password(hash, password)) return std::nullopt;
    return viewer;
}

std::optional<Viewer> UserDirectory::find(const std::string& login) {
    std::lock_guard lock(mutex_);
    refresh_locked();
    for (const auto& u : users_)
        if (u.login == login) return u.viewer();
    return std::nullopt;
}

std::size_t UserDirectory::size() {
    std::lock_guard lock(mutex_);
    refresh_locked();
    return users_.size();
}

}  // namespace ppo::daemon::web
