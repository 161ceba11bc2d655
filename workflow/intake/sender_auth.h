// Is the From address of a message really the sender's? Decided from the
// Authentication-Results (RFC 8601) written by our own receiving server, the
// one named by [intake] trusted_authserv_id: the headers of every other
// authserv-id are ignored, since anyone can write such a header.
//
// Authenticated when that server reports, for the message's From domain:
//   dmarc=pass                                    (unless its header.from names another domain),
//   dkim=pass  with header.d (or the domain of header.i) aligned with it,
//   spf=pass   with the domain of smtp.mailfrom aligned with it,
// and no dmarc=fail. Aligned: the same domain, or one a subdomain of the other
// ("mail.ac-lille.fr" and "ac-lille.fr"), a bare top-level domain never.
// Anything else (fail, softfail, none, neutral, temperror, permerror, an
// unaligned pass, no header from that server) is not authenticated, with a
// short English reason. With no trusted server configured, every sender is
// taken as authenticated (the default; check-config warns about it). Pure.
#pragma once

#include "parsers/mime/mime_message.h"

#include <string>
#include <string_view>
#include <vector>

namespace ppo::workflow {

struct SenderAuth {
    bool authenticated = false;
    std::string reason;  // "dmarc=pass", "dmarc=fail", "no Authentication-Results from mx.example.fr"
};

// `header_values`: every Authentication-Results value of the message, as
// written (not RFC 2047 decoded); `from_address`: the addr-spec of From.
SenderAuth authenticate_sender(const std::vector<std::string>& header_values, std::string_view from_address,
                               std::string_view trusted_authserv_id);

// The same, from a parsed message (its raw Authentication-Results headers).
SenderAuth authenticate_sender(const parsers::MimeMessage& message, std::string_view trusted_authserv_id);

// True when `a` and `b` (domains, any case) are the same or one is a subdomain
// of the other, neither being a bare top-level domain.
bool domains_aligned(std::string_view a, std::string_view b);

}  // namespace ppo::workflow
