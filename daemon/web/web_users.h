// The web interface's users ([web] users_file, default /etc/ppo-intake/users):
// one user a line,
//
//     login:role:bassins:hash
//     draio1:draio::$argon2id$v=19$m=65536,t=2,p=1$...
//     ien.douai:ien-io:D59A,D59B:$argon2id$v=19$m=65536,t=2,p=1$...
//
// login [a-z0-9._-]{1,64}; role draio or ien-io; bassins a comma-separated
// list of bassin codes (1-16 letters and digits), at least one for an ien-io,
// none for a draio (who sees every bassin); hash the Argon2id string of
// libsodium's crypto_pwhash_str. Empty lines and lines starting with '#' are
// skipped. Any other line refuses the whole file, named by file and line: the
// file decides who reads the campaign's data, so a typo must not half-apply.
// A ':' can appear in none of the fields (the hash alphabet has none).
//
// Passwords are only ever hashed or verified here; they are never stored,
// logged or kept beyond the call.
#pragma once

#include "daemon/web/web_types.h"

#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ppo::daemon::web {

struct User {
    std::string login;
    std::string role;                    // "draio" | "ien-io"
    std::vector<std::string> bassins;
    std::string hash;                    // "$argon2id$..."
    Viewer viewer() const { return Viewer{login, role, bassins}; }
};

bool valid_login(const std::string& login);        // [a-z0-9._-]{1,64}
bool valid_role(const std::string& role);          // draio | ien-io
bool valid_bassin_code(const std::string& code);   // 1-16 ASCII letters and digits

// Parses a users file's text; throws ppo::Error(config) "SOURCE:LINE: ..." on
// the first bad line (never quoting a hash). A login listed twice is refused.
std::vector<User> parse_users(const std::string& text, const std::string& source);
std::string format_users(const std::vector<User>& users);

// The users of `path`; an absent file is no user (an empty vector).
std::vector<User> load_users(const std::string& path);
// Writes the whole file atomically: a temporary file in the same folder,
// written, fsynced, mode 0640, then renamed over `path` (and the folder
// fsynced). Readers see the old file or the new one, never half of one.
// 0640, not 0600: the daemon reads it as its service user (User=ppo-intake),
// through the file's group, while the administrator's `ppo-intake user add`
// writes it as root; other users must not read the hashes. An existing file
// keeps its owner and group (when the writer may give them); a new one run as
// root gets the group `group` (the service user's), when not -1.
void save_users(const std::string& path, const std::vector<User>& users, gid_t group = static_cast<gid_t>(-1));

// Argon2id (crypto_pwhash_str, OPSLIMIT_INTERACTIVE, MEMLIMIT_INTERACTIVE:
// 64 MiB, about 0.1 s) with a random salt. Throws ppo::Error(permanent) when
// libsodium cannot (out of memory).
std::string hash_password(const std::string& password);
// crypto_pwhash_str_verify; false for a malformed hash.
bool verify_password(const std::string& hash, const std::string& password);

// The users file as the web server sees it: read at start, read again when
// its modification time, size or inode changes (`ppo-intake user add` renames
// a new file into place), checked before every login and every request of a
// session, so a removed user is logged out at their next click. A file that
// no longer parses is logged and the previous users stay. Thread-safe.
class UserDirectory {
public:
    explicit UserDirectory(std::string path);

    // The user when `password` is theirs. An unknown login is verified
    // against a dummy hash all the same: the time taken does not tell which
    // logins exist. At most two verifications run at once (64 MiB each).
    std::optional<Viewer> authenticate(const std::string& login, const std::string& password);
    // The user as the file says now (role and bassins may have changed);
    // nothing when they were removed.
    std::optional<Viewer> find(const std::string& login);
    std::size_t size();

private:
    void refresh_locked();

    std::string path_;
    std::string dummy_hash_;
    std::mutex mutex_;
    std::vector<User> users_;
    struct Stamp {
        bool exists = false;
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
        timespec mtime{};
    } stamp_;
    bool loaded_ = false;
};

}  // namespace ppo::daemon::web

namespace ppo::daemon {

struct Context;

// ppo-intake user add LOGIN --role draio|ien-io [--bassin CODE]... (the
// password: the first line of stdin), user list, user remove LOGIN, on
// [web] users_file. Usage errors are UsageErrorInCommand (exit 2); removing
// an unknown login is ppo::Error(permanent) (exit 1).
int cmd_user(Context& ctx, const std::vector<std::string>& args);

}  // namespace ppo::daemon
