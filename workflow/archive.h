// The archive port: where received files are kept, and the pure rule that
// turns a sender's file name into a safe one.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace ppo::workflow {

struct StoredFile {
    std::string path;      // absolute
    std::int64_t size = 0;
    std::string sha256;    // lower-case hex
};

class Archive {
public:
    virtual ~Archive() = default;
    // Writes `data` as <root>/<relative_dir>/<file_name> through a temporary
    // file and rename; `file_name` must already be safe. Not durable until
    // sync(). Throws ppo::Error(transient) on disk errors (full, unwritable).
    virtual StoredFile write(const std::string& relative_dir, const std::string& file_name, std::string_view data) = 0;
    // fsyncs every file written since the last sync and their folders.
    virtual void sync() = 0;
    virtual std::string read(const std::string& path) const = 0;
};

// A file name safe to create in one folder: no folder part, no '/', '\\', NUL or
// control characters, no leading dot, at most 180 bytes (cut on a UTF-8
// boundary, extension kept), never empty ("document"), and different from every
// name in `used` ("name (2).pdf"), which it is added to.
std::string safe_file_name(std::string_view name, std::set<std::string>& used);

}  // namespace ppo::workflow
