// A strict, small INI reader: [section], key = value, full-line comments with
// ';' or '#', inline comments after " ;" or " #". Keeps the line of every key so
// that errors can name "file:line [section] key". Pure: parses a string.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

struct IniEntry {
    std::string section;
    std::string key;
    std::string value;  // trimmed, comment removed
    int line = 0;
};

struct IniFile {
    std::vector<IniEntry> entries;  // in file order
};

// Throws ppo::Error(config) naming `source` and the line for a malformed line
// (no '=', key outside a section, unterminated section) or a duplicate key.
IniFile parse_ini(std::string_view text, const std::string& source);

}  // namespace ppo::parsers
