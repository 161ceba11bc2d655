#include "parsers/content_digest.h"

#include "parsers/mime_util.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <array>
#include <vector>

namespace ppo::parsers {

namespace {

using mime_detail::iequals;
using mime_detail::trim;

constexpr std::array<std::string_view, 13> kAuthorFields = {
    "from",        "sender",     "reply-to",     "to",           "cc",           "subject",
    "date",        "message-id", "in-reply-to",  "references",   "mime-version", "content-type",
    "content-transfer-encoding"};

// One physical line without its line end (LF, CRLF, or a lone CR kept as data).
std::string_view next_line(std::string_view raw, std::size_t& pos) {
    const std::size_t start = pos;
    const std::size_t lf = raw.find('\n', pos);
    std::size_t end = lf == std::string_view::npos ? raw.size() : lf;
    pos = lf == std::string_view::npos ? raw.size() : lf + 1;
    if (end > start && raw[end - 1] == '\r') --end;
    return raw.substr(start, end - start);
}

}  // namespace

std::string content_digest(std::string_view raw) {
    struct Field {
        std::string_view name;
        std::string value;   // unfolded, runs of blanks as one space
    };
    std::vector<Field> fields;
    std::size_t pos = 0;
    while (pos < raw.size()) {
        const std::size_t line_start = pos;
        std::string_view line = next_line(raw, pos);
        if (line.empty()) break;   // end of the header block
        if ((line.front() == ' ' || line.front() == '\t') && !fields.empty()) {
            std::string& value = fields.back().value;
            if (!value.empty() && !trim(line).empty()) value += ' ';
            value += trim(line);
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            // Not a header field: the body starts here (a message without a blank line).
            pos = line_start;
            break;
        }
        fields.push_back({trim(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
    }

    Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
    for (std::string_view wanted : kAuthorFields) {
        for (const Field& f : fields) {
            if (!iequals(f.name, wanted)) continue;
            sha.update(wanted.data(), wanted.size());
            sha.update(':');
            sha.update(f.value);
            sha.update('\n');
        }
    }
    sha.update('\n');
    // The body, line ends as LF: a server that stores LF and serves CRLF, or
    // the other way round, gives the same digest.
    while (pos < raw.size()) {
        const std::size_t before = pos;
        std::string_view line = next_line(raw, pos);
        sha.update(line.data(), line.size());
        if (pos > before && raw[pos - 1] == '\n') sha.update('\n');
    }
    return Poco::DigestEngine::digestToHex(sha.digest());
}

}  // namespace ppo::parsers
