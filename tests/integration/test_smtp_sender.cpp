// SmtpSender against the capturing SMTP server (aiosmtpd) on loopback.
#include "bench/smtp_capture.h"
#include "daemon/smtp/smtp_sender.h"
#include "parsers/text/error.h"

#include <algorithm>
#include <gtest/gtest.h>

namespace tb = ppo::testbench;
using ppo::daemon::SmtpSender;
using ppo::daemon::SmtpSettings;
using ppo::workflow::OutgoingMail;

namespace {

SmtpSettings settings_for(const tb::SmtpCapture& capture) {
    SmtpSettings s;
    s.host = "127.0.0.1";
    s.port = capture.port();
    s.helo_name = "ppo-intake.test";
    s.timeout_seconds = 10;
    return s;
}

OutgoingMail mail(const std::string& subject, const std::string& body, std::vector<std::string> to = {"ce.0750001a@ac-paris.fr"}) {
    OutgoingMail m;
    m.envelope_from = "ppo@example.org";
    m.recipients = std::move(to);
    m.data = "From: PPO <ppo@example.org>\r\n"
             "To: ce.0750001a@ac-paris.fr\r\n"
             "Subject: " + subject + "\r\n"
             "MIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n"
             "\r\n" + body;
    return m;
}

ppo::ErrorKind kind_of(SmtpSender& sender, const OutgoingMail& m) {
    try {
        sender.send(m);
    } catch (const ppo::Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "send() did not throw";
    return ppo::ErrorKind::corrupt;
}

bool has_option(const tb::CapturedMail& m, const std::string& option) {
    return std::find(m.mail_options.begin(), m.mail_options.end(), option) != m.mail_options.end();
}

}  // namespace

TEST(SmtpSender, ThreeMailsOverOneConnectionDataIntact) {
    tb::SmtpCapture capture;
    SmtpSender sender(settings_for(capture));
    auto m1 = mail("Accus\xc3\xa9 de r\xc3\xa9" "ception",
                   "Bonjour,\r\n.une ligne qui commence par un point\r\n..et deux\r\n.\r\nfin \xe2\x82\xac\r\n");
    auto m2 = mail("Deux", "Sans fin de ligne finale");
    auto m3 = mail("Trois", "Plusieurs destinataires\r\n", {"a@example.org", "b@example.org", "c@example.org"});
    sender.send(m1);
    sender.send(m2);
    sender.send(m3);
    sender.close();
    sender.close();   // harmless when closed

    auto got = capture.wait_for(3);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].data, m1.data);
    EXPECT_EQ(got[1].data, m2.data + "\r\n");   // the sender ends the last line
    EXPECT_EQ(got[2].data, m3.data);
    for (const auto& g : got) EXPECT_EQ(g.mail_from, "ppo@example.org");
    EXPECT_EQ(got[0].rcpt_to, std::vector<std::string>{"ce.0750001a@ac-paris.fr"});
    EXPECT_EQ(got[2].rcpt_to, (std::vector<std::string>{"a@example.org", "b@example.org", "c@example.org"}));
    // One connection: the same client port for the three.
    EXPECT_NE(got[0].peer_port, 0);
    EXPECT_EQ(got[0].peer_port, got[1].peer_port);
    EXPECT_EQ(got[1].peer_port, got[2].peer_port);
    // 8-bit body and UTF-8 in the Subject: BODY=8BITMIME and SMTPUTF8 (offered by aiosmtpd).
    EXPECT_TRUE(has_option(got[0], "BODY=8BITMIME"));
    EXPECT_TRUE(has_option(got[0], "SMTPUTF8"));
    EXPECT_FALSE(has_option(got[1], "BODY=8BITMIME"));
    EXPECT_FALSE(got[0].tls);

    // After close(), the next send opens a new connection.
    sender.send(mail("Quatre", "x\r\n"));
    got = capture.wait_for(4);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_NE(got[3].peer_port, got[2].peer_port);
}

// In the body only: a bare line end in the header section is refused (see
// BareLineEndsOrNulInTheHeaderAreRefusedNotRepaired).
TEST(SmtpSender, BareLineFeedsInTheBodyBecomeCrlf) {
    tb::SmtpCapture capture;
    SmtpSender sender(settings_for(capture));
    OutgoingMail m;
    m.envelope_from = "";
    m.recipients = {"a@example.org"};
    m.data = "Subject: lf\r\n\r\n.dot\nline\n";
    sender.send(m);
    // Mixed line ends, a lone CR, a line of a single dot (which would end
    // DATA if it were not doubled) and no line end at the very end.
    m.data = "Subject: mixed\r\n\r\n..two\rcr\r\n.\r\n\n\r\r\nlast.";
    sender.send(m);
    auto got = capture.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].data, "Subject: lf\r\n\r\n.dot\r\nline\r\n");
    EXPECT_EQ(got[0].mail_from, "<>");
    EXPECT_EQ(got[1].data, "Subject: mixed\r\n\r\n..two\r\ncr\r\n.\r\n\r\n\r\n\r\nlast.\r\n");
}

