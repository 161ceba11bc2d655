#include "daemon/smtp/smtp_sender.h"
#include "workflow/mail/mail_builder.h"

#include "daemon/net/tls_policy.h"
#include "parsers/text/error.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DialogSocket.h>
#include <Poco/Net/InvalidCertificateHandler.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

namespace ppo::daemon {

namespace {

// SMTPClientSession with its DialogSocket reachable: the message goes out raw
// (already a complete RFC 5322 text), and STARTTLS is done here so that the
// peer host name is known to the TLS layer (SecureSMTPClientSession built from
// a socket does not know it).
class Session : public Poco::Net::SMTPClientSession {
public:
    using SMTPClientSession::SMTPClientSession;
    Poco::Net::DialogSocket& dialog() { return socket(); }
};

// Poco asks the process-wide client certificate handler what to do with a
// certificate OpenSSL refused during the handshake; without one set here it
// may build a ConsoleCertificateHandler (asks on stdin) or accept. This one
// refuses, and records OpenSSL's reason for the error message of the thread
// that ran the handshake.
struct RefusedCertificate {
    bool seen = false;
    int error = 0;
    int depth = 0;
    std::string subject;
};
thread_local RefusedCertificate t_refused;

class RecordingRejectHandler final : public Poco::Net::InvalidCertificateHandler {
public:
    RecordingRejectHandler() : InvalidCertificateHandler(false) {}
    void onInvalidCertificate(const void*, Poco::Net::VerificationErrorArgs& args) override {
        if (!t_refused.seen) {   // the first error is the cause; later ones follow from it
            t_refused.seen = true;
            t_refused.error = args.errorNumber();
            t_refused.depth = args.errorDepth();
            t_refused.subject = args.certificate().subjectName();
        }
        args.setIgnoreError(false);
    }
};

void install_reject_handler(const Poco::Net::Context::Ptr& context) {
    static std::once_flag once;
    std::call_once(once, [&] {
        Poco::Net::SSLManager::instance().initializeClient(nullptr, new RecordingRejectHandler, context);
    });
}

// The first NUL, or CR or LF not part of CRLF, in the header section (up to
// the first empty line); npos when clean.
std::size_t bad_header_byte(const std::string& data) {
    const std::size_t end = data.find("\r\n\r\n");
    const std::size_t limit = end == std::string::npos ? data.size() : end + 2;
    for (std::size_t i = 0; i < limit; ++i) {
        const char c = data[i];
        if (c == '\0') return i;
        if (c == '\r' && (i + 1 >= data.size() || data[i + 1] != '\n')) return i;
        if (c == '\n' && (i == 0 || data[i - 1] != '\r')) return i;
    }
    return std::string::npos;
}

using workflow::base64;   // AUTH PLAIN and LOGIN

bool has_8bit(std::string_view s) {
    // No early exit: the compiler vectorises this, and it runs over whole mails.
    unsigned char bits = 0;
    for (char c : s) bits |= static_cast<unsigned char>(c);
    return (bits & 0x80) != 0;
}

// One line: the server's multi-line reply joined.
std::string one_line(std::string reply) {
    std::replace(reply.begin(), reply.end(), '\n', ' ');
    std::replace(reply.begin(), reply.end(), '\r', ' ');
    return reply;
}

}  // namespace

SmtpDataPayload::SmtpDataPayload(std::function<void(std::string_view)> flush) : flush_(std::move(flush)) {
    out_.reserve(kFlushAt + 4096);
}

void SmtpDataPayload::feed(std::string_view piece) {
    const char* const begin = piece.data();
    const std::size_t size = piece.size();
    std::size_t pos = 0;
    // One line at a time, found with memchr: this runs over every forwarded file.
    while (pos < size) {
        if (pending_cr_) {   // a CR ended the last piece: a LF now is its pair
            pending_cr_ = false;
            if (begin[pos] == '\n') {
                ++pos;
                continue;
            }
        }
        if (line_start_ && begin[pos] == '.') out_ += '.';
        const void* lf = std::memchr(begin + pos, '\n', size - pos);
        const std::size_t end = lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - begin) : size;
        if (const void* cr = std::memchr(begin + pos, '\r', end - pos)) {
            const auto at = static_cast<std::size_t>(static_cast<const char*>(cr) - begin);
            end_line(begin + pos, at - pos);
            pos = at + 1;
            if (pos == size) pending_cr_ = true;
            else if (begin[pos] == '\n') ++pos;
        } else if (lf) {
            end_line(begin + pos, end - pos);
            pos = end + 1;
        } else {
            out_.append(begin + pos, size - pos);
            line_start_ = false;
            pos = size;
        }
        if (out_.size() >= kFlushAt) flush();
    }
}

