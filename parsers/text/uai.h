// UAI codes: 7 digits + a check letter "ABCDEFGHJKLMNPRSTUVWXYZ"[n % 23].
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

// The check letter for a 7-digit number (no validation of the digits).
char uai_check_letter(std::string_view seven_digits);

// True when `code` is 7 digits + the right check letter (letter in any case).
bool is_valid_uai(std::string_view code);

// Upper-case form if valid, nullopt otherwise.
std::optional<std::string> normalize_uai(std::string_view code);

struct UaiMention {
    std::string code;   // upper-cased as found (7 digits + letter)
    bool valid = false; // check letter right
};

// Every token shaped like a UAI (7 digits followed by one letter, not part of a
// longer run of digits or letters) in a text, in order, duplicates removed.
std::vector<UaiMention> find_uai_mentions(std::string_view text);

}  // namespace ppo::parsers
