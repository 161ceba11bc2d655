// Verified TLS for IMAP and SMTP, against loopback servers only. A throwaway CA
// and server certificates are made at test time: one for 127.0.0.1/localhost
// signed by the CA (trusted through ca_file), one signed by another CA, one for
// another name, one self-signed, one expired. A refused certificate must stop
// the session before any credential: the refusals run against
// tests/bench/fake_mail_server.py, which records every line it receives, and a
// control test per protocol shows that the same server does record a LOGIN or
// AUTH when the certificate is accepted (so the "nothing received" checks can
// fail). The trusted cases run against the real Dovecot and SMTP capture.
//
// The loopback exemption (plaintext allowed to 127.0.0.0/8 and ::1) cannot be
// escaped by a test that may only talk to loopback: `tls_required = true`,
// a real configuration key, removes it, and stands in for a remote server that
// strips STARTTLS. plaintext_verdict() itself is unit-tested in
// tests/daemon/test_tls_policy.cpp.
#include "bench/dovecot_server.h"
#include "bench/fake_mail_server.h"
#include "bench/smtp_capture.h"
#include "bench/tls_cert.h"
#include "daemon/imap/imap_mail_source.h"
#include "daemon/smtp/smtp_sender.h"
#include "parsers/text/error.h"

#include <gtest/gtest.h>

#include <functional>

namespace tb = ppo::testbench;
using ppo::ErrorKind;
using ppo::daemon::ImapMailSource;
using ppo::daemon::ImapSettings;
using ppo::daemon::SmtpSender;
using ppo::daemon::SmtpSettings;

namespace {

const std::string kImapPassword = "Imap-Secret-71";
const std::string kSmtpPassword = "Smtp-Secret-53";

struct Certificates {
    std::string dir;
    tb::TlsFiles ca, other_ca, good, unknown_ca, wrong_name, self_signed, expired;
};

const Certificates& certs() {
    static const Certificates made = [] {
        Certificates c;
        c.dir = tb::detail::make_temp_dir("ppo-tls-");
        c.ca = tb::make_test_ca(c.dir, "trusted-ca");
        c.other_ca = tb::make_test_ca(c.dir, "other-ca");
        const std::string loopback = "DNS:localhost,IP:127.0.0.1";
        c.good = tb::make_signed_cert(c.ca, c.dir, "good", loopback);
        c.unknown_ca = tb::make_signed_cert(c.other_ca, c.dir, "unknown-ca", loopback);
        c.wrong_name = tb::make_signed_cert(c.ca, c.dir, "wrong-name", "DNS:mail.example.org");
        c.expired = tb::make_signed_cert(c.ca, c.dir, "expired", loopback, -1);
        c.self_signed = tb::make_self_signed_cert(c.dir, "self-signed");
        return c;
    }();
    return made;
}

class CertificateCleanup : public ::testing::Environment {
public:
    void TearDown() override { tb::detail::remove_temp_dir(certs().dir); }
};
const auto* const cleanup = ::testing::AddGlobalTestEnvironment(new CertificateCleanup);

// The kind and text of the ppo::Error `f` throws; kind transient and "" when
// it throws nothing (so the test fails on the kind).
std::pair<ErrorKind, std::string> error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ppo::Error& e) {
        return {e.kind(), e.what()};
    }
    return {ErrorKind::transient, "(no error)"};
}

struct Refusal {
    const char* name;
    const tb::TlsFiles Certificates::*cert;
    const char* reason;   // in the error text
    const char* key;      // the key the error tells to change
};

const Refusal kRefusals[] = {
    {"unknown CA", &Certificates::unknown_ca, "unknown CA", "ca_file"},
    {"self-signed", &Certificates::self_signed, "self-signed", "ca_file"},
    {"wrong host name", &Certificates::wrong_name, "wrong host name", "url"},
    {"expired", &Certificates::expired, "expired certificate", "verify_certificate"},
};

// ---------------------------------------------------------------------------
// IMAP

ImapSettings imap_settings(int port, bool implicit_tls) {
    ImapSettings s;
    s.host = "127.0.0.1";
    s.port = port;
    s.implicit_tls = implicit_tls;
    s.user = "ppo";
    s.password = kImapPassword;
    s.ca_file = certs().ca.cert;
    s.timeout_seconds = 10;
    return s;
}

void expect_no_imap_credential(const tb::FakeMailServer& server) {
    EXPECT_FALSE(server.received("LOGIN"));
    EXPECT_FALSE(server.received("AUTHENTICATE"));
    EXPECT_FALSE(server.received(kImapPassword));
}

