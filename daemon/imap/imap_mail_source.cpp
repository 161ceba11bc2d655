// MailSource over IMAP with libetpan. See imap_mail_source.h for the contract.
//
// Notes on libetpan (1.9.4) behaviour this file relies on:
//  - mailimap_free() sends LOGOUT when a stream is still attached; on a dead
//    connection that would block for the socket timeout, so disconnect() closes
//    the stream itself first (as MailCore does).
//  - A tagged NO leaves the session usable; libetpan then returns the command's
//    own error code (MAILIMAP_ERROR_LOGIN, _SELECT, ...). Stream, parse, BYE
//    (MAILIMAP_ERROR_FATAL) and protocol errors leave it in an unknown state: the
//    session is dropped and the next open() reconnects.
//  - libetpan writes with send(..., 0): a write to a connection the peer closed
//    raises SIGPIPE. Every call into libetpan runs under SigpipeGuard, which
//    blocks SIGPIPE in the calling thread and swallows the one it generated.
//  - In a set, 0 as the upper bound means '*'.
#include "daemon/imap/imap_mail_source.h"
#include "parsers/text/strings.h"

#include "daemon/net/tls_policy.h"
#include "parsers/text/error.h"

#include <libetpan/libetpan.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <pthread.h>
#include <unistd.h>

