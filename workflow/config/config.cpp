#include "workflow/config/config.h"
#include "parsers/text/strings.h"

#include "parsers/text/error.h"
#include "parsers/text/ini.h"

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <tuple>

namespace ppo::workflow {

namespace fs = std::filesystem;

namespace {

using text::lower;
using text::trim;

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, ',')) {
        item = std::string(trim(item));
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

int parse_int(const std::string& v, long min, long max, const std::string& where, const char* what) {
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max)
        throw config_error(where + ": expected " + what + " between " + std::to_string(min) + " and " +
                           std::to_string(max) + ", got '" + v + "'");
    return static_cast<int>(n);
}

std::size_t parse_size(const std::string& v, const std::string& where) {
    // "30M", "512K", "1G" or bytes.
    std::string digits = v;
    std::size_t mult = 1;
    if (!v.empty()) {
        switch (std::toupper(static_cast<unsigned char>(v.back()))) {
            case 'K': mult = 1024; digits.pop_back(); break;
            case 'M': mult = 1024 * 1024; digits.pop_back(); break;
            case 'G': mult = 1024ul * 1024 * 1024; digits.pop_back(); break;
            default: break;
        }
    }
    char* end = nullptr;
    unsigned long long n = std::strtoull(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || n == 0)
        throw config_error(where + ": expected a positive size such as 50M, 512K or 1048576, got '" + v + "'");
    return static_cast<std::size_t>(n) * mult;
}

// A duration: seconds, or a number with a unit s, m, h, d or w ("5d", "36h").
std::int64_t parse_duration(const std::string& v, std::int64_t min, std::int64_t max, const std::string& where) {
    std::string digits = v;
    std::int64_t mult = 1;
    if (!v.empty() && std::isalpha(static_cast<unsigned char>(v.back()))) {
        switch (std::tolower(static_cast<unsigned char>(v.back()))) {
            case 's': mult = 1; break;
            case 'm': mult = 60; break;
            case 'h': mult = 3600; break;
            case 'd': mult = 86400; break;
            case 'w': mult = 7 * 86400; break;
            default: mult = 0; break;
        }
        digits.pop_back();
    }
    char* end = nullptr;
    errno = 0;
    const long long n = std::strtoll(digits.c_str(), &end, 10);
    const bool ok = mult != 0 && !digits.empty() && std::isdigit(static_cast<unsigned char>(digits.front())) &&
                    *end == '\0' && errno == 0 && n <= max && n * mult >= min && n * mult <= max;
    if (!ok)
        throw config_error(where + ": expected a duration such as 5d, 36h, 90m or a number of seconds, between " +
                           std::to_string(min) + " and " + std::to_string(max) + " seconds, got '" + v + "'");
    return n * mult;
}

bool parse_bool(const std::string& v, const std::string& where) {
    auto l = lower(v);
    if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
    if (l == "false" || l == "no" || l == "off" || l == "0") return false;
    throw config_error(where + ": expected true or false, got '" + v + "'");
}

