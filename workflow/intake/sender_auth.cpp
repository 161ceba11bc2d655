#include "workflow/intake/sender_auth.h"
#include "parsers/text/strings.h"

#include "parsers/mime/auth_results.h"

namespace ppo::workflow {

namespace {

using text::lower;

std::string trim_dots_and_spaces(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '.')) s.remove_suffix(1);
    return std::string(s);
}

// The domain of "user@domain", "@domain" or "domain", lower-cased.
std::string domain_part(std::string_view v) {
    const auto at = v.rfind('@');
    if (at != std::string_view::npos) v.remove_prefix(at + 1);
    if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
    return lower(trim_dots_and_spaces(v));
}

bool ends_with_label(const std::string& longer, const std::string& shorter) {
    return longer.size() > shorter.size() && longer.ends_with(shorter) &&
           longer[longer.size() - shorter.size() - 1] == '.';
}

}  // namespace

bool domains_aligned(std::string_view a_in, std::string_view b_in) {
    const std::string a = domain_part(a_in), b = domain_part(b_in);
    if (a.empty() || b.empty()) return false;
    // A bare top-level domain ("fr") is no one's organisational domain.
    if (a.find('.') == std::string::npos || b.find('.') == std::string::npos) return false;
    return a == b || ends_with_label(a, b) || ends_with_label(b, a);
}

SenderAuth authenticate_sender(const std::vector<std::string>& header_values, std::string_view from_address,
                               std::string_view trusted_authserv_id) {
    const std::string trusted = lower(trusted_authserv_id);
    if (trusted.empty()) return {true, "sender authentication off (no trusted_authserv_id)"};
    const std::string from_domain = domain_part(from_address);

    std::vector<parsers::AuthResult> results;
    bool seen = false;
    for (const auto& v : header_values) {
        auto parsed = parsers::parse_auth_results(v);
        if (lower(parsed.authserv_id) != trusted) continue;  // anyone can add such a header
        seen = true;
        for (auto& r : parsed.results) results.push_back(std::move(r));
    }
    if (!seen) return {false, "no Authentication-Results from " + trusted};
    if (from_domain.empty()) return {false, "no From address"};

    for (const auto& r : results)
        if (r.method == "dmarc" && r.result == "fail") return {false, "dmarc=fail"};

    std::string unaligned;
    for (const auto& r : results) {
        if (r.result != "pass") continue;
        if (r.method == "dmarc") {
            const std::string hf = r.property("header", "from");
            if (hf.empty() || domain_part(hf) == from_domain) return {true, "dmarc=pass"};
            unaligned = "dmarc=pass for header.from=" + domain_part(hf);
        } else if (r.method == "dkim") {
            std::string d = r.property("header", "d");
            if (d.empty()) d = r.property("header", "i");
            if (domains_aligned(d, from_domain)) return {true, "dkim=pass header.d=" + domain_part(d)};
            if (unaligned.empty()) unaligned = "dkim=pass for " + (d.empty() ? std::string("no domain") : domain_part(d));
        } else if (r.method == "spf") {
            const std::string mf = r.property("smtp", "mailfrom");
            if (domains_aligned(mf, from_domain)) return {true, "spf=pass smtp.mailfrom=" + domain_part(mf)};
            if (unaligned.empty()) unaligned = "spf=pass for " + (mf.empty() ? std::string("no domain") : domain_part(mf));
        }
    }

    std::string summary;
    for (const auto& r : results) {
        if (r.method != "dmarc" && r.method != "dkim" && r.method != "spf") continue;
        const std::string item = r.method + "=" + r.result;
        if (summary.find(item) != std::string::npos) continue;
        summary += (summary.empty() ? "" : ", ") + item;
    }
    if (!unaligned.empty()) return {false, unaligned + ", not " + from_domain};
    if (summary.empty()) return {false, "no DMARC, DKIM or SPF result from " + trusted};
    return {false, summary};
}

SenderAuth authenticate_sender(const parsers::MimeMessage& message, std::string_view trusted_authserv_id) {
    std::vector<std::string> values;
    for (const auto& h : message.headers)
        if (lower(h.name) == "authentication-results") values.push_back(h.raw);
    return authenticate_sender(values, message.from_address, trusted_authserv_id);
}

}  // namespace ppo::workflow
