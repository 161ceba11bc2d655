// A throwaway Cyrus IMAP server (Debian's cyrus-imapd 3.6, unpacked by
// scripts/fetch-imap-servers.sh, not installed: it conflicts with Dovecot) for
// integration tests. Debian's own imapd.conf with every path moved into a
// fresh temporary folder (configuration database, spool, proc, locks,
// sockets, sieve), `altnamespace` as asked (Debian ships "no": personal
// folders under "INBOX."), one user in a sasldb of that folder (SASL
// auxprop, as Debian ships it; plain LOGIN allowed, as Debian ships it:
// `allowplaintext: yes`, no TLS: Debian ships no certificate), its INBOX made
// at first login (Debian's `autocreate_quota: 0`). The master process listens
// on 127.0.0.1 on a free port with the imap service and idled (Debian's
// cyrus.conf has idled commented out, which leaves IDLE noticing new mail only
// every 60 s, imapidlepoll; it also starts pop3, nntp, http, lmtp, sieve and
// notify on system ports and sockets, left out here). The services run as "nobody" when the test runs as root (Cyrus
// refuses root), else as the current user; nothing under /etc or /var is
// read or written, except Cyrus's syslog lines, which go nowhere when the
// machine has no /dev/log. Started by the constructor (waits until the port
// accepts connections), stopped and removed by the destructor.
#pragma once

#include "bench/imap_server.h"

#include <string>
#include <sys/types.h>

namespace ppo::testbench {

struct CyrusOptions {
    bool altnamespace = false;     // Debian's imapd.conf: no
    std::string user = "ppo";
    std::string password = "secret-imap-pw";
};

class CyrusServer : public ImapTestServer {
public:
    explicit CyrusServer(CyrusOptions options = {});
    ~CyrusServer() override;

    std::string name() const override;
    std::string log() const override;
    void stop();                   // stops now (the destructor does it too)
    void start();                  // restarts after stop() with the same config and port

private:
    std::string launch();          // "" when listening, else why not
    void write_config();

    CyrusOptions options_;
    std::string root_;             // the unpacked packages
    std::string log_;
    pid_t pid_ = -1;
};

}  // namespace ppo::testbench
