#include "bench/dovecot_server.h"

#include "bench/smtp_capture.h"   // free_port()
#include "bench/tls_cert.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

namespace ppo::testbench {

namespace {

// Dovecot 2.3.19's own post-login capability list; used when IDLE or MOVE must
// be left out (imap_capability replaces the whole list).
const char* const kDefaultCapabilities[] = {
    "IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "SORT", "SORT=DISPLAY",
    "THREAD=REFERENCES", "THREAD=REFS", "THREAD=ORDEREDSUBJECT", "MULTIAPPEND", "URL-PARTIAL", "CATENATE",
    "UNSELECT", "CHILDREN", "NAMESPACE", "UIDPLUS", "LIST-EXTENDED", "I18NLEVEL=1", "CONDSTORE", "QRESYNC",
    "ESEARCH", "ESORT", "SEARCHRES", "WITHIN", "CONTEXT=SEARCH", "LIST-STATUS", "BINARY", "MOVE",
    "SNIPPET=FUZZY", "PREVIEW=FUZZY", "PREVIEW", "STATUS=SIZE", "SAVEDATE", "LITERAL+", "NOTIFY"};

// UTF-8 mailbox name to IMAP modified UTF-7 (RFC 3501 5.1.3).
std::string encode_mailbox(const std::string& utf8) {
    static const char* const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    std::string out;
    std::vector<unsigned char> pending;   // UTF-16BE bytes
    auto flush = [&] {
        if (pending.empty()) return;
        out += '&';
        std::size_t i = 0;
        for (; i + 2 < pending.size(); i += 3) {
            unsigned v = (pending[i] << 16u) | (pending[i + 1] << 8u) | pending[i + 2];
            out += alphabet[(v >> 18) & 63];
            out += alphabet[(v >> 12) & 63];
            out += alphabet[(v >> 6) & 63];
            out += alphabet[v & 63];
        }
        std::size_t rest = pending.size() - i;
        if (rest == 1) {
            unsigned v = pending[i] << 16u;
            out += alphabet[(v >> 18) & 63];
            out += alphabet[(v >> 12) & 63];
        } else if (rest == 2) {
            unsigned v = (pending[i] << 16u) | (pending[i + 1] << 8u);
            out += alphabet[(v >> 18) & 63];
            out += alphabet[(v >> 12) & 63];
            out += alphabet[(v >> 6) & 63];
        }
        out += '-';
        pending.clear();
    };
    auto push16 = [&](unsigned unit) {
        pending.push_back(static_cast<unsigned char>(unit >> 8));
        pending.push_back(static_cast<unsigned char>(unit & 0xff));
    };
    for (std::size_t i = 0; i < utf8.size();) {
        unsigned char c = static_cast<unsigned char>(utf8[i]);
        unsigned cp = c;
        std::size_t len = 1;
        if (c >= 0xf0) cp = c & 0x07u, len = 4;
        else if (c >= 0xe0) cp = c & 0x0fu, len = 3;
        else if (c >= 0xc0) cp = c & 0x1fu, len = 2;
        for (std::size_t k = 1; k < len && i + k < utf8.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3fu);
        i += len;
        if (cp >= 0x20 && cp <= 0x7e) {
            flush();
            out += cp == '&' ? std::string("&-") : std::string(1, static_cast<char>(cp));
        } else if (cp >= 0x10000) {
            cp -= 0x10000;
            push16(0xd800 + (cp >> 10));
            push16(0xdc00 + (cp & 0x3ff));
        } else {
            push16(cp);
        }
    }
    flush();
    return out;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// A minimal IMAP client over a plain POSIX socket: enough for LOGIN, APPEND,
// STATUS, EXAMINE, UID FETCH, CREATE, LIST. Independent of the code under test.
class ImapClient {
public:
    struct Line {
        std::string text;                   // the response with literals shown as {n}
        std::vector<std::string> literals;  // literal contents, in order
    };
    struct Response {
        std::vector<Line> untagged;
        std::string status;                 // OK, NO, BAD
        std::string text;                   // the tagged line after the status
        bool ok() const { return status == "OK"; }
    };

    // Connects and logs in.
    ImapClient(int port, const std::string& user, const std::string& password) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        timeval tv{15, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            int e = errno;
            ::close(fd_);
            throw std::runtime_error("IMAP connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(e));
        }
        try {
            std::string greeting = read_line();
            if (greeting.rfind("* OK", 0) != 0) throw std::runtime_error("IMAP greeting: " + greeting);
            Response r = command("LOGIN " + quote(user) + " " + quote(password));
            if (!r.ok()) throw std::runtime_error("IMAP LOGIN failed: " + r.status + " " + r.text);
        } catch (...) {
            ::close(fd_);
            throw;
        }
    }
    ~ImapClient() {
        try {
            write("Z LOGOUT\r\n");
        } catch (...) {
        }
        ::close(fd_);
    }
    ImapClient(const ImapClient&) = delete;
    ImapClient& operator=(const ImapClient&) = delete;

    Response command(const std::string& cmd) {
        std::string tag = next_tag();
        write(tag + " " + cmd + "\r\n");
        return read_response(tag);
    }

    // `prefix` {n}\r\n <literal>\r\n, waiting for the continuation request.
    Response command_with_literal(const std::string& prefix, const std::string& literal) {
        std::string tag = next_tag();
        write(tag + " " + prefix + " {" + std::to_string(literal.size()) + "}\r\n");
        Line line = read_response_line();
        if (line.text.rfind("+", 0) != 0) {
            Response r;
            r.untagged.push_back(line);
            if (line.text.rfind(tag + " ", 0) == 0) {
                set_tagged(r, line.text, tag);
                return r;
            }
            throw std::runtime_error("IMAP: expected a continuation, got: " + line.text);
        }
        write(literal + "\r\n");
        return read_response(tag);
    }

private:
    std::string next_tag() { return "A" + std::to_string(++tag_); }

    void write(const std::string& data) {
        std::size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error(std::string("IMAP send: ") + std::strerror(errno));
            done += static_cast<std::size_t>(n);
        }
    }

    bool fill() {
        char chunk[65536];
        for (;;) {
            ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw std::runtime_error(std::string("IMAP recv: ") + std::strerror(errno));
            if (n == 0) return false;
            buffer_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
    }

    std::string read_line() {
        for (;;) {
            auto pos = buffer_.find("\r\n");
            if (pos != std::string::npos) {
                std::string line = buffer_.substr(0, pos);
                buffer_.erase(0, pos + 2);
                return line;
            }
            if (!fill()) throw std::runtime_error("IMAP: connection closed by the server");
        }
    }

    std::string read_bytes(std::size_t n) {
        while (buffer_.size() < n)
            if (!fill()) throw std::runtime_error("IMAP: connection closed inside a literal");
        std::string data = buffer_.substr(0, n);
        buffer_.erase(0, n);
        return data;
    }

    Line read_response_line() {
        Line line;
        line.text = read_line();
        for (;;) {
            // A line ending in {n} (or {n+}) announces a literal of n bytes.
            const std::string& t = line.text;
            if (t.empty() || t.back() != '}') break;
            auto open = t.rfind('{');
            if (open == std::string::npos) break;
            std::string digits = t.substr(open + 1, t.size() - open - 2);
            if (!digits.empty() && digits.back() == '+') digits.pop_back();
            if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
                break;
            line.literals.push_back(read_bytes(std::stoul(digits)));
            line.text += read_line();
        }
        return line;
    }

    static void set_tagged(Response& r, const std::string& text, const std::string& tag) {
        std::string rest = text.substr(tag.size() + 1);
        auto space = rest.find(' ');
        r.status = rest.substr(0, space);
        r.text = space == std::string::npos ? "" : rest.substr(space + 1);
    }

    Response read_response(const std::string& tag) {
        Response r;
        for (;;) {
            Line line = read_response_line();
            if (line.text.rfind(tag + " ", 0) == 0) {
                set_tagged(r, line.text, tag);
                return r;
            }
            r.untagged.push_back(std::move(line));
        }
    }

    int fd_ = -1;
    int tag_ = 0;
    std::string buffer_;
};

}  // namespace

struct DovecotServer::Impl {
    DovecotOptions options;
    std::string dir;
    std::string config;
    std::string log;
    TlsFiles tls;
    int port = 0;
    int imaps_port = 0;
    pid_t pid = -1;

