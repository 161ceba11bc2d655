// `ppo-intake check-config --connect`: the pre-flight check an administrator
// runs before the campaign. After the plain check-config (the file and the
// templates), it connects to what the daemon uses and does what the daemon
// would do first, nothing more:
//   IMAP      log in (TLS policy as the daemon's), capabilities, the personal
//             namespace and delimiter, the mailbox selected, the three folders
//             found or created (as the daemon creates them), IDLE;
//   SMTP      connect (TLS, AUTH), MAIL FROM:<[smtp] from> and RCPT TO:<the
//             first [digest] to address, the DRAIO's> then RSET and QUIT: no DATA;
//   database  reachable, its schema version against this binary's (not migrated);
//   archive   [storage] archive_dir writable (a file created and removed), free space.
// Prints one line per check, "OK" or "FAIL" with why, in plain words, on
// stdout; returns 0 when every check passed, 2 otherwise. Never prints a secret.
#pragma once

#include "daemon/app/service.h"

namespace ppo::daemon {

int cmd_check_config_connect(Context& ctx);

}  // namespace ppo::daemon
