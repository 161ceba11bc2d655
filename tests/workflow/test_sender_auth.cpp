// authenticate_sender: only the trusted server's Authentication-Results count,
// only a pass aligned with the From domain authenticates, everything else
// (fail, none, temperror, no header, another server's pass) does not.
#include "workflow/intake/sender_auth.h"

#include "parsers/mime/mime_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

const std::string kFrom = "ce.0596082r@ac-lille.fr";
const std::string kMx = "mx.example.fr";

SenderAuth check(const std::vector<std::string>& headers, const std::string& from = kFrom) {
    return authenticate_sender(headers, from, kMx);
}

TEST(SenderAuth, OffWithoutATrustedServer) {
    const auto a = authenticate_sender(std::vector<std::string>{}, kFrom, "");
    EXPECT_TRUE(a.authenticated);
    EXPECT_NE(a.reason.find("off"), std::string::npos);
}

TEST(SenderAuth, PassesFromTheTrustedServer) {
    EXPECT_TRUE(check({"mx.example.fr; dmarc=pass header.from=ac-lille.fr"}).authenticated);
    EXPECT_EQ(check({"MX.EXAMPLE.FR; dmarc=pass"}).reason, "dmarc=pass");
    EXPECT_TRUE(check({"mx.example.fr; dmarc = pass (p=reject) header . from = AC-LILLE.FR"}).authenticated);
    EXPECT_EQ(check({"mx.example.fr; dkim=pass header.d=ac-lille.fr header.s=s1"}).reason, "dkim=pass header.d=ac-lille.fr");
    EXPECT_TRUE(check({"mx.example.fr; dkim=pass header.i=@mail.ac-lille.fr"}).authenticated);
    EXPECT_TRUE(check({"mx.example.fr; dkim=pass header.d=ac-lille.fr"}, "x@lycee.ac-lille.fr").authenticated);
    EXPECT_EQ(check({"mx.example.fr; spf=pass smtp.mailfrom=ce.0596082r@ac-lille.fr"}).reason,
              "spf=pass smtp.mailfrom=ac-lille.fr");
    EXPECT_TRUE(check({"mx.example.fr; spf=pass smtp.mailfrom=bounces.ac-lille.fr"}).authenticated);
    // dmarc=none (no policy published) with an aligned DKIM signature.
    EXPECT_TRUE(check({"mx.example.fr; dmarc=none; dkim=pass header.d=ac-lille.fr"}).authenticated);
    // One of several headers from the trusted server (a second hop added another).
    EXPECT_TRUE(check({"other.example; dmarc=fail", "mx.example.fr; dmarc=pass"}).authenticated);
}

