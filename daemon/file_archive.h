// The archive on local disk: files are written to a temporary name (mode 0640),
// renamed into place, and fsynced with their folders on sync(), so that a
// crash never leaves a half-written file under its final name.
#pragma once

#include "workflow/archive.h"

#include <string>
#include <vector>

namespace ppo::daemon {

class FileArchive final : public workflow::Archive {
public:
    explicit FileArchive(std::string root);
    ~FileArchive() override;
    workflow::StoredFile write(const std::string& relative_dir, const std::string& file_name, std::string_view data) override;
    void sync() override;
    std::string read(const std::string& path) const override;

private:
    std::string root_;
    std::vector<int> pending_fds_;        // files written since the last sync
    std::vector<std::string> pending_dirs_;
};

std::string sha256_hex(std::string_view data);

}  // namespace ppo::daemon
