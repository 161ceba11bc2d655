// A scripted IMAP or SMTP server (tests/bench/fake_mail_server.py) on
// 127.0.0.1 that records every line a client sends, in clear and inside TLS,
// so that a test can assert that no LOGIN, AUTH or password reached a server
// the client should have refused. It refuses every login and drops the mail.
// Started by the constructor, stopped by the destructor.
#pragma once

#include "bench/tls_cert.h"

#include <string>
#include <vector>

namespace ppo::testbench {

struct FakeMailServerOptions {
    std::string proto = "imap";   // "imap" or "smtp"
    TlsFiles certificate;         // empty: no TLS at all
    bool implicit_tls = false;    // TLS from the first byte (imaps, smtps)
    bool offer_starttls = true;   // false: STARTTLS left out of the capabilities
};

class FakeMailServer {
public:
    explicit FakeMailServer(FakeMailServerOptions options);
    ~FakeMailServer();
    FakeMailServer(const FakeMailServer&) = delete;
    FakeMailServer& operator=(const FakeMailServer&) = delete;

    int port() const;
    // Every line received so far, "plain <line>" or "tls <line>".
    std::vector<std::string> lines() const;
    // True when a received line contains `text` (case-insensitive).
    bool received(const std::string& text) const;

private:
    std::string dir_;
    std::string record_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace ppo::testbench
