#include "parsers/mime/address.h"
#include "parsers/text/strings.h"

#include <cstdio>

namespace ppo::parsers {

namespace {

constexpr std::size_t kMaxLocal = 64;
constexpr std::size_t kMaxDomain = 255;
constexpr std::size_t kMaxLabel = 63;

bool is_alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// RFC 5322 atext.
bool is_atext(unsigned char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string describe(unsigned char c) {
    char buf[48];
    if (c < 0x20 || c == 0x7f) std::snprintf(buf, sizeof buf, "control character 0x%02X", c);
    else if (c == ' ') std::snprintf(buf, sizeof buf, "a space");
    else if (c >= 0x80) std::snprintf(buf, sizeof buf, "non-ASCII byte 0x%02X", c);
    else std::snprintf(buf, sizeof buf, "character '%c'", c);
    return buf;
}

}  // namespace

std::optional<std::string> address_problem(std::string_view a) {
    if (a.empty()) return "empty address";
    // Characters first: the reason an administrator needs is "there is a
    // comma / a line break", before any finer point of the grammar.
    for (unsigned char c : a) {
        if (c < 0x20 || c == 0x7f || c == ' ' || c >= 0x80) return describe(c) + " is not allowed";
        if (std::string_view("<>,;:()[]\\\"").find(static_cast<char>(c)) != std::string_view::npos)
            return describe(c) + " is not allowed";
    }
    const auto at = a.find('@');
    if (at == std::string_view::npos) return std::string("no '@'");
    if (a.find('@', at + 1) != std::string_view::npos) return std::string("more than one '@'");
    const std::string_view local = a.substr(0, at);
    const std::string_view domain = a.substr(at + 1);
    if (local.empty()) return std::string("nothing before the '@'");
    if (local.size() > kMaxLocal) return "the part before the '@' is longer than " + std::to_string(kMaxLocal) + " characters";
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return std::string("the part before the '@' has a leading, trailing or double '.'");
    for (unsigned char c : local)
        if (c != '.' && !is_atext(c)) return describe(c) + " is not allowed before the '@'";
    if (domain.empty()) return std::string("nothing after the '@'");
    if (domain.size() > kMaxDomain) return "the domain is longer than " + std::to_string(kMaxDomain) + " characters";
    if (domain.find('.') == std::string_view::npos) return std::string("the domain has no dot");
    std::size_t start = 0;
    while (start <= domain.size()) {
        auto dot = domain.find('.', start);
        if (dot == std::string_view::npos) dot = domain.size();
        const std::string_view label = domain.substr(start, dot - start);
        if (label.empty()) return std::string("the domain has an empty label (leading, trailing or double '.')");
        if (label.size() > kMaxLabel) return "a domain label is longer than " + std::to_string(kMaxLabel) + " characters";
        if (label.front() == '-' || label.back() == '-') return "the domain label '" + std::string(label) + "' starts or ends with '-'";
        for (unsigned char c : label)
            if (!is_alnum(c) && c != '-') return describe(c) + " is not allowed in the domain";
        start = dot + 1;
    }
    return std::nullopt;
}

std::string address_domain(std::string_view address) {
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : text::lower(address.substr(at + 1));
}

std::string address_local_part(std::string_view address) {
    const auto at = address.rfind('@');
    return text::lower(at == std::string_view::npos ? address : address.substr(0, at));
}

}  // namespace ppo::parsers