void SmtpDataPayload::finish(const std::function<void()>& before_end) {
    if (!line_start_) out_ += "\r\n";
    out_ += ".\r\n";
    if (before_end) before_end();
    flush();
}

void SmtpDataPayload::end_line(const char* text, std::size_t n) {
    out_.append(text, n);
    out_ += "\r\n";
    line_start_ = true;
}

void SmtpDataPayload::flush() {
    if (out_.empty()) return;
    flush_(out_);
    out_.clear();
}

struct SmtpSender::Impl {
    SmtpSettings settings;
    std::unique_ptr<Session> session;
    std::map<std::string, std::string> extensions;   // EHLO keyword (upper case) -> parameters
    bool tls_active = false;
    std::chrono::steady_clock::time_point last_used;   // end of the last transaction

    std::string where() const { return "SMTP " + settings.host + ":" + std::to_string(settings.port); }

    // Throws for a reply outside the expected class: 4xx (and anything odd)
    // transient, 5xx permanent.
    void expect(int status, int expected_class, const std::string& command, const std::string& reply) const {
        if (status / 100 == expected_class) return;
        std::string text = where() + ": " + command + " answered " + std::to_string(status) + " " + one_line(reply);
        if (status / 100 == 5) throw ppo::permanent_error(text);
        throw ppo::transient_error(text);
    }

    int command(const std::string& cmd, std::string& reply) { return session->sendCommand(cmd, reply); }

    void send_raw(std::string_view bytes) {
        Poco::Net::DialogSocket& socket = session->dialog();
        std::size_t done = 0;
        while (done < bytes.size()) {
            std::size_t chunk = std::min<std::size_t>(bytes.size() - done, 1 << 20);
            int n = socket.sendBytes(bytes.data() + done, static_cast<int>(chunk));
            if (n <= 0) throw Poco::Net::NetException("short write while sending DATA");
            done += static_cast<std::size_t>(n);
        }
    }

    // One context per connection: OpenSSL checks the chain (system CAs or
    // ca_file) and the host name during the handshake. Poco's own host check
    // (which skips "localhost" unless VERIFY_STRICT) is off: OpenSSL's
    // X509_check_host/IP check is the one that counts.
    Poco::Net::Context::Ptr tls_context() const {
        Poco::Net::Context::Params params;
        params.verificationMode =
            settings.verify_certificate ? Poco::Net::Context::VERIFY_STRICT : Poco::Net::Context::VERIFY_NONE;
        params.caLocation = settings.verify_certificate ? settings.ca_file : std::string();
        params.loadDefaultCAs = settings.verify_certificate && settings.ca_file.empty();
        Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        context->enableExtendedCertificateVerification(false);
        if (settings.verify_certificate) {
            X509_VERIFY_PARAM* param = SSL_CTX_get0_param(context->sslContext());
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            const int ok = is_ip_literal(settings.host)
                               ? X509_VERIFY_PARAM_set1_ip_asc(param, settings.host.c_str())
                               : X509_VERIFY_PARAM_set1_host(param, settings.host.c_str(), settings.host.size());
            if (ok != 1)
                throw ppo::config_error(where() + ": '" + settings.host + "' is not a host name a certificate can name ([smtp] url)");
        }
        install_reject_handler(context);
        t_refused = {};
        return context;
    }

    // The server offers no usable STARTTLS: go on in clear only where the
    // policy allows it.
    void check_plaintext(const std::string& why) {
        const int fd = static_cast<int>(session->dialog().impl()->sockfd());
        switch (plaintext_verdict(peer_is_loopback(fd), settings.allow_plaintext, settings.tls_required)) {
        case Plaintext::loopback:
        case Plaintext::allowed_by_config:
            return;   // allow_plaintext is warned about at start (config.h tls_warnings)
        case Plaintext::refused:
            break;
        }
        throw ppo::config_error(where() + ": " + why + "; nothing is sent in clear (use smtps:// in [smtp] url, " +
                                "enable STARTTLS on the server, or set [smtp] allow_plaintext = true" +
                                (settings.tls_required ? " and tls_required = false" : "") + ")");
    }

