#include "parsers/mime/download_links.h"

#include <array>
#include <cstddef>
#include <string>
#include <unordered_set>

namespace ppo::parsers {

namespace {

char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool istarts_with_at(std::string_view s, std::size_t at, std::string_view prefix) {
    if (s.size() - at < prefix.size()) return false;
    for (std::size_t k = 0; k < prefix.size(); ++k)
        if (lower_ascii(s[at + k]) != prefix[k]) return false;
    return true;
}

bool is_alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Length of the UTF-8 space or quotation mark at s[i] that ends a URL in
// running French text (no-break spaces, « », “ ”, ‘ ’, zero-width space), or 0.
std::size_t unicode_stop(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    if (s.size() - i >= 2 && b(0) == 0xC2 && (b(1) == 0xA0 || b(1) == 0xAB || b(1) == 0xBB)) return 2;
    if (s.size() - i >= 3 && b(0) == 0xE2 && b(1) == 0x80 &&
        (b(2) == 0x98 || b(2) == 0x99 || b(2) == 0x9C || b(2) == 0x9D || b(2) == 0x8B || b(2) == 0xAF ||
         b(2) == 0xA8 || b(2) == 0xA9))
        return 3;
    return 0;
}

// Where a URL starting at `start` ends: at white space, a control character,
// < > " (the delimiters RFC 3986 appendix C suggests) or the Unicode stops.
std::size_t url_end(std::string_view s, std::size_t start) {
    std::size_t i = start;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == '"' || c == '`') break;
        if (c >= 0x80 && unicode_stop(s, i) != 0) break;
        ++i;
    }
    return i;
}

// Drops what mail clients leave out of a link at its end: sentence
// punctuation, quotes, and a closing bracket that has no opening one inside.
std::string_view trim_trailing(std::string_view url) {
    // Brackets counted once: a URL ending in a million ')' stays linear.
    std::size_t parens = 0, closing_parens = 0, brackets = 0, closing_brackets = 0;
    for (char d : url) {
        if (d == '(') ++parens;
        else if (d == ')') ++closing_parens;
        else if (d == '[') ++brackets;
        else if (d == ']') ++closing_brackets;
    }
    while (!url.empty()) {
        const char c = url.back();
        if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\'' || c == '"' ||
            c == '>') {
            url.remove_suffix(1);
        } else if (c == ')' && closing_parens > parens) {
            url.remove_suffix(1);
            --closing_parens;
        } else if (c == ']' && closing_brackets > brackets) {
            url.remove_suffix(1);
            --closing_brackets;
        } else {
            break;
        }
    }
    return url;
}

struct Parsed {
    std::string host;       // lower case, percent-decoded, without a final dot; empty if unusable
    std::string_view path;  // from the first '/' after the authority (may be empty)
};

// The host a browser would connect to: the authority ends at / \ ? # (the
// WHATWG parser treats '\' as '/' for http), userinfo is what precedes the
// last '@', the port follows the last ':'.
Parsed parse_url(std::string_view url, std::size_t scheme_len) {
    Parsed p;
    const std::string_view rest = url.substr(scheme_len);
    const std::size_t auth_end = rest.find_first_of("/\\?#");
    const std::string_view authority = rest.substr(0, auth_end);
    if (auth_end != std::string_view::npos) p.path = rest.substr(auth_end);
    std::string_view host = authority;
    if (const std::size_t at = host.rfind('@'); at != std::string_view::npos) host = host.substr(at + 1);
    if (!host.empty() && host.front() == '[') return p;  // an IPv6 literal is no sharing service
    if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
    std::string out;
    out.reserve(host.size());
    for (std::size_t i = 0; i < host.size(); ++i) {
        char c = host[i];
        if (c == '%' && i + 2 < host.size() && hex_value(host[i + 1]) >= 0 && hex_value(host[i + 2]) >= 0) {
            c = static_cast<char>(hex_value(host[i + 1]) * 16 + hex_value(host[i + 2]));
            i += 2;
        }
        const auto u = static_cast<unsigned char>(c);
        // Anything but a name's letters (ASCII or UTF-8 of an IDN), digits, '-' and '.' makes no host we match.
        if (!(is_alnum(c) || c == '-' || c == '.' || c == '_' || u >= 0x80)) return p;
        out.push_back(lower_ascii(c));
    }
    if (!out.empty() && out.back() == '.') out.pop_back();
    p.host = std::move(out);
    return p;
}

