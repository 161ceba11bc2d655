#include "daemon/documents/document_reader.h"

#include "parsers/text/error.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <new>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

// AddressSanitizer reserves terabytes of address space for its shadow memory
// at startup: under RLIMIT_AS the child could not even start. A sanitizer
// build therefore runs its children without an address-space limit (the
// wall-clock timeout, RLIMIT_CPU and the rest still apply).
#if defined(__SANITIZE_ADDRESS__)
#define PPO_DOCUMENT_WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PPO_DOCUMENT_WORKER_ASAN 1
#endif
#endif

namespace ppo::daemon {

namespace {

using steady = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// The protocol. Every message is a frame: a u64 little-endian length, then
// that many bytes. Inside a frame, integers are little-endian, byte strings
// are a u64 length then the bytes, lists a u32 count then the items.
//
//   hello    = u8 0, bytes "ppo-document-worker 2"   (the child's first frame)
//   request  = u8 op, bytes kind (parsers::to_string), bytes data
//   response = u8 op (the request's), then for op_text:
//                bytes text, bytes head, bytes title, u32 n, n × bytes member, u32 pages,
//                u8 image_only, u8 truncated, bytes error
//              for op_tnef:
//                u32 n, n × (bytes name, bytes data), bytes body_text, bytes error
//
// The parent reads the child's answer as it reads a stranger's mail: the
// frame is capped by the limits, every length is checked against what is
// left, and anything else ends the child.
// ---------------------------------------------------------------------------

// The child's first frame, once its limits are in place: the parent's
// per-document deadline starts after it, so that loading a large binary on
// a busy machine is not counted against the first document, and a program
// that is not a document worker is told apart at once.
constexpr std::string_view kHello = "ppo-document-worker 2";
constexpr std::chrono::seconds kStartupTimeout{15};

constexpr std::uint8_t kOpText = 1;
constexpr std::uint8_t kOpTnef = 2;

// The child's exit statuses the parent turns into an explanation.
constexpr int kExitUsage = 2;
constexpr int kExitProtocol = 3;
constexpr int kExitOutOfMemory = 4;
constexpr int kExitLimits = 5;
constexpr int kExitIo = 6;

// A child serves this many documents, then a fresh one takes over: whatever
// a parser leaked or fragmented goes with it.
constexpr int kDocumentsPerChild = 200;

struct ProtocolError {
    const char* what;
};

class Writer {
public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    void bytes(std::string_view s) {
        u64(s.size());
        out_.append(s);
    }
    // The frame: its length, then the payload.
    std::string frame() const { return frame_head(0); }
    // The start of a frame whose payload goes on with `more` bytes written
    // after it (a document, sent from where it is rather than copied).
    std::string frame_head(std::size_t more) const {
        Writer w;
        w.out_.reserve(8 + out_.size());
        w.u64(out_.size() + more);
        w.out_.append(out_);
        return std::move(w.out_);
    }

private:
    std::string out_;
};

std::uint64_t le64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    std::uint8_t u8() {
        need(1);
        return static_cast<std::uint8_t>(in_[pos_++]);
    }
    bool flag() {
        auto v = u8();
        if (v > 1) throw ProtocolError{"a flag is neither 0 nor 1"};
        return v == 1;
    }
    std::uint32_t u32() {
        need(4);
        std::uint32_t v = 0;
        for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in_[pos_ + static_cast<std::size_t>(i)]);
        pos_ += 4;
        return v;
    }
    std::uint64_t u64() {
        need(8);
        auto v = le64(reinterpret_cast<const unsigned char*>(in_.data() + pos_));
        pos_ += 8;
        return v;
    }
    std::string_view bytes() {
        auto n = u64();
        if (n > left()) throw ProtocolError{"a length runs past the end of the frame"};
        auto v = in_.substr(pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return v;
    }
    // A count of items, each at least `min_item` bytes: checked against what
    // is left, so that a forged count cannot make us reserve gigabytes.
    std::size_t count(std::size_t min_item) {
        auto n = u32();
        if (static_cast<std::uint64_t>(n) * min_item > left()) throw ProtocolError{"a count runs past the end of the frame"};
        return n;
    }
    void finish() const {
        if (pos_ != in_.size()) throw ProtocolError{"trailing bytes after the answer"};
    }

private:
    std::size_t left() const { return in_.size() - pos_; }
    void need(std::size_t n) const {
        if (n > left()) throw ProtocolError{"the frame is cut short"};
    }
    std::string_view in_;
    std::size_t pos_ = 0;
};

// A request: the frame up to the document's bytes, then the document itself,
// written one after the other (a 30 MB attachment is not copied twice more).
struct Request {
    std::string head;
    std::string_view data;
};

Request encode_request(std::uint8_t op, parsers::DocumentKind kind, std::string_view data) {
    Writer w;
    w.u8(op);
    w.bytes(parsers::to_string(kind));
    w.u64(data.size());   // what Writer::bytes(data) would write, the bytes following
    return {w.frame_head(data.size()), data};
}

std::string encode_text(const parsers::DocumentText& t) {
    Writer w;
    w.u8(kOpText);
    w.bytes(t.text);
    w.bytes(t.head);
    w.bytes(t.title);
    w.u32(static_cast<std::uint32_t>(t.members.size()));
    for (const auto& m : t.members) w.bytes(m);
    w.u32(static_cast<std::uint32_t>(std::max(t.pages, 0)));
    w.u8(t.image_only ? 1 : 0);
    w.u8(t.truncated ? 1 : 0);
    w.bytes(t.error);
    return w.frame();
}

std::string encode_tnef(const parsers::TnefContent& c) {
    Writer w;
    w.u8(kOpTnef);
    w.u32(static_cast<std::uint32_t>(c.files.size()));
    for (const auto& f : c.files) {
        w.bytes(f.name);
        w.bytes(f.data);
    }
    w.bytes(c.body_text);
    w.bytes(c.error);
    return w.frame();
}

parsers::DocumentText decode_text(std::string_view payload) {
    Reader r(payload);
    if (r.u8() != kOpText) throw ProtocolError{"the answer is not to the question asked"};
    parsers::DocumentText t;
    t.text = r.bytes();
    t.head = r.bytes();
    t.title = r.bytes();
    auto n = r.count(8);
    t.members.reserve(n);
    for (std::size_t i = 0; i < n; ++i) t.members.emplace_back(r.bytes());
    auto pages = r.u32();
    if (pages > static_cast<std::uint32_t>(INT_MAX)) throw ProtocolError{"an impossible page count"};
    t.pages = static_cast<int>(pages);
    t.image_only = r.flag();
    t.truncated = r.flag();
    t.error = r.bytes();
    r.finish();
    return t;
}

parsers::TnefContent decode_tnef(std::string_view payload) {
    Reader r(payload);
    if (r.u8() != kOpTnef) throw ProtocolError{"the answer is not to the question asked"};
    parsers::TnefContent c;
    auto n = r.count(16);
    c.files.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        parsers::TnefFile f;
        f.name = r.bytes();
        f.data = r.bytes();
        c.files.push_back(std::move(f));
    }
    c.body_text = r.bytes();
    c.error = r.bytes();
    r.finish();
    return c;
}

