// The archive on local disk: files are written to a temporary name (mode 0640)
// and renamed into place, so that a crash never leaves a half-written file
// under its final name; sync() makes a whole batch durable with one syncfs().
// Paths that leave the root ('..', absolute, a link out) are refused before
// anything is created; only the folders it creates itself are chmod'ed 0750.
#pragma once

#include "workflow/ports/archive.h"

#include <filesystem>
#include <string>

namespace ppo::daemon {

class FileArchive final : public workflow::Archive {
public:
    explicit FileArchive(std::string root);
    ~FileArchive() override;
    workflow::StoredFile write(const std::string& relative_dir, const std::string& file_name, std::string_view data) override;
    void sync() override;
    std::string read(const std::string& path) const override;
    std::unique_ptr<workflow::ArchiveFile> open(const std::string& path) const override;

private:
    // <root>/<relative_dir>, or ppo::Error(permanent) if either part is refused
    // or the folder resolves (symbolic links followed) outside the root.
    std::filesystem::path checked_dir(const std::string& relative_dir, const std::string& file_name) const;

    std::string root_;
    std::size_t pending_ = 0;             // files written since the last sync
};

std::string sha256_hex(std::string_view data);

}  // namespace ppo::daemon