int parse_hhmm(const std::string& v, const std::string& where) {
    int h = -1, m = -1;
    char extra = 0;
    if (v.size() < 4 || std::sscanf(v.c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 23 || m < 0 || m > 59)
        throw config_error(where + ": expected a time HH:MM (00:00 to 23:59), got '" + v + "'");
    return h * 60 + m;
}

std::string parse_date(const std::string& v, const std::string& where) {
    date::year_month_day ymd{};
    std::istringstream in(v);
    in >> date::parse("%F", ymd);
    if (v.size() != 10 || in.fail() || !ymd.ok())
        throw config_error(where + ": expected a date YYYY-MM-DD, got '" + v + "'");
    return v;
}

std::string address_of(const std::string& from) {
    auto lt = from.find('<');
    auto gt = from.find('>', lt == std::string::npos ? 0 : lt);
    std::string addr = lt != std::string::npos && gt != std::string::npos ? from.substr(lt + 1, gt - lt - 1) : from;
    return std::string(trim(addr));
}

bool plausible_address(const std::string& a) {
    auto at = a.find('@');
    return at != std::string::npos && at > 0 && at + 1 < a.size() && a.find('@', at + 1) == std::string::npos &&
           a.find_first_of(" \t<>,;\"") == std::string::npos && a.find('.', at) != std::string::npos;
}

std::string read_secret_file(const fs::path& path, const std::string& where) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(where + ": cannot read the secret file " + path.string());
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// Resolves a secret: $CREDENTIALS_DIRECTORY/<credential> wins (systemd
// LoadCredential=), then password_file, then password.
Secret resolve_secret(const std::string& credential, const std::string& file, const std::string& inline_value,
                      const std::string& where_file) {
    if (const char* dir = std::getenv("CREDENTIALS_DIRECTORY"); dir && *dir) {
        fs::path p = fs::path(dir) / credential;
        std::error_code ec;
        if (fs::exists(p, ec)) return Secret{read_secret_file(p, "credential " + credential)};
    }
    if (!file.empty()) return Secret{read_secret_file(file, where_file)};
    return Secret{inline_value};
}

// A CA file must exist and hold PEM certificates: a typo would otherwise show
// only at the first connection, as "unknown CA".
std::string check_ca_file(const std::string& path, const std::string& where) {
    if (path.empty()) return path;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(where + ": cannot read the CA file " + path);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
        throw config_error(where + ": expected PEM certificates (-----BEGIN CERTIFICATE-----) in " + path);
    return path;
}

// HOST:PORT of a listening socket ([http] listen, [web] listen); empty: off.
std::string parse_listen(const std::string& v, const std::string& where, const char* example) {
    if (v.empty()) return v;
    auto colon = v.rfind(':');
    if (colon == std::string::npos || colon == 0)
        throw config_error(where + ": expected HOST:PORT such as " + example + ", got '" + v + "'");
    parse_int(v.substr(colon + 1), 1, 65535, where, "a port");
    return v;
}

// [web] base_url: what the links in mails start with. An absolute http(s) URL
// to a host, with no user, query, fragment or character a mail client could
// cut a link at; kept without its trailing '/' so that base_url + "/lycees"
// is a link.
std::string parse_base_url(const std::string& v, const std::string& where) {
    if (v.empty()) return v;
    auto fail = [&](const std::string& why) {
        return config_error(where + ": expected an absolute http:// or https:// URL such as "
                            "https://ppo.region-academique-hauts-de-france.fr (" + why + "), got '" + v + "'");
    };
    const auto sep = v.find("://");
    if (sep == std::string::npos) throw fail("no scheme");
    const std::string scheme = lower(v.substr(0, sep));
    if (scheme != "http" && scheme != "https") throw fail("unsupported scheme '" + scheme + "'");
    for (unsigned char ch : v)
        if (ch <= 0x20 || ch == 0x7f || ch == '"' || ch == '<' || ch == '>' || ch == '\\' || ch == '`')
            throw fail("a space, control character, quote, angle bracket or backslash");
    if (v.find_first_of("?#") != std::string::npos) throw fail("a query or fragment");
    const std::string rest = v.substr(sep + 3);
    const std::string authority = rest.substr(0, rest.find('/'));
    if (authority.empty()) throw fail("no host");
    if (authority.find('@') != std::string::npos) throw fail("a user name");
    std::string out = scheme + "://" + rest;
    while (out.size() > scheme.size() + 3 && out.back() == '/') out.pop_back();
    return out;
}

// A PEM file the web server will load ([web] tls_cert, tls_key): its absence
// or a wrong file shows here, named, rather than at the first connection.
std::string check_pem_file(const std::string& path, const char* marker, const char* what, const std::string& where) {
    if (path.empty()) throw config_error(where + ": expected the path of a PEM " + what + ", got nothing");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(where + ": cannot read the " + what + " " + path);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (s.find(marker) == std::string::npos)
        throw config_error(where + ": expected a PEM " + what + " (" + marker + ") in " + path);
    return path;
}

std::string resolve_path(const std::string& p, const fs::path& base) {
    if (p.empty()) return p;
    fs::path path(p);
    return path.is_absolute() ? path.lexically_normal().string() : (base / path).lexically_normal().string();
}

int default_port(const std::string& scheme) {
    static const std::map<std::string, int> ports = {
        {"imap", 143}, {"imaps", 993}, {"smtp", 587}, {"smtps", 465}, {"postgresql", 5432}, {"postgres", 5432}};
    auto it = ports.find(scheme);
    return it == ports.end() ? 0 : it->second;
}

}  // namespace

