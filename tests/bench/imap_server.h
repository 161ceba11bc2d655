// What the tests need from any throwaway IMAP server of the bench (Cyrus,
// Courier: cyrus_server.h, courier_server.h), with the same calls as
// DovecotServer (dovecot_server.h) so that a test body can run on any of them:
// 127.0.0.1 on a free port, one user with a password, its own configuration,
// state and spool in a fresh temporary folder (dir()), removed when the
// server object goes. The mailbox helpers (append, count, messages, ...) talk
// to the server over a plain IMAP socket of their own (LOGIN, no dependency
// on the code under test); mailbox names there are the server's own full
// names ("INBOX.PPO.Traites" on a server whose personal namespace is "INBOX.").
//
// The unpacked Debian packages these servers run from: imap_servers_root().
#pragma once

#include "bench/imap_mailbox.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ppo::testbench {

// The folder scripts/fetch-imap-servers.sh fills: $PPO_IMAP_SERVERS_DIR, else
// /var/tmp/ppo-imap-servers-UID (outside the checkout: the servers' unprivileged
// users must reach it). Runs that script first (quick when it is
// done; it fetches with apt-get download on a fresh machine) and returns
// <dir>/root, the unpacked tree; throws with the script's output when it fails.
std::string imap_servers_root();

class ImapTestServer {
public:
    virtual ~ImapTestServer() = default;
    ImapTestServer(const ImapTestServer&) = delete;
    ImapTestServer& operator=(const ImapTestServer&) = delete;

    // e.g. "Cyrus IMAP 3.6.1 (altnamespace: no)", for test names and messages.
    virtual std::string name() const = 0;
    // What the server wrote so far (its stderr, its log files), for failure messages.
    virtual std::string log() const = 0;
    // The certificate of its STARTTLS, "" when it offers none.
    virtual std::string cert_file() const { return ""; }

    int port() const { return port_; }
    const std::string& user() const { return user_; }
    const std::string& password() const { return password_; }
    const std::string& dir() const { return dir_; }
    std::string url() const;       // "imap://127.0.0.1:PORT"

    // IMAP APPEND into `mailbox` (created on [TRYCREATE]); the UID from
    // APPENDUID, 0 when the server sends none.
    std::uint32_t append(const std::string& raw_message, const std::string& mailbox = "INBOX");
    void append_many(std::size_t count, const std::function<std::string(std::size_t)>& make,
                     const std::string& mailbox = "INBOX");
    // Message count (IMAP STATUS); 0 when the mailbox does not exist.
    std::size_t count(const std::string& mailbox = "INBOX");
    // The raw messages of a mailbox in UID order (IMAP FETCH BODY.PEEK[]).
    std::vector<std::string> messages(const std::string& mailbox = "INBOX");
    // Mailbox names are UTF-8 here; they are sent in modified UTF-7.
    void create_mailbox(const std::string& mailbox);
    // Every mailbox (LIST "" "*"), names as the server sends them.
    std::vector<std::string> mailboxes();
    // The CAPABILITY line after LOGIN.
    std::string capabilities();
    // The untagged NAMESPACE answer, e.g. (("INBOX." ".")) NIL NIL.
    std::string namespaces();

protected:
    ImapTestServer() = default;
    ImapLogin login() const { return {port_, user_, password_}; }
    int port_ = 0;
    std::string user_;
    std::string password_;
    std::string dir_;
};

}  // namespace ppo::testbench
