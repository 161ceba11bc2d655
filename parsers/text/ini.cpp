#include "parsers/text/ini.h"

#include "parsers/text/error.h"

#include <set>

namespace ppo::parsers {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string_view strip_inline_comment(std::string_view s) {
    for (std::size_t i = 1; i < s.size(); ++i)
        if ((s[i] == ';' || s[i] == '#') && (s[i - 1] == ' ' || s[i - 1] == '\t')) return s.substr(0, i);
    return s;
}
}  // namespace

IniFile parse_ini(std::string_view text, const std::string& source) {
    IniFile out;
    std::string section;
    std::set<std::pair<std::string, std::string>> seen;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty() || line.front() == ';' || line.front() == '#') continue;
        auto where = source + ":" + std::to_string(line_no);
        if (line.front() == '[') {
            auto close = line.find(']');
            if (close == std::string_view::npos)
                throw config_error(where + ": unterminated section header '" + std::string(line) + "'");
            section = std::string(trim(line.substr(1, close - 1)));
            if (section.empty()) throw config_error(where + ": empty section name");
            auto rest = trim(strip_inline_comment(line.substr(close + 1)));
            if (!rest.empty() && rest.front() != ';' && rest.front() != '#')
                throw config_error(where + ": unexpected text after [" + section + "]");
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos)
            throw config_error(where + ": expected 'key = value', got '" + std::string(line) + "'");
        std::string key(trim(line.substr(0, eq)));
        std::string value(trim(strip_inline_comment(line.substr(eq + 1))));
        if (key.empty()) throw config_error(where + ": missing key before '='");
        if (section.empty()) throw config_error(where + ": key '" + key + "' outside of any [section]");
        if (!seen.insert({section, key}).second)
            throw config_error(where + ": [" + section + "] " + key + " is set twice");
        out.entries.push_back({section, key, value, line_no});
    }
    return out;
}

}  // namespace ppo::parsers
