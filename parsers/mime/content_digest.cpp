#include "parsers/mime/content_digest.h"

#include "parsers/mime/mime_util.h"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>
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

// SHA-256 through OpenSSL's EVP (SHA-NI or AVX2 where the CPU has them: this
// runs over every byte of every message); bytes are gathered in a buffer so
// that the line-by-line feeding below costs one update per 64 KiB.
class Sha256 {
public:
    Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
            throw std::runtime_error("content digest: SHA-256 unavailable");
        buffer_.reserve(kBuffer);
    }
    void update(std::string_view bytes) {
        if (buffer_.size() + bytes.size() > kBuffer) flush();
        if (bytes.size() >= kBuffer) {
            digest_update(bytes);
            return;
        }
        buffer_.append(bytes);
    }
    void update(char c) { update(std::string_view(&c, 1)); }
    std::string hex() {
        flush();
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) throw std::runtime_error("content digest: SHA-256 failed");
        static const char* digits = "0123456789abcdef";
        std::string out;
        out.reserve(2 * len);
        for (unsigned int i = 0; i < len; ++i) {
            out += digits[digest[i] >> 4];
            out += digits[digest[i] & 15];
        }
        return out;
    }

private:
    static constexpr std::size_t kBuffer = 64 * 1024;
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
    std::string buffer_;

    void digest_update(std::string_view bytes) {
        if (EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1)
            throw std::runtime_error("content digest: SHA-256 failed");
    }
    void flush() {
        if (buffer_.empty()) return;
        digest_update(buffer_);
        buffer_.clear();
    }
};

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

    Sha256 sha;
    for (std::string_view wanted : kAuthorFields) {
        for (const Field& f : fields) {
            if (!iequals(f.name, wanted)) continue;
            sha.update(wanted);
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
        sha.update(line);
        if (pos > before && raw[pos - 1] == '\n') sha.update('\n');
    }
    return sha.hex();
}

}  // namespace ppo::parsers
