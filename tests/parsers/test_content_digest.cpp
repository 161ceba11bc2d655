// The content digest: the same message delivered again (other trace headers,
// other line ends) gives one digest; different messages sharing a Message-ID
// give two.
#include "parsers/mime/content_digest.h"

#include <gtest/gtest.h>
#include <cstdio>
#include <string>

using ppo::parsers::content_digest;

namespace {

const std::string kMail =
    "From: ce.0596082r@ac-lille.fr\r\nTo: ppo@region-academique-hauts-de-france.fr\r\nSubject: PPO\r\n"
    "Date: Tue, 1 Mar 2022 10:02:11 +0100\r\nMessage-ID: <fixed@copier>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour,\r\nvoici le PPO.\r\n";

}  // namespace

TEST(ContentDigest, IsSha256Hex) {
    const auto d = content_digest(kMail);
    EXPECT_EQ(d.size(), 64u);
    EXPECT_EQ(d.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(content_digest(kMail), d);
}

TEST(ContentDigest, TraceHeadersAndLineEndsDoNotCount) {
    const auto d = content_digest(kMail);
    EXPECT_EQ(content_digest("Return-Path: <x@y>\r\nReceived: from a by b; Tue, 1 Mar 2022 10:02:12 +0100\r\n"
                             "Delivered-To: ppo@region-academique-hauts-de-france.fr\r\n" + kMail),
              d);
    std::string lf = kMail;
    for (std::size_t p; (p = lf.find("\r\n")) != std::string::npos;) lf.erase(p, 1);
    EXPECT_EQ(content_digest(lf), d);
    // Folding is not content either.
    std::string folded = kMail;
    folded.replace(folded.find("Subject: PPO"), 12, "Subject:\r\n PPO");
    EXPECT_EQ(content_digest(folded), d);
}

TEST(ContentDigest, WhatTheAuthorWroteCounts) {
    const auto d = content_digest(kMail);
    std::string other_body = kMail;
    other_body.replace(other_body.find("voici"), 5, "VOICI");
    EXPECT_NE(content_digest(other_body), d);
    std::string other_date = kMail;
    other_date.replace(other_date.find("10:02:11"), 8, "10:02:12");
    EXPECT_NE(content_digest(other_date), d);
    std::string other_from = kMail;
    other_from.replace(other_from.find("0596082r"), 8, "0597091m");
    EXPECT_NE(content_digest(other_from), d);
    // One more blank line at the end is another body.
    EXPECT_NE(content_digest(kMail + "\r\n"), d);
}

TEST(ContentDigest, OddInputNeverThrows) {
    EXPECT_EQ(content_digest("").size(), 64u);
    EXPECT_EQ(content_digest("no header at all\r\n").size(), 64u);
    EXPECT_EQ(content_digest(std::string("A: \0\r\r\n\r\n", 10)).size(), 64u);
    EXPECT_NE(content_digest("no header at all\r\n"), content_digest("no header at all, really\r\n"));
}

// The digests already stored must stay valid: these two values come from the
// first implementation (Poco's SHA2Engine fed a line at a time) and from an
// independent Python computation of the documented algorithm; the second body
// (219 KB) crosses the 64 KiB buffer of the OpenSSL one several times.
TEST(ContentDigest, KnownValuesStayTheSame) {
    EXPECT_EQ(content_digest(kMail), "f73360556bf3b5871891f31e1eb9552f0f1a65b39b61f520a4be6c7dd6dc8974");
    std::string mail = kMail.substr(0, kMail.find("\r\n\r\n") + 4);
    char line[32];
    for (int i = 0; i < 3000; ++i) {
        std::snprintf(line, sizeof line, "line %06d ", i);
        mail += line;
        mail += std::string(60, 'x');
        mail += "\r\n";
    }
    EXPECT_EQ(content_digest(mail), "7473038780ec5b44662bbb22b9f932b990f1e14ea26fe28cc9a5a95580e4a8fc");
}
