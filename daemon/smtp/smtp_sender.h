// MailSender over SMTP with Poco::Net: smtps://, or smtp:// upgraded with
// STARTTLS; AUTH LOGIN/PLAIN when a user is set. The server's certificate chain
// and host name are verified during the handshake (system CAs or `ca_file`);
// without STARTTLS nothing is sent (no AUTH, no mail) unless the peer is
// loopback or `allow_plaintext` (tls_policy.h). A refused certificate or a
// missing STARTTLS is a ppo::Error of kind config. A message whose header
// section holds a NUL, or a CR or LF that is not part of CRLF, is refused
// (permanent), not repaired. Keeps one connection open across send() calls
// until close() (or an error).
#pragma once

#include "workflow/ports/ports.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ppo::daemon {

struct SmtpSettings {
    std::string host;
    int port = 25;
    bool implicit_tls = false;     // smtps://
    bool tls_required = false;     // no plaintext even to a loopback peer
    bool allow_plaintext = false;  // plaintext to any peer when STARTTLS is not offered
    bool verify_certificate = true;
    std::string ca_file;           // PEM CAs to trust instead of the system's
    std::string user;              // empty: no AUTH
    std::string password;
    std::string helo_name = "localhost";
    int timeout_seconds = 60;
};

// The DATA payload, written as it comes: CRLF line ends (a lone LF or CR
// becomes CRLF), lines starting with '.' get one more (RFC 5321 4.5.2), then
// the terminating "."; the pieces fed may cut a line, or a CRLF, anywhere.
// Handed to `flush` in runs of about 256 KiB, so that a forward of any size
// costs that much memory.
class SmtpDataPayload {
public:
    explicit SmtpDataPayload(std::function<void(std::string_view)> flush);
    void feed(std::string_view piece);
    // The last line's CRLF if it has none, the terminating ".", everything
    // flushed; `before_end`, when set, is called just before the bytes that
    // hold the "." are handed over.
    void finish(const std::function<void()>& before_end = {});

private:
    static constexpr std::size_t kFlushAt = 256 * 1024;
    std::function<void(std::string_view)> flush_;
    std::string out_;
    bool line_start_ = true;
    bool pending_cr_ = false;   // the last piece ended with a CR (already written as CRLF)

    void end_line(const char* text, std::size_t n);
    void flush();
};

// What probe() found: the pre-flight check's SMTP lines.
struct SmtpProbe {
    bool tls = false;             // the session is encrypted (smtps:// or STARTTLS)
    bool authenticated = false;   // AUTH accepted (false when no user is set)
    std::string extensions;       // EHLO keywords, space-separated
    std::string rcpt_reply;       // the server's reply to RCPT TO
};

class SmtpSender final : public workflow::MailSender {
public:
    explicit SmtpSender(SmtpSettings settings);
    ~SmtpSender() override;
    void send(const workflow::OutgoingMail& mail) override;
    void close() override;
    // Connects as send() does (TLS policy, AUTH), then MAIL FROM:<from> and
    // RCPT TO:<rcpt>, then RSET and QUIT: no DATA, nothing is sent. Throws
    // ppo::Error as send() does (a refused RCPT: permanent).
    SmtpProbe probe(const std::string& from, const std::string& rcpt);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    // Runs `what`, mapping Poco's exceptions to ppo::Error (dropping the session).
    void with_errors_mapped(const std::function<void()>& what);
};

}  // namespace ppo::daemon