TEST(TlsImap, RefusedCertificatesStopBeforeLogin) {
    for (bool implicit_tls : {true, false}) {
        for (const auto& r : kRefusals) {
            SCOPED_TRACE(std::string(implicit_tls ? "imaps, " : "STARTTLS, ") + r.name);
            tb::FakeMailServer server({"imap", certs().*r.cert, implicit_tls, true});
            ImapMailSource source(imap_settings(server.port(), implicit_tls));
            const auto [kind, what] = error_of([&] { source.open(); });
            EXPECT_EQ(kind, ErrorKind::config) << what;
            EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
            EXPECT_NE(what.find(r.reason), std::string::npos) << what;
            EXPECT_NE(what.find(std::string("[imap] ") + r.key), std::string::npos) << what;
            EXPECT_NE(what.find("[imap] verify_certificate = false"), std::string::npos) << what;
            if (!implicit_tls) {
                EXPECT_TRUE(server.received("STARTTLS"));   // it got as far as the handshake
            }
            expect_no_imap_credential(server);
        }
    }
}

TEST(TlsImap, SystemCasDoNotTrustAPrivateCa) {
    tb::FakeMailServer server({"imap", certs().good, true, true});
    ImapSettings s = imap_settings(server.port(), true);
    s.ca_file.clear();   // the default: the system's CAs
    ImapMailSource source(s);
    const auto [kind, what] = error_of([&] { source.open(); });
    EXPECT_EQ(kind, ErrorKind::config) << what;
    EXPECT_NE(what.find("unknown CA"), std::string::npos) << what;
    expect_no_imap_credential(server);
}

TEST(TlsImap, ControlAcceptedCertificateLetsLoginThrough) {
    // The refusal tests' "no LOGIN received" is meaningful: with a trusted
    // certificate the same fake server does receive it (and refuses it).
    for (bool implicit_tls : {true, false}) {
        SCOPED_TRACE(implicit_tls ? "imaps" : "STARTTLS");
        tb::FakeMailServer server({"imap", certs().good, implicit_tls, true});
        ImapMailSource source(imap_settings(server.port(), implicit_tls));
        const auto [kind, what] = error_of([&] { source.open(); });
        EXPECT_NE(what.find("LOGIN"), std::string::npos) << what;   // the fake refuses every login
        EXPECT_TRUE(server.received("tls "));
        EXPECT_TRUE(server.received(kImapPassword));
        for (const auto& line : server.lines())
            if (line.find("LOGIN") != std::string::npos) {
                EXPECT_EQ(line.rfind("tls ", 0), 0u) << line;
            }
    }
}

TEST(TlsImap, VerifyCertificateFalseIsAnExplicitOptOut) {
    tb::FakeMailServer server({"imap", certs().self_signed, true, true});
    ImapSettings s = imap_settings(server.port(), true);
    s.verify_certificate = false;
    ImapMailSource source(s);
    error_of([&] { source.open(); });
    EXPECT_TRUE(server.received(kImapPassword));
}

TEST(TlsImap, StrippedStarttlsSendsNoPassword) {
    // tls_required stands in for a non-loopback server (see the file comment).
    tb::FakeMailServer server({"imap", certs().good, false, /*offer_starttls=*/false});
    ImapSettings s = imap_settings(server.port(), false);
    s.tls_required = true;
    ImapMailSource source(s);
    const auto [kind, what] = error_of([&] { source.open(); });
    EXPECT_EQ(kind, ErrorKind::config) << what;
    EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
    EXPECT_NE(what.find("does not offer STARTTLS"), std::string::npos) << what;
    EXPECT_NE(what.find("[imap] allow_plaintext"), std::string::npos) << what;
    EXPECT_TRUE(server.received("CAPABILITY"));
    expect_no_imap_credential(server);
}

TEST(TlsImap, LoopbackExemptionLetsPlaintextLoginThrough) {
    tb::FakeMailServer server({"imap", {}, false, false});
    ImapMailSource source(imap_settings(server.port(), false));   // defaults: allow_plaintext = false
    const auto [kind, what] = error_of([&] { source.open(); });
    EXPECT_NE(what.find("LOGIN"), std::string::npos) << what;
    EXPECT_TRUE(server.received("plain "));
    EXPECT_TRUE(server.received(kImapPassword));
}

TEST(TlsImap, TrustedThroughCaFileWorksWithDovecot) {
    tb::DovecotOptions options;
    options.tls = true;
    options.certificate = certs().good;
    tb::DovecotServer server(options);
    ImapSettings s = imap_settings(server.port(), false);
    s.user = server.user();
    s.password = server.password();
    s.tls_required = true;   // STARTTLS, even on loopback
    ImapMailSource starttls(s);
    const std::uint32_t uidvalidity = starttls.open();
    EXPECT_GT(uidvalidity, 0u);
    starttls.close();

    s.port = server.imaps_port();
    s.implicit_tls = true;
    ImapMailSource imaps(s);
    EXPECT_EQ(imaps.open(), uidvalidity);
    imaps.close();
}

// ---------------------------------------------------------------------------
// SMTP

SmtpSettings smtp_settings(int port, bool implicit_tls) {
    SmtpSettings s;
    s.host = "127.0.0.1";
    s.port = port;
    s.implicit_tls = implicit_tls;
    s.user = "relay";
    s.password = kSmtpPassword;
    s.ca_file = certs().ca.cert;
    s.helo_name = "ppo-intake.test";
    s.timeout_seconds = 10;
    return s;
}

