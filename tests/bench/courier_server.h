// A throwaway Courier IMAP server (Debian's courier-imap 5.0, unpacked by
// scripts/fetch-imap-servers.sh, not installed: it conflicts with Dovecot) for
// integration tests: Courier's only layout, personal folders under "INBOX."
// (Maildir++), one user with a password.
//
// Courier's authentication library has its paths compiled in
// (/etc/courier/authdaemonrc, /etc/courier/userdb.dat,
// /run/courier/authdaemon/socket). So the server runs in a mount namespace of
// its own (unshare --mount, private propagation) in which a folder of the
// fixture is bind-mounted over /etc/courier and another over /run: the
// system's files are never read or written, and nothing outside those
// processes sees the mounts. Inside: authdaemond (courier-authdaemon, installed
// normally) with authuserdb only and a userdb made by makeuserdb; couriertcpd
// with imaplogin and imapd, the environment being Debian's /etc/courier/imapd
// and imapd-ssl as shipped (sourced as the init script does), with the
// address (127.0.0.1), port and TLS files moved into the fixture's
// folder, and IMAP_ENHANCEDIDLE=1 (Debian ships 0, with which an IDLE session
// looks for new mail only every IMAP_IDLE_TIMEOUT, 60 s; 1 has it told at once
// through FAM: gamin). STARTTLS is offered as Debian ships it (IMAPDSTARTTLS=YES, not
// required: plain LOGIN works too), with a fresh self-signed certificate
// (cert_file()). Not used: the -access file (imapaccess.dat) and courierlogger
// (stderr goes to log()). Mail lives in <dir>/home/<user>/Maildir, owned by
// nobody, which the session runs as after login.
//
// Needs root (the mount namespace and bind mounts; Courier's own setuid after
// login): throws otherwise. Started by the constructor (waits until the port
// accepts connections), stopped and removed by the destructor; stopping also
// kills whatever is left in its mount namespace (sessions, authdaemond's
// workers, the gam_server an IDLE started).
#pragma once

#include "bench/imap_server.h"
#include "bench/tls_cert.h"

#include <string>
#include <sys/types.h>

namespace ppo::testbench {

struct CourierOptions {
    std::string user = "ppo";
    std::string password = "secret-imap-pw";
};

class CourierServer : public ImapTestServer {
public:
    explicit CourierServer(CourierOptions options = {});
    ~CourierServer() override;

    std::string name() const override { return "Courier IMAP 5.0"; }
    std::string log() const override;
    std::string cert_file() const override { return tls_.cert; }
    void stop();                   // stops now (the destructor does it too)
    void start();                  // restarts after stop() with the same config and port

private:
    std::string launch();          // "" when listening, else why not
    void write_files();

    CourierOptions options_;
    std::string root_;             // the unpacked packages
    std::string log_;
    TlsFiles tls_;
    pid_t pid_ = -1;
};

}  // namespace ppo::testbench
