// Proves the test bench itself: a real Dovecot on loopback that takes and gives
// back messages over IMAP, and the capturing SMTP server.
#include "bench/dovecot_server.h"
#include "bench/smtp_capture.h"
#include "bench/tls_cert.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/DialogSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <stdexcept>

namespace tb = ppo::testbench;

namespace {

const std::string kMessage1 =
    "From: Lycee Test <ce.0750001a@ac-paris.fr>\r\n"
    "To: ppo@example.org\r\n"
    "Subject: PPO 2025\r\n"
    "Message-ID: <one@test>\r\n"
    "\r\n"
    "Bonjour,\r\n"
    ".a line starting with a dot\r\n";

const std::string kMessage2 =
    "From: other@example.org\r\n"
    "Subject: =?UTF-8?Q?Re=C3=A7u?=\r\n"
    "Message-ID: <two@test>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "R\xc3\xa9sum\xc3\xa9 \xe2\x82\xac\r\n";

// A hand-written SMTP dialogue, independent of the sender under test.
struct RawSmtp {
    Poco::Net::DialogSocket socket;
    explicit RawSmtp(int port) : socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port))) {
        socket.setReceiveTimeout(Poco::Timespan(10, 0));
        std::string reply;
        EXPECT_EQ(socket.receiveStatusMessage(reply), 220) << reply;
    }
    int cmd(const std::string& c) {
        std::string reply;
        socket.sendMessage(c);
        return socket.receiveStatusMessage(reply);
    }
};

}  // namespace

TEST(DovecotBench, AppendThenReadBack) {
    tb::DovecotServer dovecot;
    EXPECT_GT(dovecot.port(), 0);
    EXPECT_EQ(dovecot.imaps_port(), 0);
    EXPECT_EQ(dovecot.url(), "imap://127.0.0.1:" + std::to_string(dovecot.port()));
    EXPECT_TRUE(std::filesystem::is_directory(dovecot.dir()));

    EXPECT_EQ(dovecot.count(), 0u);
    EXPECT_TRUE(dovecot.messages().empty());
    std::uint32_t uid1 = dovecot.append(kMessage1);
    std::uint32_t uid2 = dovecot.append(kMessage2);
    EXPECT_GT(uid1, 0u);
    EXPECT_GT(uid2, uid1);
    EXPECT_EQ(dovecot.count("INBOX"), 2u);
    auto raw = dovecot.messages("INBOX");
    ASSERT_EQ(raw.size(), 2u);
    EXPECT_EQ(raw[0], kMessage1);
    EXPECT_EQ(raw[1], kMessage2);
    // BODY.PEEK: reading does not change anything (a second read gives the same).
    EXPECT_EQ(dovecot.messages("INBOX"), raw);
}

TEST(DovecotBench, MailboxesAreCreatedOnAppendWithUtf8Names) {
    tb::DovecotServer dovecot;
    EXPECT_EQ(dovecot.count("INBOX.nope"), 0u);
    EXPECT_TRUE(dovecot.messages("INBOX.nope").empty());
    EXPECT_EQ(dovecot.append(kMessage1, "INBOX.PPO trait\xc3\xa9" "es"), 1u);
    EXPECT_EQ(dovecot.count("INBOX.PPO trait\xc3\xa9" "es"), 1u);
    dovecot.create_mailbox("INBOX.triage");
    dovecot.create_mailbox("INBOX.triage");   // already there: no error
    auto names = dovecot.mailboxes();
    EXPECT_NE(std::find(names.begin(), names.end(), "INBOX.PPO trait&AOk-es"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "INBOX.triage"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "INBOX"), names.end());
    EXPECT_EQ(dovecot.count("INBOX.triage"), 0u);
}

TEST(DovecotBench, CapabilitiesFollowOptions) {
    tb::DovecotServer full;
    std::string caps = " " + full.capabilities() + " ";
    EXPECT_NE(caps.find(" IDLE "), std::string::npos) << caps;
    EXPECT_NE(caps.find(" MOVE "), std::string::npos) << caps;

    tb::DovecotOptions options;
    options.enable_idle = false;
    options.enable_move = false;
    tb::DovecotServer reduced(options);
    caps = " " + reduced.capabilities() + " ";
    EXPECT_EQ(caps.find(" IDLE "), std::string::npos) << caps;
    EXPECT_EQ(caps.find(" MOVE "), std::string::npos) << caps;
    EXPECT_NE(caps.find(" UIDPLUS "), std::string::npos) << caps;
    EXPECT_NE(full.port(), reduced.port());
    EXPECT_NE(full.dir(), reduced.dir());
}

