// Unicode normalisation of the text read from documents and mail, before any
// matching (identification.h, document_check.h), through utf8proc (the small,
// maintained library Julia and PostgreSQL use).
//
// normalize_text(): invalid UTF-8 bytes become U+FFFD; the Latin ligatures
// U+FB00..U+FB06 (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ, which PDF producers write for "ff", "fi"...)
// become their letters; then NFC, so that a base letter followed by a
// combining mark (pdfTeX's "CHA\u0302TEAU") is one character ("CHÂTEAU").
// œ/Œ and æ/Æ are letters of French and stay as they are (the search folding
// spells them "oe"/"ae"). Pure, never throws for the text's sake.
#pragma once

#include <string>
#include <string_view>

namespace ppo::parsers {

std::string normalize_text(std::string_view utf8);

}  // namespace ppo::parsers
