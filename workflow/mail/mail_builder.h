// Builds complete RFC 5322 / MIME messages for the outbox: UTF-8 headers as
// RFC 2047 encoded words, bodies in quoted-printable, files in base64 with
// RFC 2231 names, CRLF line ends, lines within 78 characters. Pure, but for
// make_message_id (libsodium's random bytes; safe from any thread).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::workflow {

struct MailAttachment {
    std::string filename;      // UTF-8
    std::string content_type;  // "application/pdf"; empty: application/octet-stream
    std::string data;
    // When set (and `data` empty), the part's body is a reference to this file,
    // expanded into base64 only as the mail is sent (write_with_files):
    // a forward waits in the outbox as a few kilobytes, not as the documents.
    std::string source_path;
};

struct MailSpec {
    std::string from;                  // "Name <addr>" (UTF-8 display name allowed)
    std::vector<std::string> to;       // addr-specs
    std::vector<std::string> cc;
    std::string reply_to;              // addr-spec or empty
    std::string subject;               // UTF-8
    std::string message_id;            // "<...@domain>"
    std::string in_reply_to;           // "<...>" or empty
    std::string references;            // "<...> <...>": space-separated, folded when written
    std::string auto_submitted;        // "auto-replied" | "auto-generated" | empty
    std::vector<std::pair<std::string, std::string>> extra_headers;
    std::int64_t date = 0;             // seconds since the epoch
    std::string text;                  // text/plain body, UTF-8, '\n' line ends
    std::string html;                  // optional text/html alternative
    std::vector<MailAttachment> attachments;
};

// Throws std::logic_error when a header value of `spec` (addresses, subject,
// ids, extra headers, file names and types) holds a CR, LF or NUL, or an extra
// header name is not a field name: values from outside must be validated before
// (a Message-ID with parsers::parse_msg_id), never passed through.
std::string build_mail(const MailSpec& spec);

// True when `data` holds file references left by build_mail.
bool has_file_references(const std::string& data);
// The marker that stands for a file's base64 body: a line no base64 text can hold.
inline constexpr const char* kFileReferenceMarker = "\r\n@ppo-file:";
// The paths of the file references in `data`, in order (a path may come twice).
std::vector<std::string> file_references(const std::string& data);
// The size of `data` once its i-th file reference is replaced by the base64
// lines of a file of `file_sizes[i]` bytes: what write_with_files writes.
std::uint64_t size_with_files(const std::string& data, const std::vector<std::uint64_t>& file_sizes);
// Reads the bytes of the i-th file reference into `buffer` (at most `max`);
// returns how many, 0 at the end of that file. Throws when it cannot.
using FileChunkReader = std::function<std::size_t(std::size_t index, char* buffer, std::size_t max)>;
// Writes `data` through `emit`, a piece at a time, its i-th file reference
// replaced by the base64 lines (57 bytes a line, CRLF) of what `read(i, ...)`
// gives: the message build_mail would have made with the files inline, without
// ever holding a whole file (about 140 KiB at a time).
void write_with_files(const std::string& data, const FileChunkReader& read,
                      const std::function<void(std::string_view)>& emit);

// "=?UTF-8?B?...?=" words when `text` is not plain ASCII, else `text`.
std::string encode_header_words(const std::string& text);
// Base64 (RFC 4648, padded) on one line, and in lines of 76 characters with CRLF.
std::string base64(const std::string& data);
std::string base64_lines(const std::string& data);
std::string quoted_printable(const std::string& text);
// A fresh Message-ID "<time.random@domain>": `now` in decimal, 64 random bits
// in 16 hex digits (libsodium randombytes_buf). Thread-safe: the intake and a
// web request make ids at once.
std::string make_message_id(const std::string& domain, std::int64_t now);
// "Mon, 07 Mar 2022 10:02:11 +0000"
std::string rfc5322_date(std::int64_t epoch);


}  // namespace ppo::workflow