TEST(DovecotBench, StopThenStartKeepsPortAndMail) {
    tb::DovecotOptions options;
    options.user = "lycee";
    options.password = "p\"w d";
    tb::DovecotServer dovecot(options);
    dovecot.append(kMessage1);
    int port = dovecot.port();
    dovecot.stop();
    EXPECT_FALSE(tb::detail::can_connect(port));
    EXPECT_THROW(dovecot.count(), std::runtime_error);
    dovecot.start();
    EXPECT_EQ(dovecot.port(), port);
    EXPECT_EQ(dovecot.count(), 1u);
    EXPECT_EQ(dovecot.messages().at(0), kMessage1);
}

TEST(DovecotBench, TemporaryFolderIsRemoved) {
    std::string dir;
    {
        tb::DovecotServer dovecot;
        dir = dovecot.dir();
        dovecot.append(kMessage1);
    }
    const char* keep = std::getenv("PPO_KEEP_TEST_DIRS");
    if (!(keep && std::string(keep) == "1")) {
        EXPECT_FALSE(std::filesystem::exists(dir));
    }
}

TEST(DovecotBench, TlsListenersWithSelfSignedCertificate) {
    tb::DovecotOptions options;
    options.tls = true;
    tb::DovecotServer dovecot(options);
    ASSERT_GT(dovecot.imaps_port(), 0);
    EXPECT_TRUE(std::filesystem::exists(dovecot.cert_file()));
    EXPECT_EQ(dovecot.imaps_url(), "imaps://127.0.0.1:" + std::to_string(dovecot.imaps_port()));

    // Plain port: STARTTLS offered before login.
    Poco::Net::DialogSocket plain(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(dovecot.port())));
    plain.setReceiveTimeout(Poco::Timespan(10, 0));
    std::string greeting;
    ASSERT_TRUE(plain.receiveMessage(greeting));
    EXPECT_NE(greeting.find("STARTTLS"), std::string::npos) << greeting;

    // imaps: TLS from the first byte.
    Poco::Net::Context::Params params;
    params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    Poco::Net::SecureStreamSocket secure(context);
    secure.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(dovecot.imaps_port())),
                   Poco::Timespan(10, 0));
    Poco::Net::DialogSocket dialog(secure);
    dialog.setReceiveTimeout(Poco::Timespan(10, 0));
    ASSERT_TRUE(dialog.receiveMessage(greeting));
    EXPECT_EQ(greeting.rfind("* OK", 0), 0u) << greeting;

    // The helper still works (plain LOGIN allowed on loopback).
    dovecot.append(kMessage2);
    EXPECT_EQ(dovecot.messages().at(0), kMessage2);
}

TEST(SmtpCaptureBench, CapturesEnvelopeAndData) {
    tb::SmtpCapture capture;
    EXPECT_GT(capture.port(), 0);
    EXPECT_EQ(capture.url(), "smtp://127.0.0.1:" + std::to_string(capture.port()));
    EXPECT_TRUE(capture.messages().empty());

    RawSmtp smtp(capture.port());
    EXPECT_EQ(smtp.cmd("EHLO bench"), 250);
    EXPECT_EQ(smtp.cmd("MAIL FROM:<ppo@example.org> BODY=8BITMIME"), 250);
    EXPECT_EQ(smtp.cmd("RCPT TO:<ce.0750001a@ac-paris.fr>"), 250);
    EXPECT_EQ(smtp.cmd("RCPT TO:<copie@example.org>"), 250);
    EXPECT_EQ(smtp.cmd("DATA"), 354);
    smtp.socket.sendString("Subject: accus\xc3\xa9\r\n\r\n..dot-stuffed\r\nbody\r\n.\r\n");
    std::string reply;
    EXPECT_EQ(smtp.socket.receiveStatusMessage(reply), 250) << reply;
    EXPECT_EQ(smtp.cmd("QUIT"), 221);

    auto mails = capture.wait_for(1);
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0].mail_from, "ppo@example.org");
    EXPECT_EQ(mails[0].rcpt_to, (std::vector<std::string>{"ce.0750001a@ac-paris.fr", "copie@example.org"}));
    EXPECT_EQ(mails[0].data, "Subject: accus\xc3\xa9\r\n\r\n.dot-stuffed\r\nbody\r\n");
    EXPECT_NE(std::find(mails[0].mail_options.begin(), mails[0].mail_options.end(), "BODY=8BITMIME"),
              mails[0].mail_options.end());
    EXPECT_FALSE(mails[0].tls);
    EXPECT_TRUE(mails[0].auth_user.empty());
    EXPECT_TRUE(std::filesystem::exists(mails[0].file));

    capture.clear();
    EXPECT_TRUE(capture.messages().empty());
}

