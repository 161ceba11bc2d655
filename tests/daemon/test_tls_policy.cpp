// The TLS policy's pure decisions (daemon/net/tls_policy.h); the adapters that
// apply them are tested against loopback servers in tests/integration/test_tls.cpp.
#include "daemon/net/tls_policy.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/x509_vfy.h>

using namespace ppo::daemon;

namespace {

bool loopback(const std::string& address) {
    sockaddr_in in{};
    sockaddr_in6 in6{};
    if (::inet_pton(AF_INET, address.c_str(), &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        return is_loopback(reinterpret_cast<const sockaddr*>(&in));
    }
    EXPECT_EQ(::inet_pton(AF_INET6, address.c_str(), &in6.sin6_addr), 1) << address;
    in6.sin6_family = AF_INET6;
    return is_loopback(reinterpret_cast<const sockaddr*>(&in6));
}

}  // namespace

TEST(TlsPolicy, LoopbackIsDecidedOnTheAddress) {
    EXPECT_TRUE(loopback("127.0.0.1"));
    EXPECT_TRUE(loopback("127.45.6.7"));
    EXPECT_TRUE(loopback("::1"));
    EXPECT_TRUE(loopback("::ffff:127.0.0.1"));
    EXPECT_FALSE(loopback("128.0.0.1"));
    EXPECT_FALSE(loopback("10.0.0.1"));
    EXPECT_FALSE(loopback("0.0.0.0"));
    EXPECT_FALSE(loopback("::"));
    EXPECT_FALSE(loopback("::ffff:10.0.0.1"));
    EXPECT_FALSE(loopback("2001:db8::1"));
    EXPECT_FALSE(is_loopback(nullptr));
    EXPECT_FALSE(peer_is_loopback(-1));
}

TEST(TlsPolicy, PlaintextOnlyToLoopbackOrWhenAllowed) {
    // peer_loopback, allow_plaintext, tls_required
    EXPECT_EQ(plaintext_verdict(false, false, false), Plaintext::refused);
    EXPECT_EQ(plaintext_verdict(true, false, false), Plaintext::loopback);
    EXPECT_EQ(plaintext_verdict(false, true, false), Plaintext::allowed_by_config);
    EXPECT_EQ(plaintext_verdict(true, true, false), Plaintext::allowed_by_config);
    EXPECT_EQ(plaintext_verdict(true, false, true), Plaintext::refused);   // tls_required: no exemption
    EXPECT_EQ(plaintext_verdict(false, false, true), Plaintext::refused);
}

TEST(TlsPolicy, RefusedCertificatesSayWhyAndWhichKey) {
    auto self = describe_certificate_error("imap.example.fr", X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0, "/CN=x", "imap");
    EXPECT_NE(self.find("imap.example.fr"), std::string::npos) << self;
    EXPECT_NE(self.find("self-signed"), std::string::npos) << self;
    EXPECT_NE(self.find("[imap] ca_file"), std::string::npos) << self;
    EXPECT_NE(self.find("[imap] verify_certificate = false"), std::string::npos) << self;
    auto name = describe_certificate_error("smtp.example.fr", X509_V_ERR_HOSTNAME_MISMATCH, 0, "", "smtp");
    EXPECT_NE(name.find("wrong host name"), std::string::npos) << name;
    EXPECT_NE(name.find("[smtp] url"), std::string::npos) << name;
    auto old = describe_certificate_error("smtp.example.fr", X509_V_ERR_CERT_HAS_EXPIRED, 0, "", "smtp");
    EXPECT_NE(old.find("expired"), std::string::npos) << old;
    auto ca = describe_certificate_error("h", X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1, "", "smtp");
    EXPECT_NE(ca.find("unknown CA"), std::string::npos) << ca;
    EXPECT_NE(ca.find("depth 1"), std::string::npos) << ca;
}

TEST(TlsPolicy, NoCertificateIsRefused) {
    EXPECT_NE(verify_chain({}, "h", "", "imap"), "");
    EXPECT_NE(verify_chain({"not DER"}, "h", "", "imap"), "");
}

TEST(TlsPolicy, IpLiterals) {
    EXPECT_TRUE(is_ip_literal("127.0.0.1"));
    EXPECT_TRUE(is_ip_literal("::1"));
    EXPECT_FALSE(is_ip_literal("localhost"));
    EXPECT_FALSE(is_ip_literal("imap.example.fr"));
}