    void write_config() {
        const bool root = ::geteuid() == 0;
        std::string user_name, group_name;
        if (!root) {
            // Unprivileged: Dovecot runs every service as the current user.
            if (passwd* pw = ::getpwuid(::geteuid())) user_name = pw->pw_name;
            if (group* gr = ::getgrgid(::getegid())) group_name = gr->gr_name;
        }
        std::ostringstream c;
        c << "# generated by ppo::testbench::DovecotServer\n"
          << "protocols = imap\n"
          << "listen = 127.0.0.1\n"
          << "base_dir = " << dir << "/run\n"
          << "state_dir = " << dir << "/state\n"
          << "instance_name = ppo-test-" << port << "\n"
          << "log_path = " << log << "\n"
          << "info_log_path = " << log << "\n"
          << "debug_log_path = " << log << "\n"
          << "disable_plaintext_auth = no\n"
          << "auth_mechanisms = plain login\n"
          << "first_valid_uid = 1\n"
          << "mail_location = maildir:" << dir << "/mail/%u/Maildir\n"
          << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " << dir << "/passwd\n}\n";
        if (root) {
            c << "userdb {\n  driver = static\n  args = uid=dovenull gid=dovenull home=" << dir << "/mail/%u\n}\n";
        } else {
            c << "default_internal_user = " << user_name << "\n"
              << "default_login_user = " << user_name << "\n"
              << "default_internal_group = " << group_name << "\n"
              << "userdb {\n  driver = static\n  args = uid=" << ::geteuid() << " gid=" << ::getegid() << " home=" << dir
              << "/mail/%u\n}\n"
              << "service anvil {\n  chroot =\n}\n";
        }
        if (options.tls) {
            c << "ssl = yes\n"
              << "ssl_cert = <" << tls.cert << "\n"
              << "ssl_key = <" << tls.key << "\n";
        } else {
            c << "ssl = no\n";
        }
        if (!options.namespace_prefix.empty()) {
            c << "namespace inbox {\n  inbox = yes\n  prefix = " << options.namespace_prefix << "\n  separator = "
              << options.namespace_separator << "\n}\n";
        }
        if (!options.enable_idle || !options.enable_move || !options.enable_uidplus) {
            c << "imap_capability =";
            for (const char* cap : kDefaultCapabilities) {
                std::string s = cap;
                if ((s == "IDLE" && !options.enable_idle) || (s == "MOVE" && !options.enable_move) ||
                    (s == "UIDPLUS" && !options.enable_uidplus))
                    continue;
                c << " " << s;
            }
            c << "\n";
        }
        c << "service imap-login {\n"
          << "  inet_listener imap {\n    address = 127.0.0.1\n    port = " << port << "\n  }\n"
          << "  inet_listener imaps {\n    address = 127.0.0.1\n    port = " << imaps_port << "\n"
          << (options.tls ? "    ssl = yes\n" : "") << "  }\n"
          << (root ? "" : "  chroot =\n") << "}\n"
          << "service imap {\n  process_limit = 64\n}\n"
          << options.extra_config << "\n";
        detail::write_file(config, c.str());
    }