TEST(SmtpCaptureBench, TemporaryFailureThenSuccess) {
    tb::SmtpCaptureOptions options;
    options.fail_temporarily = 2;
    tb::SmtpCapture capture(options);
    RawSmtp smtp(capture.port());
    EXPECT_EQ(smtp.cmd("EHLO bench"), 250);
    EXPECT_EQ(smtp.cmd("MAIL FROM:<a@example.org>"), 250);
    EXPECT_EQ(smtp.cmd("RCPT TO:<b@example.org>"), 451);
    EXPECT_EQ(smtp.cmd("RCPT TO:<b@example.org>"), 451);
    EXPECT_EQ(smtp.cmd("RCPT TO:<b@example.org>"), 250);
    capture.set_fail_permanently(1);
    EXPECT_EQ(smtp.cmd("RCPT TO:<c@example.org>"), 550);
    capture.set_fail_temporarily(1);
    EXPECT_EQ(smtp.cmd("RCPT TO:<c@example.org>"), 451);
    EXPECT_EQ(smtp.cmd("RCPT TO:<c@example.org>"), 250);
}

TEST(SmtpCaptureBench, StopThenStartOnTheSamePort) {
    tb::SmtpCapture capture;
    int port = capture.port();
    {
        RawSmtp smtp(port);
        EXPECT_EQ(smtp.cmd("HELO bench"), 250);
        EXPECT_EQ(smtp.cmd("MAIL FROM:<a@example.org>"), 250);
        EXPECT_EQ(smtp.cmd("RCPT TO:<b@example.org>"), 250);
        EXPECT_EQ(smtp.cmd("DATA"), 354);
        smtp.socket.sendString("Subject: 1\r\n\r\nx\r\n.\r\n");
        std::string reply;
        EXPECT_EQ(smtp.socket.receiveStatusMessage(reply), 250);
    }
    capture.stop();
    EXPECT_FALSE(tb::detail::can_connect(port));
    capture.start();
    EXPECT_EQ(capture.port(), port);
    {
        RawSmtp smtp(port);
        EXPECT_EQ(smtp.cmd("HELO bench"), 250);
        EXPECT_EQ(smtp.cmd("MAIL FROM:<a@example.org>"), 250);
        EXPECT_EQ(smtp.cmd("RCPT TO:<b@example.org>"), 250);
        EXPECT_EQ(smtp.cmd("DATA"), 354);
        smtp.socket.sendString("Subject: 2\r\n\r\ny\r\n.\r\n");
        std::string reply;
        EXPECT_EQ(smtp.socket.receiveStatusMessage(reply), 250);
    }
    auto mails = capture.wait_for(2);
    ASSERT_EQ(mails.size(), 2u);
    EXPECT_EQ(mails[0].data, "Subject: 1\r\n\r\nx\r\n");
    EXPECT_EQ(mails[1].data, "Subject: 2\r\n\r\ny\r\n");
}

TEST(SmtpCaptureBench, AuthRequiredWhenConfigured) {
    tb::SmtpCaptureOptions options;
    options.auth_user = "relay";
    options.auth_password = "relay-pw";
    tb::SmtpCapture capture(options);
    RawSmtp smtp(capture.port());
    EXPECT_EQ(smtp.cmd("EHLO bench"), 250);
    EXPECT_EQ(smtp.cmd("MAIL FROM:<a@example.org>"), 530);
    // AUTH PLAIN base64("\0relay\0wrong") then base64("\0relay\0relay-pw")
    EXPECT_EQ(smtp.cmd("AUTH PLAIN AHJlbGF5AHdyb25n"), 535);
    EXPECT_EQ(smtp.cmd("AUTH PLAIN AHJlbGF5AHJlbGF5LXB3"), 235);
    EXPECT_EQ(smtp.cmd("MAIL FROM:<a@example.org>"), 250);
}

TEST(SmtpCaptureBench, StartTlsOffered) {
    tb::SmtpCaptureOptions options;
    options.tls = true;
    tb::SmtpCapture capture(options);
    EXPECT_TRUE(std::filesystem::exists(capture.cert_file()));
    Poco::Net::DialogSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(capture.port())));
    socket.setReceiveTimeout(Poco::Timespan(10, 0));
    std::string reply;
    EXPECT_EQ(socket.receiveStatusMessage(reply), 220);
    socket.sendMessage("EHLO bench");
    EXPECT_EQ(socket.receiveStatusMessage(reply), 250);
    EXPECT_NE(reply.find("STARTTLS"), std::string::npos) << reply;
}

TEST(SmtpCaptureBench, FreePortIsBindable) {
    int a = tb::free_port();
    EXPECT_GT(a, 1024);
    EXPECT_FALSE(tb::detail::can_connect(a));
}
