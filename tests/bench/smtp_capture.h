// A capturing SMTP server for integration tests: tests/bench/smtp_capture.py
// (python3-aiosmtpd) on 127.0.0.1 and a free port, writing every message it
// accepts to a folder as one .eml file plus a .json envelope. Started by the
// constructor (waits until it accepts connections), stopped by the destructor.
#pragma once

#include "bench/tls_cert.h"

#include <chrono>
#include <string>
#include <vector>

namespace ppo::testbench {

struct CapturedMail {
    std::string mail_from;
    std::vector<std::string> rcpt_to;
    std::string data;   // the message as received (CRLF or LF as the server stores it)
    std::string file;   // path of the .eml
    std::vector<std::string> mail_options;   // MAIL FROM parameters, e.g. "BODY=8BITMIME"
    std::string auth_user;                   // the AUTH login of the session, "" without AUTH
    bool tls = false;                        // the session was encrypted (STARTTLS or implicit)
    int peer_port = 0;                       // the client's port: equal ports, same connection
};

struct SmtpCaptureOptions {
    // Reply 451 to every RCPT TO while > 0 (simulates a temporary failure);
    // the file <dir>/control.json can change it while running.
    int fail_temporarily = 0;
    // STARTTLS with a self-signed certificate made at start (see tls_cert.h).
    bool tls = false;
    // With `tls`: TLS from the first byte (smtps) instead of STARTTLS.
    bool implicit_tls = false;
    // With `tls`: serve this certificate instead of a fresh self-signed one.
    TlsFiles certificate;
    // When set, AUTH PLAIN/LOGIN with these credentials is required (also
    // without TLS, loopback only).
    std::string auth_user;
    std::string auth_password;
};

class SmtpCapture {
public:
    explicit SmtpCapture(SmtpCaptureOptions options = {});
    ~SmtpCapture();
    SmtpCapture(const SmtpCapture&) = delete;
    SmtpCapture& operator=(const SmtpCapture&) = delete;

    int port() const;
    std::string url() const;           // "smtp://127.0.0.1:PORT" ("smtps://" with implicit_tls)
    const std::string& dir() const;
    const std::string& cert_file() const;  // the self-signed certificate, "" without tls

    // Rewrites <dir>/control.json: the next n RCPT TO get "451 4.3.0".
    void set_fail_temporarily(int n);
    // Likewise with "550 5.1.1".
    void set_fail_permanently(int n);

    // Every message captured so far, in arrival order.
    std::vector<CapturedMail> messages() const;
    // Waits until at least n messages are captured or the timeout passes;
    // returns messages().
    std::vector<CapturedMail> wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
    void clear();                      // removes the captured files
    void stop();                       // stops the server now (the destructor does it too)
    void start();                      // restarts after stop() on the same port

private:
    struct Impl;
    Impl* impl_;
};

// A free TCP port on 127.0.0.1 (bind to port 0, read it back, close).
int free_port();

// How many times `rcpt` stands among the RCPT TO of `mails`.
std::size_t count_rcpt(const std::vector<CapturedMail>& mails, const std::string& rcpt);

}  // namespace ppo::testbench
