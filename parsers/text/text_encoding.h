// The encoding of a text file an administrator hands us (the annuaire export,
// the routing table), found from its bytes and converted to UTF-8. Pure.
//
// Accepted: UTF-8 with or without a BOM (the BOM is dropped); otherwise a
// single-byte Windows-1252 or ISO-8859-15 file (what Excel writes on Windows
// for "CSV (;)"), converted. Refused with the reason, as ppo::Error(corrupt):
// UTF-16/UTF-32 (BOM FF FE or FE FF), binary (a NUL byte, or many control
// characters), bytes no Windows-1252 text has (0x81 0x8D 0x8F 0x90 0x9D), and
// a mix of valid UTF-8 sequences with invalid bytes (a file pasted together
// from two encodings: converting it would garble one half).
#pragma once

#include <string>
#include <string_view>

namespace ppo::parsers {

struct DecodedText {
    std::string text;      // UTF-8, no BOM
    std::string encoding;  // "UTF-8", "UTF-8 with BOM", "Windows-1252", "ISO-8859-15"
    bool converted = false; // true for the single-byte encodings
};

// Throws ppo::Error(corrupt) naming the reason and, where there is one, the line.
DecodedText decode_text_file(std::string_view bytes);

// Windows-1252 bytes to UTF-8 (0x81 0x8D 0x8F 0x90 0x9D, undefined, become U+FFFD).
std::string windows1252_to_utf8(std::string_view bytes);

}  // namespace ppo::parsers