std::optional<parsers::DocumentKind> parse_kind(std::string_view s) {
    using K = parsers::DocumentKind;
    for (K k : {K::none, K::pdf, K::docx, K::odt, K::doc, K::xlsx, K::ods, K::xls, K::rtf, K::zip})
        if (parsers::to_string(k) == s) return k;
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// The child.
// ---------------------------------------------------------------------------

struct WorkerOptions {
    std::uint64_t memory_bytes = 0;  // 0: no RLIMIT_AS
    std::uint64_t cpu_seconds = 0;   // 0: no RLIMIT_CPU
    parsers::TextLimits text;
    parsers::TnefLimits tnef;
};

// Blocking, whole reads and writes on the protocol descriptors. read_full
// returns the bytes read: fewer than `n` only at end of file.
std::size_t read_full(int fd, char* buf, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t r = ::read(fd, buf + got, n - got);
        if (r > 0) got += static_cast<std::size_t>(r);
        else if (r == 0) break;
        else if (errno != EINTR) std::_Exit(kExitIo);
    }
    return got;
}

void write_full(int fd, std::string_view data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t r = ::write(fd, data.data() + done, data.size() - done);
        if (r > 0) done += static_cast<std::size_t>(r);
        else if (r < 0 && errno != EINTR) std::_Exit(kExitIo);
    }
}