TEST(SmtpSender, TemporaryFailureIsTransientAndTheNextSendWorks) {
    tb::SmtpCaptureOptions options;
    options.fail_temporarily = 1;
    tb::SmtpCapture capture(options);
    SmtpSender sender(settings_for(capture));
    auto m = mail("451", "retry me\r\n");
    try {
        sender.send(m);
        FAIL() << "expected a transient error";
    } catch (const ppo::Error& e) {
        EXPECT_EQ(e.kind(), ppo::ErrorKind::transient);
        EXPECT_NE(std::string(e.what()).find("451"), std::string::npos) << e.what();
    }
    sender.send(m);
    auto got = capture.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].data, m.data);
}

TEST(SmtpSender, PermanentFailureIsPermanent) {
    tb::SmtpCapture capture;
    capture.set_fail_permanently(1);
    SmtpSender sender(settings_for(capture));
    EXPECT_EQ(kind_of(sender, mail("550", "x\r\n")), ppo::ErrorKind::permanent);
    sender.send(mail("ok", "x\r\n"));
    EXPECT_EQ(capture.wait_for(1).size(), 1u);
}

TEST(SmtpSender, NoRecipientsIsPermanent) {
    tb::SmtpCapture capture;
    SmtpSender sender(settings_for(capture));
    EXPECT_EQ(kind_of(sender, mail("none", "x\r\n", {})), ppo::ErrorKind::permanent);
}

TEST(SmtpSender, ServerDownIsTransientAndRecovers) {
    tb::SmtpCapture capture;
    SmtpSender sender(settings_for(capture));
    sender.send(mail("1", "x\r\n"));          // connection now open and idle
    capture.stop();
    EXPECT_EQ(kind_of(sender, mail("2", "x\r\n")), ppo::ErrorKind::transient);   // dropped connection
    EXPECT_EQ(kind_of(sender, mail("2", "x\r\n")), ppo::ErrorKind::transient);   // refused
    capture.start();
    sender.send(mail("3", "x\r\n"));
    auto got = capture.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(got[1].data.find("Subject: 3"), std::string::npos);
}

TEST(SmtpSender, NothingListeningIsTransient) {
    SmtpSettings s;
    s.host = "127.0.0.1";
    s.port = tb::free_port();
    s.timeout_seconds = 5;
    SmtpSender sender(s);
    EXPECT_EQ(kind_of(sender, mail("x", "x\r\n")), ppo::ErrorKind::transient);
}

TEST(SmtpSender, StartTlsWithSelfSignedCertificate) {
    tb::SmtpCaptureOptions options;
    options.tls = true;
    tb::SmtpCapture capture(options);
    auto s = settings_for(capture);
    s.tls_required = true;
    s.verify_certificate = false;
    SmtpSender sender(s);
    auto m = mail("TLS", "chiffr\xc3\xa9\r\n.point\r\n");
    sender.send(m);
    sender.send(m);
    auto got = capture.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[0].tls);
    EXPECT_EQ(got[0].data, m.data);
    EXPECT_EQ(got[0].peer_port, got[1].peer_port);
}

TEST(SmtpSender, StartTlsUsedWhenOfferedEvenIfNotRequired) {
    tb::SmtpCaptureOptions options;
    options.tls = true;
    tb::SmtpCapture capture(options);
    auto s = settings_for(capture);
    s.verify_certificate = false;
    SmtpSender sender(s);
    sender.send(mail("TLS", "x\r\n"));
    auto got = capture.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].tls);
}

TEST(SmtpSender, SelfSignedCertificateRejectedWhenVerifying) {
    tb::SmtpCaptureOptions options;
    options.tls = true;
    tb::SmtpCapture capture(options);
    auto s = settings_for(capture);
    s.tls_required = true;
    s.verify_certificate = true;
    SmtpSender sender(s);
    EXPECT_EQ(kind_of(sender, mail("TLS", "x\r\n")), ppo::ErrorKind::config);
    s.host = "localhost";   // same with a name that matches the certificate
    SmtpSender by_name(s);
    EXPECT_EQ(kind_of(by_name, mail("TLS", "x\r\n")), ppo::ErrorKind::config);
    EXPECT_TRUE(capture.messages().empty());
}

