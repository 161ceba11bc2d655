// The reasons the intake records for a message it did not credit (messages.
// reason: English, for logs, `status --json` and `triage list`), in French for
// the people who read the web pages and the digest. Pure.
#pragma once

#include <string>

namespace ppo::workflow {

// A French sentence for a recorded reason: each known reason (judge.cpp,
// intake.cpp, identification.cpp, sender_auth.cpp) and its prefixes
// ("download link: hosts", "forwarded message: ...", "document: ...";
// several reasons joined by "; " are translated one by one). Technical details
// (a host, an authentication result, a library's message) stay as written, in
// parentheses or after a colon. An unknown reason gives a generic French
// sentence with the English text in parentheses. "" stays "".
std::string reason_fr(const std::string& reason);

// The same for the evidence recorded with a message (messages.evidence: "sender
// ce.0590072h@ac-lille.fr; UAI 0590072H in subject; forwarded: ..."), one
// French phrase per piece, joined by " ; "; an unknown piece stays as written.
std::string evidence_fr(const std::string& evidence);

}  // namespace ppo::workflow