// Everything the daemon had open (sockets, the database) is none of the
// parser's business: close it before anything else runs.
void close_inherited_fds() {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
}

// Lowers a limit, never above the hard limit the parent already had.
bool lower_limit(int resource, rlim_t value) {
    rlimit cur{};
    if (::getrlimit(resource, &cur) != 0) return false;
    if (cur.rlim_max != RLIM_INFINITY && value > cur.rlim_max) value = cur.rlim_max;
    rlimit next{value, value};
    return ::setrlimit(resource, &next) == 0;
}

// The address space and CPU limits (RLIMIT_CPU is moved per document, see
// below), no core files (a crashing parser would write the document's bytes to
// disk), no file writes, few descriptors, and no way to gain privileges
// through a setuid program should the parser ever be made to exec one.
bool apply_worker_limits(const WorkerOptions& opt) {
    bool ok = lower_limit(RLIMIT_CORE, 0) && lower_limit(RLIMIT_FSIZE, 0) && lower_limit(RLIMIT_NOFILE, 32);
#ifndef PPO_DOCUMENT_WORKER_ASAN
    if (opt.memory_bytes > 0) ok = ok && lower_limit(RLIMIT_AS, static_cast<rlim_t>(opt.memory_bytes));
#else
    (void)opt;
#endif
    ok = ok && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
    return ok;
}

// RLIMIT_CPU counts the child's whole life, across documents: before each
// one, the soft limit is set `cpu_seconds` past what has been used so far.
// The hard limit stays where it was (an unprivileged process cannot raise it
// back). It is a backstop: the parent's wall-clock timeout comes first, and
// a child whose parent died is stopped by it.
void arm_cpu_limit(std::uint64_t cpu_seconds) {
    if (cpu_seconds == 0) return;
    rusage ru{};
    rlimit cur{};
    if (::getrusage(RUSAGE_SELF, &ru) != 0 || ::getrlimit(RLIMIT_CPU, &cur) != 0) return;
    rlim_t used = static_cast<rlim_t>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1;
    rlim_t soft = used + static_cast<rlim_t>(cpu_seconds);
    if (cur.rlim_max != RLIM_INFINITY && soft > cur.rlim_max) soft = cur.rlim_max;
    rlimit next{soft, cur.rlim_max};
    ::setrlimit(RLIMIT_CPU, &next);
}

bool parse_u64(const char* s, std::uint64_t& out) {
    if (!s || !*s || *s == '-') return false;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') return false;
    out = v;
    return true;
}

bool parse_worker_options(int argc, char** argv, WorkerOptions& opt) {
    int i = 1;
    while (i < argc && std::strcmp(argv[i], "document-worker") != 0) ++i;
    for (++i; i < argc; i += 2) {
        if (i + 1 >= argc) return false;
        const std::string name = argv[i];
        std::uint64_t v = 0;
        if (!parse_u64(argv[i + 1], v)) return false;
        const auto size = static_cast<std::size_t>(v);
        if (name == "--memory-bytes") opt.memory_bytes = v;
        else if (name == "--cpu-seconds") opt.cpu_seconds = v;
        else if (name == "--max-text-bytes") opt.text.max_text_bytes = size;
        else if (name == "--max-head-bytes") opt.text.max_head_bytes = size;
        else if (name == "--max-member-bytes") opt.text.max_member_bytes = size;
        else if (name == "--max-members") opt.text.max_members = size;
        else if (name == "--max-pages") opt.text.max_pages = static_cast<int>(std::min<std::uint64_t>(v, INT_MAX));
        else if (name == "--max-files") opt.tnef.max_files = size;
        else if (name == "--max-total-bytes") opt.tnef.max_total_bytes = size;
        else return false;
    }
    return true;
}