TEST(SmtpSender, TlsRequiredButNotOfferedIsAConfigError) {
    tb::SmtpCapture capture;
    auto s = settings_for(capture);
    s.tls_required = true;
    SmtpSender sender(s);
    EXPECT_EQ(kind_of(sender, mail("x", "x\r\n")), ppo::ErrorKind::config);
    EXPECT_TRUE(capture.messages().empty());
}

TEST(SmtpSender, ImplicitTls) {
    tb::SmtpCaptureOptions options;
    options.tls = true;
    options.implicit_tls = true;
    tb::SmtpCapture capture(options);
    EXPECT_EQ(capture.url().rfind("smtps://", 0), 0u);
    auto s = settings_for(capture);
    s.implicit_tls = true;
    s.verify_certificate = false;
    SmtpSender sender(s);
    sender.send(mail("smtps", "x\r\n"));
    auto got = capture.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].tls);
}

TEST(SmtpSender, AuthPlainAfterStartTls) {
    tb::SmtpCaptureOptions options;
    options.tls = true;
    options.auth_user = "relay";
    options.auth_password = "relay pw \xc3\xa9";
    tb::SmtpCapture capture(options);
    auto s = settings_for(capture);
    s.verify_certificate = false;
    s.user = options.auth_user;
    s.password = options.auth_password;
    SmtpSender sender(s);
    sender.send(mail("auth", "x\r\n"));
    sender.send(mail("auth 2", "y\r\n"));
    auto got = capture.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].auth_user, "relay");
    EXPECT_TRUE(got[0].tls);
}

TEST(SmtpSender, AuthWithoutTls) {
    tb::SmtpCaptureOptions options;
    options.auth_user = "relay";
    options.auth_password = "pw";
    tb::SmtpCapture capture(options);
    auto s = settings_for(capture);
    s.user = "relay";
    s.password = "pw";
    SmtpSender sender(s);
    sender.send(mail("auth", "x\r\n"));
    auto got = capture.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].auth_user, "relay");
    EXPECT_FALSE(got[0].tls);
}

TEST(SmtpSender, WrongPasswordIsAConfigError) {
    tb::SmtpCaptureOptions options;
    options.auth_user = "relay";
    options.auth_password = "pw";
    tb::SmtpCapture capture(options);
    auto s = settings_for(capture);
    s.user = "relay";
    s.password = "wrong";
    SmtpSender sender(s);
    EXPECT_EQ(kind_of(sender, mail("auth", "x\r\n")), ppo::ErrorKind::config);
}

TEST(SmtpSender, MissingAuthIsPermanent) {
    tb::SmtpCaptureOptions options;
    options.auth_user = "relay";
    options.auth_password = "pw";
    tb::SmtpCapture capture(options);
    SmtpSender sender(settings_for(capture));   // no user: the server answers 530 to MAIL
    EXPECT_EQ(kind_of(sender, mail("auth", "x\r\n")), ppo::ErrorKind::permanent);
}

namespace {

TEST(SmtpSender, BareLineEndsOrNulInTheHeaderAreRefusedNotRepaired) {
    tb::SmtpCapture capture;
    SmtpSender sender(settings_for(capture));
    struct Case {
        const char* name;
        std::string header;
        const char* what;
    };
    const Case cases[] = {
        {"lone LF", "Subject: a\nBcc: victim@example.org\r\n", "an LF not preceded by CR"},
        {"lone CR", "Subject: a\rBcc: victim@example.org\r\n", "a CR not followed by LF"},
        {"NUL", std::string("Subject: a\0b\r\n", 14), "a NUL byte"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        OutgoingMail m = mail("x", "body\r\n");
        m.key = "outbox 42";
        m.data = "From: PPO <ppo@example.org>\r\n" + c.header + "\r\nbody\r\n";
        try {
            sender.send(m);
            ADD_FAILURE() << "sent";
        } catch (const ppo::Error& e) {
            EXPECT_EQ(e.kind(), ppo::ErrorKind::permanent);
            const std::string what = e.what();
            EXPECT_NE(what.find("outbox 42"), std::string::npos) << what;
            EXPECT_NE(what.find(c.what), std::string::npos) << what;
            EXPECT_NE(what.find("line 2"), std::string::npos) << what;
        }
    }
    // A clean mail still goes, and none of the others did.
    sender.send(mail("clean", "a body line with a bare\nLF is the body's business\r\n"));
    const auto got = capture.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NE(got[0].data.find("Subject: clean"), std::string::npos);
}

}  // namespace
