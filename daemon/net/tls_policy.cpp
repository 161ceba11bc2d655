#include "daemon/net/tls_policy.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

namespace ppo::daemon {

bool is_loopback(const sockaddr* address) {
    if (address == nullptr) return false;
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

bool peer_is_loopback(int fd) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return false;
    return is_loopback(reinterpret_cast<const sockaddr*>(&peer));
}

Plaintext plaintext_verdict(bool peer_loopback, bool allow_plaintext, bool tls_required) {
    if (tls_required) return Plaintext::refused;
    if (allow_plaintext) return Plaintext::allowed_by_config;
    if (peer_loopback) return Plaintext::loopback;
    return Plaintext::refused;
}

bool is_ip_literal(const std::string& host) {
    in6_addr a6{};
    in_addr a4{};
    return ::inet_pton(AF_INET, host.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

std::string describe_certificate_error(const std::string& host, int error, int depth, const std::string& subject,
                                       const std::string& section) {
    const std::string key = "[" + section + "] ";
    std::string what, todo;
    switch (error) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        what = "self-signed certificate, not issued by a trusted CA";
        todo = "set " + key + "ca_file to the PEM file of the CA that issued it";
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        what = "unknown CA: issued by a CA that is not trusted here";
        todo = "set " + key + "ca_file to the PEM file of the CA that issued it (or check that the server sends its "
               "intermediate certificates)";
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        what = "expired certificate";
        todo = "renew the server's certificate (and check this machine's clock)";
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        what = "certificate not yet valid";
        todo = "check this machine's clock and the server's certificate";
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        what = "wrong host name: the certificate is not issued for " + host;
        todo = "put in " + key + "url the name the certificate is issued for, or fix the certificate";
        break;
    default:
        what = "certificate not accepted";
        todo = "check the server's certificate, or set " + key + "ca_file to the CA that issued it";
        break;
    }
    std::string text = "certificate of " + host + " refused: " + what + " (OpenSSL: " +
                       X509_verify_cert_error_string(error) + "; depth " + std::to_string(depth);
    if (!subject.empty()) text += ", subject " + subject;
    text += "); " + todo + ", or, at your own risk, " + key + "verify_certificate = false";
    return text;
}

namespace {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct StoreFree {
    void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
    void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct StackFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

X509* from_der(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    return d2i_X509(nullptr, &p, static_cast<long>(der.size()));
}

std::string subject_of(X509* cert) {
    if (cert == nullptr) return {};
    char buffer[512];
    X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof buffer);
    return buffer;
}

}  // namespace

std::string verify_chain(const std::vector<std::string>& der_chain, const std::string& host,
                         const std::string& ca_file, const std::string& section) {
    if (der_chain.empty()) return "certificate of " + host + " refused: the server sent no certificate";
    std::unique_ptr<X509, X509Free> leaf(from_der(der_chain.front()));
    if (!leaf) return "certificate of " + host + " refused: the server's certificate cannot be parsed";
    std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
    for (std::size_t i = 1; i < der_chain.size(); ++i)
        if (X509* x = from_der(der_chain[i])) sk_X509_push(untrusted.get(), x);

    std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
    if (!store) throw std::bad_alloc();
    if (!ca_file.empty()) {
        if (X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
            ERR_clear_error();
            return "certificate of " + host + " not checked: cannot read [" + section + "] ca_file " + ca_file +
                   " (expected PEM certificates)";
        }
    } else if (X509_STORE_set_default_paths(store.get()) != 1) {
        ERR_clear_error();
        return "certificate of " + host + " not checked: cannot load the system's CA certificates; set [" + section +
               "] ca_file";
    }
    ERR_clear_error();

    std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) throw std::bad_alloc();
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int host_set = is_ip_literal(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                                             : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    if (host_set != 1) return "certificate of " + host + " not checked: '" + host + "' is not a usable host name";

    if (X509_verify_cert(ctx.get()) == 1) return {};
    const int error = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* current = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    return describe_certificate_error(host, error, depth, subject_of(current ? current : leaf.get()), section);
}

}  // namespace ppo::daemon