// TEST ONLY. With PPO_TEST_DOCUMENT_WORKER=1 in the child's environment, a
// text request whose data starts with this marker misbehaves on purpose, so
// that the integration tests can check the parent's limits without a hostile
// file for each: "echo TEXT" (answers TEXT at once: the protocol's own cost),
// "sleep" (never answers), "spin" (burns CPU), "alloc N"
// (allocates and touches N bytes), "segv" (dies of SIGSEGV), "garbage" (an
// absurd frame length), "malformed" (a well-framed answer that does not parse).
// Returns false when the request is an ordinary one.
constexpr std::string_view kTestMarker = std::string_view("\0PPO-TEST-WORKER ", 17);

bool run_test_op(std::string_view data, int out) {
    static const bool enabled = [] {
        const char* v = std::getenv("PPO_TEST_DOCUMENT_WORKER");
        return v && std::string_view(v) == "1";
    }();
    if (!enabled || data.substr(0, kTestMarker.size()) != kTestMarker) return false;
    std::string_view cmd = data.substr(kTestMarker.size());
    if (cmd == "sleep") {
        for (;;) ::pause();
    } else if (cmd == "spin") {
        volatile std::uint64_t x = 0;
        for (;;) x = x + 1;
    } else if (cmd.substr(0, 6) == "alloc ") {
        std::uint64_t n = 0;
        if (parse_u64(std::string(cmd.substr(6)).c_str(), n)) {
            std::string block(static_cast<std::size_t>(n), 'x');  // touched: really resident
            parsers::DocumentText t;
            t.text = "allocated " + std::to_string(block.size()) + " bytes";
            write_full(out, encode_text(t));
            return true;
        }
    } else if (cmd.substr(0, 5) == "echo ") {
        parsers::DocumentText t;
        t.text = cmd.substr(5);
        write_full(out, encode_text(t));
        return true;
    } else if (cmd == "segv") {
        std::signal(SIGSEGV, SIG_DFL);  // not ASan's handler, which would exit(1)
        ::raise(SIGSEGV);
    } else if (cmd == "garbage") {
        write_full(out, std::string_view("\xff\xff\xff\xff\xff\xff\xff\x7fgarbage", 15));
        return true;
    } else if (cmd == "malformed") {
        Writer w;
        w.u8(kOpText);
        w.u64(1000);  // a string longer than the frame
        write_full(out, w.frame());
        return true;
    }
    return false;
}

std::string handle_request(std::string_view payload, const WorkerOptions& opt, int out, bool& answered) {
    Reader r(payload);
    auto op = r.u8();
    auto kind_name = r.bytes();
    auto data = r.bytes();
    r.finish();
    if (op == kOpText) {
        if (run_test_op(data, out)) {
            answered = true;
            return {};
        }
        parsers::DocumentText t;
        try {
            if (auto kind = parse_kind(kind_name)) t = parsers::extract_document_text(*kind, data, opt.text);
            else t.error = "unknown document kind '" + std::string(kind_name) + "'";
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            // The parsers do not throw for a document's sake; a library might.
            t = {};
            t.error = std::string("document parser failed: ") + e.what();
        }
        return encode_text(t);
    }
    if (op == kOpTnef) {
        parsers::TnefContent c;
        try {
            c = parsers::unpack_tnef(data, opt.tnef);
        } catch (const std::bad_alloc&) {
            throw;
        } catch (const std::exception& e) {
            c = {};
            c.error = std::string("TNEF parser failed: ") + e.what();
        }
        return encode_tnef(c);
    }
    throw ProtocolError{"unknown operation"};
}

// ---------------------------------------------------------------------------
// The parent.
// ---------------------------------------------------------------------------

struct Child {
    pid_t pid = -1;
    int to_child = -1;    // the child's stdin
    int from_child = -1;  // the child's stdout
    int documents = 0;
};

std::string errno_text(int err) { return std::strerror(err); }

std::string seconds_text(std::chrono::milliseconds ms) {
    char buf[32];
    if (ms.count() % 1000 == 0) std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(ms.count() / 1000));
    else std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms.count()) / 1000.0);
    return buf;
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return status;
}