namespace ppo::daemon {

namespace {

using workflow::FetchedMessage;

namespace {

// INTERNALDATE as seconds since the epoch; dt_zone is the offset as +HHMM.
std::int64_t epoch_of(const mailimap_date_time& d) {
    namespace ch = std::chrono;
    const std::int64_t days = ch::sys_days(ch::year(d.dt_year) / ch::month(static_cast<unsigned>(d.dt_month)) /
                                           ch::day(static_cast<unsigned>(d.dt_day)))
                                  .time_since_epoch()
                                  .count();
    const int zone = d.dt_zone;
    const int sign = zone < 0 ? -1 : 1;
    const int offset_minutes = sign * ((sign * zone) / 100 * 60 + (sign * zone) % 100);
    return days * 86400 + d.dt_hour * 3600 + d.dt_min * 60 + d.dt_sec - offset_minutes * 60;
}

}  // namespace
using workflow::Folder;
using workflow::MessageSummary;

constexpr std::chrono::minutes max_idle_period{29};

// ---------------------------------------------------------------------------
// SIGPIPE: block it in this thread while libetpan writes, then swallow the one
// a write to a closed socket may have queued (the classic pattern used by curl
// and others when MSG_NOSIGNAL is not available to the caller).
class SigpipeGuard {
public:
    SigpipeGuard() {
        sigemptyset(&pipe_set_);
        sigaddset(&pipe_set_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_mask_);
    }
    ~SigpipeGuard() {
        if (!was_pending_) {
            sigset_t pending;
            sigemptyset(&pending);
            sigpending(&pending);
            if (sigismember(&pending, SIGPIPE) == 1) {
                const timespec zero{0, 0};
                while (sigtimedwait(&pipe_set_, nullptr, &zero) == -1 && errno == EINTR) {
                }
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    SigpipeGuard(const SigpipeGuard&) = delete;
    SigpipeGuard& operator=(const SigpipeGuard&) = delete;

private:
    sigset_t pipe_set_{};
    sigset_t old_mask_{};
    bool was_pending_ = false;
};

// ---------------------------------------------------------------------------
// Owning wrappers for libetpan structures.
struct SetFree {
    void operator()(mailimap_set* s) const { mailimap_set_free(s); }
};
struct FetchTypeFree {
    void operator()(mailimap_fetch_type* f) const { mailimap_fetch_type_free(f); }
};
struct FetchListFree {
    void operator()(clist* l) const { mailimap_fetch_list_free(l); }
};
struct MailboxListFree {
    void operator()(clist* l) const { mailimap_list_result_free(l); }
};
struct CapabilityFree {
    void operator()(mailimap_capability_data* c) const { mailimap_capability_data_free(c); }
};
struct NamespaceFree {
    void operator()(mailimap_namespace_data* n) const { mailimap_namespace_data_free(n); }
};
struct StoreAttFree {
    void operator()(mailimap_store_att_flags* s) const { mailimap_store_att_flags_free(s); }
};
using SetPtr = std::unique_ptr<mailimap_set, SetFree>;
using FetchTypePtr = std::unique_ptr<mailimap_fetch_type, FetchTypeFree>;
using FetchListPtr = std::unique_ptr<clist, FetchListFree>;
using MailboxListPtr = std::unique_ptr<clist, MailboxListFree>;
using CapabilityPtr = std::unique_ptr<mailimap_capability_data, CapabilityFree>;
using StoreAttPtr = std::unique_ptr<mailimap_store_att_flags, StoreAttFree>;
using NamespacePtr = std::unique_ptr<mailimap_namespace_data, NamespaceFree>;

template <typename T>
T* check_alloc(T* p) {
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

// ---------------------------------------------------------------------------
// UID sets.

std::vector<std::uint32_t> sorted_unique(std::vector<std::uint32_t> uids) {
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    uids.erase(std::remove(uids.begin(), uids.end(), 0u), uids.end());
    return uids;
}

// Consecutive runs of sorted unique UIDs.
std::vector<std::pair<std::uint32_t, std::uint32_t>> runs(const std::vector<std::uint32_t>& sorted) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    for (std::uint32_t uid : sorted) {
        if (!out.empty() && out.back().second + 1 == uid)
            out.back().second = uid;
        else
            out.emplace_back(uid, uid);
    }
    return out;
}

std::string set_text(const std::vector<std::uint32_t>& sorted) {
    std::string text;
    for (const auto& [first, last] : runs(sorted)) {
        if (!text.empty()) text += ',';
        text += std::to_string(first);
        if (last != first) text += ':' + std::to_string(last);
    }
    return text;
}

SetPtr make_set(const std::vector<std::uint32_t>& sorted) {
    SetPtr set(check_alloc(mailimap_set_new_empty()));
    for (const auto& [first, last] : runs(sorted)) {
        if (mailimap_set_add_interval(set.get(), first, last) != MAILIMAP_NO_ERROR) throw std::bad_alloc();
    }
    return set;
}

// ---------------------------------------------------------------------------
// Mailbox names: RFC 3501 §5.1.3 modified UTF-7 for what is not printable ASCII.

std::u32string utf8_to_u32(const std::string& in) {
    std::u32string out;
    for (std::size_t i = 0; i < in.size();) {
        const auto c = static_cast<unsigned char>(in[i]);
        char32_t cp = 0;
        std::size_t len = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F;
            len = 2;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F;
            len = 3;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07;
            len = 4;
        } else {
            throw config_error("IMAP folder name is not valid UTF-8: " + in);
        }
        if (i + len > in.size()) throw config_error("IMAP folder name is not valid UTF-8: " + in);
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(in[i + k]);
            if ((cc & 0xC0) != 0x80) throw config_error("IMAP folder name is not valid UTF-8: " + in);
            cp = (cp << 6) | (cc & 0x3F);
        }
        out.push_back(cp);
        i += len;
    }
    return out;
}

std::string to_modified_utf7(const std::string& utf8) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    const std::u32string cps = utf8_to_u32(utf8);
    std::string out;
    std::vector<std::uint16_t> pending;   // UTF-16 units waiting for base64
    auto flush = [&] {
        if (pending.empty()) return;
        out += '&';
        std::uint32_t bits = 0;
        int nbits = 0;
        for (std::uint16_t unit : pending) {
            bits = (bits << 16) | unit;
            nbits += 16;
            while (nbits >= 6) {
                nbits -= 6;
                out += alphabet[(bits >> nbits) & 0x3F];
            }
            bits &= (1u << nbits) - 1;
        }
        if (nbits > 0) out += alphabet[(bits << (6 - nbits)) & 0x3F];
        out += '-';
        pending.clear();
    };
    for (char32_t cp : cps) {
        if (cp >= 0x20 && cp <= 0x7E) {
            flush();
            if (cp == '&')
                out += "&-";
            else
                out += static_cast<char>(cp);
        } else if (cp < 0x10000) {
            pending.push_back(static_cast<std::uint16_t>(cp));
        } else {
            const char32_t v = cp - 0x10000;
            pending.push_back(static_cast<std::uint16_t>(0xD800 + (v >> 10)));
            pending.push_back(static_cast<std::uint16_t>(0xDC00 + (v & 0x3FF)));
        }
    }
    flush();
    return out;
}

// Splits a configured name on '/' (empty levels dropped).
std::vector<std::string> levels(const std::string& configured) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= configured.size()) {
        std::size_t end = configured.find('/', start);
        if (end == std::string::npos) end = configured.size();
        if (end > start) out.push_back(configured.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string upper_ascii(std::string_view s) { return text::upper(s); }

// INBOX is case-insensitive (RFC 3501 §5.1), other names are not.
std::string mailbox_key(const std::string& name, char delimiter) {
    const std::string up = upper_ascii(name);
    if (up == "INBOX") return up;
    if (delimiter != 0 && up.size() > 5 && up.compare(0, 5, "INBOX") == 0 && name[5] == delimiter)
        return "INBOX" + name.substr(5);
    return name;
}

// ---------------------------------------------------------------------------
std::string trim(std::string_view s) {
    const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    return std::string(s);
}

// ---------------------------------------------------------------------------
// Error classification.

const char* etpan_error_name(int r) {
    switch (r) {
    case MAILIMAP_NO_ERROR: return "no error";
    case MAILIMAP_ERROR_BAD_STATE: return "bad state";
    case MAILIMAP_ERROR_STREAM: return "connection lost or timed out";
    case MAILIMAP_ERROR_PARSE: return "unparsable server response or connection lost";
    case MAILIMAP_ERROR_CONNECTION_REFUSED: return "connection failed";
    case MAILIMAP_ERROR_MEMORY: return "out of memory";
    case MAILIMAP_ERROR_FATAL: return "server closed the session (BYE)";
    case MAILIMAP_ERROR_PROTOCOL: return "protocol error (BAD or tag mismatch)";
    case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION: return "server refused the connection";
    case MAILIMAP_ERROR_SSL: return "TLS failure";
    case MAILIMAP_ERROR_STARTTLS: return "STARTTLS refused";
    case MAILIMAP_ERROR_LOGIN: return "authentication refused";
    case MAILIMAP_ERROR_SELECT: return "SELECT refused";
    case MAILIMAP_ERROR_CREATE: return "CREATE refused";
    case MAILIMAP_ERROR_LIST: return "LIST refused";
    case MAILIMAP_ERROR_UID_FETCH: return "UID FETCH refused";
    case MAILIMAP_ERROR_UID_MOVE: return "UID MOVE refused";
    case MAILIMAP_ERROR_UID_COPY: return "UID COPY refused";
    case MAILIMAP_ERROR_UID_STORE: return "UID STORE refused";
    case MAILIMAP_ERROR_EXPUNGE: return "EXPUNGE refused";
    case MAILIMAP_ERROR_EXTENSION: return "extension command refused";
    case MAILIMAP_ERROR_CAPABILITY: return "CAPABILITY refused";
    case MAILIMAP_ERROR_NOOP: return "NOOP refused";
    case MAILIMAP_ERROR_SASL: return "SASL failure";
    default: return "IMAP error";
    }
}

// Errors after which the session can no longer be trusted.
bool breaks_session(int r) {
    switch (r) {
    case MAILIMAP_ERROR_BAD_STATE:
    case MAILIMAP_ERROR_STREAM:
    case MAILIMAP_ERROR_PARSE:
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
    case MAILIMAP_ERROR_MEMORY:
    case MAILIMAP_ERROR_FATAL:
    case MAILIMAP_ERROR_PROTOCOL:
    case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
    case MAILIMAP_ERROR_SSL:
    case MAILIMAP_ERROR_NEEDS_MORE_DATA:
        return true;
    default:
        return false;
    }
}

// RFC 5530 response codes meaning "try again later".
bool busy_code(const std::string& atom) {
    const std::string a = upper_ascii(atom);
    return a == "UNAVAILABLE" || a == "INUSE" || a == "LIMIT" || a == "SERVERBUG";
}

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

// libetpan calls this before the TLS handshake: SNI for a host name (an IP
// literal is not a valid server name).
void set_server_name(mailstream_ssl_context* context, void* data) {
    const auto* host = static_cast<const std::string*>(data);
    if (!is_ip_literal(*host)) mailstream_ssl_set_server_name(context, const_cast<char*>(host->c_str()));
}

// The DER chain the server sent, its own certificate first; empty when none.
std::vector<std::string> peer_chain(mailstream* stream) {
    std::vector<std::string> out;
    // libetpan's GnuTLS chain getter returns an uninitialised pointer when the
    // peer sent no certificate: ask for the first one alone beforehand.
    unsigned char* first = nullptr;
    const ssize_t first_len = mailstream_ssl_get_certificate(stream, &first);
    std::free(first);
    if (first_len <= 0) return out;
    carray* chain = mailstream_get_certificate_chain(stream);
    if (chain == nullptr) return out;
    for (unsigned i = 0; i < carray_count(chain); ++i) {
        const auto* der = static_cast<const MMAPString*>(carray_get(chain, i));
        if (der != nullptr) out.emplace_back(der->str, der->len);
    }
    mailstream_certificate_chain_free(chain);
    return out;
}

// Adds `att` (just made, null when out of memory) to a FETCH's attribute list,
// freeing it when it cannot be added.
void add_fetch_att(mailimap_fetch_type* type, mailimap_fetch_att* att) {
    check_alloc(att);
    if (mailimap_fetch_type_new_fetch_att_list_add(type, att) != MAILIMAP_NO_ERROR) {
        mailimap_fetch_att_free(att);
        throw std::bad_alloc();
    }
}

// ---------------------------------------------------------------------------
// Big messages on their way in: an unlinked file, then a read-only mapping.

class MappedFile final : public workflow::MappedMessage {
public:
    MappedFile(const char* data, std::size_t size) : data_(data), size_(size) {}
    ~MappedFile() override {
        if (size_ > 0) ::munmap(const_cast<char*>(data_), size_);
    }
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::string_view bytes() const override { return {data_, size_}; }

    // The whole pages of [from, to) inside the mapping leave memory (MADV_DONTNEED:
    // never written, a private file page is simply read again from the file).
    void release(const char* from, const char* to) const override {
        if (size_ == 0) return;
        const auto begin = reinterpret_cast<std::uintptr_t>(data_), end = begin + size_;
        auto lo = std::max(reinterpret_cast<std::uintptr_t>(from), begin);
        auto hi = std::min(reinterpret_cast<std::uintptr_t>(to), end);
        if (hi <= lo) return;
        static const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
        lo = (lo + page - 1) / page * page;
        hi = hi == end ? (hi + page - 1) / page * page : hi / page * page;   // the mapping ends on a page
        if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
    }

private:
    const char* data_;
    std::size_t size_;
};

class SpoolFile {
public:
    // An unlinked file in `dir` (O_TMPFILE; else created and unlinked at
    // once); when `dir` is empty or missing, $TMPDIR or /tmp.
    explicit SpoolFile(const std::string& dir) {
        std::string where = dir;
        if (where.empty() || !open_in(where)) {
            const char* tmp = std::getenv("TMPDIR");
            where = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
            if (!open_in(where))
                throw transient_error("IMAP: cannot create a file in " + where + " to receive a large message: " +
                                      std::strerror(errno));
        }
        where_ = where;
    }
    ~SpoolFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    SpoolFile(const SpoolFile&) = delete;
    SpoolFile& operator=(const SpoolFile&) = delete;

    void append(const char* data, std::size_t n) {
        while (n > 0) {
            const ssize_t w = ::write(fd_, data, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0)
                throw transient_error("IMAP: cannot write a large message to " + where_ + ": " + std::strerror(errno));
            data += w;
            n -= static_cast<std::size_t>(w);
            size_ += static_cast<std::size_t>(w);
        }
    }

    // The file mapped read-only; the descriptor is closed (the mapping keeps the file).
    std::shared_ptr<const MappedFile> map() {
        if (size_ == 0) return std::make_shared<MappedFile>(nullptr, 0);
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
        if (p == MAP_FAILED)
            throw transient_error("IMAP: cannot map a large message (" + std::to_string(size_) + " bytes): " +
                                  std::strerror(errno));
        ::close(fd_);
        fd_ = -1;
        return std::make_shared<MappedFile>(static_cast<const char*>(p), size_);
    }

private:
    int fd_ = -1;
    std::size_t size_ = 0;
    std::string where_;

    bool open_in(const std::string& dir) {
        fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd_ >= 0) return true;
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return false;
        std::string name = dir + "/.ppo-fetch-XXXXXX";   // a file system without O_TMPFILE
        fd_ = ::mkostemp(name.data(), O_CLOEXEC);
        if (fd_ < 0) return false;
        ::unlink(name.c_str());
        return true;
    }
};

}  // namespace

// ===========================================================================

struct ImapMailSource::Impl {
    ImapSettings s;
    mailimap* imap = nullptr;
    int pipe_rd = -1;
    int pipe_wr = -1;

