// Outlook's TNEF container (application/ms-tnef, "winmail.dat"): the files a
// message sent in Outlook's rich-text format really carries. Unpacked with
// libytnef, never its RTF decompressor (which can exit()). Pure and bounded;
// runs, like every parser of a stranger's binary file, in the document child
// process (daemon/documents/document_reader.h). Never throws for the data's sake.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

struct TnefLimits {
    std::size_t max_files = 200;
    std::size_t max_total_bytes = 64u * 1024 * 1024;
};

struct TnefFile {
    std::string name;   // the attachment's long file name (UTF-8), else its short title; may be empty
    std::string data;   // its bytes, exactly as the TNEF holds them
};

struct TnefContent {
    std::vector<TnefFile> files;   // in the container's order
    std::string body_text;         // the plain-text body (PR_BODY) when it carries one, UTF-8
    std::string error;             // "" when read, else why not, in English
};

// By content (the TNEF signature 0x223E9F78), or by name/type when the data is
// too short to tell.
bool is_tnef(std::string_view filename, std::string_view content_type, std::string_view data);

TnefContent unpack_tnef(std::string_view data, const TnefLimits& limits = {});

}  // namespace ppo::parsers
