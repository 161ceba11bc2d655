// The archive port: where received files are kept, and the pure rule that
// turns a sender's file name into a safe one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace ppo::workflow {

struct StoredFile {
    std::string path;      // absolute
    std::int64_t size = 0;
    std::string sha256;    // lower-case hex
};

// An archived file read a piece at a time (a forward streams its files into
// the SMTP DATA instead of holding them).
class ArchiveFile {
public:
    virtual ~ArchiveFile() = default;
    virtual std::uint64_t size() const = 0;
    // Up to `max` bytes into `buffer`; 0 at the end. Throws ppo::Error(transient).
    virtual std::size_t read(char* buffer, std::size_t max) = 0;
};

class Archive {
public:
    virtual ~Archive() = default;
    // Writes `data` as <root>/<relative_dir>/<file_name> through a temporary
    // file and rename; `file_name` must already be safe. Not durable until
    // sync(). Throws ppo::Error(transient) on disk errors (full, unwritable),
    // ppo::Error(permanent) for a `relative_dir` or `file_name` that
    // archive_path_problem() refuses or that resolves (symbolic links
    // followed) outside the root; nothing is created then.
    virtual StoredFile write(const std::string& relative_dir, const std::string& file_name, std::string_view data) = 0;
    // fsyncs every file written since the last sync and their folders.
    virtual void sync() = 0;
    virtual std::string read(const std::string& path) const = 0;
    // `path` opened to be read a piece at a time; throws ppo::Error(transient)
    // when it cannot be. The default holds the whole read() in memory.
    virtual std::unique_ptr<ArchiveFile> open(const std::string& path) const;
};

// A file name safe to create in one folder: no folder part, no '/', '\\', NUL or
// control characters, no leading dot, at most 180 bytes (cut on a UTF-8
// boundary, extension kept), never empty ("document"), and different from every
// name in `used` ("name (2).pdf"), which it is added to.
std::string safe_file_name(std::string_view name, std::set<std::string>& used);

// Why `relative_dir` (folders under the archive root, '/'-separated) may not be
// used, or nullopt: empty, absolute, a NUL or control character, a backslash,
// an empty, "." or ".." component. Directory data builds these paths
// (académie/bassin/UAI/id): this is the archive's own guard, whatever the import let in.
std::optional<std::string> archive_path_problem(std::string_view relative_dir);

}  // namespace ppo::workflow