    char delimiter = 0;
    bool have_idle = false;
    bool have_move = false;
    bool have_uidplus = false;
    std::uint32_t uidvalidity = 0;
    std::uint32_t known_uid = 0;         // highest UID list() returned in this session
    std::map<std::uint32_t, std::uint64_t> listed_size;   // RFC822.SIZE of what list() returned
    std::string mailbox;                 // server name (namespace, delimiter mapped, mUTF-7)
    std::string folders[3];              // processed, triage, ignored
    std::string ns_prefix;               // the personal namespace's prefix ("" when none)
    ImapSessionInfo info;
    std::string resolution_logged;       // what the last "folders resolved" line said
    // Messages the server cannot hand over (uid -> why), never asked for again.
    std::map<std::uint32_t, std::string> unreadable;

    explicit Impl(ImapSettings settings) : s(std::move(settings)) {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
            throw transient_error(std::string("IMAP: cannot create the wake-up pipe: ") + std::strerror(errno));
        pipe_rd = fds[0];
        pipe_wr = fds[1];
    }

    ~Impl() {
        logout();
        ::close(pipe_rd);
        ::close(pipe_wr);
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    std::string where() const { return s.host + ":" + std::to_string(s.port); }
    std::string where_box() const { return where() + ", mailbox \"" + s.mailbox + "\""; }

    std::string server_text() const {
        if (imap == nullptr) return {};
        std::string text;
        if (imap->imap_response_info != nullptr && imap->imap_response_info->rsp_atom != nullptr)
            text = std::string("[") + imap->imap_response_info->rsp_atom + "] ";
        if (imap->imap_response != nullptr) text += imap->imap_response;
        return trim(text);
    }

    std::string response_atom() const {
        if (imap == nullptr || imap->imap_response_info == nullptr || imap->imap_response_info->rsp_atom == nullptr)
            return {};
        return imap->imap_response_info->rsp_atom;
    }

    // Drops the connection without talking to the server.
    void disconnect() noexcept {
        if (imap == nullptr) return;
        if (imap->imap_stream != nullptr) {
            mailstream_close(imap->imap_stream);
            imap->imap_stream = nullptr;
        }
        imap->imap_state = MAILIMAP_STATE_DISCONNECTED;
        mailimap_free(imap);
        imap = nullptr;
    }

    // LOGOUT when possible, then frees everything. Never throws.
    void logout() noexcept {
        if (imap == nullptr) return;
        SigpipeGuard guard;
        if (imap->imap_stream != nullptr && imap->imap_state != MAILIMAP_STATE_DISCONNECTED) {
            mailimap_logout(imap);   // closes the stream whatever the answer
        }
        disconnect();
    }

    // Throws the ppo::Error for libetpan result `r` of `what`; drops the session
    // when the connection can no longer be trusted.
    [[noreturn]] void fail(int r, const std::string& what, bool permanent_refusal = true) {
        std::string msg = "IMAP " + what + ": " + etpan_error_name(r);
        const std::string text = server_text();
        if (!text.empty()) msg += " (server said: " + text + ")";
        if (breaks_session(r)) {
            disconnect();
            throw transient_error(msg);
        }
        if (busy_code(response_atom()) || !permanent_refusal) throw transient_error(msg);
        throw permanent_error(msg);
    }

    // A server's refusal of a configured name: ppo::Error config naming the
    // server's words and the key, unless the connection broke or the server
    // said to try later (transient, as fail()).
    [[noreturn]] void refuse_config(int r, const std::string& what, const std::string& key) {
        const std::string text = server_text();
        if (breaks_session(r) || busy_code(response_atom())) fail(r, what);
        std::string msg = "IMAP " + what + ": " + etpan_error_name(r);
        if (!text.empty()) msg += " (server said: " + text + ")";
        msg += "; the server will not accept it: change " + key;
        if (!ns_prefix.empty())
            msg += " (names are relative to the server's personal namespace \"" + ns_prefix + "\")";
        throw config_error(msg);
    }

    void require_session(const char* op) {
        if (imap == nullptr || imap->imap_state != MAILIMAP_STATE_SELECTED)
            throw transient_error(std::string("IMAP ") + op + " on " + where_box() +
                                  ": not connected (call open() first)");
    }

    void refresh_capabilities() {
        mailimap_capability_data* raw = nullptr;
        const int r = mailimap_capability(imap, &raw);
        CapabilityPtr caps(raw);
        if (r != MAILIMAP_NO_ERROR) fail(r, "CAPABILITY on " + where(), false);
    }

    std::string capability_text() const {
        std::string out;
        if (imap == nullptr || imap->imap_connection_info == nullptr ||
            imap->imap_connection_info->imap_capability == nullptr)
            return out;
        clist* list = imap->imap_connection_info->imap_capability->cap_list;
        for (clistiter* it = list ? clist_begin(list) : nullptr; it != nullptr; it = clist_next(it)) {
            const auto* cap = static_cast<struct mailimap_capability*>(clist_content(it));
            if (cap == nullptr) continue;
            std::string one;
            if (cap->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE && cap->cap_data.cap_auth_type != nullptr)
                one = std::string("AUTH=") + cap->cap_data.cap_auth_type;
            else if (cap->cap_type == MAILIMAP_CAPABILITY_NAME && cap->cap_data.cap_name != nullptr)
                one = cap->cap_data.cap_name;
            if (one.empty()) continue;
            if (!out.empty()) out += ' ';
            out += one;
        }
        return out;
    }

    // NAMESPACE (RFC 2342), when advertised: the personal namespace's prefix
    // and delimiter. A refusal (NO) leaves the names as they are.
    void discover_namespace() {
        ns_prefix.clear();
        info.has_namespace = false;
        if (mailimap_has_namespace(imap) == 0) return;
        mailimap_namespace_data* raw = nullptr;
        const int r = mailimap_namespace(imap, &raw);
        NamespacePtr ns(raw);
        if (r != MAILIMAP_NO_ERROR) {
            if (breaks_session(r)) fail(r, "NAMESPACE on " + where(), false);
            spdlog::warn("IMAP {}: NAMESPACE refused ({}); folder names are taken as they are", where(),
                         server_text());
            return;
        }
        info.has_namespace = true;
        if (!ns || ns->ns_personal == nullptr || ns->ns_personal->ns_data_list == nullptr) return;
        clistiter* first = clist_begin(ns->ns_personal->ns_data_list);
        if (first == nullptr) return;
        const auto* personal = static_cast<mailimap_namespace_info*>(clist_content(first));
        if (personal == nullptr || personal->ns_prefix == nullptr) return;
        ns_prefix = personal->ns_prefix;
        if (delimiter == 0 && personal->ns_delimiter != 0) delimiter = personal->ns_delimiter;
    }

    // After the TLS handshake, before anything else is sent: the chain and
    // the host name, or the session is dropped.
    void verify_peer() {
        if (!s.verify_certificate) return;
        const std::string refused = verify_chain(peer_chain(imap->imap_stream), s.host, s.ca_file, "imap");
        if (refused.empty()) return;
        disconnect();
        throw config_error("IMAP " + where() + ": " + refused + "; not logging in");
    }

    // The server offers no STARTTLS: log in only where the policy allows it.
    void check_plaintext() {
        const int fd = mailstream_low_get_fd(mailstream_get_low(imap->imap_stream));
        switch (plaintext_verdict(peer_is_loopback(fd), s.allow_plaintext, s.tls_required)) {
        case Plaintext::loopback:
            spdlog::debug("IMAP {}: no STARTTLS offered; logging in without TLS (loopback peer)", where());
            return;
        case Plaintext::allowed_by_config:
            spdlog::warn("IMAP {}: no STARTTLS offered; logging in without TLS ([imap] allow_plaintext = true)",
                         where());
            return;
        case Plaintext::refused:
            break;
        }
        disconnect();
        throw config_error("IMAP " + where() + " does not offer STARTTLS; the password is not sent in clear (use " +
                           "imaps:// in [imap] url, enable STARTTLS on the server, or set [imap] allow_plaintext = true" +
                           (s.tls_required ? " and tls_required = false" : "") + ")");
    }

    void connect_and_login() {
        imap = check_alloc(mailimap_new(0, nullptr));
        mailimap_set_timeout(imap, static_cast<time_t>(std::max(1, s.timeout_seconds)));
        const auto port = static_cast<std::uint16_t>(s.port);
        int r = s.implicit_tls ? mailimap_ssl_connect_with_callback(imap, s.host.c_str(), port, set_server_name,
                                                                    const_cast<std::string*>(&s.host))
                               : mailimap_socket_connect(imap, s.host.c_str(), port);
        if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
            const int code = (r == MAILIMAP_NO_ERROR) ? MAILIMAP_ERROR_STREAM : r;
            std::string what = std::string(s.implicit_tls ? "connect (imaps) to " : "connect to ") + where();
            if (code == MAILIMAP_ERROR_CONNECTION_REFUSED || code == MAILIMAP_ERROR_STREAM ||
                code == MAILIMAP_ERROR_SSL) {
                disconnect();
                throw transient_error("IMAP " + what + ": " + etpan_error_name(code));
            }
            fail(code, what, false);
        }
        const bool preauth = (r == MAILIMAP_NO_ERROR_AUTHENTICATED);
        bool encrypted = s.implicit_tls;
        if (s.implicit_tls) verify_peer();

        refresh_capabilities();
        if (!s.implicit_tls) {
            if (mailimap_has_extension(imap, "STARTTLS")) {
                r = mailimap_socket_starttls_with_callback(imap, set_server_name, const_cast<std::string*>(&s.host));
                if (r != MAILIMAP_NO_ERROR) {
                    if (r == MAILIMAP_ERROR_SSL || r == MAILIMAP_ERROR_STREAM) {
                        disconnect();
                        throw transient_error("IMAP STARTTLS with " + where() + ": " + etpan_error_name(r));
                    }
                    fail(r, "STARTTLS with " + where(), false);
                }
                verify_peer();
                encrypted = true;
                refresh_capabilities();
            } else {
                check_plaintext();
            }
        }

        if (!preauth) {
            const bool login_disabled = mailimap_has_extension(imap, "LOGINDISABLED") != 0;
            if (login_disabled) {
                if (mailimap_has_authentication(imap, "PLAIN") == 0) {
                    disconnect();
                    throw permanent_error("IMAP " + where() +
                                          " advertises LOGINDISABLED and no AUTH=PLAIN; cannot log in as " + s.user);
                }
                r = mailimap_authenticate(imap, "PLAIN", s.host.c_str(), nullptr, nullptr, s.user.c_str(),
                                          s.user.c_str(), s.password.c_str(), nullptr);
            } else {
                r = mailimap_login(imap, s.user.c_str(), s.password.c_str());
            }
            if (r != MAILIMAP_NO_ERROR)
                fail(r, std::string(login_disabled ? "AUTHENTICATE PLAIN" : "LOGIN") + " as " + s.user + " on " +
                            where());
        }

        refresh_capabilities();
        have_idle = mailimap_has_idle(imap) != 0;
        have_move = mailimap_has_extension(imap, "MOVE") != 0;
        have_uidplus = mailimap_has_extension(imap, "UIDPLUS") != 0;
        info = ImapSessionInfo{};
        info.capabilities = capability_text();
        info.tls = encrypted;
    }

