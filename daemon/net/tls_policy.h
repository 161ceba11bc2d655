// The TLS policy shared by the IMAP and SMTP adapters, in one place:
//  - whether credentials (and, for SMTP, mail) may go over a connection that
//    is not encrypted: only to a loopback peer (decided on the connected
//    socket's address, not on the configured name), or when the administrator
//    set `allow_plaintext = true`; `tls_required = true` removes the loopback
//    exemption;
//  - the verification of a server's certificate chain and host name with
//    OpenSSL, against the system CAs or `ca_file`, for libetpan, which does
//    not verify (Debian's libetpan is built on GnuTLS and only hands back the
//    DER chain the server sent);
//  - the wording of a refused certificate: host, OpenSSL's reason, what it
//    means, and the configuration keys to change.
// Pure functions except peer_is_loopback(fd) and verify_chain() (reads the
// CA files); nothing here logs.
#pragma once

#include <string>
#include <vector>

struct sockaddr;

namespace ppo::daemon {

// True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
bool is_loopback(const sockaddr* address);
// The peer of a connected socket; false when it cannot be read.
bool peer_is_loopback(int fd);

enum class Plaintext {
    refused,            // TLS is needed and not available: send nothing
    loopback,           // allowed: the peer is this machine
    allowed_by_config,  // allowed: allow_plaintext = true
};

// What to do when the server offers no TLS (no STARTTLS, or it failed before
// the handshake started).
Plaintext plaintext_verdict(bool peer_loopback, bool allow_plaintext, bool tls_required);

// Why a certificate is refused (OpenSSL's X509_V_ERR_* in `error`), in words
// an administrator can act on, naming the keys of `section` ("imap", "smtp").
// `host` is the configured host; `subject` the offending certificate's subject
// (may be empty); `depth` its place in the chain (0: the server's own).
std::string describe_certificate_error(const std::string& host, int error, int depth, const std::string& subject,
                                       const std::string& section);

// Verifies `der_chain` (the server's certificate first, then the
// intermediates it sent) for `host` (a DNS name or an IP address) against
// `ca_file` (PEM) when set, else the system's default CA store. Returns "" when
// it verifies, else describe_certificate_error()'s text.
std::string verify_chain(const std::vector<std::string>& der_chain, const std::string& host,
                         const std::string& ca_file, const std::string& section);

// True when `host` is an IPv4 or IPv6 literal.
bool is_ip_literal(const std::string& host);

}  // namespace ppo::daemon
