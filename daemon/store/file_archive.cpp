#include "daemon/store/file_archive.h"

#include "daemon/store/atomic_file.h"

#include "parsers/text/error.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace ppo::daemon {

namespace fs = std::filesystem;

std::string sha256_hex(std::string_view data) {
    // OpenSSL's SHA-256 uses the CPU's SHA extensions: several times faster than Poco's.
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        throw permanent_error("SHA-256 computation failed");
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

FileArchive::FileArchive(std::string root) : root_(std::move(root)) {}

FileArchive::~FileArchive() = default;

namespace {

// True when `p` is `root` or below it (both lexically normal, absolute).
bool within(const fs::path& root, const fs::path& p) {
    auto r = root.begin(), i = p.begin();
    for (; r != root.end(); ++r, ++i) {
        if (r->empty() && std::next(r) == root.end()) break;  // root's trailing '/'
        if (i == p.end() || *i != *r) return false;
    }
    return true;
}

}  // namespace

fs::path FileArchive::checked_dir(const std::string& relative_dir, const std::string& file_name) const {
    if (auto why = workflow::archive_path_problem(relative_dir))
        throw permanent_error("archive: refused folder '" + relative_dir.substr(0, 200) + "': " + *why);
    if (auto why = workflow::archive_path_problem(file_name); why || file_name.find('/') != std::string::npos)
        throw permanent_error("archive: refused file name '" + file_name.substr(0, 200) + "': " + (why ? *why : "a '/'"));
    std::error_code ec;
    const fs::path root = fs::weakly_canonical(fs::absolute(root_), ec).lexically_normal();
    if (ec) throw transient_error("archive: cannot resolve " + root_ + ": " + ec.message());
    const fs::path dir = (root / relative_dir).lexically_normal();
    // Symbolic links already in place are followed: a link out of the archive is refused too.
    const fs::path real = fs::weakly_canonical(dir, ec).lexically_normal();
    if (ec) throw transient_error("archive: cannot resolve " + dir.string() + ": " + ec.message());
    if (!within(root, dir) || !within(root, real))
        throw permanent_error("archive: refused folder '" + relative_dir + "': it resolves to " + real.string() +
                              ", outside " + root.string());
    return fs::path(root_) / relative_dir;  // the paths recorded stay under the root as configured
}

workflow::StoredFile FileArchive::write(const std::string& relative_dir, const std::string& file_name,
                                        std::string_view data) {
    const fs::path dir = checked_dir(relative_dir, file_name);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        // One level at a time, so that only the folders made here are made
        // private: lycées' documents are not for other local users, every level
        // we create is rwxr-x--- (whatever the umask), like the files (0640).
        // A folder that exists already (the root's parents, the root, a
        // bassin's) keeps its mode.
        fs::path p;
        for (const auto& part : dir) {
            p /= part;
            if (fs::is_directory(p, ec)) continue;
            if (::mkdir(p.c_str(), 0750) == 0) {
                ::chmod(p.c_str(), 0750);
                continue;
            }
            const int err = errno;
            if (err != EEXIST || !fs::is_directory(p, ec))
                throw transient_error("archive: cannot create " + p.string() + ": " + std::strerror(err));
        }
    }
    const fs::path final_path = dir / file_name;
    AtomicFile file(final_path.string(), 0640, ErrorKind::transient, "archive");
    file.write(data);
    file.commit(false);   // made durable with the batch, by sync()
    ++pending_;
    return {final_path.string(), static_cast<std::int64_t>(data.size()), sha256_hex(data)};
}

void FileArchive::sync() {
    if (pending_ == 0) return;
    // One syncfs() for the whole batch (group commit): it makes every file and
    // every new folder entry of the archive's file system durable at once,
    // where fsync would need one call per file and one per folder. Since
    // Linux 5.8 it also reports write-back errors (EIO, ENOSPC).
    int rootfd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) throw transient_error("archive: cannot open " + root_ + ": " + std::strerror(errno));
    int rc = ::syncfs(rootfd);
    int err = errno;
    ::close(rootfd);
    if (rc != 0) throw transient_error("archive: cannot make " + std::to_string(pending_) +
                                       " new file(s) durable (syncfs): " + std::strerror(err));
    pending_ = 0;
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

namespace {

// A file descriptor read as it goes; closed by the destructor.
class DiskFile final : public workflow::ArchiveFile {
public:
    DiskFile(int fd, std::uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
    ~DiskFile() override { ::close(fd_); }
    DiskFile(const DiskFile&) = delete;
    DiskFile& operator=(const DiskFile&) = delete;
    std::uint64_t size() const override { return size_; }
    std::size_t read(char* buffer, std::size_t max) override {
        for (;;) {
            const ssize_t n = ::read(fd_, buffer, max);
            if (n >= 0) return static_cast<std::size_t>(n);
            if (errno != EINTR) throw transient_error("archive: cannot read " + path_ + ": " + std::strerror(errno));
        }
    }

private:
    int fd_;
    std::uint64_t size_;
    std::string path_;
};

}  // namespace

std::unique_ptr<workflow::ArchiveFile> FileArchive::open(const std::string& path) const {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw transient_error("archive: cannot read " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const std::string why = S_ISREG(st.st_mode) || st.st_mode == 0 ? std::strerror(errno) : "not a regular file";
        ::close(fd);
        throw transient_error("archive: cannot read " + path + ": " + why);
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::make_unique<DiskFile>(fd, static_cast<std::uint64_t>(st.st_size), path);
}

}  // namespace ppo::daemon