    void discover_delimiter() {
        clist* raw = nullptr;
        const int r = mailimap_list(imap, "", "", &raw);
        MailboxListPtr list(raw);
        if (r != MAILIMAP_NO_ERROR) fail(r, "LIST \"\" \"\" on " + where(), false);
        delimiter = 0;
        if (list) {
            for (clistiter* it = clist_begin(list.get()); it != nullptr; it = clist_next(it)) {
                const auto* mb = static_cast<mailimap_mailbox_list*>(clist_content(it));
                if (mb != nullptr) {
                    delimiter = mb->mb_delimiter;
                    break;
                }
            }
        }
    }

    // A configured name resolved against the personal namespace: `base` is
    // kept as the server spells it (its prefix, or nothing), `lv` are the
    // levels below it, joined with the server's delimiter.
    struct Resolved {
        std::string configured;
        std::string key;                  // "[imap] processed_folder"
        std::string base;
        std::vector<std::string> lv;
    };

    std::string server_name(const Resolved& r, std::size_t depth) const {
        std::string joined;
        for (std::size_t i = 0; i < depth && i < r.lv.size(); ++i) {
            if (!joined.empty()) joined += (delimiter != 0 ? delimiter : '/');
            joined += r.lv[i];
        }
        return r.base + to_modified_utf7(joined);
    }