    // Starts dovecot in the foreground as our child; waits for the listeners.
    // Returns "" when up, else the reason (with the log).
    std::string launch() {
        pid = detail::spawn({"dovecot", "-F", "-c", config}, log);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (!detail::alive(pid)) {
                pid = -1;
                return "dovecot exited during start-up";
            }
            if (detail::can_connect(port) && (imaps_port == 0 || detail::can_connect(imaps_port))) return "";
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        detail::terminate(pid);
        pid = -1;
        return "dovecot did not accept connections within 10 s";
    }

    void start_first_time() {
        // free_port() can race with another fixture; retry with other ports
        // when the address is taken.
        for (int attempt = 0;; ++attempt) {
            port = free_port();
            imaps_port = options.tls ? free_port() : 0;
            write_config();
            std::size_t log_size = detail::read_file(log).size();
            std::string failure = launch();
            if (failure.empty()) return;
            std::string log_now = detail::read_file(log).substr(log_size);
            if (attempt < 4 && log_now.find("in use") != std::string::npos) continue;
            throw std::runtime_error("DovecotServer: " + failure + "; config " + config + "; log:\n" + detail::read_file(log));
        }
    }
};

DovecotServer::DovecotServer(DovecotOptions options) : impl_(new Impl) {
    Impl& d = *impl_;
    try {
        d.options = std::move(options);
        d.dir = detail::make_temp_dir("ppo-dovecot-");
        d.config = d.dir + "/dovecot.conf";
        d.log = d.dir + "/dovecot.log";
        namespace fs = std::filesystem;
        // The mail processes run as dovenull: they must traverse dir and own mail/.
        ::chmod(d.dir.c_str(), 0755);
        fs::create_directories(d.dir + "/run");
        fs::create_directories(d.dir + "/state");
        fs::create_directories(d.dir + "/mail");
        if (::geteuid() == 0) {
            passwd* pw = ::getpwnam("dovenull");
            if (!pw) throw std::runtime_error("DovecotServer: no dovenull user (is dovecot-core installed?)");
            if (::chown((d.dir + "/mail").c_str(), pw->pw_uid, pw->pw_gid) != 0)
                throw std::runtime_error(std::string("DovecotServer: chown mail: ") + std::strerror(errno));
        }
        detail::write_file(d.dir + "/passwd", d.options.user + ":{PLAIN}" + d.options.password + "\n");
        if (d.options.tls)
            d.tls = d.options.certificate.cert.empty() ? make_self_signed_cert(d.dir, "dovecot") : d.options.certificate;
        d.start_first_time();
    } catch (...) {
        detail::terminate(d.pid);
        detail::remove_temp_dir(d.dir);
        delete impl_;
        throw;
    }
}

DovecotServer::~DovecotServer() {
    detail::terminate(impl_->pid, std::chrono::seconds(10));
    detail::remove_temp_dir(impl_->dir);
    delete impl_;
}

int DovecotServer::port() const { return impl_->port; }
int DovecotServer::imaps_port() const { return impl_->imaps_port; }
const std::string& DovecotServer::user() const { return impl_->options.user; }
const std::string& DovecotServer::password() const { return impl_->options.password; }
const std::string& DovecotServer::dir() const { return impl_->dir; }
std::string DovecotServer::url() const { return "imap://127.0.0.1:" + std::to_string(impl_->port); }
std::string DovecotServer::imaps_url() const {
    return impl_->imaps_port ? "imaps://127.0.0.1:" + std::to_string(impl_->imaps_port) : "";
}
const std::string& DovecotServer::cert_file() const { return impl_->tls.cert; }
std::string DovecotServer::log() const { return detail::read_file(impl_->log); }

std::uint32_t DovecotServer::append(const std::string& raw_message, const std::string& mailbox) {
    ImapClient client(impl_->port, impl_->options.user, impl_->options.password);
    const std::string name = quote(encode_mailbox(mailbox));
    auto r = client.command_with_literal("APPEND " + name, raw_message);
    if (!r.ok() && r.text.find("[TRYCREATE]") != std::string::npos) {
        auto created = client.command("CREATE " + name);
        if (!created.ok()) throw std::runtime_error("IMAP CREATE " + mailbox + ": " + created.text);
        r = client.command_with_literal("APPEND " + name, raw_message);
    }
    if (!r.ok()) throw std::runtime_error("IMAP APPEND " + mailbox + ": " + r.status + " " + r.text);
    auto pos = r.text.find("[APPENDUID ");
    if (pos == std::string::npos) throw std::runtime_error("IMAP APPEND: no APPENDUID in: " + r.text);
    std::istringstream in(r.text.substr(pos + 11));
    std::uint32_t validity = 0, uid = 0;
    in >> validity >> uid;
    return uid;
}

void DovecotServer::append_many(std::size_t count, const std::function<std::string(std::size_t)>& make,
                                const std::string& mailbox) {
    ImapClient client(impl_->port, impl_->options.user, impl_->options.password);
    const std::string name = quote(encode_mailbox(mailbox));
    for (std::size_t i = 0; i < count; ++i) {
        auto r = client.command_with_literal("APPEND " + name, make(i));
        if (!r.ok()) throw std::runtime_error("IMAP APPEND " + mailbox + ": " + r.status + " " + r.text);
    }
}

std::size_t DovecotServer::count(const std::string& mailbox) {
    ImapClient client(impl_->port, impl_->options.user, impl_->options.password);
    auto r = client.command("STATUS " + quote(encode_mailbox(mailbox)) + " (MESSAGES)");
    if (!r.ok()) return 0;
    for (const auto& line : r.untagged) {
        auto pos = line.text.find("(MESSAGES ");
        if (line.text.rfind("* STATUS", 0) == 0 && pos != std::string::npos)
            return std::stoul(line.text.substr(pos + 10));
    }
    return 0;
}

std::vector<std::string> DovecotServer::messages(const std::string& mailbox) {
    ImapClient client(impl_->port, impl_->options.user, impl_->options.password);
    auto selected = client.command("EXAMINE " + quote(encode_mailbox(mailbox)));
    if (!selected.ok()) return {};
    std::size_t exists = 0;
    for (const auto& line : selected.untagged)
        if (line.text.size() > 9 && line.text.ends_with(" EXISTS")) exists = std::stoul(line.text.substr(2));
    if (exists == 0) return {};
    auto r = client.command("UID FETCH 1:* (UID BODY.PEEK[])");
    if (!r.ok()) throw std::runtime_error("IMAP UID FETCH: " + r.status + " " + r.text);
    std::vector<std::pair<std::uint32_t, std::string>> found;
    for (const auto& line : r.untagged) {
        if (line.text.find(" FETCH (") == std::string::npos || line.literals.empty()) continue;
        auto pos = line.text.find("UID ");
        std::uint32_t uid = pos == std::string::npos ? 0 : static_cast<std::uint32_t>(std::stoul(line.text.substr(pos + 4)));
        found.emplace_back(uid, line.literals.front());
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> result;
    for (auto& [uid, raw] : found) result.push_back(std::move(raw));
    return result;
}

void DovecotServer::create_mailbox(const std::string& mailbox) {
    ImapClient client(impl_->port, impl_->options.user, impl_->options.password);
    auto r = client.command("CREATE " + quote(encode_mailbox(mailbox)));
    if (!r.ok() && r.text.find("[ALREADYEXISTS]") == std::string::npos)
        throw std::runtime_error("IMAP CREATE " + mailbox + ": " + r.status + " " + r.text);
}

std::vector<std::string> DovecotServer::mailboxes() {
    ImapClient client(impl_->port, impl_->options.user, impl_->options.password);
    auto r = client.command("LIST \"\" \"*\"");
    if (!r.ok()) throw std::runtime_error("IMAP LIST: " + r.status + " " + r.text);
    std::vector<std::string> names;
    for (const auto& line : r.untagged) {
        if (line.text.rfind("* LIST ", 0) != 0) continue;
        if (!line.literals.empty()) {
            names.push_back(line.literals.back());
            continue;
        }
        // * LIST (\flags) "." "name"   or   ... name
        std::string t = line.text;
        if (!t.empty() && t.back() == '"') {
            std::string name;
            std::size_t i = t.size() - 2;
            // walk back to the opening quote, honouring backslash escapes
            while (i > 0 && !(t[i] == '"' && t[i - 1] != '\\')) --i;
            for (std::size_t k = i + 1; k + 1 < t.size(); ++k) {
                if (t[k] == '\\' && k + 2 < t.size()) ++k;
                name += t[k];
            }
            names.push_back(name);
        } else {
            names.push_back(t.substr(t.rfind(' ') + 1));
        }
    }
    return names;
}

std::string DovecotServer::capabilities() {
    ImapClient client(impl_->port, impl_->options.user, impl_->options.password);
    auto r = client.command("CAPABILITY");
    for (const auto& line : r.untagged)
        if (line.text.rfind("* CAPABILITY ", 0) == 0) return line.text.substr(13);
    throw std::runtime_error("IMAP CAPABILITY: no answer");
}

void DovecotServer::stop() {
    detail::terminate(impl_->pid, std::chrono::seconds(10));
    impl_->pid = -1;
}

void DovecotServer::start() {
    if (detail::alive(impl_->pid)) return;
    impl_->pid = -1;
    std::string failure = impl_->launch();
    if (!failure.empty())
        throw std::runtime_error("DovecotServer restart: " + failure + "; log:\n" + detail::read_file(impl_->log));
}

}  // namespace ppo::testbench
