#include "workflow/ports/archive.h"

#include <algorithm>

namespace ppo::workflow {

namespace {

class InMemoryFile final : public ArchiveFile {
public:
    explicit InMemoryFile(std::string bytes) : bytes_(std::move(bytes)) {}
    std::uint64_t size() const override { return bytes_.size(); }
    std::size_t read(char* buffer, std::size_t max) override {
        const std::size_t n = std::min(max, bytes_.size() - pos_);
        std::copy_n(bytes_.data() + pos_, n, buffer);
        pos_ += n;
        return n;
    }

private:
    std::string bytes_;
    std::size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<ArchiveFile> Archive::open(const std::string& path) const {
    return std::make_unique<InMemoryFile>(read(path));
}

namespace {

std::string cut_utf8(const std::string& s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    std::size_t n = max_bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

}  // namespace

std::string safe_file_name(std::string_view name, std::set<std::string>& used) {
    // Keep only the last path component, whatever the sender's OS.
    auto slash = name.find_last_of("/\\");
    if (slash != std::string_view::npos) name = name.substr(slash + 1);
    std::string out;
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7f) continue;
        if (std::string_view(":*?\"<>|").find(static_cast<char>(c)) != std::string_view::npos) {
            out += '_';
            continue;
        }
        out += static_cast<char>(c);
    }
    while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(out.begin());
    while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
    if (out.empty()) out = "document";
    std::string stem = out, ext;
    if (auto dot = out.rfind('.'); dot != std::string::npos && dot > 0 && out.size() - dot <= 10) {
        stem = out.substr(0, dot);
        ext = out.substr(dot);
    }
    stem = cut_utf8(stem, 180 - ext.size());
    if (stem.empty()) stem = "document";  // no character boundary to cut on (invalid UTF-8): never ".pdf"
    std::string candidate = stem + ext;
    for (std::size_t n = 2; used.count(candidate); ++n) {
        // Thousands of same-named parts: skip past the numbers surely taken
        // (at most used.size() of them) rather than retry each, which is quadratic.
        if (n == 100) n = std::max(n, used.size());
        const std::string suffix = " (" + std::to_string(n) + ")";  // within the 180 bytes too
        candidate = cut_utf8(stem, 180 - ext.size() - suffix.size()) + suffix + ext;
    }
    used.insert(candidate);
    return candidate;
}

std::optional<std::string> archive_path_problem(std::string_view relative_dir) {
    if (relative_dir.empty()) return std::string("empty path");
    if (relative_dir.front() == '/') return std::string("absolute path");
    for (unsigned char c : relative_dir) {
        if (c == 0) return std::string("NUL byte in the path");
        if (c < 0x20 || c == 0x7f) return std::string("control character in the path");
        if (c == '\\') return std::string("backslash in the path");
    }
    std::size_t start = 0;
    while (start <= relative_dir.size()) {
        auto slash = relative_dir.find('/', start);
        if (slash == std::string_view::npos) slash = relative_dir.size();
        const auto part = relative_dir.substr(start, slash - start);
        if (part.empty()) return std::string("empty path component");
        if (part == "." || part == "..") return "path component '" + std::string(part) + "'";
        start = slash + 1;
    }
    return std::nullopt;
}

}  // namespace ppo::workflow
