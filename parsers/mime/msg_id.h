// RFC 5322 section 3.6.4 message identifiers, strictly:
//   msg-id   = [CFWS] "<" id-left "@" id-right ">" [CFWS]
//   id-left  = dot-atom-text
//   id-right = dot-atom-text / no-fold-literal ("[" *dtext "]")
// Printable ASCII only: no control character, no space, no 8-bit byte. A
// Message-ID is written by a stranger and copied into the In-Reply-To and
// References of the mail we send: only what passes here may be copied. Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

// Longest msg-id accepted, brackets included (RFC 5322's line limit).
inline constexpr std::size_t kMaxMsgIdLength = 998;
// Most ids kept from one References / In-Reply-To value: the first and the last
// (kMaxMsgIds - 1), as RFC 5322 3.6.4 suggests when trimming a long thread.
inline constexpr std::size_t kMaxMsgIds = 50;

// The msg-id "<left@right>" (comments and white space around it dropped), or
// nullopt when `value` is anything else: one id, nothing more.
std::optional<std::string> parse_msg_id(std::string_view value);

// The valid ids of an In-Reply-To or References value, in order, duplicates
// removed; anything else in the value (invalid ids, obsolete phrases,
// comments) is dropped.
std::vector<std::string> parse_msg_id_list(std::string_view value);

// `ids` joined with single spaces.
std::string join_msg_ids(const std::vector<std::string>& ids);

}  // namespace ppo::parsers
