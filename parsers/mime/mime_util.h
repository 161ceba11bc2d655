// Small byte/string helpers shared by the MIME parsing files (header_decode.cpp,
// mime_message.cpp, document_type.cpp). Internal to parsers/. Pure.
#pragma once

#include "parsers/text/strings.h"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ppo::parsers::mime_detail {

using text::ascii_lower;   // parsers/text/strings.h
using text::lower;
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
bool is_wsp(char c);  // space or tab
using text::trim;          // white space at either end

// Length of the well-formed UTF-8 sequence at s[i] (1 for ASCII), 0 if ill-formed.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);
// True when `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool is_valid_utf8(std::string_view s);
// Appends `s` to `out`, replacing every ill-formed sequence by U+FFFD.
void append_sanitized_utf8(std::string& out, std::string_view s);

// Lenient base64: skips characters outside the alphabet, stops at '='.
std::string base64_decode_lenient(std::string_view s);

// A base64 body (Content-Transfer-Encoding: base64) decoded the way libetpan's
// decoder does it: characters outside the alphabet (line ends, '=', junk) are
// skipped, a trailing group of 1, 2 or 3 characters gives 1, 1 or 2 bytes. Four
// characters at a time on the common path: it runs over every attachment.
// `junk`, when given, is set when a character other than the alphabet, '=',
// blanks and line ends was skipped. `consumed`, when given, is called every
// few MiB of input with the end of what has been read (MimeLimits::release).
std::string base64_decode_body(std::string_view s, bool* junk = nullptr,
                               const std::function<void(const char* upto)>& consumed = {});

// Removes surrounding double quotes and backslash escapes, if quoted.
std::string unquote(std::string_view s);

// Splits a header value "type/sub; a=1; b=\"x;y\"" into its leading token
// ("type/sub", trimmed) and raw (name, value) parameters (values unquoted).
// Used as a fallback when libetpan could not parse a header.
std::string split_header_params(std::string_view value,
                                std::vector<std::pair<std::string, std::string>>* params);

// A header field of a raw header block: name as written, value unfolded (CR LF
// or LF before white space removed, every other CR removed), not decoded.
struct RawField {
    std::string name;
    std::string value;
};

// Reads the header block at the start of `data` (lines end at LF, with or
// without CR before it) up to the first empty line
// (consumed) or the first line that is not a header field (not consumed).
// Returns the offset where the body starts. Never throws on odd input.
std::size_t split_header_block(std::string_view data, std::vector<RawField>* fields,
                               bool* terminated_by_empty_line);

}  // namespace ppo::parsers::mime_detail
