#include "parsers/mime/msg_id.h"

#include <algorithm>
#include <set>

namespace ppo::parsers {

namespace {

bool is_atext(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '/':
        case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
            return true;
        default:
            return false;
    }
}

// dtext: printable ASCII but "[", "]" and "\".
bool is_dtext(char c) { return c >= 33 && c <= 126 && c != '[' && c != ']' && c != '\\'; }

bool is_dot_atom_text(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    char prev = 0;
    for (char c : s) {
        if (c == '.') {
            if (prev == '.') return false;
        } else if (!is_atext(c)) {
            return false;
        }
        prev = c;
    }
    return true;
}

bool is_no_fold_literal(std::string_view s) {
    if (s.size() < 2 || s.front() != '[' || s.back() != ']') return false;
    return std::all_of(s.begin() + 1, s.end() - 1, is_dtext);
}

bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips white space and (nested) comments from `pos`. False when a comment is
// never closed (it then runs to the end of the value).
bool skip_cfws(std::string_view s, std::size_t& pos) {
    while (pos < s.size()) {
        if (is_fws(s[pos])) {
            ++pos;
        } else if (s[pos] == '(') {
            int depth = 0;
            while (pos < s.size()) {
                const char c = s[pos++];
                if (c == '\\' && pos < s.size()) ++pos;
                else if (c == '(') ++depth;
                else if (c == ')' && --depth == 0) break;
            }
            if (depth != 0) return false;
        } else {
            return true;
        }
    }
    return true;
}

// Validates the bracketed text s = "<...>".
bool is_msg_id(std::string_view s) {
    if (s.size() < 5 || s.size() > kMaxMsgIdLength || s.front() != '<' || s.back() != '>') return false;
    const std::string_view inner = s.substr(1, s.size() - 2);
    // id-left has no "@", so the first "@" separates; a literal id-right has no "@" either.
    const std::size_t at = inner.find('@');
    if (at == std::string_view::npos) return false;
    const std::string_view left = inner.substr(0, at);
    const std::string_view right = inner.substr(at + 1);
    return is_dot_atom_text(left) && (is_dot_atom_text(right) || is_no_fold_literal(right));
}

}  // namespace

std::optional<std::string> parse_msg_id(std::string_view value) {
    std::size_t pos = 0;
    if (!skip_cfws(value, pos) || pos >= value.size() || value[pos] != '<') return std::nullopt;
    const std::size_t gt = value.find('>', pos);
    if (gt == std::string_view::npos) return std::nullopt;
    const std::string_view id = value.substr(pos, gt - pos + 1);
    std::size_t rest = gt + 1;
    if (!skip_cfws(value, rest) || rest != value.size() || !is_msg_id(id)) return std::nullopt;
    return std::string(id);
}

std::vector<std::string> parse_msg_id_list(std::string_view value) {
    std::vector<std::string> ids;
    std::set<std::string_view> seen;
    std::size_t pos = 0;
    for (;;) {
        if (!skip_cfws(value, pos) || pos >= value.size()) break;
        if (value[pos] != '<') {
            // An obsolete phrase word or junk: up to the next white space, comment or "<".
            while (pos < value.size() && !is_fws(value[pos]) && value[pos] != '(' && value[pos] != '<') ++pos;
            continue;
        }
        const std::size_t gt = value.find('>', pos);
        if (gt == std::string_view::npos) break;
        // "<a <b@c>": the second "<" starts the candidate.
        const std::size_t inner_lt = value.rfind('<', gt);
        const std::string_view id = value.substr(inner_lt, gt - inner_lt + 1);
        pos = gt + 1;
        if (is_msg_id(id) && seen.insert(id).second) ids.emplace_back(id);
    }
    if (ids.size() > kMaxMsgIds) ids.erase(ids.begin() + 1, ids.end() - static_cast<std::ptrdiff_t>(kMaxMsgIds - 1));
    return ids;
}

std::string join_msg_ids(const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) {
        if (!out.empty()) out += ' ';
        out += id;
    }
    return out;
}

}  // namespace ppo::parsers
