// The content digest of a raw message: what recognises *the same* message
// again when its UID cannot (after a UIDVALIDITY change, or a second delivery
// of the same mail). Pure.
//
// SHA-256 (lower-case hex) over the header fields the author's client wrote
// (From, Sender, Reply-To, To, Cc, Subject, Date, Message-ID, In-Reply-To,
// References, MIME-Version, Content-Type, Content-Transfer-Encoding; each
// unfolded, in that order, every occurrence) and the body bytes, with line
// ends normalised to LF. Trace fields added on the way (Received, Return-Path,
// Delivered-To, Authentication-Results, X-Spam-*, ...) are left out: an MTA's
// second delivery of one mail, or the same bytes put into the mailbox twice,
// give one digest, while two different messages sharing a Message-ID (a
// copier, a script, "send again") differ in their body or Date and give two.
#pragma once

#include <string>
#include <string_view>

namespace ppo::parsers {

std::string content_digest(std::string_view raw);

}  // namespace ppo::parsers
