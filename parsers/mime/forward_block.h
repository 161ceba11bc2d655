// Forwards quoted inline in a message's text: the header block that mail
// clients write above a forwarded message, and the text below it. Pure.
//
// Recognised (French and English, with or without "> " quoting):
//   Thunderbird  "-------- Message transféré --------" / "-------- Forwarded Message --------"
//                then "Sujet :", "Date :", "De :", "Pour :" (or Subject/Date/From/To)
//   Gmail        "---------- Forwarded message ---------" / "---------- Message transféré ---------"
//                then "From:"/"De :", "Date:", "Subject:"/"Objet :", "To:"/"À :"
//   Outlook      "De : … / Envoyé : … / À : … / Objet : …" (or From/Sent/To/Subject), after a
//                rule line, "-----Message d'origine-----" / "-----Original Message-----", or alone
//   Apple Mail   "Début du message réexpédié :" / "Begin forwarded message:" then "De: …"
// A block counts only when it has a sender line with an address and one more
// header line (date, subject or recipient), so that a sentence starting with
// "De :" is not taken for a forward.
#pragma once

#include "parsers/mime/mime_message.h"

#include <string_view>
#include <vector>

namespace ppo::parsers {

// At most kMaxForwarded blocks, in text order. filenames stay empty: an inline
// forward's files are the outer message's own attachments.
std::vector<ForwardedMessage> find_inline_forwards(std::string_view text);

}  // namespace ppo::parsers
