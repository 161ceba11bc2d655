// The archive on disk refuses every path that leaves its root, and makes
// private only the folders it creates.
#include "daemon/store/file_archive.h"
#include "parsers/text/error.h"
#include "workflow/ports/archive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using ppo::daemon::FileArchive;

namespace {

class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "ppo-archive-XXXXXX").string();
        path_ = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

// Every file and folder under `dir`, as relative paths.
std::set<std::string> tree(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(fs::relative(e.path(), dir).string());
    return out;
}

}  // namespace

TEST(ArchivePath, RefusesWhatLeavesTheFolder) {
    using ppo::workflow::archive_path_problem;
    EXPECT_FALSE(archive_path_problem("09/095912/0590072H/12"));
    EXPECT_FALSE(archive_path_problem("_triage/3"));
    EXPECT_FALSE(archive_path_problem("a..b/c"));
    for (const std::string& bad : std::vector<std::string>{"", "/etc", "09/../../../x/0590072H/1", "..", "09/./x", "09//x", "09/x/", "09\\..\\x",
                            std::string("09/a\0b", 6), "09/a\nb"})
        EXPECT_TRUE(archive_path_problem(bad)) << bad;
}

TEST(FileArchive, RefusesTraversalAndCreatesNothing) {
    TempDir tmp;
    const fs::path root = tmp.path() / "archive";
    fs::create_directories(root);
    FileArchive archive(root.string());
    for (std::string dir : {"09/../../../x/0590072H/1", "/tmp/x", "09//1", "09/./1", ".."}) {
        try {
            archive.write(dir, "ppo.pdf", "data");
            FAIL() << dir << " was accepted";
        } catch (const ppo::Error& e) {
            EXPECT_EQ(e.kind(), ppo::ErrorKind::permanent) << dir;
            EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(archive.write("09/1", "../x.pdf", "data"), ppo::Error);
    EXPECT_THROW(archive.write("09/1", "..", "data"), ppo::Error);
    EXPECT_TRUE(tree(tmp.path()) == std::set<std::string>{"archive"}) << "something was created";

    // A symbolic link inside the archive that points out of it is refused too.
    fs::create_directories(tmp.path() / "outside");
    fs::create_directory_symlink(tmp.path() / "outside", root / "09");
    EXPECT_THROW(archive.write("09/095912/0590072H/1", "ppo.pdf", "data"), ppo::Error);
    EXPECT_TRUE(fs::is_empty(tmp.path() / "outside"));
}

TEST(FileArchive, ChmodsOnlyTheFoldersItCreates) {
    TempDir tmp;
    const fs::path root = tmp.path() / "archive";
    fs::create_directories(root / "09");
    ::chmod(tmp.path().c_str(), 0755);
    ::chmod(root.c_str(), 0775);
    ::chmod((root / "09").c_str(), 0711);
    FileArchive archive(root.string());
    auto stored = archive.write("09/095912/0590072H/12", "ppo.pdf", "%PDF-1.4 data");
    EXPECT_EQ(stored.path, (root / "09/095912/0590072H/12/ppo.pdf").string());
    EXPECT_EQ(stored.size, 13);
    archive.sync();
    EXPECT_EQ(mode_of(tmp.path()), 0755u);
    EXPECT_EQ(mode_of(root), 0775u) << "the root existed: its mode is the administrator's";
    EXPECT_EQ(mode_of(root / "09"), 0711u) << "an existing folder keeps its mode";
    EXPECT_EQ(mode_of(root / "09/095912"), 0750u);
    EXPECT_EQ(mode_of(root / "09/095912/0590072H"), 0750u);
    EXPECT_EQ(mode_of(root / "09/095912/0590072H/12"), 0750u);
    EXPECT_EQ(mode_of(root / "09/095912/0590072H/12/ppo.pdf"), 0640u);
    EXPECT_EQ(archive.read(stored.path), "%PDF-1.4 data");
}

TEST(FileArchive, OpenReadsAFileAPieceAtATime) {
    TempDir tmp;
    FileArchive archive((tmp.path() / "archive").string());
    std::string data;
    for (int i = 0; i < 100000; ++i) data += static_cast<char>('a' + i % 26);
    const auto stored = archive.write("09/095912/0596082R/1", "ppo.pdf", data);
    auto file = archive.open(stored.path);
    EXPECT_EQ(file->size(), data.size());
    std::string back;
    char buffer[4096];
    for (std::size_t n; (n = file->read(buffer, sizeof buffer)) > 0;) back.append(buffer, n);
    EXPECT_EQ(back, data);
    EXPECT_EQ(file->read(buffer, sizeof buffer), 0u);
    try {
        archive.open((tmp.path() / "archive/none.pdf").string());
        FAIL() << "a missing file opened";
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::transient);
        EXPECT_NE(std::string(e.what()).find("none.pdf"), std::string::npos);
    }
    EXPECT_THROW(archive.open((tmp.path() / "archive").string()), ppo::Error);   // a folder is not a file
}