// Ends a child for good and collects it: no zombie is ever left behind.
int kill_and_reap(Child& c) {
    close_fd(c.to_child);
    close_fd(c.from_child);
    if (c.pid <= 0) return -1;
    ::kill(c.pid, SIGKILL);
    int status = reap(c.pid);
    c.pid = -1;
    return status;
}

// A child that closed its output has exited, or is about to: give it a moment
// to become a zombie, so that its real status (the signal that killed it) can
// be reported, then make sure of it.
int collect_dead(Child& c) {
    close_fd(c.to_child);
    close_fd(c.from_child);
    const auto until = steady::now() + std::chrono::seconds(1);
    while (steady::now() < until) {
        int status = 0;
        pid_t r = ::waitpid(c.pid, &status, WNOHANG);
        if (r == c.pid || (r < 0 && errno != EINTR)) {
            c.pid = -1;
            return r == -1 ? -1 : status;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return kill_and_reap(c);
}

std::string death_text(int status, std::size_t memory_bytes) {
    const std::string mb = std::to_string(memory_bytes / (1024 * 1024)) + " MB";
    if (status == -1) return "document parser vanished";
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGXCPU) return "document parser ran out of CPU time (signal " + std::to_string(sig) + ")";
        if (sig == SIGKILL) return "document parser was killed (signal 9, out of memory?)";
        if (sig == SIGABRT)
            return "document parser crashed (signal 6: aborted, out of memory? limit " + mb + ")";
        return "document parser crashed (signal " + std::to_string(sig) + ")";
    }
    if (WIFEXITED(status)) {
        switch (WEXITSTATUS(status)) {
            case kExitOutOfMemory: return "document parser ran out of memory (limit " + mb + ")";
            case kExitLimits: return "document parser could not limit itself (setrlimit failed)";
            case kExitUsage: return "document parser refused its arguments";
            case kExitProtocol: return "document parser could not read the request";
            default: return "document parser exited (status " + std::to_string(WEXITSTATUS(status)) + ")";
        }
    }
    return "document parser stopped (status " + std::to_string(status) + ")";
}

// Writing to a child that died raises SIGPIPE, whose default action would end
// the daemon (only `run` ignores it process-wide; `poll --once` and the tests
// do not). The signal is blocked in the calling thread around the write, and
// one raised by the write is consumed before it is unblocked.
class SigpipeGuard {
public:
    SigpipeGuard() {
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        ::sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
    }
    ~SigpipeGuard() {
        if (raised_ && !was_pending_) {
            timespec zero{};
            while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
            }
        }
        ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    void raised() { raised_ = true; }

private:
    sigset_t pipe_;
    sigset_t old_;
    bool was_pending_ = false;
    bool raised_ = false;
};

enum class Exchange { ok, write_failed, timed_out, died, bad_answer };

int remaining_ms(steady::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) return 0;
    return static_cast<int>(std::min<long long>(left + 1, 60'000));
}

// Waits until `fd` is ready for `events`, or the deadline. False on timeout.
bool wait_ready(int fd, short events, steady::time_point deadline) {
    for (;;) {
        int ms = remaining_ms(deadline);
        if (ms == 0) return false;
        pollfd p{fd, events, 0};
        int r = ::poll(&p, 1, ms);
        if (r > 0) return true;  // ready, or hung up / in error: the read or write says which
        if (r < 0 && errno != EINTR) return true;
    }
}

Exchange write_request(Child& c, std::string_view request, steady::time_point deadline) {
    SigpipeGuard guard;
    std::size_t done = 0;
    while (done < request.size()) {
        if (!wait_ready(c.to_child, POLLOUT, deadline)) return Exchange::timed_out;
        ssize_t r = ::write(c.to_child, request.data() + done, request.size() - done);
        if (r > 0) done += static_cast<std::size_t>(r);
        else if (r < 0 && errno == EPIPE) {
            guard.raised();
            return Exchange::write_failed;
        } else if (r < 0 && errno != EINTR && errno != EAGAIN) return Exchange::write_failed;
    }
    return Exchange::ok;
}

// Reads exactly `n` bytes into `out`; Exchange::died at end of file.
Exchange read_exact(Child& c, char* out, std::size_t n, steady::time_point deadline) {
    std::size_t got = 0;
    while (got < n) {
        if (!wait_ready(c.from_child, POLLIN, deadline)) return Exchange::timed_out;
        ssize_t r = ::read(c.from_child, out + got, n - got);
        if (r > 0) got += static_cast<std::size_t>(r);
        else if (r == 0) return Exchange::died;
        else if (errno != EINTR && errno != EAGAIN) return Exchange::died;
    }
    return Exchange::ok;
}

Exchange read_response(Child& c, std::string& payload, std::size_t max_bytes, steady::time_point deadline) {
    unsigned char header[8];
    if (auto e = read_exact(c, reinterpret_cast<char*>(header), sizeof header, deadline); e != Exchange::ok) return e;
    const std::uint64_t n = le64(header);
    if (n > max_bytes) return Exchange::bad_answer;
    payload.assign(static_cast<std::size_t>(n), '\0');
    return read_exact(c, payload.data(), payload.size(), deadline);
}

}  // namespace