    std::string server_name(const Resolved& r) const { return server_name(r, r.lv.size()); }

    Resolved resolve(const std::string& configured, const std::string& key) const {
        Resolved r{configured, key, {}, levels(configured)};
        if (r.lv.empty()) throw config_error(key + ": the IMAP folder name is empty");
        if (!ns_prefix.empty() && upper_ascii(r.lv.front()) != "INBOX") {
            // Already written with the prefix ("INBOX.PPO.Traites"): the rest
            // is in the server's terms, split on its delimiter as well.
            const bool inbox_prefix = upper_ascii(ns_prefix).rfind("INBOX", 0) == 0;
            const bool has_prefix =
                configured.size() > ns_prefix.size() &&
                (inbox_prefix ? upper_ascii(configured.substr(0, ns_prefix.size())) == upper_ascii(ns_prefix)
                              : configured.compare(0, ns_prefix.size(), ns_prefix) == 0);
            r.base = ns_prefix;
            if (has_prefix) {
                std::string rest = configured.substr(ns_prefix.size());
                if (delimiter != 0) std::replace(rest.begin(), rest.end(), delimiter, '/');
                r.lv = levels(rest);
                if (r.lv.empty()) throw config_error(key + ": the IMAP folder name \"" + configured + "\" names only the namespace");
            }
        }
        if (delimiter != 0 && delimiter != '/') {
            for (const auto& level : r.lv) {
                if (level.find(delimiter) != std::string::npos)
                    throw config_error(key + ": the IMAP folder \"" + configured +
                                       "\" contains the server's hierarchy delimiter '" + std::string(1, delimiter) +
                                       "' on " + where() + " (write '/' between levels)");
            }
        }
        return r;
    }

    std::set<std::string> existing_mailboxes() {
        clist* raw = nullptr;
        const int r = mailimap_list(imap, "", "*", &raw);
        MailboxListPtr list(raw);
        if (r != MAILIMAP_NO_ERROR) fail(r, "LIST \"\" \"*\" on " + where(), false);
        std::set<std::string> names;
        if (!list) return names;
        for (clistiter* it = clist_begin(list.get()); it != nullptr; it = clist_next(it)) {
            const auto* mb = static_cast<mailimap_mailbox_list*>(clist_content(it));
            if (mb == nullptr || mb->mb_name == nullptr) continue;
            bool nonexistent = false;
            if (mb->mb_flag != nullptr && mb->mb_flag->mbf_oflags != nullptr) {
                for (clistiter* f = clist_begin(mb->mb_flag->mbf_oflags); f != nullptr; f = clist_next(f)) {
                    const auto* of = static_cast<mailimap_mbx_list_oflag*>(clist_content(f));
                    if (of != nullptr && of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && of->of_flag_ext != nullptr &&
                        upper_ascii(of->of_flag_ext) == "NONEXISTENT")
                        nonexistent = true;
                }
            }
            if (!nonexistent) names.insert(mailbox_key(mb->mb_name, delimiter));
        }
        return names;
    }

    void ensure_folders(const std::array<Resolved, 3>& wanted) {
        std::set<std::string> existing = existing_mailboxes();
        for (const auto& r : wanted) {
            for (std::size_t depth = 1; depth <= r.lv.size(); ++depth) {
                const std::string server = server_name(r, depth);
                const std::string key = mailbox_key(server, delimiter);
                if (existing.count(key) != 0) continue;
                const int res = mailimap_create(imap, server.c_str());
                if (res == MAILIMAP_NO_ERROR || upper_ascii(response_atom()) == "ALREADYEXISTS") {
                    if (res == MAILIMAP_NO_ERROR) info.created.push_back(server);
                    existing.insert(key);
                    continue;
                }
                const bool leaf = depth == r.lv.size();
                if (!leaf && !breaks_session(res)) continue;   // some servers refuse bare parents; the leaf decides
                refuse_config(res, "CREATE \"" + server + "\" (for " + r.key + " = \"" + r.configured + "\") on " + where(),
                              r.key);
            }
        }
    }

    // Once, and again only when what it says changes (a reload, another server).
    void log_resolution(const std::array<Resolved, 3>& wanted) {
        std::string line = "IMAP " + where() + ": ";
        line += ns_prefix.empty() ? std::string("no personal namespace prefix")
                                  : "personal namespace \"" + ns_prefix + "\"";
        line += delimiter != 0 ? ", delimiter '" + std::string(1, delimiter) + "'" : std::string(", no delimiter");
        line += "; mailbox \"" + mailbox + "\"";
        for (std::size_t i = 0; i < wanted.size(); ++i)
            line += ", " + wanted[i].key + " \"" + wanted[i].configured + "\" -> \"" + folders[i] + "\"";
        if (line == resolution_logged) return;
        resolution_logged = line;
        spdlog::info("{}", line);
    }

    std::uint32_t open() {
        SigpipeGuard guard;
        if (imap != nullptr) {
            if (imap->imap_state == MAILIMAP_STATE_SELECTED && mailimap_noop(imap) == MAILIMAP_NO_ERROR)
                return uidvalidity;
            disconnect();   // dropped or half-open: start over
        }
        try {
            connect_and_login();
            discover_delimiter();
            discover_namespace();
            const Resolved box = resolve(s.mailbox, "[imap] mailbox");
            mailbox = server_name(box);
            const std::array<Resolved, 3> wanted = {resolve(s.processed_folder, "[imap] processed_folder"),
                                                    resolve(s.triage_folder, "[imap] triage_folder"),
                                                    resolve(s.ignored_folder, "[imap] ignored_folder")};
            for (std::size_t i = 0; i < wanted.size(); ++i) folders[i] = server_name(wanted[i]);
            info.personal_prefix = ns_prefix;
            info.delimiter = delimiter;
            info.mailbox = mailbox;
            for (std::size_t i = 0; i < wanted.size(); ++i) info.folders[i] = folders[i];
            ensure_folders(wanted);
            log_resolution(wanted);
            const int r = mailimap_select(imap, mailbox.c_str());
            if (r != MAILIMAP_NO_ERROR)
                refuse_config(r, "SELECT \"" + mailbox + "\" (for [imap] mailbox = \"" + s.mailbox + "\") on " + where(),
                              "[imap] mailbox");
            if (imap->imap_selection_info == nullptr)
                fail(MAILIMAP_ERROR_PROTOCOL, "SELECT \"" + mailbox + "\" on " + where() + " returned no selection data");
            if (uidvalidity != 0 && imap->imap_selection_info->sel_uidvalidity != uidvalidity) unreadable.clear();
            uidvalidity = imap->imap_selection_info->sel_uidvalidity;
            known_uid = 0;
            return uidvalidity;
        } catch (...) {
            disconnect();
            throw;
        }
    }

