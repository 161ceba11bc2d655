// A throwaway Dovecot IMAP server for integration tests: generated config in a
// fresh temporary folder, 127.0.0.1 on a free port, one passwd-file user, mail
// under the temporary folder. Started by the constructor (waits until the port
// accepts connections), stopped and removed by the destructor. Needs root (as in
// CI) or a user Dovecot accepts as its own.
#pragma once

#include "bench/imap_mailbox.h"

#include "bench/tls_cert.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ppo::testbench {

struct DovecotOptions {
    bool tls = false;              // also listen with a self-signed certificate (imaps + STARTTLS)
    TlsFiles certificate;          // with tls: serve this one instead of a fresh self-signed one
    bool enable_idle = true;       // advertise IDLE
    bool enable_move = true;       // advertise MOVE
    bool enable_uidplus = true;    // advertise UIDPLUS
    // A personal namespace with this prefix (inbox = yes), e.g. "INBOX." with
    // separator '.': the layout Courier IMAP ships and a Courier migration
    // leaves. Empty: Dovecot's default (no prefix).
    std::string namespace_prefix;
    char namespace_separator = '.';
    std::string extra_config;      // appended to dovecot.conf as is
    std::string user = "ppo";
    std::string password = "secret-imap-pw";
};

class DovecotServer {
public:
    explicit DovecotServer(DovecotOptions options = {});
    ~DovecotServer();
    DovecotServer(const DovecotServer&) = delete;
    DovecotServer& operator=(const DovecotServer&) = delete;

    int port() const;              // plain IMAP (STARTTLS offered when tls)
    int imaps_port() const;        // 0 unless tls
    const std::string& user() const;
    const std::string& password() const;
    const std::string& dir() const;    // the temporary folder
    std::string url() const;           // "imap://127.0.0.1:PORT"
    std::string imaps_url() const;     // "imaps://127.0.0.1:IMAPS_PORT", "" unless tls
    const std::string& cert_file() const;  // the self-signed certificate, "" unless tls
    std::string log() const;           // Dovecot's log so far (for failure messages)

    // Puts a message into `mailbox` with IMAP APPEND (over a plain socket, no
    // dependency on the code under test). `mailbox` uses the server's own
    // delimiter ('.' here). Returns the UID from APPENDUID.
    std::uint32_t append(const std::string& raw_message, const std::string& mailbox = "INBOX");
    // `count` messages made by `make(i)`, APPENDed one after the other over one
    // session (the benchmarks' thousands; append() logs in for each).
    void append_many(std::size_t count, const std::function<std::string(std::size_t)>& make,
                     const std::string& mailbox = "INBOX");
    // Message count of a mailbox (IMAP STATUS); 0 when the mailbox does not exist.
    std::size_t count(const std::string& mailbox = "INBOX");
    // The raw messages of a mailbox in UID order (IMAP FETCH BODY.PEEK[]).
    std::vector<std::string> messages(const std::string& mailbox = "INBOX");
    // Mailbox names are UTF-8 here; the fixture encodes them (modified UTF-7).
    void create_mailbox(const std::string& mailbox);
    // Every mailbox (LIST "" "*"), names as the server sends them (modified UTF-7).
    std::vector<std::string> mailboxes();
    // The CAPABILITY line after LOGIN, e.g. "IMAP4rev1 ... UIDPLUS".
    std::string capabilities();
    // The path of the INBOX's maildir file holding `marker` ("" if none), for
    // tests that make the server unable to read it.
    std::string maildir_file_with(const std::string& marker) const;
    void stop();                   // stops now (the destructor does it too)
    void start();                  // restarts after stop() with the same config and port

private:
    struct Impl;
    Impl* impl_;
    ImapLogin login() const;
};

}  // namespace ppo::testbench