// ---------------------------------------------------------------------------

struct SubprocessDocumentReader::Impl {
    std::string executable;
    DocumentLimits limits;
    std::vector<std::string> args;
    std::size_t max_text_answer = 0;
    std::size_t max_tnef_answer = 0;

    std::mutex mu;
    std::condition_variable freed;
    std::vector<std::unique_ptr<Child>> idle;
    std::size_t live = 0;  // idle + in use

    Impl(std::string exe, DocumentLimits l) : executable(std::move(exe)), limits(std::move(l)) {
        if (limits.workers == 0) limits.workers = 1;
        // CPU time never exceeds wall time in a single-threaded child: one
        // second more than the timeout never fires before it.
        const auto cpu = (limits.timeout.count() + 999) / 1000 + 1;
        args = {executable,
                "document-worker",
                "--memory-bytes", std::to_string(limits.memory_bytes),
                "--cpu-seconds", std::to_string(cpu),
                "--max-text-bytes", std::to_string(limits.text.max_text_bytes),
                "--max-head-bytes", std::to_string(limits.text.max_head_bytes),
                "--max-member-bytes", std::to_string(limits.text.max_member_bytes),
                "--max-members", std::to_string(limits.text.max_members),
                "--max-pages", std::to_string(std::max(limits.text.max_pages, 0)),
                "--max-files", std::to_string(limits.tnef.max_files),
                "--max-total-bytes", std::to_string(limits.tnef.max_total_bytes)};
        // The largest answer an honest child can give, with room for the
        // framing and for member and file names (a ZIP name is at most 64 KiB).
        constexpr std::size_t kName = 64 * 1024 + 8;
        constexpr std::size_t kSlack = 1024 * 1024;
        max_text_answer = limits.text.max_text_bytes + 2 * limits.text.max_head_bytes +   // head, title
                          limits.text.max_members * kName + kSlack;
        max_tnef_answer = 2 * limits.tnef.max_total_bytes + limits.tnef.max_files * (kName + 8) + kSlack;
    }

    ~Impl() {
        std::lock_guard lock(mu);
        for (auto& c : idle) kill_and_reap(*c);
        idle.clear();
    }