// host is `domain` or one of its subdomains (a whole label before it).
bool host_is(std::string_view host, std::string_view domain) {
    if (host.size() == domain.size()) return host == domain;
    return host.size() > domain.size() && host.substr(host.size() - domain.size()) == domain &&
           host[host.size() - domain.size() - 1] == '.';
}

// A Nextcloud/ownCloud public share: /s/<token> or /index.php/s/<token>, the
// token letters and digits (Nextcloud makes 15), then the end, '/', '?' or '#'.
bool is_share_path(std::string_view path) {
    std::string_view token;
    if (path.substr(0, 3) == "/s/") token = path.substr(3);
    else if (path.substr(0, 13) == "/index.php/s/") token = path.substr(13);
    else return false;
    std::size_t n = 0;
    while (n < token.size() && is_alnum(token[n])) ++n;
    if (n < 8) return false;
    return n == token.size() || token[n] == '/' || token[n] == '?' || token[n] == '#';
}

struct Service {
    std::string_view domain;
    std::string_view name;
};

constexpr std::array<Service, 18> kServices{{
    {"filesender.renater.fr", "FileSender (RENATER)"},
    {"francetransfert.numerique.gouv.fr", "France Transfert"},
    {"francetransfert.culture.gouv.fr", "France Transfert"},
    {"wetransfer.com", "WeTransfer"},
    {"we.tl", "WeTransfer"},
    {"drive.google.com", "Google Drive"},
    {"docs.google.com", "Google Drive"},
    {"1drv.ms", "OneDrive"},
    {"onedrive.live.com", "OneDrive"},
    {"sharepoint.com", "OneDrive (SharePoint)"},
    {"dropbox.com", "Dropbox"},
    {"dl.dropboxusercontent.com", "Dropbox"},
    {"swisstransfer.com", "SwissTransfer"},
    {"transfernow.net", "TransferNow"},
    {"fromsmash.com", "Smash"},
    {"grosfichiers.com", "GrosFichiers"},
    {"mega.nz", "MEGA"},
    {"mega.co.nz", "MEGA"},
}};

constexpr std::string_view kEducation = "apps.education.fr";

// The service a link goes to, or empty.
std::string_view service_of(const Parsed& p) {
    const std::string_view host = p.host;
    if (host.empty()) return {};
    if (host_is(host, kEducation) && host.size() > kEducation.size()) {
        // nuage01.apps.education.fr...: the ministry's Nextcloud; other
        // apps.education.fr hosts only for a share path.
        if (host.substr(0, 5) == "nuage" || is_share_path(p.path)) return "Nuage (apps.education.fr)";
    }
    for (const Service& s : kServices)
        if (host_is(host, s.domain)) return s.name;
    if (is_share_path(p.path)) return "Nextcloud";
    return {};
}

}  // namespace

std::vector<DownloadLink> find_download_links(std::string_view text) {
    std::vector<DownloadLink> links;
    std::unordered_set<std::string> seen;
    std::size_t i = 0;
    while (i < text.size()) {
        // Cheap skip to the next 'h' or 'H'; every byte is looked at a bounded number of times.
        if (text[i] != 'h' && text[i] != 'H') {
            ++i;
            continue;
        }
        std::size_t scheme_len = 0;
        if (istarts_with_at(text, i, "https://")) scheme_len = 8;
        else if (istarts_with_at(text, i, "http://")) scheme_len = 7;
        if (scheme_len == 0) {
            ++i;
            continue;
        }
        const std::size_t end = url_end(text, i + scheme_len);
        const std::string_view url = trim_trailing(text.substr(i, end - i));
        i = end;
        if (url.size() <= scheme_len) continue;
        const Parsed p = parse_url(url, scheme_len);
        const std::string_view service = service_of(p);
        if (service.empty()) continue;
        std::string u(url);
        if (!seen.insert(u).second) continue;
        links.push_back(DownloadLink{std::move(u), p.host, std::string(service)});
    }
    return links;
}

}  // namespace ppo::parsers
