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
    std::string code;   // upper-cased (7 digits + letter), separators removed
    bool valid = false; // check letter right
    std::string written{};  // as it stands in the text: "0 807 463 C"
};

// Every token shaped like a UAI in a text, in order, duplicates removed:
//   - written together: 7 digits and one letter ("0590072H", "0590072h"), not
//     part of a longer run of digits or letters; reported whether its check
//     letter is right or not (a wrong one is worth telling);
//   - written apart: the 7 digits in groups separated by one space, dot or
//     no-break space, and/or the letter after one space, dot or hyphen
//     ("0 807 463 C", "0807463.c", "080 74 63 C"), the digits not continued by
//     more digits (a phone number is ten). Such a token is only a UAI when its
//     check letter is right: it is reported only then (one chance in 23 that a
//     stray number and letter pass, which the directory's UAIs narrow again).
std::vector<UaiMention> find_uai_mentions(std::string_view text);

}  // namespace ppo::parsers
