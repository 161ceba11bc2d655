// daemon/web/web_users: the users file (round trip, every kind of bad line
// refused with its file and line, atomic 0640 writes), Argon2id hashing (the
// password itself is never stored) and the directory the server reads again
// when the file changes.
#include "daemon/web/web_users.h"

#include "parsers/text/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace ppo::daemon::web;

// One Argon2id hash for the parse tests (each costs 64 MiB and ~0.1 s).
const std::string& sample_hash() {
    static const std::string h = hash_password("correct horse battery staple");
    return h;
}

std::string parse_error(const std::string& text) {
    try {
        parse_users(text, "/etc/ppo-intake/users");
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::config);
        return e.what();
    }
    ADD_FAILURE() << "accepted: " << text;
    return "";
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct TempDir {
    TempDir() {
        path = (fs::temp_directory_path() / ("ppo-web-users-" + std::to_string(::getpid()) + "-" +
                                             std::to_string(counter++)))
                   .string();
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string path;
    static inline int counter = 0;
};

TEST(WebUsers, HashIsArgon2idSaltedAndVerifies) {
    const std::string password = "un mot de passe très long";
    const auto a = hash_password(password);
    const auto b = hash_password(password);
    EXPECT_EQ(a.rfind("$argon2id$", 0), 0u) << a;
    EXPECT_NE(a, b);   // a random salt each time
    EXPECT_EQ(a.find(password), std::string::npos);
    EXPECT_TRUE(verify_password(a, password));
    EXPECT_TRUE(verify_password(b, password));
    EXPECT_FALSE(verify_password(a, password + "x"));
    EXPECT_FALSE(verify_password(a, ""));
    EXPECT_FALSE(verify_password("not a hash", password));
    EXPECT_FALSE(verify_password("", password));
}

TEST(WebUsers, RoundTripThroughTheFileKeepsEverythingButThePassword) {
    TempDir dir;
    const std::string path = dir.path + "/users";
    const std::string password = "Sésame, ouvre-toi 2022";
    std::vector<User> users = {{"draio.lille", "draio", {}, hash_password(password)},
                               {"ien.douai", "ien-io", {"095912", "095913"}, sample_hash()}};
    save_users(path, users);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    const std::string text = slurp(path);
    EXPECT_EQ(text.find(password), std::string::npos) << "the password itself reached the file";
    EXPECT_NE(text.find("ien.douai:ien-io:095912,095913:$argon2id$"), std::string::npos) << text;
    // No temporary file left beside it.
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir.path)) (void)e, ++files;
    EXPECT_EQ(files, 1);

    const auto back = load_users(path);
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].login, "draio.lille");
    EXPECT_EQ(back[0].role, "draio");
    EXPECT_TRUE(back[0].bassins.empty());
    EXPECT_EQ(back[1].bassins, (std::vector<std::string>{"095912", "095913"}));
    EXPECT_TRUE(verify_password(back[0].hash, password));
    EXPECT_EQ(format_users(back), format_users(users));

    // Written again: still 0640, replaced in one piece.
    users.pop_back();
    save_users(path, users);
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    EXPECT_EQ(load_users(path).size(), 1u);
}

TEST(WebUsers, AbsentFileIsNoUserAndAnUnwritableFolderIsAnError) {
    TempDir dir;
    EXPECT_TRUE(load_users(dir.path + "/none").empty());
    EXPECT_THROW(save_users(dir.path + "/missing-folder/users", {}), ppo::Error);
}

TEST(WebUsers, CommentsBlankLinesAndCrlfAreFine) {
    const auto users = parse_users("# who may log in\r\n\r\n   \nalice:draio::" + sample_hash() +
                                       "\r\n  # indented comment\nbob:ien-io:A1,B2,A1:" + sample_hash() + "\n",
                                   "users");
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0].hash, sample_hash());
    EXPECT_EQ(users[1].bassins, (std::vector<std::string>{"A1", "B2"}));   // a repeated code once
}