    // NOOP: lets the server report new messages (EXISTS) to this session.
    void sync(const char* op) {
        const int r = mailimap_noop(imap);
        if (r != MAILIMAP_NO_ERROR) fail(r, std::string("NOOP (before ") + op + ") on " + where_box(), false);
    }

    // UIDs above what list() returned may not be known to the session yet.
    void sync_for(const std::vector<std::uint32_t>& sorted_uids, const char* op) {
        if (!sorted_uids.empty() && sorted_uids.back() > known_uid) sync(op);
    }

    FetchListPtr uid_fetch(mailimap_set* set, mailimap_fetch_type* type, const std::string& what) {
        clist* raw = nullptr;
        const int r = mailimap_uid_fetch(imap, set, type, &raw);
        FetchListPtr result(raw);
        if (r != MAILIMAP_NO_ERROR) {
            // [SERVERBUG] to a FETCH: Dovecot's answer for a message file it
            // cannot read. The message's problem, not a busy server.
            if (!breaks_session(r) && upper_ascii(response_atom()) == "SERVERBUG") {
                std::string msg = "IMAP " + what + ": " + etpan_error_name(r);
                const std::string text = server_text();
                if (!text.empty()) msg += " (server said: " + text + ")";
                throw permanent_error(msg);
            }
            fail(r, what);
        }
        return result;
    }