ppo::workflow::OutgoingMail a_mail() {
    ppo::workflow::OutgoingMail m;
    m.envelope_from = "ppo@example.org";
    m.recipients = {"ce.0590001a@ac-lille.fr"};
    m.data = "From: ppo@example.org\r\nTo: ce.0590001a@ac-lille.fr\r\nSubject: TLS\r\n\r\nConfidential\r\n";
    m.key = "outbox 1";
    return m;
}

void expect_nothing_sent(const tb::FakeMailServer& server) {
    EXPECT_FALSE(server.received("AUTH"));
    EXPECT_FALSE(server.received("MAIL FROM"));
    EXPECT_FALSE(server.received("Confidential"));
}

TEST(TlsSmtp, RefusedCertificatesStopBeforeAuth) {
    for (bool implicit_tls : {true, false}) {
        for (const auto& r : kRefusals) {
            SCOPED_TRACE(std::string(implicit_tls ? "smtps, " : "STARTTLS, ") + r.name);
            tb::FakeMailServer server({"smtp", certs().*r.cert, implicit_tls, true});
            SmtpSender sender(smtp_settings(server.port(), implicit_tls));
            const auto [kind, what] = error_of([&] { sender.send(a_mail()); });
            EXPECT_EQ(kind, ErrorKind::config) << what;
            EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
            EXPECT_NE(what.find(r.reason), std::string::npos) << what;
            EXPECT_NE(what.find(std::string("[smtp] ") + r.key), std::string::npos) << what;
            if (!implicit_tls) {
                EXPECT_TRUE(server.received("STARTTLS"));
            }
            expect_nothing_sent(server);
        }
    }
}

TEST(TlsSmtp, SystemCasDoNotTrustAPrivateCa) {
    tb::FakeMailServer server({"smtp", certs().good, false, true});
    SmtpSettings s = smtp_settings(server.port(), false);
    s.ca_file.clear();
    SmtpSender sender(s);
    const auto [kind, what] = error_of([&] { sender.send(a_mail()); });
    EXPECT_EQ(kind, ErrorKind::config) << what;
    EXPECT_NE(what.find("unknown CA"), std::string::npos) << what;
    expect_nothing_sent(server);
}

TEST(TlsSmtp, ControlAcceptedCertificateLetsAuthThrough) {
    for (bool implicit_tls : {true, false}) {
        SCOPED_TRACE(implicit_tls ? "smtps" : "STARTTLS");
        tb::FakeMailServer server({"smtp", certs().good, implicit_tls, true});
        SmtpSender sender(smtp_settings(server.port(), implicit_tls));
        const auto [kind, what] = error_of([&] { sender.send(a_mail()); });
        EXPECT_NE(what.find("authentication as relay refused"), std::string::npos) << what;
        EXPECT_TRUE(server.received("tls AUTH"));
        EXPECT_FALSE(server.received("plain AUTH"));
    }
}

TEST(TlsSmtp, StrippedStarttlsSendsNothing) {
    tb::FakeMailServer server({"smtp", certs().good, false, /*offer_starttls=*/false});
    SmtpSettings s = smtp_settings(server.port(), false);
    s.tls_required = true;   // stands in for a non-loopback server
    SmtpSender sender(s);
    const auto [kind, what] = error_of([&] { sender.send(a_mail()); });
    EXPECT_EQ(kind, ErrorKind::config) << what;
    EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
    EXPECT_NE(what.find("does not offer STARTTLS"), std::string::npos) << what;
    EXPECT_NE(what.find("[smtp] allow_plaintext"), std::string::npos) << what;
    EXPECT_TRUE(server.received("EHLO"));
    expect_nothing_sent(server);
}

TEST(TlsSmtp, LoopbackExemptionLetsPlaintextAuthThrough) {
    tb::FakeMailServer server({"smtp", {}, false, false});
    SmtpSender sender(smtp_settings(server.port(), false));
    error_of([&] { sender.send(a_mail()); });
    EXPECT_TRUE(server.received("plain AUTH"));
}

TEST(TlsSmtp, TrustedThroughCaFileWorksWithTheCapture) {
    for (bool implicit_tls : {true, false}) {
        SCOPED_TRACE(implicit_tls ? "smtps" : "STARTTLS");
        tb::SmtpCaptureOptions options;
        options.tls = true;
        options.implicit_tls = implicit_tls;
        options.certificate = certs().good;
        tb::SmtpCapture capture(options);
        SmtpSettings s = smtp_settings(capture.port(), implicit_tls);
        s.user.clear();
        s.tls_required = true;
        SmtpSender sender(s);
        sender.send(a_mail());
        const auto got = capture.wait_for(1);
        ASSERT_EQ(got.size(), 1u);
        EXPECT_TRUE(got[0].tls);
    }
}

}  // namespace
