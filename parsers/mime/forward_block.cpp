#include "parsers/mime/forward_block.h"

#include "parsers/mime/mime_util.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

namespace ppo::parsers {

namespace {

using mime_detail::trim;

// ASCII lower case, and the accented letters of the markers folded to ASCII
// (é è ê à ç in UTF-8), so "Envoyé", "À" and "transféré" compare plainly.
std::string fold(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == 0xC3 && i + 1 < s.size()) {
            const unsigned char d = static_cast<unsigned char>(s[i + 1]);
            char repl = 0;
            if (d == 0xA9 || d == 0xA8 || d == 0xAA || d == 0x89 || d == 0x88) repl = 'e';
            else if (d == 0xA0 || d == 0xA2 || d == 0x80) repl = 'a';
            else if (d == 0xA7 || d == 0x87) repl = 'c';
            if (repl) {
                out.push_back(repl);
                ++i;
                continue;
            }
        }
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {   // no-break space
            out.push_back(' ');
            ++i;
            continue;
        }
        out.push_back(static_cast<char>(std::tolower(c)));
    }
    return out;
}

// A line without its quoting ("> ", ">> ", "> > ").
std::string_view unquote(std::string_view line) {
    line = trim(line);
    while (!line.empty() && line.front() == '>') {
        line.remove_prefix(1);
        line = trim(line);
    }
    return line;
}

bool is_marker(const std::string& folded) {
    static const char* const markers[] = {"message transfere",       "forwarded message", "message d'origine",
                                          "original message",        "debut du message reexpedie",
                                          "begin forwarded message", "message reexpedie"};
    // A marker line is short and made of dashes/underscores around the words (or ends with ':').
    if (folded.size() > 80) return false;
    for (const char* m : markers)
        if (folded.find(m) != std::string::npos) return true;
    return false;
}

bool is_rule(std::string_view line) {
    return line.size() >= 10 && std::all_of(line.begin(), line.end(), [](char c) { return c == '_' || c == '-'; });
}

enum class Key { none, from, subject, date, to };

// "De : x", "From: x", "Objet: x"... The key is compared folded; the value is kept as written.
Key header_key(std::string_view line, std::string_view* value) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 24) return Key::none;
    std::string key = fold(trim(line.substr(0, colon)));
    // Outlook writes "De :" with a no-break space; Gmail bolds keys in HTML ("*From:*").
    key.erase(std::remove(key.begin(), key.end(), '*'), key.end());
    key = std::string(trim(key));
    *value = trim(line.substr(colon + 1));
    if (key == "de" || key == "from" || key == "expediteur") return Key::from;
    if (key == "objet" || key == "sujet" || key == "subject") return Key::subject;
    if (key == "date" || key == "envoye" || key == "sent" || key == "envoye le") return Key::date;
    if (key == "a" || key == "to" || key == "pour" || key == "destinataire" || key == "cc") return Key::to;
    return Key::none;
}

bool addr_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '+' || c == '\'';
}

// The address in a sender value: "<a@b>", "[mailto:a@b]", or a bare a@b.
std::string address_in(std::string_view value) {
    const auto at = value.find('@');
    if (at == std::string_view::npos) return "";
    // Prefer the last '@' inside <...> when there is one.
    if (auto lt = value.rfind('<'); lt != std::string_view::npos) {
        auto gt = value.find('>', lt);
        auto inner = value.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
        if (inner.rfind("mailto:", 0) == 0) inner.remove_prefix(7);
        if (inner.find('@') != std::string_view::npos) value = inner;
    }
    const auto a = value.find('@');
    std::size_t b = a, e = a + 1;
    while (b > 0 && addr_char(value[b - 1])) --b;
    while (e < value.size() && addr_char(value[e])) ++e;
    if (b == a || e == a + 1) return "";
    std::string out(value.substr(b, e - b));
    while (!out.empty() && (out.back() == '.' || out.back() == '\'')) out.pop_back();
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

std::vector<ForwardedMessage> find_inline_forwards(std::string_view text) {
    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos <= text.size();) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        lines.push_back(unquote(text.substr(pos, nl - pos)));
        pos = nl + 1;
    }

    std::vector<ForwardedMessage> out;
    std::optional<std::size_t> open;   // index in `out` of the block whose body is being read
    std::size_t i = 0;
    while (i < lines.size() && out.size() < kMaxForwarded) {
        // A block starts at a marker or rule line followed by headers, or at a header line itself.
        std::size_t h = i;
        const std::string folded = fold(lines[i]);
        if (is_marker(folded) || is_rule(lines[i])) {
            h = i + 1;
            while (h < lines.size() && lines[h].empty() && h < i + 3) ++h;
        }
        ForwardedMessage fwd;
        bool have_from = false;
        int others = 0;
        std::size_t j = h;
        for (; j < lines.size() && j < h + 12; ++j) {
            std::string_view value;
            const Key key = header_key(lines[j], &value);
            if (key == Key::none) break;
            if (key == Key::from && !have_from) {
                fwd.from_address = address_in(value);
                have_from = !fwd.from_address.empty();
                if (auto lt = value.find_first_of("<["); lt != std::string_view::npos) fwd.from_display = std::string(trim(value.substr(0, lt)));
            } else if (key == Key::subject && fwd.subject.empty()) {
                fwd.subject = std::string(value);
                ++others;
            } else if (key != Key::from) {
                ++others;
            }
        }
        if (have_from && others >= 1) {
            open = out.size();
            out.push_back(std::move(fwd));
            i = j;
            continue;
        }
        if (open) {
            auto& body = out[*open].text;
            if (!body.empty()) body.push_back('\n');
            body += lines[i];
        }
        ++i;
    }
    return out;
}

}  // namespace ppo::parsers