    std::unique_ptr<Child> spawn() {
        int in[2] = {-1, -1};
        int out[2] = {-1, -1};
        if (::pipe2(in, O_CLOEXEC) != 0) throw transient_error("cannot start the document parser: pipe: " + errno_text(errno));
        if (::pipe2(out, O_CLOEXEC) != 0) {
            int err = errno;
            ::close(in[0]);
            ::close(in[1]);
            throw transient_error("cannot start the document parser: pipe: " + errno_text(err));
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        // poppler prints its complaints about a broken file to stderr.
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        // Descriptors the daemon opened without O_CLOEXEC (a library's) stay
        // out of the child; the child closes them again itself.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
        // Default signal dispositions and an empty mask, whatever the daemon
        // set (it ignores SIGPIPE; the caller may have it blocked).
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t all, none;
        sigfillset(&all);
        sigdelset(&all, SIGKILL);
        sigdelset(&all, SIGSTOP);
        sigemptyset(&none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = -1;
        int rc = ::posix_spawn(&pid, executable.c_str(), &actions, &attr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        ::close(in[0]);
        ::close(out[1]);
        if (rc != 0) {
            ::close(in[1]);
            ::close(out[0]);
            throw transient_error("cannot start the document parser " + executable + ": " + errno_text(rc));
        }
        auto c = std::make_unique<Child>();
        c->pid = pid;
        c->to_child = in[1];
        c->from_child = out[0];
        // Our ends never block: every wait is a poll() with the deadline.
        ::fcntl(c->to_child, F_SETFL, ::fcntl(c->to_child, F_GETFL) | O_NONBLOCK);
        ::fcntl(c->from_child, F_SETFL, ::fcntl(c->from_child, F_GETFL) | O_NONBLOCK);
        std::string hello;
        Exchange e = read_response(*c, hello, 64, steady::now() + kStartupTimeout);
        bool ok = false;
        if (e == Exchange::ok) {
            try {
                Reader r(hello);
                ok = r.u8() == 0 && r.bytes() == kHello;
                r.finish();
            } catch (const ProtocolError&) {
                ok = false;
            }
        }
        if (!ok) {
            const std::string why = e == Exchange::timed_out ? "did not answer within " +
                                                                   std::to_string(kStartupTimeout.count()) + " s"
                                    : e == Exchange::died ? death_text(collect_dead(*c), limits.memory_bytes)
                                                          : "is not a ppo-intake document worker";
            kill_and_reap(*c);
            throw transient_error("cannot start the document parser " + executable + ": " + why);
        }
        spdlog::debug("document parser started (pid {})", pid);
        return c;
    }

    // An idle child, or a new one when fewer than `workers` exist; else waits
    // for one to be given back.
    std::unique_ptr<Child> acquire() {
        std::unique_lock lock(mu);
        freed.wait(lock, [&] { return !idle.empty() || live < limits.workers; });
        if (!idle.empty()) {
            auto c = std::move(idle.back());
            idle.pop_back();
            return c;
        }
        ++live;
        lock.unlock();
        try {
            return spawn();
        } catch (...) {
            lock.lock();
            --live;
            freed.notify_one();
            throw;
        }
    }

    // Gives a child back to the pool, or its place when it is gone (`c` null
    // or already reaped).
    void release(std::unique_ptr<Child> c) {
        if (c && c->pid > 0 && c->documents >= kDocumentsPerChild) {
            spdlog::debug("document parser pid {} retired after {} documents", c->pid, c->documents);
            kill_and_reap(*c);
        }
        std::lock_guard lock(mu);
        if (c && c->pid > 0) idle.push_back(std::move(c));
        else --live;
        freed.notify_one();
    }

    // One request, one answer, within the timeout: `decode` turns the
    // answer's payload into the result (throwing ProtocolError when it does
    // not parse). False when there is no result: the child is gone and
    // `error` says why.
    template <typename Decode>
    bool call(const Request& request, std::size_t max_answer, Decode decode, std::string& error) {
        std::string payload;
        for (int attempt = 0;; ++attempt) {
            error.clear();
            auto c = acquire();
            const bool fresh = c->documents == 0;
            const auto deadline = steady::now() + limits.timeout;
            Exchange e = write_request(*c, request.head, deadline);
            if (e == Exchange::ok) e = write_request(*c, request.data, deadline);
            if (e == Exchange::ok) e = read_response(*c, payload, max_answer, deadline);
            if (e == Exchange::ok) {
                try {
                    decode(payload);
                    ++c->documents;
                    release(std::move(c));
                    return true;
                } catch (const ProtocolError& p) {
                    // Well framed but not our protocol: this child is not
                    // to be trusted with another document.
                    error = std::string("document parser gave an invalid answer (") + p.what + ")";
                    e = Exchange::bad_answer;
                }
            }
            const pid_t pid = c->pid;
            int status = -1;
            switch (e) {
                case Exchange::timed_out:
                    kill_and_reap(*c);
                    error = "timed out after " + seconds_text(limits.timeout) + " (document parsing killed)";
                    break;
                case Exchange::bad_answer:
                    kill_and_reap(*c);
                    if (error.empty()) error = "document parser gave an invalid answer (frame too long)";
                    break;
                case Exchange::write_failed:
                case Exchange::died:
                    status = collect_dead(*c);
                    error = death_text(status, limits.memory_bytes);
                    break;
                case Exchange::ok:
                    break;
            }
            release(std::move(c));
            // A child that had served before and died while idle (killed from
            // outside) never saw this document: it gets one fresh child.
            if (e == Exchange::write_failed && !fresh && attempt == 0) {
                spdlog::warn("document parser pid {} had died while idle ({}); starting another", pid, error);
                continue;
            }
            spdlog::warn("document parser pid {}: {}", pid, error);
            return false;
        }
    }
};

SubprocessDocumentReader::SubprocessDocumentReader(std::string worker_executable, DocumentLimits limits)
    : impl_(std::make_unique<Impl>(std::move(worker_executable), std::move(limits))) {}

SubprocessDocumentReader::~SubprocessDocumentReader() = default;

parsers::DocumentText SubprocessDocumentReader::read_text(parsers::DocumentKind kind, std::string_view data) {
    parsers::DocumentText result;
    if (data.size() > impl_->limits.memory_bytes) {
        result.error = "document too large (" + std::to_string(data.size()) + " bytes) for the parser's memory limit";
        return result;
    }
    impl_->call(
        encode_request(kOpText, kind, data), impl_->max_text_answer,
        [&](std::string_view payload) { result = decode_text(payload); }, result.error);
    return result;
}

parsers::TnefContent SubprocessDocumentReader::unpack_tnef(std::string_view data) {
    parsers::TnefContent result;
    if (data.size() > impl_->limits.memory_bytes) {
        result.error = "TNEF too large (" + std::to_string(data.size()) + " bytes) for the parser's memory limit";
        return result;
    }
    impl_->call(
        encode_request(kOpTnef, parsers::DocumentKind::none, data), impl_->max_tnef_answer,
        [&](std::string_view payload) { result = decode_tnef(payload); }, result.error);
    return result;
}

bool document_memory_limit_applied() {
#ifdef PPO_DOCUMENT_WORKER_ASAN
    return false;
#else
    return true;
#endif
}

int run_document_worker(int argc, char** argv) {
    // The protocol gets descriptors of its own; 0 and 1 become /dev/null, so
    // that a library printing to stdout cannot corrupt the answers.
    close_inherited_fds();
    const int in = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    const int out = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (in < 0 || out < 0 || devnull < 0) return kExitIo;
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(devnull, STDOUT_FILENO);
    ::close(devnull);

    WorkerOptions opt;
    if (!parse_worker_options(argc, argv, opt)) {
        std::fputs("ppo-intake document-worker: bad arguments\n", stderr);
        return kExitUsage;
    }
    if (!apply_worker_limits(opt)) return kExitLimits;
    {
        Writer hello;
        hello.u8(0);
        hello.bytes(kHello);
        write_full(out, hello.frame());
    }

    // The parent sends at most `memory_bytes` of document; anything longer
    // is not the parent talking.
    const std::uint64_t max_request = (opt.memory_bytes ? opt.memory_bytes : (1ULL << 32)) + 4096;
    for (;;) {
        unsigned char header[8];
        const std::size_t got = read_full(in, reinterpret_cast<char*>(header), sizeof header);
        if (got == 0) return 0;  // the parent is done with us
        if (got < sizeof header) return kExitProtocol;
        const std::uint64_t n = le64(header);
        if (n > max_request) return kExitProtocol;
        try {
            std::string payload(static_cast<std::size_t>(n), '\0');
            if (read_full(in, payload.data(), payload.size()) < payload.size()) return kExitProtocol;
            arm_cpu_limit(opt.cpu_seconds);
            bool answered = false;
            std::string answer = handle_request(payload, opt, out, answered);
            if (!answered) write_full(out, answer);
        } catch (const std::bad_alloc&) {
            // Under RLIMIT_AS; nothing is allocated on the way out.
            std::_Exit(kExitOutOfMemory);
        } catch (const ProtocolError&) {
            return kExitProtocol;
        }
    }
}

}  // namespace ppo::daemon
