// check-config --connect. See preflight.h for the contract.
#include "daemon/cli/preflight.h"

#include "daemon/imap/imap_mail_source.h"
#include "daemon/smtp/smtp_sender.h"
#include "daemon/store/database.h"
#include "parsers/text/error.h"
#include "workflow/mail/templates.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace ppo::daemon {

namespace {

namespace fs = std::filesystem;

// Below this, the archive is reported as FAIL: a burst of PPOs (a few MB
// each, hundreds of lycées) would not fit.
constexpr std::uint64_t kMinFreeBytes = 100ull << 20;

class Checklist {
public:
    void ok(const std::string& what, const std::string& detail) { line(true, what, detail); }
    void fail(const std::string& what, const std::string& detail) { line(false, what, detail); }
    int exit_code() const { return failures_ == 0 ? 0 : 2; }
    int failures() const { return failures_; }
    int total() const { return total_; }

private:
    int failures_ = 0;
    int total_ = 0;
    void line(bool passed, const std::string& what, const std::string& detail) {
        ++total_;
        if (!passed) ++failures_;
        std::cout << (passed ? "OK    " : "FAIL  ") << what << ": " << detail << "\n";
    }
};

std::string human_bytes(std::uint64_t n) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(n);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

void check_imap(Context& ctx, Checklist& list) {
    const auto& c = ctx.config.imap;
    const std::string where = c.url.scheme + "://" + c.url.host + ":" + std::to_string(c.url.port);
    std::unique_ptr<workflow::MailSource> source;
    try {
        source = ctx.make_mail_source();
        source->open();
    } catch (const std::exception& e) {
        list.fail("IMAP " + where, e.what());
        return;
    }
    auto* imap = dynamic_cast<ImapMailSource*>(source.get());
    if (imap == nullptr) {
        list.fail("IMAP " + where, "not an IMAP source");
        return;
    }
    const ImapSessionInfo& info = imap->session_info();
    list.ok("IMAP " + where, "logged in as " + c.user +
                                 (info.tls ? (c.url.scheme == "imaps" ? std::string(", encrypted (imaps)")
                                                                      : std::string(", encrypted (STARTTLS)"))
                                           : std::string(", not encrypted (loopback or [imap] allow_plaintext)")));
    list.ok("IMAP capabilities", info.capabilities.empty() ? std::string("(none listed)") : info.capabilities);
    std::string ns;
    if (!info.has_namespace)
        ns = "no NAMESPACE: folder names are taken as they are";
    else if (info.personal_prefix.empty())
        ns = "personal namespace without a prefix";
    else
        ns = "personal namespace " + quoted(info.personal_prefix) + ": folder names are taken under it";
    ns += info.delimiter != 0 ? ", hierarchy delimiter '" + std::string(1, info.delimiter) + "'"
                              : std::string(", no hierarchy delimiter (flat names)");
    list.ok("IMAP namespace", ns);
    list.ok("IMAP [imap] mailbox", quoted(c.mailbox) + " is " + quoted(info.mailbox) + " on the server, selected");
    const std::pair<const char*, const std::string*> keys[3] = {{"processed_folder", &c.processed_folder},
                                                                {"triage_folder", &c.triage_folder},
                                                                {"ignored_folder", &c.ignored_folder}};
    for (int i = 0; i < 3; ++i) {
        const std::string& server = info.folders[i];
        bool created = false;
        for (const auto& made : info.created)
            if (made == server) created = true;
        list.ok(std::string("IMAP [imap] ") + keys[i].first,
                quoted(*keys[i].second) + " is " + quoted(server) + " on the server, " +
                    (created ? "created now (as the daemon would)" : "exists"));
    }
    list.ok("IMAP IDLE", imap->idle_supported()
                             ? std::string("advertised: new mail is seen within seconds")
                             : "not advertised: the mailbox is polled every " + std::to_string(c.poll_interval) +
                                   " s ([imap] poll_interval)");
    list.ok("IMAP MOVE", imap->move_supported() ? std::string("advertised")
                                                : std::string("not advertised: COPY, \\Deleted, then ") +
                                                      (imap->uidplus_supported() ? "UID EXPUNGE (UIDPLUS)" : "EXPUNGE"));
    source->close();
}

void check_smtp(Context& ctx, Checklist& list) {
    const auto& c = ctx.config.smtp;
    const std::string where = c.url.scheme + "://" + c.url.host + ":" + std::to_string(c.url.port);
    std::string rcpt;
    std::string rcpt_from;
    if (!ctx.config.digest.to.empty() && !ctx.config.digest.to.front().empty()) {
        rcpt = ctx.config.digest.to.front();
        rcpt_from = "[digest] to, the DRAIO";
    } else {
        rcpt = c.from_address;
        rcpt_from = "[smtp] from, as [digest] to is empty";
    }
    try {
        auto sender = ctx.make_mail_sender();
        auto* smtp = dynamic_cast<SmtpSender*>(sender.get());
        if (smtp == nullptr) {
            list.fail("SMTP " + where, "not an SMTP sender");
            return;
        }
        const SmtpProbe probe = smtp->probe(c.from_address, rcpt);
        list.ok("SMTP " + where, std::string(probe.tls ? "encrypted (TLS)" : "not encrypted (loopback or [smtp] allow_plaintext)") +
                                     (probe.authenticated ? ", authenticated as " + c.user : std::string(", no AUTH (no [smtp] user)")));
        list.ok("SMTP extensions", probe.extensions.empty() ? std::string("(none: HELO)") : probe.extensions);
        list.ok("SMTP MAIL FROM/RCPT TO", "<" + c.from_address + "> to <" + rcpt + "> (" + rcpt_from + ") accepted: " +
                                              probe.rcpt_reply + "; nothing sent (RSET, QUIT)");
    } catch (const std::exception& e) {
        list.fail("SMTP " + where, e.what());
    }
}

int binary_schema_version(const std::string& sql_dir) {
    int highest = 0;
    std::error_code ec;
    static const std::regex name(R"((\d+)_.*\.sql)");
    for (const auto& entry : fs::directory_iterator(sql_dir, ec)) {
        std::smatch m;
        const std::string fname = entry.path().filename().string();
        if (std::regex_match(fname, m, name)) highest = std::max(highest, std::stoi(m[1]));
    }
    return highest;
}

void check_database(Context& ctx, Checklist& list) {
    const std::string what = "database (" + ctx.config.database.backend + ")";
    try {
        const std::string sql_dir = default_sql_dir();
        const int binary = binary_schema_version(sql_dir);
        Database db(ctx.config.database);
        const int current = db.schema_version();
        if (binary == 0) {
            list.fail(what, "reachable, but no migrations found in " + sql_dir);
        } else if (current > binary) {
            list.fail(what, "schema version " + std::to_string(current) + " is newer than this binary's (" +
                                std::to_string(binary) + "): a newer ppo-intake wrote it; install that version");
        } else if (current < binary) {
            list.ok(what, "reachable; schema version " + std::to_string(current) + ", this binary's is " +
                              std::to_string(binary) + ": migrated when the daemon starts");
        } else {
            list.ok(what, "reachable; schema version " + std::to_string(current) + ", the binary's");
        }
    } catch (const std::exception& e) {
        list.fail(what, e.what());
    }
}

void check_archive(Context& ctx, Checklist& list) {
    const std::string& dir = ctx.config.storage.archive_dir;
    const std::string what = "archive " + dir + " ([storage] archive_dir)";
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            list.fail(what, "does not exist and cannot be created: " + ec.message());
            return;
        }
    }
    if (!fs::is_directory(dir, ec)) {
        list.fail(what, "is not a folder");
        return;
    }
    std::string probe = dir + "/.ppo-preflight-XXXXXX";
    const int fd = ::mkstemp(probe.data());
    if (fd < 0) {
        list.fail(what, std::string("not writable: ") + std::strerror(errno));
        return;
    }
    const bool written = ::write(fd, "ok\n", 3) == 3 && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    ::unlink(probe.c_str());
    if (!written) {
        list.fail(what, std::string("a file cannot be written there: ") + std::strerror(saved));
        return;
    }
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) {
        list.fail(what, std::string("writable, but its free space is unknown: ") + std::strerror(errno));
        return;
    }
    const std::uint64_t free_bytes = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    if (free_bytes < kMinFreeBytes)
        list.fail(what, "writable, but only " + human_bytes(free_bytes) + " free (at least " +
                            human_bytes(kMinFreeBytes) + " needed)");
    else
        list.ok(what, "writable, " + human_bytes(free_bytes) + " free");
}

}  // namespace

int cmd_check_config_connect(Context& ctx) {
    Checklist list;
    try {
        (void)workflow::Templates::load(ctx.templates_dir);
        list.ok("configuration", ctx.config.source + " and the templates in " + ctx.templates_dir + " are valid");
    } catch (const std::exception& e) {
        list.fail("configuration", e.what());
    }
    for (const auto& w : workflow::tls_warnings(ctx.config)) std::cout << "NOTE  " << w << "\n";
    if (ctx.config.intake.trusted_authserv_id.empty())
        std::cout << "NOTE  [intake] trusted_authserv_id is empty: sender authentication is off (see check-config)\n";
    check_imap(ctx, list);
    check_smtp(ctx, list);
    check_database(ctx, list);
    check_archive(ctx, list);
    if (list.failures() == 0)
        std::cout << "All " << list.total() << " checks passed: ready for the campaign.\n";
    else
        std::cout << list.failures() << " of " << list.total() << " checks failed: fix them before the campaign.\n";
    return list.exit_code();
}

}  // namespace ppo::daemon
