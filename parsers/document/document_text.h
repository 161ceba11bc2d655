// The text of a document a lycée sends (PDF, DOCX, ODT, RTF, legacy DOC, and
// the documents inside a ZIP, one level deep), for identification, the PPO
// checks and search. Pure and bounded: no I/O, no network, no XML entities or
// DTD; every size is capped by the caller's limits (Poco::Zip does not enforce
// the sizes an archive declares, so members are read through our own caps).
//
// PDF goes through poppler-cpp, which has no cancel API and a history of
// crashes on hostile files: the daemon never calls this in its own process,
// only in a child with CPU, memory and time limits (daemon/documents/document_reader.h).
// Never throws for the document's sake: what cannot be read is `error`.
#pragma once

#include "parsers/document/document_type.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

struct TextLimits {
    std::size_t max_text_bytes = 64 * 1024;           // text kept per document (cut on a UTF-8 boundary)
    std::size_t max_head_bytes = 8 * 1024;            // letterhead kept per document
    std::size_t max_member_bytes = 64u * 1024 * 1024; // uncompressed bytes read from one ZIP member
    std::size_t max_members = 2000;                   // ZIP members looked at
    int max_pages = 50;                               // PDF pages read
};

struct DocumentText {
    std::string text;                  // UTF-8, NFC, ligatures folded (parsers/text/utf8.h); NUL and control
                                       // characters dropped, whitespace runs collapsed; <= max_text_bytes
    std::string head;                  // UTF-8, '\n'-separated lines, the letterhead: a PDF's first page, rebuilt
                                       // from its words' boxes line by line within each column (blocks printed
                                       // side by side come one after the other); a DOCX's or ODT's page
                                       // headers and footers then its first paragraphs; an RTF's or DOC's first
                                       // text; for a ZIP, each inner document's head in turn. <= max_head_bytes
    std::string title;                 // UTF-8, '\n'-separated: the lines the format sets as the title — a PDF's
                                       // first-page lines in larger type than its body, a DOCX's Title/Heading
                                       // (Titre) paragraphs, an ODT's headings and Title paragraphs; for a ZIP,
                                       // each inner document's. "" when the format gives none. <= 2 KiB
    std::vector<std::string> members;  // ZIP: the members' names, in archive order
    int pages = 0;                     // PDF: number of pages
    bool image_only = false;           // pages but no text at all: a scan
    bool truncated = false;            // text cut at max_text_bytes
    std::string error;                 // "" when read, else why not, in English ("encrypted PDF", ...)
};

DocumentText extract_document_text(DocumentKind kind, std::string_view data, const TextLimits& limits = {});

}  // namespace ppo::parsers
