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
};

struct MailSpec {
    std::string from;                  // "Name <addr>" (UTF-8 display name allowed)
    std::vector<std::string> to;       // addr-specs
    std::vector<std::string> cc;
    std::string reply_to;              // addr-spec or empty
    std::string subject;               // UTF-8
    std::string message_id;            // "<...@domain>"
    std::string in_reply_to;           // "<...>" or empty
    std::string references;
    std::string auto_submitted;        // "auto-replied" | "auto-generated" | empty
    std::vector<std::pair<std::string, std::string>> extra_headers;
    std::int64_t date = 0;             // seconds since the epoch
    std::string text;                  // text/plain body, UTF-8, '\n' line ends
    std::string html;                  // optional text/html alternative
    std::vector<MailAttachment> attachments;
};

std::string build_mail(const MailSpec& spec);

// "=?UTF-8?B?...?=" words when `text` is not plain ASCII, else `text`.
std::string encode_header_words(const std::string& text);
std::string base64_lines(const std::string& data);
std::string quoted_printable(const std::string& text);
// A fresh Message-ID "<time.random@domain>".
std::string make_message_id(const std::string& domain, std::int64_t now);
// "Mon, 07 Mar 2022 10:02:11 +0000"
std::string rfc5322_date(std::int64_t epoch);

}  // namespace ppo::workflow
