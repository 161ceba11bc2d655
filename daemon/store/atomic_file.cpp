#include "daemon/store/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace ppo::daemon {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(const std::string& path, mode_t mode, ErrorKind kind, std::string label)
    : path_(path), kind_(kind), label_(std::move(label)) {
    const fs::path target(path);
    dir_ = target.has_parent_path() ? target.parent_path().string() : std::string(".");
    tmp_ = (fs::path(dir_) / ("." + target.filename().string() + ".XXXXXX")).string();
    fd_ = ::mkostemp(tmp_.data(), O_CLOEXEC);   // O_EXCL, mode 0600 until the fchmod below
    if (fd_ < 0) fail("cannot create a file in " + dir_, errno);
    if (::fchmod(fd_, mode) != 0) {   // the destructor does not run for a constructor that throws
        const int err = errno;
        ::close(fd_);
        ::unlink(tmp_.c_str());
        fail("chmod " + tmp_, err);
    }
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::fail(const std::string& what, int err) const {
    const bool refused_name = err == ENAMETOOLONG || err == EINVAL || err == EILSEQ;
    throw Error(refused_name ? ErrorKind::permanent : kind_, label_ + ": " + what + ": " + std::strerror(err));
}

void AtomicFile::write(std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("cannot write " + tmp_, n < 0 ? errno : EIO);
        done += static_cast<std::size_t>(n);
    }
}

void AtomicFile::commit(bool durable) {
    if (durable && ::fsync(fd_) != 0) fail("fsync " + tmp_, errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail("cannot write " + tmp_ + " (close)", errno);
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename " + tmp_ + " to " + path_, errno);
    committed_ = true;
    if (!durable) return;
    if (const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
}

}  // namespace ppo::daemon
