// Strict mail addresses (RFC 5321 "Mailbox" / RFC 5322 addr-spec, the subset a
// directory or a configuration may hold): a dot-atom local part, '@', and a
// domain name. Pure.
//
// Refused on purpose, though RFC 5322 allows them: quoted local parts
// ("a b"@x.fr: no directory holds one, and they are where ',' ';' '<' and
// spaces hide), domain literals ([192.0.2.1]), comments, non-ASCII characters
// (no SMTPUTF8), a domain without a dot. Limits: local part 64 octets, domain
// 255 octets, each domain label 63 octets (RFC 5321 4.5.3.1).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ppo::parsers {

// Why `address` is not a strict addr-spec ("no '@'", "character ',' is not
// allowed", "control character 0x0D is not allowed", "the domain has no dot",
// ...), or nullopt when it is one.
std::optional<std::string> address_problem(std::string_view address);

inline bool is_valid_address(std::string_view address) { return !address_problem(address).has_value(); }

// The domain after the last '@', lower case ("" without one), and the local
// part before it, lower case (the whole text without one). No validation.
std::string address_domain(std::string_view address);
std::string address_local_part(std::string_view address);

}  // namespace ppo::parsers
