#include "daemon/file_archive.h"

#include "parsers/error.h"

#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace ppo::daemon {

namespace fs = std::filesystem;

std::string sha256_hex(std::string_view data) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(data.data(), static_cast<unsigned>(data.size()));
    return Poco::DigestEngine::digestToHex(engine.digest());
}

FileArchive::FileArchive(std::string root) : root_(std::move(root)) {}

FileArchive::~FileArchive() {
    for (int fd : pending_fds_) ::close(fd);
}

workflow::StoredFile FileArchive::write(const std::string& relative_dir, const std::string& file_name,
                                        std::string_view data) {
    fs::path dir = fs::path(root_) / relative_dir;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) throw transient_error("archive: cannot create " + dir.string() + ": " + ec.message());
        // Lycées' documents are not for other local users: every level we
        // created is rwxr-x--- (whatever the umask), like the files (0640).
        for (fs::path p = dir; p.string().size() >= root_.size() && p != p.parent_path(); p = p.parent_path())
            ::chmod(p.c_str(), 0750);
    }
    fs::path final_path = dir / file_name;
    fs::path tmp = dir / (".tmp-" + std::to_string(::getpid()) + "-" + file_name);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) throw transient_error("archive: cannot create " + tmp.string() + ": " + std::strerror(errno));
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw transient_error("archive: cannot write " + tmp.string() + ": " + std::strerror(err));
        }
        off += static_cast<std::size_t>(n);
    }
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        throw transient_error("archive: cannot rename into " + final_path.string() + ": " + std::strerror(err));
    }
    pending_fds_.push_back(fd);
    pending_dirs_.push_back(dir.string());
    return {final_path.string(), static_cast<std::int64_t>(data.size()), sha256_hex(data)};
}

void FileArchive::sync() {
    std::string error;
    for (int fd : pending_fds_) {
        if (::fsync(fd) != 0 && error.empty()) error = std::strerror(errno);
        ::close(fd);
    }
    pending_fds_.clear();
    std::sort(pending_dirs_.begin(), pending_dirs_.end());
    pending_dirs_.erase(std::unique(pending_dirs_.begin(), pending_dirs_.end()), pending_dirs_.end());
    for (const auto& d : pending_dirs_) {
        // The folder and its parents up to the root, for newly created entries.
        for (fs::path p = d; p.string().size() >= root_.size(); p = p.parent_path()) {
            int dfd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                ::fsync(dfd);
                ::close(dfd);
            }
            if (p == p.parent_path()) break;
        }
    }
    pending_dirs_.clear();
    if (!error.empty()) throw transient_error("archive: fsync failed: " + error);
}

std::string FileArchive::read(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw transient_error("archive: cannot read " + path);
    std::string s;
    in.seekg(0, std::ios::end);
    s.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    return s;
}

}  // namespace ppo::daemon
