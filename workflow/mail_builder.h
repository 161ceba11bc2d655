// Builds complete RFC 5322 / MIME messages for the outbox: UTF-8 headers as
// RFC 2047 encoded words, bodies in quoted-printable, files in base64 with
// RFC 2231 names, CRLF line ends, lines within 78 characters. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ppo::workflow {

struct MailAttachment {
    std::string filename;      // UTF-8
    std::string content_type;  // "application/pdf"; empty: application/octet-stream
    std::string data;
    // When set (and `data` empty), the part's body is a reference to this file,
    // expanded into base64 only when the mail is sent (expand_file_references):
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
// Replaces each file reference with the file's content in base64, read with
// `read(path)` (which throws when the file is gone).
template <typename Reader>
std::string expand_file_references(const std::string& data, Reader&& read);
// The marker that stands for a file's base64 body: a line no base64 text can hold.
inline constexpr const char* kFileReferenceMarker = "\r\n@ppo-file:";

// "=?UTF-8?B?...?=" words when `text` is not plain ASCII, else `text`.
std::string encode_header_words(const std::string& text);
std::string base64_lines(const std::string& data);
std::string quoted_printable(const std::string& text);
// A fresh Message-ID "<time.random@domain>".
std::string make_message_id(const std::string& domain, std::int64_t now);
// "Mon, 07 Mar 2022 10:02:11 +0000"
std::string rfc5322_date(std::int64_t epoch);

template <typename Reader>
std::string expand_file_references(const std::string& data, Reader&& read) {
    const std::string marker = kFileReferenceMarker;
    std::string out;
    std::size_t pos = 0;
    for (;;) {
        auto at = data.find(marker, pos);
        if (at == std::string::npos) break;
        out.append(data, pos, at + 2 - pos);  // keep the CRLF before the marker
        auto end = data.find("\r\n", at + marker.size());
        std::string path = data.substr(at + marker.size(), end - at - marker.size());
        out += base64_lines(read(path));
        pos = end == std::string::npos ? data.size() : end + 2;
    }
    out.append(data, pos, std::string::npos);
    return out;
}

}  // namespace ppo::workflow