    std::vector<MessageSummary> list(std::uint32_t after_uid) {
        require_session("list");
        if (after_uid == std::numeric_limits<std::uint32_t>::max()) return {};
        SigpipeGuard guard;

        // Dovecot (rightly) leaves out of a FETCH the messages that arrived
        // since the session last heard of them; NOOP first to learn of them.
        sync("list");

        SetPtr set(check_alloc(mailimap_set_new_interval(after_uid + 1, 0)));   // after+1:*
        FetchTypePtr type(check_alloc(mailimap_fetch_type_new_fetch_att_list_empty()));
        auto add = [&](mailimap_fetch_att* att) { add_fetch_att(type.get(), att); };
        add(mailimap_fetch_att_new_uid());
        add(mailimap_fetch_att_new_rfc822_size());
        add(mailimap_fetch_att_new_internaldate());

        // Nothing from the messages' contents: a message the server cannot
        // read must not stop the listing of the others.
        const std::string what = "UID FETCH " + std::to_string(after_uid + 1) +
                                 ":* (UID RFC822.SIZE INTERNALDATE) on " + where_box();
        FetchListPtr result = uid_fetch(set.get(), type.get(), what);

        std::vector<MessageSummary> out;
        if (!result) return out;
        for (clistiter* it = clist_begin(result.get()); it != nullptr; it = clist_next(it)) {
            const auto* msg = static_cast<mailimap_msg_att*>(clist_content(it));
            if (msg == nullptr || msg->att_list == nullptr) continue;
            MessageSummary summary;
            bool have_size = false;
            for (clistiter* a = clist_begin(msg->att_list); a != nullptr; a = clist_next(a)) {
                const auto* item = static_cast<mailimap_msg_att_item*>(clist_content(a));
                if (item == nullptr || item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC) continue;
                const mailimap_msg_att_static* st = item->att_data.att_static;
                if (st == nullptr) continue;
                switch (st->att_type) {
                case MAILIMAP_MSG_ATT_UID:
                    summary.uid = st->att_data.att_uid;
                    break;
                case MAILIMAP_MSG_ATT_RFC822_SIZE:
                    summary.size = st->att_data.att_rfc822_size;
                    have_size = true;
                    break;
                default:
                    break;
                }
            }
            // `N:*` always returns the last message, even when its UID <= after;
            // unsolicited FETCH (flag changes) carry no size.
            if (summary.uid <= after_uid || !have_size) continue;
            known_uid = std::max(known_uid, summary.uid);
            listed_size[summary.uid] = summary.size;
            out.push_back(std::move(summary));
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
        out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid == b.uid; }),
                  out.end());
        return out;
    }

    // Reconnects after a dropped session, in the middle of a fetch: the
    // mailbox must be the same one (same UIDVALIDITY), else the caller starts
    // its pass over.
    void reconnect_for_fetch() {
        const std::uint32_t before = uidvalidity;
        disconnect();
        open();
        if (uidvalidity != before)
            throw transient_error("IMAP fetch on " + where_box() + ": the mailbox's UIDVALIDITY changed from " +
                                  std::to_string(before) + " to " + std::to_string(uidvalidity) +
                                  " while reconnecting; listing it again");
    }

    [[noreturn]] void throw_unreadable(const std::vector<std::uint32_t>& all) const {
        std::string bad;
        for (std::uint32_t uid : all) {
            const auto it = unreadable.find(uid);
            if (it == unreadable.end()) continue;
            if (all.size() == 1) throw permanent_error(it->second);
            bad += (bad.empty() ? "" : ",") + std::to_string(uid);
        }
        throw permanent_error("IMAP UID FETCH " + set_text(all) + " on " + where_box() +
                              ": the server cannot hand over uid(s) " + bad + "; fetch the others one by one");
    }

    std::vector<FetchedMessage> fetch(const std::vector<std::uint32_t>& requested) {
        const std::vector<std::uint32_t> all = sorted_unique(requested);
        if (all.empty()) return {};
        for (std::uint32_t uid : all)
            if (unreadable.count(uid) != 0) throw_unreadable(all);
        require_session("fetch");
        try {
            return fetch_now(all);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::transient && imap != nullptr) throw;   // busy: the caller backs off
            if (e.kind() != ErrorKind::transient && all.size() > 1) throw;   // NO: the caller goes one by one
            // A single message refused (NO), or the session dropped: one by
            // one, on a fresh session, each message given a second chance.
            spdlog::warn("{}; going on one message at a time", e.what());
        }
        std::vector<FetchedMessage> out;
        for (std::uint32_t uid : all) {
            // A single message has had its first try above.
            for (int attempt = all.size() == 1 ? 1 : 0; attempt < 2; ++attempt) {
                if (imap == nullptr) reconnect_for_fetch();   // an outage here: transient, the caller backs off
                try {
                    for (auto& m : fetch_now({uid})) out.push_back(std::move(m));
                    break;
                } catch (const Error& e) {
                    if (e.kind() == ErrorKind::transient && imap != nullptr) throw;   // busy
                    if (attempt == 0) continue;
                    const std::string why = e.what();
                    unreadable[uid] = "IMAP " + where_box() + ": the server cannot hand over uid " +
                                      std::to_string(uid) + " (tried twice): " + why +
                                      "; it stays in the mailbox, not asked for again";
                    spdlog::error("{}", unreadable[uid]);
                }
            }
        }
        if (imap == nullptr) reconnect_for_fetch();   // the session the caller goes on with
        for (std::uint32_t uid : all)
            if (unreadable.count(uid) != 0) throw_unreadable(all);
        return out;
    }

    std::vector<FetchedMessage> fetch_now(const std::vector<std::uint32_t>& all) {
        SigpipeGuard guard;

        sync_for(all, "fetch");
        // Big messages a piece at a time into a file; the others in one command.
        std::vector<std::uint32_t> uids;
        std::vector<FetchedMessage> big;
        for (std::uint32_t uid : all) {
            const auto it = listed_size.find(uid);
            if (it == listed_size.end() || it->second <= s.stream_above) {
                uids.push_back(uid);
                continue;
            }
            if (auto m = fetch_to_file(uid)) big.push_back(std::move(*m));
        }
        std::vector<FetchedMessage> out = fetch_in_memory(uids);
        for (auto& m : big) out.push_back(std::move(m));
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
        return out;
    }

    // The messages' attributes of one UID FETCH answer: uid -> (INTERNALDATE, body section).
    struct FetchedItem {
        std::int64_t internal_date = 0;
        mailimap_msg_att_body_section* body = nullptr;
    };
    static FetchedItem item_of(clist* result, std::uint32_t wanted) {
        FetchedItem found;
        for (clistiter* it = result ? clist_begin(result) : nullptr; it != nullptr; it = clist_next(it)) {
            auto* msg = static_cast<mailimap_msg_att*>(clist_content(it));
            if (msg == nullptr || msg->att_list == nullptr) continue;
            FetchedItem item;
            std::uint32_t uid = 0;
            for (clistiter* a = clist_begin(msg->att_list); a != nullptr; a = clist_next(a)) {
                auto* att = static_cast<mailimap_msg_att_item*>(clist_content(a));
                if (att == nullptr || att->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC) continue;
                mailimap_msg_att_static* st = att->att_data.att_static;
                if (st == nullptr) continue;
                if (st->att_type == MAILIMAP_MSG_ATT_UID) uid = st->att_data.att_uid;
                if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION) item.body = st->att_data.att_body_section;
                if (st->att_type == MAILIMAP_MSG_ATT_INTERNALDATE && st->att_data.att_internal_date != nullptr)
                    item.internal_date = epoch_of(*st->att_data.att_internal_date);
            }
            if (uid == wanted && item.body != nullptr) found = item;
        }
        return found;
    }

    // BODY.PEEK[]<offset.stream_chunk> until a short answer, each piece
    // appended to an unlinked file; nullopt when the message is gone.
    std::optional<FetchedMessage> fetch_to_file(std::uint32_t uid) {
        SpoolFile file(s.spool_dir);
        FetchedMessage m;
        m.uid = uid;
        std::uint64_t offset = 0;
        std::size_t pieces = 0;
        for (;;) {
            ++pieces;
            SetPtr set = make_set({uid});
            FetchTypePtr type(check_alloc(mailimap_fetch_type_new_fetch_att_list_empty()));
            auto add = [&](mailimap_fetch_att* att) { add_fetch_att(type.get(), att); };
            add(mailimap_fetch_att_new_uid());
            if (offset == 0) add(mailimap_fetch_att_new_internaldate());
            mailimap_section* whole = check_alloc(mailimap_section_new(nullptr));
            mailimap_fetch_att* att = mailimap_fetch_att_new_body_peek_section_partial(
                whole, static_cast<std::uint32_t>(offset), s.stream_chunk);
            if (att == nullptr) {
                mailimap_section_free(whole);
                throw std::bad_alloc();
            }
            add(att);
            const std::string what = "UID FETCH " + std::to_string(uid) + " (BODY.PEEK[]<" + std::to_string(offset) +
                                     "." + std::to_string(s.stream_chunk) + ">) on " + where_box();
            FetchListPtr result = uid_fetch(set.get(), type.get(), what);
            const FetchedItem item = item_of(result.get(), uid);
            if (item.body == nullptr) {
                if (offset == 0) return std::nullopt;   // expunged meanwhile, as the batch fetch would say
                throw transient_error("IMAP: " + what + ": the message vanished while being read");
            }
            if (offset == 0) m.internal_date = item.internal_date;
            const std::size_t n = item.body->sec_body_part != nullptr ? item.body->sec_length : 0;
            file.append(item.body->sec_body_part, n);
            offset += n;
            if (n < s.stream_chunk) break;
            if (offset + s.stream_chunk > std::numeric_limits<std::uint32_t>::max())
                throw transient_error("IMAP: " + what + ": message larger than 4 GiB");
        }
        m.mapped = file.map();
        spdlog::debug("IMAP: uid {}: {} bytes fetched in {} piece(s) into a file", uid, offset, pieces);
        return m;
    }

    std::vector<FetchedMessage> fetch_in_memory(const std::vector<std::uint32_t>& uids) {
        if (uids.empty()) return {};
        SetPtr set = make_set(uids);
        FetchTypePtr type(check_alloc(mailimap_fetch_type_new_fetch_att_list_empty()));
        auto add = [&](mailimap_fetch_att* att) { add_fetch_att(type.get(), att); };
        add(mailimap_fetch_att_new_uid());
        add(mailimap_fetch_att_new_internaldate());
        {
            mailimap_section* whole = check_alloc(mailimap_section_new(nullptr));   // BODY.PEEK[]
            mailimap_fetch_att* att = mailimap_fetch_att_new_body_peek_section(whole);
            if (att == nullptr) {
                mailimap_section_free(whole);
                throw std::bad_alloc();
            }
            add(att);
        }

        const std::string what = "UID FETCH " + set_text(uids) + " (UID INTERNALDATE BODY.PEEK[]) on " + where_box();
        FetchListPtr result = uid_fetch(set.get(), type.get(), what);

        std::vector<FetchedMessage> out;
        if (!result) return out;
        for (clistiter* it = clist_begin(result.get()); it != nullptr; it = clist_next(it)) {
            auto* msg = static_cast<mailimap_msg_att*>(clist_content(it));
            if (msg == nullptr || msg->att_list == nullptr) continue;
            std::uint32_t uid = 0;
            std::int64_t internal_date = 0;
            mailimap_msg_att_body_section* body = nullptr;
            for (clistiter* a = clist_begin(msg->att_list); a != nullptr; a = clist_next(a)) {
                auto* item = static_cast<mailimap_msg_att_item*>(clist_content(a));
                if (item == nullptr || item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC) continue;
                mailimap_msg_att_static* st = item->att_data.att_static;
                if (st == nullptr) continue;
                if (st->att_type == MAILIMAP_MSG_ATT_UID) uid = st->att_data.att_uid;
                if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION) body = st->att_data.att_body_section;
                if (st->att_type == MAILIMAP_MSG_ATT_INTERNALDATE && st->att_data.att_internal_date != nullptr)
                    internal_date = epoch_of(*st->att_data.att_internal_date);
            }
            if (uid == 0 || body == nullptr || !std::binary_search(uids.begin(), uids.end(), uid)) continue;
            FetchedMessage m;
            m.uid = uid;
            m.internal_date = internal_date;
            if (body->sec_body_part != nullptr) m.raw.assign(body->sec_body_part, body->sec_length);
            out.push_back(std::move(m));
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
        out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid == b.uid; }),
                  out.end());
        return out;
    }

    void move(const std::vector<std::uint32_t>& requested, Folder folder) {
        std::vector<std::uint32_t> uids = sorted_unique(requested);
        // A message the server cannot hand over stays where it is: copying it
        // may fail the same way, and would hold the others back.
        uids.erase(std::remove_if(uids.begin(), uids.end(), [&](std::uint32_t u) { return unreadable.count(u) != 0; }),
                   uids.end());
        if (uids.empty()) return;
        require_session("move");
        SigpipeGuard guard;

        sync_for(uids, "move");
        const std::string& target = folders[static_cast<int>(folder)];
        SetPtr set = make_set(uids);
        const std::string uid_text = set_text(uids);
        const std::string context = " on " + where_box() + " (uids " + uid_text + " -> \"" + target + "\")";

        if (have_move) {
            const int r = mailimap_uid_move(imap, set.get(), target.c_str());
            if (r != MAILIMAP_NO_ERROR) fail(r, "UID MOVE" + context);
            return;
        }

        int r = mailimap_uid_copy(imap, set.get(), target.c_str());
        if (r != MAILIMAP_NO_ERROR) fail(r, "UID COPY" + context);

        mailimap_flag_list* flags = check_alloc(mailimap_flag_list_new_empty());
        mailimap_flag* deleted = mailimap_flag_new_deleted();
        if (deleted == nullptr || mailimap_flag_list_add(flags, deleted) != MAILIMAP_NO_ERROR) {
            if (deleted != nullptr) mailimap_flag_free(deleted);
            mailimap_flag_list_free(flags);
            throw std::bad_alloc();
        }
        StoreAttPtr store(mailimap_store_att_flags_new_add_flags_silent(flags));
        if (!store) {
            mailimap_flag_list_free(flags);
            throw std::bad_alloc();
        }
        r = mailimap_uid_store(imap, set.get(), store.get());
        if (r != MAILIMAP_NO_ERROR) fail(r, "UID STORE +FLAGS.SILENT (\\Deleted)" + context);

        if (have_uidplus) {
            r = mailimap_uid_expunge(imap, set.get());
            if (r != MAILIMAP_NO_ERROR) fail(r, "UID EXPUNGE" + context);
        } else {
            r = mailimap_expunge(imap);
            if (r != MAILIMAP_NO_ERROR) fail(r, "EXPUNGE" + context);
        }
    }

    // Empties the self-pipe; true when something was in it.
    bool drain_pipe() noexcept {
        bool any = false;
        char buf[64];
        for (;;) {
            const ssize_t n = ::read(pipe_rd, buf, sizeof buf);
            if (n > 0) {
                any = true;
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            return any;
        }
    }

    // poll() on the pipe (and fd if >= 0); returns 0 timeout, 1 fd readable,
    // 2 interrupted through the pipe.
    int wait_fds(int fd, std::chrono::milliseconds timeout) {
        using clock = std::chrono::steady_clock;
        const auto deadline = clock::now() + timeout;
        for (;;) {
            pollfd fds[2];
            fds[0] = pollfd{pipe_rd, POLLIN, 0};
            nfds_t n = 1;
            if (fd >= 0) {
                fds[1] = pollfd{fd, POLLIN, 0};
                n = 2;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            const int ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
            const int r = ::poll(fds, n, ms);
            if (r < 0) {
                if (errno == EINTR) continue;   // a signal whose handler calls interrupt() also writes the pipe
                throw transient_error(std::string("IMAP wait on ") + where() + ": poll failed: " + std::strerror(errno));
            }
            if (r == 0) return 0;
            if (fds[0].revents != 0) {
                drain_pipe();
                return 2;
            }
            if (n == 2 && fds[1].revents != 0) return 1;
        }
    }

    void wait(std::chrono::seconds timeout) {
        using clock = std::chrono::steady_clock;
        if (timeout.count() <= 0) return;
        if (imap == nullptr || !have_idle) {
            const auto period = imap == nullptr
                                    ? timeout
                                    : std::min(timeout, std::chrono::seconds(std::max(1, s.poll_interval_seconds)));
            wait_fds(-1, period);
            return;
        }
        require_session("wait");
        // An interrupt already pending: do not even start IDLE.
        if (wait_fds(-1, std::chrono::milliseconds(0)) == 2) return;

        const auto deadline = clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0) return;
            const auto period = std::min<std::chrono::milliseconds>(left, max_idle_period);
            int woke = 0;
            {
                SigpipeGuard guard;
                int r = mailimap_idle(imap);
                if (r != MAILIMAP_NO_ERROR) fail(r, "IDLE on " + where_box(), false);
                const bool buffered = imap->imap_stream != nullptr && imap->imap_stream->read_buffer_len > 0;
                woke = buffered ? 1 : wait_fds(mailimap_idle_get_fd(imap), period);
                r = mailimap_idle_done(imap);
                if (r != MAILIMAP_NO_ERROR)
                    fail(r, "IDLE (DONE, after " + ms_text(period) + ") on " + where_box(), false);
            }
            if (woke != 0) return;   // new data (EXISTS...) or interrupt()
        }
    }

    void interrupt() noexcept {
        const int saved = errno;
        const char byte = 1;
        if (::write(pipe_wr, &byte, 1) < 0) {
            // full pipe (a wake-up is already pending) or closed: nothing to do
        }
        errno = saved;
    }
};

