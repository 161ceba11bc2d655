// A file replaced whole or not at all, the one way the daemon writes a file in
// place (the archive's files, the users file, `export files`): written under a
// hidden temporary name beside its destination ('.NAME.XXXXXX', created with
// O_EXCL by mkstemp, so never through a link someone left there), then renamed
// over it. A reader sees the old file or the whole new one, never half of it;
// a crash leaves at most the hidden temporary file, and a failure removes it.
// Errors are ppo::Error of the kind the caller gives, naming the file and the
// system call; a name the file system refuses (too long, invalid bytes) is
// always `permanent` (the input's problem, not the disk's).
#pragma once

#include "parsers/text/error.h"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace ppo::daemon {

class AtomicFile {
public:
    // `label` names the file in errors ("archive", "the users file").
    AtomicFile(const std::string& path, mode_t mode, ErrorKind kind, std::string label);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    int fd() const { return fd_; }
    const std::string& temp_path() const { return tmp_; }

    // All of `data`, whatever the number of write(2) calls it takes.
    void write(std::string_view data);
    // fsync when `durable` (else the caller syncs, e.g. one syncfs per batch),
    // close, rename over the destination; when `durable`, the folder is synced too.
    void commit(bool durable);
    // Throws this file's error for `what` (a system call) and errno `err`.
    [[noreturn]] void fail(const std::string& what, int err) const;

private:
    std::string path_, dir_, tmp_;
    ErrorKind kind_;
    std::string label_;
    int fd_ = -1;
    bool committed_ = false;
};

}  // namespace ppo::daemon
