#include "parsers/mime/auth_results.h"
#include "parsers/text/strings.h"


namespace ppo::parsers {

namespace {

using text::lower;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 2045 token character: printable ASCII but tspecials.
bool is_token_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127) return false;
    switch (c) {
        case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':': case '\\': case '"':
        case '/': case '[': case ']': case '?': case '=':
            return false;
        default:
            return true;
    }
}

// Keyword (RFC 5321 ldh-str), with "_" tolerated.
bool is_keyword_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class Reader {
public:
    explicit Reader(std::string_view s) : s_(s) {}

    bool at_end() const { return pos_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[pos_]; }
    std::size_t pos() const { return pos_; }
    void seek(std::size_t p) { pos_ = p; }

    // White space and (nested, escaped) comments. An unclosed comment runs to the end.
    void skip_cfws() {
        while (!at_end()) {
            if (is_ws(s_[pos_])) {
                ++pos_;
            } else if (s_[pos_] == '(') {
                int depth = 0;
                while (!at_end()) {
                    const char c = s_[pos_++];
                    if (c == '\\' && !at_end()) ++pos_;
                    else if (c == '(') ++depth;
                    else if (c == ')' && --depth == 0) break;
                }
            } else {
                return;
            }
        }
    }

    bool eat(char c) {
        skip_cfws();
        if (peek() != c) return false;
        ++pos_;
        return true;
    }

    std::string keyword() {
        skip_cfws();
        const std::size_t start = pos_;
        while (!at_end() && is_keyword_char(s_[pos_])) ++pos_;
        return std::string(s_.substr(start, pos_ - start));
    }

    std::string digits() {
        skip_cfws();
        const std::size_t start = pos_;
        while (!at_end() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        return std::string(s_.substr(start, pos_ - start));
    }

    // quoted-string, unquoted; false (position unchanged) when none starts here.
    bool quoted(std::string& out) {
        if (peek() != '"') return false;
        std::size_t p = pos_ + 1;
        std::string v;
        while (p < s_.size() && s_[p] != '"') {
            if (s_[p] == '\\' && p + 1 < s_.size()) ++p;
            v.push_back(s_[p++]);
        }
        if (p >= s_.size()) return false;  // unclosed
        pos_ = p + 1;
        out = std::move(v);
        return true;
    }

    // RFC 2045 value: token / quoted-string.
    std::string value() {
        skip_cfws();
        std::string out;
        if (quoted(out)) return out;
        const std::size_t start = pos_;
        while (!at_end() && is_token_char(s_[pos_])) ++pos_;
        return std::string(s_.substr(start, pos_ - start));
    }

    // pvalue: value / [[local-part] "@"] domain-name, or whatever a server wrote
    // there, up to white space, a comment or ";".
    std::string pvalue() {
        skip_cfws();
        std::string out;
        if (quoted(out)) {
            // "local part"@domain
            if (peek() == '@') out += run();
            return out;
        }
        return run();
    }

    // Past the next ";" outside quotes and comments (or to the end).
    void skip_resinfo() {
        while (!at_end()) {
            const char c = s_[pos_];
            if (c == ';') return;
            if (c == '(') {
                skip_cfws();
                continue;
            }
            if (c == '"') {
                std::string ignored;
                if (quoted(ignored)) continue;
            }
            ++pos_;
        }
    }

private:
    std::string run() {
        const std::size_t start = pos_;
        while (!at_end() && !is_ws(s_[pos_]) && s_[pos_] != ';' && s_[pos_] != '(') ++pos_;
        return std::string(s_.substr(start, pos_ - start));
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

// resinfo after its ";": methodspec [reasonspec] [propspecs]. False when it
// cannot be read (the reader is then somewhere inside it).
bool read_resinfo(Reader& r, AuthResult& out) {
    out.method = lower(r.keyword());
    if (out.method.empty()) return false;
    if (r.eat('/')) {
        out.version = r.digits();
        if (out.version.empty()) return false;
    }
    if (!r.eat('=')) return false;
    out.result = lower(r.keyword());
    if (out.result.empty()) return false;
    for (;;) {
        r.skip_cfws();
        if (r.at_end() || r.peek() == ';') return true;
        const std::string name = lower(r.keyword());
        if (name.empty()) return false;
        if (r.eat('.')) {
            AuthProperty p;
            p.ptype = name;
            p.property = lower(r.keyword());
            if (p.property.empty() || !r.eat('=')) return false;
            p.value = r.pvalue();
            out.properties.push_back(std::move(p));
        } else if (r.eat('=')) {
            std::string v = r.value();
            if (name == "reason") out.reason = std::move(v);
            else out.properties.push_back({"", name, std::move(v)});
        } else {
            return false;
        }
    }
}

}  // namespace

std::string AuthResult::property(std::string_view ptype, std::string_view name) const {
    for (const auto& p : properties)
        if (p.ptype == ptype && p.property == name) return p.value;
    return {};
}

AuthResults parse_auth_results(std::string_view value) {
    AuthResults out;
    Reader r(value);
    r.skip_cfws();
    // authserv-id, unless the value opens with a result (Microsoft 365).
    const std::size_t start = r.pos();
    std::string id = r.value();
    bool first_without_semicolon = false;
    if (!id.empty()) {
        const std::size_t after = r.pos();
        if (r.eat('=') || r.eat('/')) {
            first_without_semicolon = true;
            r.seek(start);
        } else {
            r.seek(after);
            out.authserv_id = std::move(id);
            const std::size_t before_version = r.pos();
            std::string version = r.digits();
            r.skip_cfws();
            if (!version.empty() && (r.at_end() || r.peek() == ';')) out.version = std::move(version);
            else r.seek(before_version);
        }
    }
    for (;;) {
        r.skip_cfws();
        if (r.at_end()) break;
        if (!first_without_semicolon && !r.eat(';')) {
            out.complete = false;
            r.skip_resinfo();
            continue;
        }
        first_without_semicolon = false;
        r.skip_cfws();
        if (r.at_end()) break;  // a trailing ";"
        const std::size_t resinfo_start = r.pos();
        if (lower(r.keyword()) == "none") {
            r.skip_cfws();
            if (r.at_end() || r.peek() == ';') {
                out.none = true;
                continue;
            }
        }
        r.seek(resinfo_start);
        AuthResult res;
        if (read_resinfo(r, res)) {
            if (out.results.size() < kMaxAuthResults) out.results.push_back(std::move(res));
            else out.complete = false;
        } else {
            out.complete = false;
            r.skip_resinfo();
        }
    }
    return out;
}

}  // namespace ppo::parsers
