// Header-level decoding, all to UTF-8: RFC 2047 encoded words, RFC 2231 parameter
// values (continuations and charsets), and charset conversion. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ppo::parsers {

// Converts bytes in `charset` (any name iconv knows; empty or unknown: try
// UTF-8, else Windows-1252) to valid UTF-8. Invalid sequences become U+FFFD.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// Decodes every =?charset?B|Q?...?= word of an unstructured header value;
// whitespace between adjacent encoded words is dropped (RFC 2047 6.2). Raw 8-bit
// bytes are taken as UTF-8 when valid, else Windows-1252.
std::string decode_rfc2047(std::string_view value);

// Given the raw (name, value) parameters of one header (Content-Type or
// Content-Disposition), returns the decoded value of parameter `name`
// (e.g. "filename"), joining RFC 2231 continuations name*0, name*1*, ... and
// applying the charset of name*0*; falls back to the plain parameter, itself
// RFC 2047-decoded. Empty if absent.
std::string decode_parameter(const std::vector<std::pair<std::string, std::string>>& params,
                             std::string_view name);

}  // namespace ppo::parsers