// ===========================================================================

ImapMailSource::ImapMailSource(ImapSettings settings) : impl_(std::make_unique<Impl>(std::move(settings))) {}

ImapMailSource::~ImapMailSource() = default;

std::uint32_t ImapMailSource::open() { return impl_->open(); }

std::vector<workflow::MessageSummary> ImapMailSource::list(std::uint32_t after_uid) { return impl_->list(after_uid); }

std::vector<workflow::FetchedMessage> ImapMailSource::fetch(const std::vector<std::uint32_t>& uids) {
    return impl_->fetch(uids);
}

void ImapMailSource::move(const std::vector<std::uint32_t>& uids, workflow::Folder folder) {
    impl_->move(uids, folder);
}

void ImapMailSource::wait(std::chrono::seconds timeout) { impl_->wait(timeout); }

void ImapMailSource::interrupt() { impl_->interrupt(); }

void ImapMailSource::close() { impl_->logout(); }

bool ImapMailSource::idle_supported() const { return impl_->imap != nullptr && impl_->have_idle; }

bool ImapMailSource::move_supported() const { return impl_->imap != nullptr && impl_->have_move; }

bool ImapMailSource::uidplus_supported() const { return impl_->imap != nullptr && impl_->have_uidplus; }

const ImapSessionInfo& ImapMailSource::session_info() const { return impl_->info; }

void ImapMailSource::set_folders(const std::string& mailbox, const std::string& processed, const std::string& triage,
                                 const std::string& ignored) {
    impl_->logout();
    impl_->s.mailbox = mailbox;
    impl_->s.processed_folder = processed;
    impl_->s.triage_folder = triage;
    impl_->s.ignored_folder = ignored;
}

}  // namespace ppo::daemon
