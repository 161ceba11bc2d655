// parse_auth_results on Authentication-Results values as real servers write
// them (Gmail, Microsoft 365, Rspamd, Zimbra/Amavis, OpenDMARC) and on the
// spellings RFC 8601 allows (comments, spaces, versions, none), plus broken ones.
#include "parsers/mime/auth_results.h"

#include <gtest/gtest.h>

#include <string>

namespace ppo::parsers {
namespace {

using namespace std::string_literals;

std::string summary(const AuthResults& a) {
    std::string out;
    for (const auto& r : a.results) out += (out.empty() ? "" : " ") + r.method + "=" + r.result;
    return out;
}

TEST(AuthResults, Gmail) {
    const auto a = parse_auth_results(
        "mx.google.com;\r\n       dkim=pass header.i=@ac-lille.fr header.s=dkim2022 header.b=Ab+/c9Z=;\r\n"
        "       spf=pass (google.com: domain of ce.0596082r@ac-lille.fr designates 192.0.2.7 as permitted sender) "
        "smtp.mailfrom=ce.0596082r@ac-lille.fr;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=ac-lille.fr");
    EXPECT_EQ(a.authserv_id, "mx.google.com");
    EXPECT_TRUE(a.complete);
    EXPECT_EQ(summary(a), "dkim=pass spf=pass dmarc=pass");
    EXPECT_EQ(a.results[0].property("header", "i"), "@ac-lille.fr");
    EXPECT_EQ(a.results[0].property("header", "b"), "Ab+/c9Z=");
    EXPECT_EQ(a.results[1].property("smtp", "mailfrom"), "ce.0596082r@ac-lille.fr");
    EXPECT_EQ(a.results[2].property("header", "from"), "ac-lille.fr");
}

TEST(AuthResults, Microsoft365WithoutAuthservIdAndWithCompauth) {
    const auto a = parse_auth_results(
        "spf=pass (sender IP is 40.107.22.74) smtp.mailfrom=ac-lille.fr; dkim=pass (signature was verified) "
        "header.d=ac-lille.fr;dmarc=pass action=none header.from=ac-lille.fr;compauth=pass reason=100");
    EXPECT_EQ(a.authserv_id, "");
    EXPECT_TRUE(a.complete);
    EXPECT_EQ(summary(a), "spf=pass dkim=pass dmarc=pass compauth=pass");
    EXPECT_EQ(a.results[2].property("", "action"), "none");
    EXPECT_EQ(a.results[3].reason, "100");
}

TEST(AuthResults, RspamdZimbraAndOpenDmarc) {
    auto a = parse_auth_results(
        "mx.ac-lille.fr;\r\n\tdkim=pass header.d=ac-lille.fr header.s=s1 header.b=\"Zm9v\";\r\n"
        "\tdmarc=pass (policy=reject) header.from=ac-lille.fr;\r\n"
        "\tspf=pass (mx.ac-lille.fr: domain of \"ce.0596082r@ac-lille.fr\" designates 192.0.2.7 as permitted sender) "
        "smtp.mailfrom=ce.0596082r@ac-lille.fr");
    EXPECT_EQ(a.authserv_id, "mx.ac-lille.fr");
    EXPECT_EQ(summary(a), "dkim=pass dmarc=pass spf=pass");
    EXPECT_EQ(a.results[0].property("header", "b"), "Zm9v");

    a = parse_auth_results("zimbra.ac-amiens.fr (amavisd-new); dkim=pass (2048-bit key)\r\n"
                           " header.d=ac-amiens.fr header.b=abcdEFGH");
    EXPECT_EQ(a.authserv_id, "zimbra.ac-amiens.fr");
    EXPECT_EQ(summary(a), "dkim=pass");
    EXPECT_EQ(a.results[0].property("header", "d"), "ac-amiens.fr");

    a = parse_auth_results("mail.example.org; dmarc=fail (p=reject dis=none) header.from=ac-lille.fr");
    EXPECT_EQ(summary(a), "dmarc=fail");
}

TEST(AuthResults, Rfc8601Spellings) {
    // Spaces around "=" and ".", comments everywhere, versions, mixed case.
    auto a = parse_auth_results(" (c) MX.Example.FR (c) 1 (c) ; (c) DMARC (c) = (c) Fail (c) header (c) . (c) from (c) = "
                                "(c) ac-lille.fr (c) ; spf / 1 = softfail reason = \"not permitted\" smtp.mailfrom = x@y.fr");
    EXPECT_EQ(a.authserv_id, "MX.Example.FR");
    EXPECT_EQ(a.version, "1");
    EXPECT_TRUE(a.complete);
    ASSERT_EQ(summary(a), "dmarc=fail spf=softfail");
    EXPECT_EQ(a.results[0].property("header", "from"), "ac-lille.fr");
    EXPECT_EQ(a.results[1].version, "1");
    EXPECT_EQ(a.results[1].reason, "not permitted");
    EXPECT_EQ(a.results[1].property("smtp", "mailfrom"), "x@y.fr");

    a = parse_auth_results("mx.example.fr; dmarc = fail");
    EXPECT_EQ(summary(a), "dmarc=fail");

    a = parse_auth_results("mx.example.fr; none");
    EXPECT_TRUE(a.none);
    EXPECT_TRUE(a.results.empty());
    a = parse_auth_results("mx.example.fr 1;none");
    EXPECT_TRUE(a.none);
    EXPECT_EQ(a.version, "1");

    a = parse_auth_results("\"mx example\"; spf=pass smtp.mailfrom=\"odd local\"@ac-lille.fr;");
    EXPECT_EQ(a.authserv_id, "mx example");
    EXPECT_EQ(a.results.at(0).property("smtp", "mailfrom"), "odd local@ac-lille.fr");
}

TEST(AuthResults, MalformedPiecesAreSkippedNotCrashedOn) {
    auto a = parse_auth_results("mx.example.fr; =pass; dkim; spf=pass smtp.mailfrom=a@b.fr; dmarc=; x/=y; dmarc=pass");
    EXPECT_FALSE(a.complete);
    EXPECT_EQ(summary(a), "spf=pass dmarc=pass");

    a = parse_auth_results("mx.example.fr dmarc=pass");  // no ";"
    EXPECT_TRUE(a.results.empty());
    EXPECT_FALSE(a.complete);

    for (const std::string& v : {""s, ";"s, ";;;"s, "("s, "(((("s, "\""s, "mx; dmarc=pass (unclosed"s, "mx; \"x"s,
                                "mx; a.b.c=d"s, "\0\r\n;="s, "mx; dkim=pass header.=x header.d"s, "=;=;=.=/"s,
                                std::string(10000, '(') , std::string(10000, ';')}) {
        (void)parse_auth_results(v);
    }
    a = parse_auth_results("mx; dmarc=pass (unclosed");
    EXPECT_EQ(summary(a), "dmarc=pass");

    std::string many = "mx";
    for (int i = 0; i < 200; ++i) many += "; spf=pass";
    a = parse_auth_results(many);
    EXPECT_EQ(a.results.size(), kMaxAuthResults);
    EXPECT_FALSE(a.complete);
}

}  // namespace
}  // namespace ppo::parsers