    void ehlo() {
        std::string reply;
        int status = command("EHLO " + settings.helo_name, reply);
        extensions.clear();
        if (status / 100 != 2) {
            if (status / 100 == 4) expect(status, 2, "EHLO", reply);
            status = command("HELO " + settings.helo_name, reply);
            expect(status, 2, "HELO", reply);
            return;
        }
        // "250-name greets\n250-8BITMIME\n250 STARTTLS": skip the first line.
        std::istringstream lines(reply);
        std::string line;
        bool first = true;
        while (std::getline(lines, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (first) {
                first = false;
                continue;
            }
            if (line.size() > 4 && std::isdigit(static_cast<unsigned char>(line[0]))) line = line.substr(4);
            auto space = line.find(' ');
            std::string keyword = line.substr(0, space);
            std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            extensions[keyword] = space == std::string::npos ? "" : line.substr(space + 1);
        }
    }

    bool has(const std::string& extension) const { return extensions.count(extension) != 0; }

    void authenticate() {
        std::string methods = " " + (has("AUTH") ? extensions.at("AUTH") : std::string()) + " ";
        std::transform(methods.begin(), methods.end(), methods.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        std::string reply;
        int status = 0;
        if (methods.find(" PLAIN ") != std::string::npos) {
            status = command("AUTH PLAIN " + base64(std::string(1, '\0') + settings.user + '\0' + settings.password), reply);
        } else if (methods.find(" LOGIN ") != std::string::npos) {
            status = command("AUTH LOGIN", reply);
            if (status == 334) status = command(base64(settings.user), reply);
            if (status == 334) status = command(base64(settings.password), reply);
        } else {
            throw ppo::config_error(where() + ": a user is configured but the server offers no AUTH PLAIN or LOGIN" +
                                    (has("AUTH") ? " (AUTH " + extensions.at("AUTH") + ")" : std::string()));
        }
        if (status / 100 == 2) return;
        if (status / 100 == 5)
            throw ppo::config_error(where() + ": authentication as " + settings.user + " refused: " +
                                    std::to_string(status) + " " + one_line(reply));
        expect(status, 2, "AUTH", reply);
    }

    void connect() {
        Poco::Net::SocketAddress address(settings.host, static_cast<Poco::UInt16>(settings.port));
        const Poco::Timespan timeout(settings.timeout_seconds, 0);
        tls_active = false;
        if (settings.implicit_tls) {
            Poco::Net::SecureStreamSocket socket(tls_context());
            socket.setPeerHostName(settings.host);
            socket.connect(address, timeout);
            session = std::make_unique<Session>(socket);
            tls_active = true;
        } else {
            Poco::Net::StreamSocket socket;
            socket.connect(address, timeout);
            session = std::make_unique<Session>(socket);
        }
        session->setTimeout(timeout);
        session->dialog().setSendTimeout(timeout);

        std::string reply;
        int status = session->dialog().receiveStatusMessage(reply);
        expect(status, 2, "greeting", reply);
        ehlo();

        if (!tls_active && has("STARTTLS")) {
            status = command("STARTTLS", reply);
            if (status / 100 == 2) {
                Poco::Net::SecureStreamSocket secure =
                    Poco::Net::SecureStreamSocket::attach(session->dialog(), settings.host, tls_context());
                session->dialog() = secure;
                tls_active = true;
                ehlo();   // the extensions may differ once encrypted
            } else {
                check_plaintext("STARTTLS answered " + std::to_string(status) + " " + one_line(reply));
            }
        } else if (!tls_active) {
            check_plaintext("the server does not offer STARTTLS");
        }
        if (!settings.user.empty()) authenticate();
    }

    void drop() {
        session.reset();   // closes the socket (no QUIT: the session is in an unknown state)
        extensions.clear();
        tls_active = false;
    }

    // A bare CR or LF in a header would be read differently by the next
    // servers (header injection); the composer never makes one, so refuse
    // rather than guess what was meant.
    static void check_header_section(const workflow::OutgoingMail& mail) {
        const std::size_t at = bad_header_byte(mail.data);
        if (at == std::string::npos) return;
        const char c = mail.data[at];
        const char* what = c == '\0' ? "a NUL byte" : c == '\r' ? "a CR not followed by LF" : "an LF not preceded by CR";
        const auto line = 1 + std::count(mail.data.begin(), mail.data.begin() + static_cast<std::ptrdiff_t>(at), '\n');
        throw ppo::permanent_error("SMTP: " + (mail.key.empty() ? std::string("a message") : mail.key) +
                                   " not sent: its header section holds " + what + " at line " +
                                   std::to_string(line) + " (byte " + std::to_string(at) +
                                   "); header line ends must be CRLF");
    }

    void transaction(const workflow::OutgoingMail& mail) {
        std::string reply;
        std::string mail_from = "MAIL FROM:<" + mail.envelope_from + ">";
        bool utf8_envelope = has_8bit(mail.envelope_from) ||
                             std::any_of(mail.recipients.begin(), mail.recipients.end(), has_8bit);
        auto header_end = mail.data.find("\r\n\r\n");
        bool utf8_headers = has_8bit(std::string_view(mail.data).substr(0, header_end));
        if (has("SIZE")) mail_from += " SIZE=" + std::to_string(mail.write_data ? mail.size : mail.data.size());
        if (has_8bit(mail.data) && has("8BITMIME")) mail_from += " BODY=8BITMIME";
        if ((utf8_envelope || utf8_headers) && has("SMTPUTF8")) mail_from += " SMTPUTF8";
        expect(command(mail_from, reply), 2, "MAIL FROM", reply);
        for (const auto& rcpt : mail.recipients) {
            int status = command("RCPT TO:<" + rcpt + ">", reply);
            expect(status, 2, "RCPT TO:<" + rcpt + ">", reply);
        }
        expect(command("DATA", reply), 3, "DATA", reply);
        SmtpDataPayload payload([this](std::string_view bytes) { send_raw(bytes); });
        if (mail.write_data) mail.write_data([&](std::string_view piece) { payload.feed(piece); });
        else payload.feed(mail.data);
        payload.finish(mail.before_end_of_data);
        int status = session->dialog().receiveStatusMessage(reply);
        expect(status, 2, "end of DATA", reply);
        last_used = std::chrono::steady_clock::now();
    }

    void send(const workflow::OutgoingMail& mail) {
        if (mail.recipients.empty()) throw ppo::permanent_error("SMTP: a message without recipients");
        if (session && std::chrono::steady_clock::now() - last_used > std::chrono::seconds(5)) {
            // The server may have dropped a connection idle for a while: check
            // it with RSET, and start afresh when that fails. Mails sent back
            // to back skip the round trip.
            std::string reply;
            bool usable = false;
            try {
                usable = command("RSET", reply) / 100 == 2;
            } catch (const Poco::Exception&) {
            }
            if (!usable) drop();
        }
        if (!session) connect();
        transaction(mail);
    }
};

SmtpSender::SmtpSender(SmtpSettings settings) : impl_(std::make_unique<Impl>()) {
    impl_->settings = std::move(settings);
}

SmtpSender::~SmtpSender() {
    try {
        close();
    } catch (...) {
    }
}

void SmtpSender::send(const workflow::OutgoingMail& mail) {
    Impl::check_header_section(mail);   // before any I/O: a refused mail costs no connection
    with_errors_mapped([&] { impl_->send(mail); });
}

SmtpProbe SmtpSender::probe(const std::string& from, const std::string& rcpt) {
    SmtpProbe out;
    with_errors_mapped([&] {
        impl_->drop();
        impl_->connect();
        out.tls = impl_->tls_active;
        out.authenticated = !impl_->settings.user.empty();
        for (const auto& [keyword, params] : impl_->extensions) out.extensions += (out.extensions.empty() ? "" : " ") + keyword;
        std::string reply;
        impl_->expect(impl_->command("MAIL FROM:<" + from + ">", reply), 2, "MAIL FROM:<" + from + ">", reply);
        const int status = impl_->command("RCPT TO:<" + rcpt + ">", reply);
        impl_->expect(status, 2, "RCPT TO:<" + rcpt + ">", reply);
        out.rcpt_reply = one_line(reply);
        impl_->command("RSET", reply);
    });
    close();
    return out;
}

void SmtpSender::with_errors_mapped(const std::function<void()>& what) {
    try {
        what();
        return;
    } catch (const ppo::Error&) {
        impl_->drop();
        throw;
    } catch (const Poco::Net::CertificateValidationException& e) {
        impl_->drop();
        throw ppo::config_error(impl_->where() + ": certificate not accepted: " + e.displayText());
    } catch (const Poco::Net::InvalidCertificateException& e) {
        impl_->drop();
        throw ppo::config_error(impl_->where() + ": certificate not accepted: " + e.displayText());
    } catch (const Poco::Net::SSLException& e) {
        impl_->drop();
        // A certificate that does not verify will not fix itself: the
        // administrator must act (CA, host name, verify_certificate).
        if (t_refused.seen) {
            const RefusedCertificate refused = std::exchange(t_refused, {});
            throw ppo::config_error(impl_->where() + ": " +
                                    describe_certificate_error(impl_->settings.host, refused.error, refused.depth,
                                                               refused.subject, "smtp") +
                                    "; nothing sent");
        }
        if (e.displayText().find("certificate verify failed") != std::string::npos)
            throw ppo::config_error(impl_->where() + ": certificate not accepted: " + e.displayText());
        throw ppo::transient_error(impl_->where() + ": " + e.displayText());
    } catch (const Poco::Exception& e) {
        impl_->drop();
        throw ppo::transient_error(impl_->where() + ": " + e.displayText());
    } catch (const std::exception& e) {
        impl_->drop();
        throw ppo::transient_error(impl_->where() + ": " + e.what());
    }
}

void SmtpSender::close() {
    if (!impl_->session) return;
    try {
        std::string reply;
        impl_->command("QUIT", reply);
    } catch (...) {
    }
    impl_->drop();
}

}  // namespace ppo::daemon
