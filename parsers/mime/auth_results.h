// Authentication-Results header values (RFC 8601), read the way the RFC's
// grammar allows them to be written: comments and folding white space anywhere,
// spaces around "=" and ".", an optional version after the authserv-id and
// after a method, "none", quoted values. Real servers stray from it and are
// read all the same: Microsoft 365 leaves the authserv-id out ("spf=pass ...;
// dkim=pass ...") and writes properties without a type ("action=none").
//
// Pure, never throws on malformed input: a result that cannot be read is left
// out (and `complete` is false), the rest is kept. Names (methods, results,
// property types and names) are lower-cased; values are kept as written,
// without quotes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

struct AuthProperty {
    std::string ptype;     // "header", "smtp", "policy", "body"; "" for a bare "name=value" (Microsoft's "action")
    std::string property;  // "d", "i", "from", "mailfrom", "action"
    std::string value;     // "example.com", "@example.com", "user@example.com"
};

struct AuthResult {
    std::string method;    // "dmarc", "dkim", "spf", "arc", "compauth", ...
    std::string version;   // method version, "" when not written
    std::string result;    // "pass", "fail", "none", "temperror", ...
    std::string reason;    // reason=..., "" when not written
    std::vector<AuthProperty> properties;

    // Value of the first property `ptype`.`property` (names in lower case), "" if none.
    std::string property(std::string_view ptype, std::string_view property) const;
};

struct AuthResults {
    std::string authserv_id;  // as written (compare case-insensitively); "" when missing
    std::string version;      // "" when not written
    bool none = false;        // "authserv-id; none": no authentication was done
    std::vector<AuthResult> results;
    bool complete = true;     // false when something could not be read and was skipped
};

// Most results kept from one header value.
inline constexpr std::size_t kMaxAuthResults = 64;

AuthResults parse_auth_results(std::string_view value);

}  // namespace ppo::parsers
