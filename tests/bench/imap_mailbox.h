// The test bench's own IMAP client, to fill and read the mailboxes of a test
// server (Dovecot, Cyrus, Courier: dovecot_server.h, imap_server.h) over a
// plain socket with LOGIN, independent of the code under test. Mailbox names
// are UTF-8 here, sent in modified UTF-7; they are the server's full names
// ("INBOX.PPO.Traites" under an "INBOX." personal namespace). Each call opens
// its own session.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ppo::testbench {

struct ImapLogin {
    int port = 0;   // on 127.0.0.1
    std::string user;
    std::string password;
};

// APPEND into `mailbox` (created on [TRYCREATE]); the UID from APPENDUID, 0
// when the server sends none (an error instead when `require_uid`).
std::uint32_t imap_append(const ImapLogin& login, const std::string& raw_message, const std::string& mailbox,
                          bool require_uid);
void imap_append_many(const ImapLogin& login, std::size_t count, const std::function<std::string(std::size_t)>& make,
                      const std::string& mailbox);
// Message count (STATUS); 0 when the mailbox does not exist.
std::size_t imap_count(const ImapLogin& login, const std::string& mailbox);
// The raw messages of a mailbox in UID order (UID FETCH BODY.PEEK[]).
std::vector<std::string> imap_messages(const ImapLogin& login, const std::string& mailbox);
void imap_create_mailbox(const ImapLogin& login, const std::string& mailbox);
// Every mailbox (LIST "" "*"), names as the server sends them.
std::vector<std::string> imap_mailboxes(const ImapLogin& login);
// The CAPABILITY line after LOGIN, and the untagged NAMESPACE answer.
std::string imap_capabilities(const ImapLogin& login);
std::string imap_namespaces(const ImapLogin& login);

}  // namespace ppo::testbench
