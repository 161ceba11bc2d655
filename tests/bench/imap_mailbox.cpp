#include "bench/imap_mailbox.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace ppo::testbench {

namespace {

// A minimal IMAP client over a plain POSIX socket: LOGIN, APPEND, STATUS,
// EXAMINE, UID FETCH, CREATE, LIST, NAMESPACE. Independent of the code under test.

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

std::uint32_t imap_append(const ImapLogin& login, const std::string& raw_message, const std::string& mailbox,
                          bool require_uid) {
    ImapClient client(login.port, login.user, login.password);
    const std::string name = quote(encode_mailbox(mailbox));
    auto r = client.command_with_literal("APPEND " + name, raw_message);
    if (!r.ok() && r.text.find("[TRYCREATE]") != std::string::npos) {
        auto created = client.command("CREATE " + name);
        if (!created.ok()) throw std::runtime_error("IMAP CREATE " + mailbox + ": " + created.text);
        r = client.command_with_literal("APPEND " + name, raw_message);
    }
    if (!r.ok()) throw std::runtime_error("IMAP APPEND " + mailbox + ": " + r.status + " " + r.text);
    auto pos = r.text.find("[APPENDUID ");
    if (pos == std::string::npos) {
        if (require_uid) throw std::runtime_error("IMAP APPEND: no APPENDUID in: " + r.text);
        return 0;
    }
    std::istringstream in(r.text.substr(pos + 11));
    std::uint32_t validity = 0, uid = 0;
    in >> validity >> uid;
    return uid;
}

void imap_append_many(const ImapLogin& login, std::size_t count, const std::function<std::string(std::size_t)>& make,
                      const std::string& mailbox) {
    ImapClient client(login.port, login.user, login.password);
    const std::string name = quote(encode_mailbox(mailbox));
    for (std::size_t i = 0; i < count; ++i) {
        auto r = client.command_with_literal("APPEND " + name, make(i));
        if (!r.ok()) throw std::runtime_error("IMAP APPEND " + mailbox + ": " + r.status + " " + r.text);
    }
}

std::size_t imap_count(const ImapLogin& login, const std::string& mailbox) {
    ImapClient client(login.port, login.user, login.password);
    auto r = client.command("STATUS " + quote(encode_mailbox(mailbox)) + " (MESSAGES)");
    if (!r.ok()) return 0;
    for (const auto& line : r.untagged) {
        auto pos = line.text.find("(MESSAGES ");
        if (line.text.rfind("* STATUS", 0) == 0 && pos != std::string::npos)
            return std::stoul(line.text.substr(pos + 10));
    }
    return 0;
}

std::vector<std::string> imap_messages(const ImapLogin& login, const std::string& mailbox) {
    ImapClient client(login.port, login.user, login.password);
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

void imap_create_mailbox(const ImapLogin& login, const std::string& mailbox) {
    ImapClient client(login.port, login.user, login.password);
    auto r = client.command("CREATE " + quote(encode_mailbox(mailbox)));
    if (!r.ok() && r.text.find("[ALREADYEXISTS]") == std::string::npos)
        throw std::runtime_error("IMAP CREATE " + mailbox + ": " + r.status + " " + r.text);
}

std::vector<std::string> imap_mailboxes(const ImapLogin& login) {
    ImapClient client(login.port, login.user, login.password);
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

std::string imap_capabilities(const ImapLogin& login) {
    ImapClient client(login.port, login.user, login.password);
    auto r = client.command("CAPABILITY");
    for (const auto& line : r.untagged)
        if (line.text.rfind("* CAPABILITY ", 0) == 0) return line.text.substr(13);
    throw std::runtime_error("IMAP CAPABILITY: no answer");
}

std::string imap_namespaces(const ImapLogin& login) {
    ImapClient client(login.port, login.user, login.password);
    auto r = client.command("NAMESPACE");
    if (!r.ok()) throw std::runtime_error("IMAP NAMESPACE: " + r.status + " " + r.text);
    for (const auto& line : r.untagged)
        if (line.text.rfind("* NAMESPACE ", 0) == 0) return line.text.substr(12);
    throw std::runtime_error("IMAP NAMESPACE: no answer");
}

}  // namespace ppo::testbench
