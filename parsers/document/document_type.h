// Decides whether an attachment is a document a lycée would send as its PPO
// (PDF, DOCX, ODT, DOC, XLSX, ODS, XLS, RTF, ZIP), by its content (magic bytes,
// ZIP member names) as well as by its name. Pure.
#pragma once

#include <string>
#include <string_view>

namespace ppo::parsers {

enum class DocumentKind { none, pdf, docx, odt, doc, xlsx, ods, xls, rtf, zip };

// "pdf", "docx", ... or "none".
std::string_view to_string(DocumentKind kind);

// Content first; the name's extension decides only when the content is
// ambiguous (e.g. an OLE2 file is .doc or .xls by name). Small images are never
// documents; `content_type` is a hint only.
DocumentKind classify_document(std::string_view filename, std::string_view content_type,
                               std::string_view data);

}  // namespace ppo::parsers
