// MailSender over SMTP with Poco::Net: smtp:// (STARTTLS when offered, required
// when `tls_required`), smtps://, AUTH LOGIN/PLAIN when a user is set. Keeps one
// connection open across send() calls until close() (or an error).
#pragma once

#include "workflow/ports.h"

#include <memory>
#include <string>

namespace ppo::daemon {

struct SmtpSettings {
    std::string host;
    int port = 25;
    bool implicit_tls = false;     // smtps://
    bool tls_required = false;
    bool verify_certificate = true;
    std::string user;              // empty: no AUTH
    std::string password;
    std::string helo_name = "localhost";
    int timeout_seconds = 60;
};

class SmtpSender final : public workflow::MailSender {
public:
    explicit SmtpSender(SmtpSettings settings);
    ~SmtpSender() override;
    void send(const workflow::OutgoingMail& mail) override;
    void close() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ppo::daemon
