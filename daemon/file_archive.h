// The archive on local disk: files are written to a temporary name (mode 0640)
// and renamed into place, so that a crash never leaves a half-written file
// under its final name; sync() makes a whole batch durable with one syncfs().
#pragma once

#include "workflow/archive.h"

#include <string>

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
    std::size_t pending_ = 0;             // files written since the last sync
};

std::string sha256_hex(std::string_view data);

}  // namespace ppo::daemon