TEST(WebUsers, EveryBadLineIsRefusedWithItsFileAndLine) {
    const std::string h = sample_hash();
    struct Case {
        std::string line, expected;
    };
    for (const auto& c : std::vector<Case>{
             {"alice:draio:" + h, "4 fields"},
             {"alice:draio::" + h + ":extra", "4 fields"},
             {"Alice:draio::" + h, "login 'Alice'"},
             {"al ice:draio::" + h, "login"},
             {":draio::" + h, "login ''"},
             {std::string(65, 'a') + ":draio::" + h, "1 to 64"},
             {"alice:admin::" + h, "expected draio or ien-io"},
             {"alice:ien-io::" + h, "at least one bassin"},
             {"alice:draio:095912:" + h, "draio sees every bassin"},
             {"alice:ien-io:09/59:" + h, "bassin '09/59'"},
             {"alice:ien-io:A1,,B2:" + h, "bassin ''"},
             {"alice:ien-io:" + std::string(17, '1') + ":" + h, "bassin"},
             {"alice:draio::hunter2", "Argon2id hash"},
             {"alice:draio::$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "Argon2id hash"},
             {"alice:draio::" + h + " ", "Argon2id hash"},
         }) {
        const auto what = parse_error("# users\n" + c.line + "\n");
        EXPECT_NE(what.find("/etc/ppo-intake/users:2: "), std::string::npos) << c.line << " -> " << what;
        EXPECT_NE(what.find(c.expected), std::string::npos) << c.line << " -> " << what;
        EXPECT_EQ(what.find(h.substr(30)), std::string::npos) << "a hash quoted in: " << what;
    }
    const auto twice = parse_error("alice:draio::" + h + "\nbob:draio::" + h + "\nalice:draio::" + h + "\n");
    EXPECT_NE(twice.find("users:3: user alice is listed twice"), std::string::npos) << twice;
}

TEST(WebUsers, LoginRoleAndBassinRules) {
    EXPECT_TRUE(valid_login("ien.io-douai_2"));
    EXPECT_TRUE(valid_login(std::string(64, 'z')));
    EXPECT_FALSE(valid_login(std::string(65, 'z')));
    EXPECT_FALSE(valid_login(""));
    EXPECT_FALSE(valid_login("Alice"));
    EXPECT_FALSE(valid_login("a:b"));
    EXPECT_FALSE(valid_login("élise"));
    EXPECT_TRUE(valid_role("draio"));
    EXPECT_TRUE(valid_role("ien-io"));
    EXPECT_FALSE(valid_role("DRAIO"));
    EXPECT_TRUE(valid_bassin_code("095912"));
    EXPECT_FALSE(valid_bassin_code("09 59"));
    EXPECT_FALSE(valid_bassin_code(""));
}

TEST(WebUsers, DirectoryReadsTheFileAgainWhenItChanges) {
    TempDir dir;
    const std::string path = dir.path + "/users";
    save_users(path, {{"alice", "draio", {}, hash_password("first password!")}});
    UserDirectory directory(path);
    ASSERT_TRUE(directory.authenticate("alice", "first password!"));
    EXPECT_FALSE(directory.authenticate("alice", "second password"));
    EXPECT_FALSE(directory.authenticate("nobody", "first password!"));
    EXPECT_EQ(directory.authenticate("alice", "first password!")->role, "draio");

    // A new password and a new user: seen at once, no restart.
    save_users(path, {{"alice", "draio", {}, hash_password("second password")},
                      {"bob", "ien-io", {"095912"}, sample_hash()}});
    EXPECT_FALSE(directory.authenticate("alice", "first password!"));
    EXPECT_TRUE(directory.authenticate("alice", "second password"));
    ASSERT_TRUE(directory.find("bob"));
    EXPECT_EQ(directory.find("bob")->bassins, (std::vector<std::string>{"095912"}));

    // A broken file: the previous users stay.
    {
        std::ofstream(path + ".tmp") << "alice:root::x\n";
        fs::rename(path + ".tmp", path);
    }
    EXPECT_TRUE(directory.find("bob"));
    EXPECT_TRUE(directory.authenticate("alice", "second password"));

    // Removed: gone.
    save_users(path, {{"alice", "draio", {}, hash_password("second password")}});
    EXPECT_FALSE(directory.find("bob"));
    fs::remove(path);
    EXPECT_FALSE(directory.find("alice"));
    EXPECT_EQ(directory.size(), 0u);
}

}  // namespace