Url parse_url(const std::string& text, const std::vector<std::string>& schemes, const std::string& where) {
    std::string expected;
    for (const auto& s : schemes) expected += (expected.empty() ? "" : " or ") + s + "://host[:port]";
    auto fail = [&](const std::string& why) {
        return config_error(where + ": " + why + " in '" + text + "' (expected " + expected + ")");
    };
    auto sep = text.find("://");
    if (sep == std::string::npos) throw fail("no scheme");
    Url url;
    url.scheme = lower(text.substr(0, sep));
    if (std::find(schemes.begin(), schemes.end(), url.scheme) == schemes.end())
        throw fail("unsupported scheme '" + url.scheme + "'");
    std::string rest = text.substr(sep + 3);
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    url.path = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (auto at = authority.rfind('@'); at != std::string::npos) {
        url.user = authority.substr(0, at);
        authority = authority.substr(at + 1);
    }
    std::string port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos) throw fail("unterminated IPv6 address");
        url.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw fail("bad host");
            port = authority.substr(close + 2);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
        url.host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    } else {
        url.host = authority;
    }
    if (url.host.empty()) throw fail("no host");
    if (url.host.find_first_of(" \t/\\?#") != std::string::npos) throw fail("bad host '" + url.host + "'");
    if (port.empty()) {
        url.port = default_port(url.scheme);
    } else {
        char* end = nullptr;
        long p = std::strtol(port.c_str(), &end, 10);
        if (*end != '\0' || p < 1 || p > 65535) throw fail("bad port '" + port + "'");
        url.port = static_cast<int>(p);
    }
    return url;
}

namespace {

std::string percent_decode(const std::string& s, const std::function<ppo::Error(const std::string&)>& fail) {
    std::string out;
    try {
        Poco::URI::decode(s, out);
    } catch (const Poco::SyntaxException&) {
        throw fail("bad %-escape");
    }
    return out;
}

}  // namespace

std::string parse_postgres_url(const std::string& text, const std::string& where, DatabaseConfig& db) {
    // libpq's URI form, the subset a deployment needs:
    //   postgresql://[user[:password]@][host][:port]/dbname[?host=/socket/folder&port=N&sslmode=M&sslrootcert=F]
    // An empty host (or host=/path) is a Unix socket folder: no TCP at all.
    auto fail = [&](const std::string& why) {
        // Never echo the URL: it may carry a password.
        return config_error(where + ": " + why +
                            " (expected postgresql://user@host[:port]/dbname or postgresql://user@/dbname?host=/run/postgresql)");
    };
    auto sep = text.find("://");
    std::string rest = text.substr(sep + 3);
    std::string query;
    if (auto q = rest.find('?'); q != std::string::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    std::string dbname = slash == std::string::npos ? "" : percent_decode(rest.substr(slash + 1), fail);
    std::string user, password;
    if (auto at = authority.rfind('@'); at != std::string::npos) {
        user = authority.substr(0, at);
        authority = authority.substr(at + 1);
        if (auto colon = user.find(':'); colon != std::string::npos) {
            password = percent_decode(user.substr(colon + 1), fail);
            user = user.substr(0, colon);
        }
        user = percent_decode(user, fail);
    }
    std::string host, port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos) throw fail("unterminated IPv6 address");
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw fail("bad host");
            port = authority.substr(close + 2);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    } else {
        host = authority;
    }
    host = percent_decode(host, fail);
    std::string sslmode, sslrootcert;
    std::size_t start = 0;
    while (start < query.size()) {
        auto amp = query.find('&', start);
        std::string pair = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        start = amp == std::string::npos ? query.size() : amp + 1;
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        if (eq == std::string::npos) throw fail("parameter '" + pair + "' has no value");
        const std::string key = pair.substr(0, eq);
        const std::string value = percent_decode(pair.substr(eq + 1), fail);
        if (key == "host") host = value;
        else if (key == "port") port = value;
        else if (key == "sslmode") sslmode = value;
        else if (key == "sslrootcert") sslrootcert = value;
        else throw fail("unknown parameter '" + key + "' (known: host, port, sslmode, sslrootcert)");
    }
    if (dbname.empty()) throw fail("no database name");
    if (host.find_first_of(" \t\\#") != std::string::npos) throw fail("bad host '" + host + "'");
    if (!host.empty() && host.find('/') != std::string::npos && host.front() != '/')
        throw fail("the socket folder '" + host + "' must be an absolute path");
    int port_number = 5432;
    if (!port.empty()) {
        char* end = nullptr;
        long p = std::strtol(port.c_str(), &end, 10);
        if (*end != '\0' || p < 1 || p > 65535) throw fail("bad port '" + port + "'");
        port_number = static_cast<int>(p);
    }
    static const std::vector<std::string> modes = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
    if (!sslmode.empty() && std::find(modes.begin(), modes.end(), sslmode) == modes.end())
        throw fail("sslmode '" + sslmode + "': expected disable, allow, prefer, require, verify-ca or verify-full");
    db.pg_host = host;
    db.pg_port = port_number;
    db.pg_dbname = dbname;
    db.pg_user = user;
    db.pg_sslmode = sslmode;
    db.pg_sslrootcert = sslrootcert;
    return password;
}

