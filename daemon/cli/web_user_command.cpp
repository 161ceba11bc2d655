// ppo-intake user add|list|remove: the web interface's users file.
#include "daemon/app/privileges.h"
#include "daemon/app/service.h"
#include "daemon/web/web_users.h"
#include "parsers/text/error.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace ppo::daemon {

namespace {

constexpr std::size_t kMinPasswordChars = 12;

// Characters, not bytes: "é" is one.
std::size_t utf8_chars(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The first line of stdin, without its line end. On a terminal, asked for
// without echo.
std::string read_password(const std::string& login) {
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    termios saved{};
    if (tty && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
        std::cerr << "Password for " << login << " (" << kMinPasswordChars << " characters or more): " << std::flush;
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::cerr << "\n";
    }
    if (!got && line.empty())
        throw UsageErrorInCommand("user add: no password on stdin (its first line is the password), nothing changed");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// The group of the state directory's owner (the service user's): a users
// file root creates for the first time gets it, so that the daemon can read it.
gid_t service_group(const workflow::Config& config) {
    struct stat st {};
    if (::stat(state_directory(config).c_str(), &st) == 0) return st.st_gid;
    return static_cast<gid_t>(-1);
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

int user_add(Context& ctx, const std::vector<std::string>& args) {
    std::string login, role;
    std::vector<std::string> bassins;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--role" && i + 1 < args.size()) role = args[++i];
        else if (a.rfind("--role=", 0) == 0) role = a.substr(7);
        else if (a == "--bassin" && i + 1 < args.size()) bassins.push_back(args[++i]);
        else if (a.rfind("--bassin=", 0) == 0) bassins.push_back(a.substr(9));
        else if (!a.empty() && a[0] != '-' && login.empty()) login = a;
        else throw UsageErrorInCommand("user add: unexpected argument '" + a + "'");
    }
    if (login.empty()) throw UsageErrorInCommand("user add: expected LOGIN --role draio|ien-io [--bassin CODE]...");
    if (!web::valid_login(login))
        throw UsageErrorInCommand("user add: '" + login +
                                  "' is not a login: 1 to 64 characters among a-z, 0-9, '.', '_' and '-'");
    if (!web::valid_role(role))
        throw UsageErrorInCommand(role.empty() ? "user add: --role draio or --role ien-io is required"
                                               : "user add: role '" + role + "': expected draio or ien-io");
    for (const auto& b : bassins)
        if (!web::valid_bassin_code(b))
            throw UsageErrorInCommand("user add: '" + b + "' is not a bassin code (1 to 16 letters and digits)");
    if (role == "ien-io" && bassins.empty())
        throw UsageErrorInCommand("user add: an ien-io sees the lycées of their bassins: give at least one --bassin CODE");
    if (role == "draio" && !bassins.empty())
        throw UsageErrorInCommand("user add: a draio sees every bassin: --bassin is for ien-io users only");
    std::sort(bassins.begin(), bassins.end());
    bassins.erase(std::unique(bassins.begin(), bassins.end()), bassins.end());

    const auto& path = ctx.config.web.users_file;
    auto users = web::load_users(path);   // a broken file is refused before the password is asked
    std::string password = read_password(login);
    if (password.empty()) throw UsageErrorInCommand("user add: the password is empty, nothing changed");
    if (utf8_chars(password) < kMinPasswordChars) {
        sodium_memzero(password.data(), password.size());
        throw UsageErrorInCommand("user add: the password is shorter than " + std::to_string(kMinPasswordChars) +
                                  " characters, nothing changed");
    }
    web::User user{login, role, bassins, web::hash_password(password)};
    sodium_memzero(password.data(), password.size());
    auto it = std::find_if(users.begin(), users.end(), [&](const web::User& u) { return u.login == login; });
    const bool replaced = it != users.end();
    if (replaced) *it = user;
    else users.push_back(user);
    web::save_users(path, users, service_group(ctx.config));
    const std::string what = role + (bassins.empty() ? "" : ", bassins " + joined(bassins));
    if (replaced) {
        std::cout << "User " << login << " replaced in " << path << ": new password, " << what
                  << " (their open sessions follow the new role at their next click).\n";
        spdlog::info("web user {} replaced ({})", login, what);
    } else {
        std::cout << "User " << login << " added to " << path << " (" << what << ").\n";
        spdlog::info("web user {} added ({})", login, what);
    }
    return 0;
}

int user_list(Context& ctx, const std::vector<std::string>& args) {
    if (args.size() > 1) throw UsageErrorInCommand("user list: unexpected argument '" + args[1] + "'");
    const auto users = web::load_users(ctx.config.web.users_file);
    if (users.empty()) {
        std::cout << "No web user in " << ctx.config.web.users_file << " (add one with 'ppo-intake user add').\n";
        return 0;
    }
    std::size_t width = 5;
    for (const auto& u : users) width = std::max(width, u.login.size());
    std::cout << "login" << std::string(width - 5 + 2, ' ') << "role    bassins\n";
    for (const auto& u : users)
        std::cout << u.login << std::string(width - u.login.size() + 2, ' ') << u.role
                  << std::string(u.role.size() < 8 ? 8 - u.role.size() : 1, ' ')
                  << (u.bassins.empty() ? "(all)" : joined(u.bassins)) << "\n";
    return 0;
}

int user_remove(Context& ctx, const std::vector<std::string>& args) {
    if (args.size() != 2) throw UsageErrorInCommand("user remove: expected LOGIN");
    const auto& login = args[1];
    const auto& path = ctx.config.web.users_file;
    auto users = web::load_users(path);
    auto it = std::find_if(users.begin(), users.end(), [&](const web::User& u) { return u.login == login; });
    if (it == users.end()) throw permanent_error("user remove: no user '" + login + "' in " + path);
    users.erase(it);
    web::save_users(path, users, service_group(ctx.config));
    std::cout << "User " << login << " removed from " << path << " (their sessions end at their next click).\n";
    spdlog::info("web user {} removed", login);
    return 0;
}

}  // namespace

int cmd_user(Context& ctx, const std::vector<std::string>& args) {
    if (args.empty()) throw UsageErrorInCommand("user: expected 'add LOGIN --role ROLE [--bassin CODE]...', 'list' or 'remove LOGIN'");
    if (args[0] == "add") return user_add(ctx, args);
    if (args[0] == "list") return user_list(ctx, args);
    if (args[0] == "remove") return user_remove(ctx, args);
    throw UsageErrorInCommand("user: unknown subcommand '" + args[0] + "' (add, list or remove)");
}

}  // namespace ppo::daemon
