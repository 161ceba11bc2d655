// Parses one raw RFC 5322 message (as fetched with BODY.PEEK[]) into what the
// intake needs: decoded headers, the text of the body, and every attached file,
// walking the whole MIME tree (multipart/*, nested message/rfc822). Pure: no I/O.
//
// Never throws on malformed input: what cannot be parsed is reported in
// `problems` and, when the message as a whole is unusable, `corrupt` is set with
// a reason. Exceeding a limit sets `corrupt` too.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

struct MimeLimits {
    std::size_t max_message_bytes = 50u * 1024 * 1024;
    std::size_t max_parts = 10000;
    std::size_t max_depth = 50;
    // Optional: called with ranges of the input the parser is done with for now
    // (it may read them again), a few MiB at a time as large parts are decoded:
    // a message mapped from a file lets those pages go, so that a large
    // attachment costs its decoded size, not that plus its encoded one.
    std::function<void(const char* from, const char* to)> release;
};

struct Attachment {
    std::string filename;       // decoded to UTF-8 (RFC 2231 / RFC 2047), may be empty
    std::string content_type;   // lower-case "type/subtype" as declared
    std::string content_id;     // without <>, empty if none
    bool inline_disposition = false;
    std::string data;           // decoded bytes (base64 / quoted-printable undone)
};

struct Header {
    std::string name;   // as written
    std::string value;  // unfolded, RFC 2047 decoded to UTF-8
    std::string raw;    // unfolded and trimmed, not decoded: for structured fields whose
                        // syntax has no encoded words (Authentication-Results), where decoding
                        // would let a stranger's "=?UTF-8?Q?...?=" pass for the real thing
};

// A message carried inside another as a message/rfc822 part (a forward "as
// attachment"): who wrote it and what it says, as evidence of its origin.
struct ForwardedMessage {
    std::string from_address;            // addr-spec, "" if none
    std::string from_display;
    std::string subject;                 // UTF-8
    std::string text;                    // its own text parts (they are in MimeMessage::text too)
    std::vector<std::string> filenames;  // its own attachments' names (they are in MimeMessage::attachments too)
};

struct MimeMessage {
    std::vector<Header> headers;             // top-level headers, in order
    std::string subject;                     // UTF-8
    std::string from_address;                // addr-spec of From, lower-cased domain, "" if none
    std::string from_display;                // display name, UTF-8
    std::string message_id;                  // with <>, "" if none or not a valid RFC 5322 msg-id (msg_id.h)
    std::string in_reply_to;                 // the valid msg-ids only, space-joined (invalid ones dropped)
    std::string references;                  // likewise
    std::string return_path;                 // addr-spec without <>; "<>" stays "" with has_empty_return_path
    bool has_return_path = false;
    std::optional<std::int64_t> date_epoch;  // Date: header, seconds since epoch
    std::string text;                        // every text/plain part (text/html stripped when no plain), UTF-8, joined with "\n"
    std::vector<Attachment> attachments;     // every leaf part that carries a file (name or non-text type), in tree order,
                                             // including those inside nested message/rfc822
    std::vector<ForwardedMessage> forwarded; // message/rfc822 parts, in tree order (at most kMaxForwarded)
    std::vector<std::string> problems;       // non-fatal oddities, human-readable, English
    bool corrupt = false;
    std::string corrupt_reason;

    // First header of that name (case-insensitive), decoded; nullopt if absent.
    std::optional<std::string> header(std::string_view name) const;
};

inline constexpr std::size_t kMaxForwarded = 20;

MimeMessage parse_mime_message(std::string_view raw, const MimeLimits& limits = {});

}  // namespace ppo::parsers
