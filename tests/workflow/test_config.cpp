#include "parsers/text/error.h"
#include "workflow/config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using ppo::Error;
using ppo::ErrorKind;
using ppo::workflow::parse_config;

namespace {

std::string config_error_of(const std::string& text) {
    try {
        parse_config(text, "/etc/ppo-intake/test.conf");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::config);
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Config, EmptyFileGivesTheDocumentedDefaults) {
    auto c = parse_config("", "/etc/ppo-intake/ppo-intake.conf");
    EXPECT_EQ(c.imap.url.scheme, "imaps");
    EXPECT_EQ(c.imap.url.port, 993);
    EXPECT_EQ(c.imap.mailbox, "INBOX");
    EXPECT_EQ(c.imap.processed_folder, "PPO/Traites");
    EXPECT_EQ(c.imap.poll_interval, 60);
    EXPECT_EQ(c.smtp.url.port, 587);
    EXPECT_EQ(c.smtp.from_address, "ppo@region-academique-hauts-de-france.fr");
    EXPECT_EQ(c.database.backend, "sqlite");
    EXPECT_EQ(c.database.connection, "/var/lib/ppo-intake/ppo.db");
    EXPECT_EQ(c.storage.archive_dir, "/var/lib/ppo-intake/archive");
    EXPECT_EQ(c.campaign.deadline, "2022-03-25");
    EXPECT_EQ(c.campaign.timezone, "Europe/Paris");
    EXPECT_EQ(c.campaign.reminders, (std::vector<int>{-21, -7, -2, 1, 7}));
    EXPECT_EQ(c.campaign.reminder_minutes, 9 * 60);
    EXPECT_EQ(c.digest.minutes, 7 * 60);
    EXPECT_EQ(c.digest.days, (std::set<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(c.intake.message_id_domain, "region-academique-hauts-de-france.fr");
    EXPECT_EQ(c.academie_domains(), (std::vector<std::string>{"ac-lille.fr", "ac-amiens.fr"}));
}

TEST(Config, ShippedExampleParses) {
    // The shipped example names secret files that only exist on a server:
    // give it credentials through $CREDENTIALS_DIRECTORY, as systemd does.
    auto dir = std::filesystem::temp_directory_path() / "ppo-config-test-creds";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "imap-password") << "imap-secret\n";
    setenv("CREDENTIALS_DIRECTORY", dir.c_str(), 1);
    auto c = ppo::workflow::load_config(std::string(PPO_SOURCE_DIR) + "/etc/ppo-intake.conf");
    unsetenv("CREDENTIALS_DIRECTORY");
    std::filesystem::remove_all(dir);
    EXPECT_EQ(c.imap.password.value, "imap-secret");
    EXPECT_EQ(c.campaign.academies, (std::vector<std::string>{"09", "20"}));
    EXPECT_EQ(c.intake.max_message_size, 50u * 1024 * 1024);
}

TEST(Config, ValuesAreParsed) {
    auto c = parse_config(
        "[imap]\nurl = imap://mail.ac-lille.fr:1143\nuser = ppo\npassword = pw ; comment\n"
        "[smtp]\nurl = smtps://smtp.example.fr\nfrom = \"PPO\" <ppo@example.fr>\n"
        "[database]\nurl = sqlite://data/ppo.db\n"
        "[campaign]\nreminders = +7, -21,-2\nreminder_time = 08:30\nacademies = 20\n"
        "[digest]\nto = a@example.fr, b@example.fr\ndays = Mon,fri\ntime = 06:45\n"
        "[intake]\nmax_message_size = 30M\nallowed_domains = Region.FR\n",
        "/srv/ppo/ppo.conf");
    EXPECT_EQ(c.imap.url.host, "mail.ac-lille.fr");
    EXPECT_EQ(c.imap.url.port, 1143);
    EXPECT_EQ(c.imap.password.value, "pw");
    EXPECT_EQ(c.smtp.url.port, 465);
    EXPECT_EQ(c.smtp.from_address, "ppo@example.fr");
    EXPECT_EQ(c.database.connection, "/srv/ppo/data/ppo.db");
    EXPECT_EQ(c.campaign.reminders, (std::vector<int>{-21, -2, 7}));
    EXPECT_EQ(c.campaign.reminder_minutes, 8 * 60 + 30);
    EXPECT_EQ(c.digest.to.size(), 2u);
    EXPECT_EQ(c.digest.days, (std::set<int>{1, 5}));
    EXPECT_EQ(c.intake.max_message_size, 30u * 1024 * 1024);
    EXPECT_EQ(c.intake.allowed_domains, (std::vector<std::string>{"region.fr"}));
    EXPECT_EQ(c.academie_domains(), (std::vector<std::string>{"ac-amiens.fr"}));
}

TEST(Config, PostgresUrlIsKeptInParts) {
    // Quoted into a libpq connection string by daemon/store/database.cpp
    // (tests/daemon/test_database.cpp).
    auto c = parse_config("[database]\nurl = postgresql://ppo:s3cret@db.example.fr/ppo\n", "/x/ppo.conf");
    EXPECT_EQ(c.database.backend, "postgresql");
    EXPECT_EQ(c.database.pg_host, "db.example.fr");
    EXPECT_EQ(c.database.pg_port, 5432);
    EXPECT_EQ(c.database.pg_dbname, "ppo");
    EXPECT_EQ(c.database.pg_user, "ppo");
    EXPECT_EQ(c.database.pg_password.value, "s3cret");
    EXPECT_EQ(c.database.connection, "");
}

struct BadConfig {
    const char* text;
    const char* expected;  // substring of the error message
};

class ConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, NameFileLineSectionKeyAndWhatWasExpected) {
    auto msg = config_error_of(GetParam().text);
    EXPECT_NE(msg.find(GetParam().expected), std::string::npos) << "got: " << msg;
    EXPECT_NE(msg.find("/etc/ppo-intake/test.conf"), std::string::npos) << "got: " << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    ::testing::Values(
        BadConfig{"[imap]\npoll_intervall = 5\n", "test.conf:2: [imap] poll_intervall: unknown key"},
        BadConfig{"[imap]\nurl = http://x\n", "[imap] url: unsupported scheme 'http'"},
        BadConfig{"[imap]\nurl = imap://\n", "[imap] url: no host"},
        BadConfig{"[imap]\nurl = imap://host:99999\n", "bad port '99999'"},
        BadConfig{"[smtp]\nurl = smtp.example.fr:587\n", "[smtp] url: no scheme"},
        BadConfig{"[campaign]\ndeadline = 2022-02-30\n", "[campaign] deadline: expected a date YYYY-MM-DD, got '2022-02-30'"},
        BadConfig{"[campaign]\ndeadline = 25/03/2022\n", "expected a date YYYY-MM-DD"},
        BadConfig{"[campaign]\nreminders = -21,x\n", "[campaign] reminders: expected a reminder offset"},
        BadConfig{"[campaign]\nreminders = -7,-7\n", "listed twice"},
        BadConfig{"[campaign]\nreminders = 0\n", "offset 0 is the deadline itself"},
        BadConfig{"[campaign]\nreminder_time = 9h\n", "expected a time HH:MM"},
        BadConfig{"[campaign]\ntimezone = Europe/Lile\n", "expected an IANA time zone"},
        BadConfig{"[campaign]\nacademies = 9\n", "two-digit académie codes"},
        BadConfig{"[digest]\ndays = lundi\n", "expected days such as mon,tue"},
        BadConfig{"[digest]\nto = draio\n", "expected mail addresses"},
        BadConfig{"[imap]\npoll_interval = 0\n", "expected seconds between 1 and 86400"},
        BadConfig{"[intake]\nmax_message_size = big\n", "expected a positive size"},
        BadConfig{"[workflow]\nforward = maybe\n", "expected true or false"},
        BadConfig{"[database]\nurl = mysql://x/y\n", "expected sqlite:///path"},
        BadConfig{"[nope]\nx = 1\n", "unknown section [nope]"},
        BadConfig{"[imap]\nuser = a\nuser = b\n", "is set twice"},
        BadConfig{"user = a\n", "outside of any [section]"},
        BadConfig{"[imap\n", "unterminated section header"},
        BadConfig{"[imap]\njust words\n", "expected 'key = value'"},
        BadConfig{"[imap]\npassword_file = /nonexistent/secret\n", "[imap] password_file: cannot read the secret file"}));

TEST(Config, SecretsNeverAppearInErrors) {
    auto msg = config_error_of("[imap]\npassword = hunter2-secret\npoll_interval = -1\n");
    EXPECT_FALSE(msg.empty());
    EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
    auto pg = config_error_of("[database]\nurl = postgresql://u:hunter2@h\n");
    EXPECT_EQ(pg.find("hunter2"), std::string::npos) << pg;
}

TEST(Config, TlsKeysDefaultToVerifiedAndRequired) {
    auto c = parse_config("", "/etc/ppo-intake/ppo-intake.conf");
    for (const auto* tls : {&c.imap.verify_certificate, &c.smtp.verify_certificate}) EXPECT_TRUE(*tls);
    EXPECT_FALSE(c.imap.allow_plaintext);
    EXPECT_FALSE(c.smtp.allow_plaintext);
    EXPECT_TRUE(c.imap.ca_file.empty());
    EXPECT_TRUE(c.smtp.ca_file.empty());
    EXPECT_TRUE(ppo::workflow::tls_warnings(c).empty());
}

TEST(Config, TlsKeysAreParsedAndTheOptOutsWarned) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("ppo-config-ca-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "ca.pem") << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::ofstream(dir / "not-pem.txt") << "hello\n";
    auto c = parse_config("[imap]\nca_file = ca.pem\nallow_plaintext = yes\n"
                          "[smtp]\nverify_certificate = false\nca_file = " + (dir / "ca.pem").string() + "\n",
                          (dir / "ppo.conf").string());
    EXPECT_EQ(c.imap.ca_file, (dir / "ca.pem").string());   // relative to the config file
    EXPECT_TRUE(c.imap.allow_plaintext);
    EXPECT_FALSE(c.smtp.verify_certificate);
    const auto warnings = ppo::workflow::tls_warnings(c);
    ASSERT_EQ(warnings.size(), 2u);
    EXPECT_EQ(warnings[0].rfind("[imap] allow_plaintext = true", 0), 0u) << warnings[0];
    EXPECT_EQ(warnings[1].rfind("[smtp] verify_certificate = false", 0), 0u) << warnings[1];

    std::string what = config_error_of("[imap]\nca_file = " + (dir / "missing.pem").string() + "\n");
    EXPECT_NE(what.find("test.conf:2: [imap] ca_file"), std::string::npos) << what;
    EXPECT_NE(what.find("missing.pem"), std::string::npos) << what;
    what = config_error_of("[smtp]\nca_file = " + (dir / "not-pem.txt").string() + "\n");
    EXPECT_NE(what.find("[smtp] ca_file: expected PEM"), std::string::npos) << what;
    what = config_error_of("[smtp]\nverify_certificate = maybe\n");
    EXPECT_NE(what.find("test.conf:2: [smtp] verify_certificate: expected true or false"), std::string::npos) << what;
    what = config_error_of("[imap]\ntls_required = true\nallow_plaintext = true\n");
    EXPECT_NE(what.find("[imap] tls_required = true and allow_plaintext = true"), std::string::npos) << what;
    fs::remove_all(dir);
}

TEST(Config, WebIsOffByDefaultAndItsKeysAreParsed) {
    namespace fs = std::filesystem;
    auto d = parse_config("", "/etc/ppo-intake/ppo-intake.conf");
    EXPECT_TRUE(d.web.listen.empty());
    EXPECT_EQ(d.web.users_file, "/etc/ppo-intake/users");
    EXPECT_TRUE(d.web.base_url.empty());
    EXPECT_EQ(d.web.session_timeout, 3600);
    EXPECT_FALSE(d.web.tls());
    EXPECT_FALSE(d.web.secure_cookies());

    const fs::path dir = fs::temp_directory_path() / ("ppo-config-web-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "web.crt") << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::ofstream(dir / "web.key") << "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
    auto c = parse_config("[web]\nlisten = 0.0.0.0:8443\nusers_file = users\nbase_url = HTTPS://ppo.example.fr/\n"
                          "session_timeout = 900\ntls_cert = web.crt\ntls_key = " + (dir / "web.key").string() + "\n",
                          (dir / "ppo.conf").string());
    EXPECT_EQ(c.web.listen, "0.0.0.0:8443");
    EXPECT_EQ(c.web.users_file, (dir / "users").string());   // relative to the config file
    EXPECT_EQ(c.web.base_url, "https://ppo.example.fr");
    EXPECT_EQ(c.web.session_timeout, 900);
    EXPECT_EQ(c.web.tls_cert, (dir / "web.crt").string());
    EXPECT_TRUE(c.web.tls());
    EXPECT_TRUE(c.web.secure_cookies());
    // Behind a TLS proxy: Secure cookies without our own TLS.
    auto proxied = parse_config("[web]\nlisten = 127.0.0.1:8080\nbase_url = https://ppo.example.fr/campagne\n", "x.conf");
    EXPECT_FALSE(proxied.web.tls());
    EXPECT_TRUE(proxied.web.secure_cookies());
    EXPECT_EQ(proxied.web.base_url, "https://ppo.example.fr/campagne");
    EXPECT_FALSE(parse_config("[web]\nbase_url = http://ppo.example.fr\n", "x.conf").web.secure_cookies());

    struct Case {
        std::string text, expected;
    };
    for (const auto& k : std::vector<Case>{
             {"[web]\nlisten = 8443\n", "test.conf:2: [web] listen: expected HOST:PORT"},
             {"[web]\nlisten = 127.0.0.1:70000\n", "test.conf:2: [web] listen: expected a port"},
             {"[web]\nbase_url = ppo.example.fr\n", "test.conf:2: [web] base_url: expected an absolute http:// or https:// URL"},
             {"[web]\nbase_url = ftp://ppo.example.fr\n", "[web] base_url: expected an absolute"},
             {"[web]\nbase_url = https://\n", "no host"},
             {"[web]\nbase_url = https://u:p@ppo.example.fr\n", "a user name"},
             {"[web]\nbase_url = https://ppo.example.fr/?x=1\n", "a query or fragment"},
             {"[web]\nbase_url = https://ppo.example.fr/a b\n", "a space"},
             {"[web]\nsession_timeout = 10\n", "test.conf:2: [web] session_timeout: expected seconds between 60"},
             {"[web]\nsession_timeout = 1h\n", "[web] session_timeout: expected seconds"},
             {"[web]\nusers_file =\n", "[web] users_file: expected a file"},
             {"[web]\ntls_cert = " + (dir / "web.crt").string() + "\n", "[web] tls_cert is set without tls_key"},
             {"[web]\ntls_key = " + (dir / "web.key").string() + "\n", "[web] tls_key is set without tls_cert"},
             {"[web]\ntls_cert = " + (dir / "missing.crt").string() + "\n", "test.conf:2: [web] tls_cert: cannot read"},
             {"[web]\ntls_cert = " + (dir / "web.key").string() + "\n", "[web] tls_cert: expected a PEM certificate"},
             {"[web]\ntls_key = " + (dir / "web.crt").string() + "\n", "[web] tls_key: expected a PEM private key"},
             {"[web]\nlisten = 127.0.0.1:9187\n", "[web] listen = 127.0.0.1:9187: the address of [http] listen"},
             {"[web]\nport = 80\n", "[web] port: unknown key"},
         }) {
        const auto what = config_error_of(k.text);
        EXPECT_NE(what.find(k.expected), std::string::npos) << k.text << " -> " << what;
        EXPECT_NE(what.find("/etc/ppo-intake/test.conf"), std::string::npos) << what;
    }
    fs::remove_all(dir);
}