std::string Config::academie_domain(const std::string& code) {
    static const std::map<std::string, std::string> domains = {
        {"01", "ac-paris.fr"},  {"02", "ac-aix-marseille.fr"}, {"09", "ac-lille.fr"},
        {"20", "ac-amiens.fr"}, {"25", "ac-versailles.fr"},    {"24", "ac-creteil.fr"}};
    auto it = domains.find(code);
    return it == domains.end() ? std::string() : it->second;
}

std::vector<std::string> Config::academie_domains() const {
    std::vector<std::string> out;
    for (const auto& a : campaign.academies)
        if (auto d = academie_domain(a); !d.empty()) out.push_back(d);
    return out;
}

Config parse_config(const std::string& text, const std::string& source) {
    Config c;
    c.source = source;
    c.imap.url = parse_url("imaps://imap.example.fr:993", {"imaps"}, "default");
    c.smtp.url = parse_url("smtp://smtp.example.fr:587", {"smtp"}, "default");
    fs::path base = fs::path(source).parent_path();
    if (base.empty()) base = ".";

    std::string imap_password, imap_password_file, smtp_password, smtp_password_file, db_password_file;
    std::string db_url = c.database.url, archive = c.storage.archive_dir;

    using Setter = std::function<void(const std::string& value, const std::string& where)>;
    const std::map<std::string, std::map<std::string, Setter>> keys = {
        {"imap",
         {{"url", [&](auto& v, auto& w) { c.imap.url = parse_url(v, {"imap", "imaps"}, w); }},
          {"tls_required", [&](auto& v, auto& w) { c.imap.tls_required = parse_bool(v, w); }},
          {"allow_plaintext", [&](auto& v, auto& w) { c.imap.allow_plaintext = parse_bool(v, w); }},
          {"verify_certificate", [&](auto& v, auto& w) { c.imap.verify_certificate = parse_bool(v, w); }},
          {"ca_file", [&](auto& v, auto& w) { c.imap.ca_file = check_ca_file(resolve_path(v, base), w); }},
          {"user", [&](auto& v, auto&) { c.imap.user = v; }},
          {"password", [&](auto& v, auto&) { imap_password = v; }},
          {"password_file", [&](auto& v, auto&) { imap_password_file = resolve_path(v, base); }},
          {"mailbox", [&](auto& v, auto& w) {
               if (v.empty()) throw config_error(w + ": expected a mailbox name, got nothing");
               c.imap.mailbox = v; }},
          {"processed_folder", [&](auto& v, auto&) { c.imap.processed_folder = v; }},
          {"triage_folder", [&](auto& v, auto&) { c.imap.triage_folder = v; }},
          {"ignored_folder", [&](auto& v, auto&) { c.imap.ignored_folder = v; }},
          {"poll_interval", [&](auto& v, auto& w) { c.imap.poll_interval = parse_int(v, 1, 86400, w, "seconds"); }},
          {"timeout", [&](auto& v, auto& w) { c.imap.timeout = parse_int(v, 1, 3600, w, "seconds"); }}}},
        {"smtp",
         {{"url", [&](auto& v, auto& w) { c.smtp.url = parse_url(v, {"smtp", "smtps"}, w); }},
          {"tls_required", [&](auto& v, auto& w) { c.smtp.tls_required = parse_bool(v, w); }},
          {"allow_plaintext", [&](auto& v, auto& w) { c.smtp.allow_plaintext = parse_bool(v, w); }},
          {"verify_certificate", [&](auto& v, auto& w) { c.smtp.verify_certificate = parse_bool(v, w); }},
          {"ca_file", [&](auto& v, auto& w) { c.smtp.ca_file = check_ca_file(resolve_path(v, base), w); }},
          {"user", [&](auto& v, auto&) { c.smtp.user = v; }},
          {"password", [&](auto& v, auto&) { smtp_password = v; }},
          {"password_file", [&](auto& v, auto&) { smtp_password_file = resolve_path(v, base); }},
          {"from", [&](auto& v, auto& w) {
               if (!plausible_address(address_of(v)))
                   throw config_error(w + ": expected 'Name <address@domain>' or an address, got '" + v + "'");
               c.smtp.from = v; }},
          {"timeout", [&](auto& v, auto& w) { c.smtp.timeout = parse_int(v, 1, 3600, w, "seconds"); }},
          {"retry_delay", [&](auto& v, auto& w) { c.smtp.retry_delay = parse_int(v, 1, 3600, w, "seconds"); }},
          {"max_age", [&](auto& v, auto& w) { c.smtp.max_age = parse_duration(v, 60, 365 * 86400, w); }},
          {"connections", [&](auto& v, auto& w) { c.smtp.connections = parse_int(v, 1, 8, w, "connections"); }},
          {"max_per_recipient_per_hour",
           [&](auto& v, auto& w) { c.smtp.max_per_recipient_per_hour = parse_int(v, 1, 100000, w, "a count"); }}}},
        {"database",
         {{"url", [&](auto& v, auto&) { db_url = v; }},
          {"password_file", [&](auto& v, auto&) { db_password_file = resolve_path(v, base); }},
          {"busy_timeout", [&](auto& v, auto& w) { c.database.busy_timeout_ms = parse_int(v, 0, 600000, w, "milliseconds"); }}}},
        {"cluster",
         {{"lease", [&](auto& v, auto& w) { c.cluster.lease = parse_int(v, 3, 3600, w, "seconds"); }}}},
        {"storage", {{"archive_dir", [&](auto& v, auto& w) {
                          if (v.empty()) throw config_error(w + ": expected a folder, got nothing");
                          archive = v; }}}},
        {"campaign",
         {{"name", [&](auto& v, auto& w) {
               if (v.empty()) throw config_error(w + ": expected a campaign name, got nothing");
               c.campaign.name = v; }},
          {"deadline", [&](auto& v, auto& w) { c.campaign.deadline = parse_date(v, w); }},
          {"timezone", [&](auto& v, auto& w) {
               try { (void)date::locate_zone(v); } catch (const std::exception&) {
                   throw config_error(w + ": expected an IANA time zone such as Europe/Paris, got '" + v + "'");
               }
               c.campaign.timezone = v; }},
          {"academies", [&](auto& v, auto& w) {
               auto list = split_list(v);
               if (list.empty()) throw config_error(w + ": expected académie codes such as 09,20, got nothing");
               for (auto& a : list)
                   if (a.size() != 2 || !std::isdigit(static_cast<unsigned char>(a[0])) || !std::isdigit(static_cast<unsigned char>(a[1])))
                       throw config_error(w + ": expected two-digit académie codes such as 09,20, got '" + a + "'");
               c.campaign.academies = list; }},
          {"reminders", [&](auto& v, auto& w) {
               std::vector<int> offsets;
               for (auto& item : split_list(v)) {
                   std::string s = item.front() == '+' ? item.substr(1) : item;
                   offsets.push_back(parse_int(s, -365, 365, w, "a reminder offset in days (e.g. -21 or +7)"));
               }
               std::sort(offsets.begin(), offsets.end());
               if (std::adjacent_find(offsets.begin(), offsets.end()) != offsets.end())
                   throw config_error(w + ": a reminder offset is listed twice in '" + v + "'");
               if (std::find(offsets.begin(), offsets.end(), 0) != offsets.end())
                   throw config_error(w + ": offset 0 is the deadline itself; use -1 or +1, got '" + v + "'");
               c.campaign.reminders = offsets; }},
          {"reminder_time", [&](auto& v, auto& w) { c.campaign.reminder_minutes = parse_hhmm(v, w); }}}},
        {"digest",
         {{"to", [&](auto& v, auto& w) {
               auto list = split_list(v);
               for (auto& a : list)
                   if (!plausible_address(a)) throw config_error(w + ": expected mail addresses separated by commas, got '" + a + "'");
               c.digest.to = list;
               c.digest.enabled = !list.empty(); }},
          {"time", [&](auto& v, auto& w) { c.digest.minutes = parse_hhmm(v, w); }},
          {"days", [&](auto& v, auto& w) {
               static const std::map<std::string, int> names = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                                {"thu", 4}, {"fri", 5}, {"sat", 6}};
               std::set<int> days;
               for (auto& d : split_list(v)) {
                   auto it = names.find(lower(d));
                   if (it == names.end()) throw config_error(w + ": expected days such as mon,tue,wed,thu,fri, got '" + d + "'");
                   days.insert(it->second);
               }
               c.digest.days = days; }}}},
        {"intake",
         {{"max_message_size", [&](auto& v, auto& w) { c.intake.max_message_size = parse_size(v, w); }},
          {"max_parts", [&](auto& v, auto& w) { c.intake.max_parts = static_cast<std::size_t>(parse_int(v, 1, 1000000, w, "a count")); }},
          {"max_depth", [&](auto& v, auto& w) { c.intake.max_depth = static_cast<std::size_t>(parse_int(v, 1, 1000, w, "a depth")); }},
          {"batch_size", [&](auto& v, auto& w) { c.intake.batch_bytes = parse_size(v, w); }},
          {"allowed_domains", [&](auto& v, auto&) {
               c.intake.allowed_domains.clear();
               for (auto& d : split_list(v)) c.intake.allowed_domains.push_back(lower(d)); }},
          {"trusted_authserv_id", [&](auto& v, auto&) { c.intake.trusted_authserv_id = lower(v); }},
          {"message_id_domain", [&](auto& v, auto&) { c.intake.message_id_domain = lower(v); }},
          {"acknowledge", [&](auto& v, auto& w) { c.intake.acknowledge = parse_bool(v, w); }}}},
        {"documents",
         {{"read", [&](auto& v, auto& w) { c.documents.read = parse_bool(v, w); }},
          {"max_text_bytes", [&](auto& v, auto& w) {
               c.documents.max_text_bytes = parse_size(v, w);
               if (c.documents.max_text_bytes < 1024 || c.documents.max_text_bytes > 16u * 1024 * 1024)
                   throw config_error(w + ": expected a size between 1K and 16M, got '" + v + "'"); }},
          {"timeout", [&](auto& v, auto& w) { c.documents.timeout = parse_int(v, 1, 600, w, "a number of seconds (1 to 600)"); }},
          {"max_memory", [&](auto& v, auto& w) {
               c.documents.max_memory = parse_size(v, w);
               if (c.documents.max_memory < 64u * 1024 * 1024)
                   throw config_error(w + ": expected at least 64M (a PDF reader needs room), got '" + v + "'"); }},
          {"max_pages", [&](auto& v, auto& w) { c.documents.max_pages = parse_int(v, 1, 10000, w, "a number of pages"); }}}},
        {"workflow", {{"forward", [&](auto& v, auto& w) { c.workflow.forward = parse_bool(v, w); }}}},
        {"log", {{"level", [&](auto& v, auto& w) {
                      static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
                      if (!levels.count(lower(v))) throw config_error(w + ": expected trace, debug, info, warn or error, got '" + v + "'");
                      c.log.level = lower(v); }}}},
        {"http", {{"listen", [&](auto& v, auto& w) { c.http.listen = parse_listen(v, w, "127.0.0.1:9187"); }}}},
        {"web",
         {{"listen", [&](auto& v, auto& w) { c.web.listen = parse_listen(v, w, "127.0.0.1:8443"); }},
          {"users_file", [&](auto& v, auto& w) {
               if (v.empty()) throw config_error(w + ": expected a file, got nothing");
               c.web.users_file = resolve_path(v, base); }},
          {"base_url", [&](auto& v, auto& w) { c.web.base_url = parse_base_url(v, w); }},
          {"session_timeout", [&](auto& v, auto& w) {
               c.web.session_timeout = parse_int(v, 60, 7 * 86400, w, "seconds"); }},
          {"tls_cert", [&](auto& v, auto& w) {
               c.web.tls_cert = check_pem_file(resolve_path(v, base), "-----BEGIN CERTIFICATE-----", "certificate", w); }},
          {"tls_key", [&](auto& v, auto& w) {
               c.web.tls_key = check_pem_file(resolve_path(v, base), "PRIVATE KEY-----", "private key", w); }}}},
    };

    auto ini = parsers::parse_ini(text, source);
    for (const auto& e : ini.entries) {
        std::string where = source + ":" + std::to_string(e.line) + ": [" + e.section + "] " + e.key;
        auto sec = keys.find(e.section);
        if (sec == keys.end())
            throw config_error(source + ":" + std::to_string(e.line) + ": unknown section [" + e.section + "]");
        auto key = sec->second.find(e.key);
        if (key == sec->second.end()) {
            std::string known;
            for (auto& [k, _] : sec->second) known += (known.empty() ? "" : ", ") + k;
            throw config_error(where + ": unknown key (known keys of [" + e.section + "]: " + known + ")");
        }
        key->second(e.value, where);
    }

    for (const auto& [section, tls_required, allow_plaintext] :
         {std::tuple{"imap", c.imap.tls_required, c.imap.allow_plaintext},
          std::tuple{"smtp", c.smtp.tls_required, c.smtp.allow_plaintext}}) {
        if (tls_required && allow_plaintext)
            throw config_error(source + ": [" + section + "] tls_required = true and allow_plaintext = true contradict "
                               "each other; keep one");
    }

    if (c.web.tls_cert.empty() != c.web.tls_key.empty())
        throw config_error(source + ": [web] " + (c.web.tls_cert.empty() ? "tls_key is set without tls_cert"
                                                                            : "tls_cert is set without tls_key") +
                           ": set both (HTTPS) or neither (HTTP, e.g. behind a reverse proxy)");
    if (!c.web.listen.empty() && c.web.listen == c.http.listen)
        throw config_error(source + ": [web] listen = " + c.web.listen +
                           ": the address of [http] listen (/healthz, /metrics); give each its own port");

    c.imap.password = resolve_secret("imap-password", imap_password_file, imap_password, source + ": [imap] password_file");
    c.smtp.password = resolve_secret("smtp-password", smtp_password_file, smtp_password, source + ": [smtp] password_file");
    c.smtp.from_address = address_of(c.smtp.from);
    if (c.intake.message_id_domain.empty()) {
        auto at = c.smtp.from_address.rfind('@');
        c.intake.message_id_domain = lower(c.smtp.from_address.substr(at + 1));
    }
    c.storage.archive_dir = resolve_path(archive, base);

    c.database.url = db_url;
    if (db_url.rfind("sqlite://", 0) == 0) {
        c.database.backend = "sqlite";
        std::string path = db_url.substr(9);
        if (path.empty() || path == "/") throw config_error(source + ": [database] url: expected sqlite:///path/to/file.db, got '" + db_url + "'");
        c.database.connection = path == ":memory:" ? path : resolve_path(path, base);
    } else if (db_url.rfind("postgresql://", 0) == 0 || db_url.rfind("postgres://", 0) == 0) {
        c.database.backend = "postgresql";
        std::string url_password = parse_postgres_url(db_url, source + ": [database] url", c.database);
        Secret pw = resolve_secret("database-password", db_password_file, url_password,
                                   source + ": [database] password_file");
        // The file's first line: a trailing comment or a second line (an
        // editor's habit) is not part of the password.
        if (auto nl = pw.value.find_first_of("\r\n"); nl != std::string::npos) pw.value.resize(nl);
        c.database.pg_password = pw;
        c.database.password_file = db_password_file;
    } else {
        throw config_error(source + ": [database] url: expected sqlite:///path/to/file.db or postgresql://user@host/db, got '" + db_url + "'");
    }
    return c;
}

std::vector<std::string> tls_warnings(const Config& c) {
    std::vector<std::string> out;
    auto add = [&](const char* section, const Url& url, bool verify, bool plaintext) {
        const std::string where = std::string("[") + section + "] ";
        if (!verify)
            out.push_back(where + "verify_certificate = false: the certificate of " + url.host +
                          " is not checked; anyone on the path can pose as the server and read the password");
        if (plaintext)
            out.push_back(where + "allow_plaintext = true: when " + url.host +
                          " offers no STARTTLS, the password and the mail go over the network in clear");
    };
    add("imap", c.imap.url, c.imap.verify_certificate, c.imap.allow_plaintext);
    add("smtp", c.smtp.url, c.smtp.verify_certificate, c.smtp.allow_plaintext);
    return out;
}

Config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(path + ": cannot read the configuration file");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_config(text, path);
}

}  // namespace ppo::workflow
