// Who the commands run as. Run as root (an admin's `sudo ppo-intake status`),
// a command that opens the database or the archive first becomes the owner of
// the state directory, the service user: otherwise the SQLite database, its
// -wal/-shm files or an archived document would be created owned by root, and
// the service (User=ppo-intake) could no longer write them.
//
// The state directory is the folder of the SQLite database, or, with
// PostgreSQL, the archive folder ([storage] archive_dir): the nearest of it
// and its parents that exists. When it is owned by root there is no service
// user to become: the command is refused with the reason, unless
// PPO_ALLOW_ROOT=1 is set (a root-only deployment: a container, the test bench).
#pragma once

#include "workflow/config/config.h"

#include <string>
#include <sys/types.h>

namespace ppo::daemon {

// The folder whose owner the commands run as (see above).
std::string state_directory(const workflow::Config& config);

struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;   // the passwd name, or "uid N" when the uid has none
};

// Nothing when the effective uid is not 0; returns false then. Otherwise
// becomes the owner of state_directory() (supplementary groups, gid, uid, in
// that order), checks that root cannot be regained, and returns true.
// Throws ppo::Error(config) when it refuses: the state directory is owned by
// root (and allow_root is false), or a database file in it belongs to someone
// else than its owner (left by an earlier run as root): the message says what
// to do. Throws ppo::Error(permanent) when a system call fails.
bool drop_root_privileges(const workflow::Config& config, bool allow_root, Identity* became = nullptr);

}  // namespace ppo::daemon