TEST(SenderAuth, EverythingElseIsNotAuthenticated) {
    struct Case {
        std::vector<std::string> headers;
        std::string reason;
    };
    const Case cases[] = {
        {{}, "no Authentication-Results from mx.example.fr"},
        {{"mx.attacker.example; dmarc=pass header.from=ac-lille.fr"}, "no Authentication-Results from mx.example.fr"},
        {{"mx.example.fr.attacker.example; dmarc=pass"}, "no Authentication-Results from mx.example.fr"},
        {{"spf=pass smtp.mailfrom=ac-lille.fr; dmarc=pass header.from=ac-lille.fr"}, "no Authentication-Results from mx.example.fr"},
        // The decoded form of a stranger's encoded word is not the header (callers pass raw values).
        {{"=?UTF-8?Q?mx.example.fr;_dmarc=3Dpass?="}, "no Authentication-Results from mx.example.fr"},
        {{"mx.example.fr; dmarc=fail header.from=ac-lille.fr; spf=fail"}, "dmarc=fail"},
        {{"mx.example.fr; dmarc = fail"}, "dmarc=fail"},
        {{"mx.example.fr; dmarc=fail; dkim=pass header.d=ac-lille.fr"}, "dmarc=fail"},
        {{"mx.example.fr; dmarc=none"}, "dmarc=none"},
        {{"mx.example.fr; dmarc=temperror; spf=temperror"}, "dmarc=temperror, spf=temperror"},
        {{"mx.example.fr; spf=softfail smtp.mailfrom=ac-lille.fr"}, "spf=softfail"},
        {{"mx.example.fr; none"}, "no DMARC, DKIM or SPF result from mx.example.fr"},
        {{"mx.example.fr; dmarc=bestguesspass"}, "dmarc=bestguesspass"},
        {{"mx.example.fr; dkim=pass header.d=gmail.com"}, "dkim=pass for gmail.com, not ac-lille.fr"},
        {{"mx.example.fr; dkim=pass header.d=lille.fr"}, "dkim=pass for lille.fr, not ac-lille.fr"},
        {{"mx.example.fr; dkim=pass header.d=fr"}, "dkim=pass for fr, not ac-lille.fr"},
        {{"mx.example.fr; dkim=pass"}, "dkim=pass for no domain, not ac-lille.fr"},
        {{"mx.example.fr; spf=pass smtp.mailfrom=attacker@evil-ac-lille.fr"}, "spf=pass for evil-ac-lille.fr, not ac-lille.fr"},
        {{"mx.example.fr; dmarc=pass header.from=evil.example"}, "dmarc=pass for header.from=evil.example, not ac-lille.fr"},
        {{"mx.example.fr; dmarc=pass"}, ""},  // checked below with no From
    };
    for (const auto& c : cases) {
        if (c.reason.empty()) continue;
        const auto a = check(c.headers);
        EXPECT_FALSE(a.authenticated) << (c.headers.empty() ? "(none)" : c.headers.front());
        EXPECT_EQ(a.reason, c.reason) << (c.headers.empty() ? "(none)" : c.headers.front());
    }
    EXPECT_FALSE(check({"mx.example.fr; dmarc=pass"}, "").authenticated);
}

TEST(SenderAuth, DomainAlignment) {
    EXPECT_TRUE(domains_aligned("ac-lille.fr", "AC-LILLE.FR"));
    EXPECT_TRUE(domains_aligned("mail.ac-lille.fr", "ac-lille.fr"));
    EXPECT_TRUE(domains_aligned("ac-lille.fr", "lycee.ac-lille.fr"));
    EXPECT_TRUE(domains_aligned("@ac-lille.fr", "user@ac-lille.fr"));
    EXPECT_FALSE(domains_aligned("evil-ac-lille.fr", "ac-lille.fr"));
    EXPECT_FALSE(domains_aligned("ac-lille.fr.evil.example", "ac-lille.fr"));
    EXPECT_FALSE(domains_aligned("fr", "ac-lille.fr"));
    EXPECT_FALSE(domains_aligned("", "ac-lille.fr"));
}

TEST(SenderAuth, ReadsTheRawHeadersOfAParsedMessage) {
    const std::string raw =
        "Authentication-Results: =?UTF-8?Q?mx.example.fr;_dmarc=3Dpass?=\r\n"
        "Authentication-Results: mx.example.fr;\r\n dmarc=fail\r\n header.from=ac-lille.fr\r\n"
        "From: ce.0596082r@ac-lille.fr\r\nSubject: x\r\n\r\nbody\r\n";
    const auto m = parsers::parse_mime_message(raw);
    const auto a = authenticate_sender(m, kMx);
    EXPECT_FALSE(a.authenticated);
    EXPECT_EQ(a.reason, "dmarc=fail");

    const auto forged = parsers::parse_mime_message(
        "Authentication-Results: =?UTF-8?Q?mx.example.fr;_dmarc=3Dpass?=\r\nFrom: ce.0596082r@ac-lille.fr\r\n\r\nx\r\n");
    EXPECT_FALSE(authenticate_sender(forged, kMx).authenticated);
    EXPECT_TRUE(authenticate_sender(parsers::parse_mime_message(
                                        "Authentication-Results: mx.example.fr; dmarc=pass\r\nFrom: ce.0596082r@ac-lille.fr\r\n\r\nx\r\n"),
                                    kMx)
                    .authenticated);
}

}  // namespace
}  // namespace ppo::workflow
