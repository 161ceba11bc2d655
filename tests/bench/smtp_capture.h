// A capturing SMTP server for integration tests: tests/bench/smtp_capture.py
// (python3-aiosmtpd) on 127.0.0.1 and a free port, writing every message it
// accepts to a folder as one .eml file plus a .json envelope. Started by the
// constructor (waits until it accepts connections), stopped by the destructor.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ppo::testbench {

struct CapturedMail {
    std::string mail_from;
    std::vector<std::string> rcpt_to;
    std::string data;   // the message as received (CRLF or LF as the server stores it)
    std::string file;   // path of the .eml
};

struct SmtpCaptureOptions {
    // Reply 451 to every RCPT TO while > 0 (simulates a temporary failure);
    // the file <dir>/control.json can change it while running.
    int fail_temporarily = 0;
};

class SmtpCapture {
public:
    explicit SmtpCapture(SmtpCaptureOptions options = {});
    ~SmtpCapture();
    SmtpCapture(const SmtpCapture&) = delete;
    SmtpCapture& operator=(const SmtpCapture&) = delete;

    int port() const;
    std::string url() const;           // "smtp://127.0.0.1:PORT"
    const std::string& dir() const;

    // Every message captured so far, in arrival order.
    std::vector<CapturedMail> messages() const;
    // Waits until at least n messages are captured or the timeout passes;
    // returns messages().
    std::vector<CapturedMail> wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
    void clear();
    void stop();
    void start();

private:
    struct Impl;
    Impl* impl_;
};

// A free TCP port on 127.0.0.1 (bind to port 0, read it back, close).
int free_port();

}  // namespace ppo::testbench
