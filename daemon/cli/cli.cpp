#include "daemon/cli/cli.h"

#include "daemon/cli/preflight.h"
#include "daemon/store/atomic_file.h"
#include "daemon/store/database.h"
#include "daemon/documents/document_reader.h"
#include "daemon/store/file_archive.h"
#include "daemon/imap/imap_mail_source.h"
#include "daemon/app/logging.h"
#include "daemon/app/privileges.h"
#include "daemon/app/service.h"
#include "daemon/smtp/smtp_sender.h"
#include "daemon/store/sql_store.h"
#include "daemon/web/web_server.h"
#include "daemon/web/web_users.h"
#include "parsers/text/error.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/config/config.h"
#include "workflow/campaign/directory_import.h"
#include "workflow/status/exports.h"
#include "workflow/status/status.h"
#include "workflow/mail/templates.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

namespace ppo::daemon {

namespace {

const char* kUsage =
    "Usage: ppo-intake [-c FILE] [--now ISO-8601] [-v] COMMAND ...\n"
    "\n"
    "Takes the PPO submissions of the lycées from an IMAP mailbox, records them,\n"
    "acknowledges them, forwards them to the IEN-IO, reminds and reports.\n"
    "\n"
    "Commands:\n"
    "  run                      the daemon (until SIGTERM; SIGHUP reloads config and directory)\n"
    "  poll --once              take every message waiting in the mailbox, send the outbox, exit\n"
    "  tick [--dry-run]         send the reminders and digests due at --now, send the outbox, exit\n"
    "  directory import --annuaire FILE [--routing FILE] [--dry-run] [--skip-invalid] [--force]\n"
    "  status [--json | --csv] [--bassin CODE]...\n"
    "                           per-lycée status of the campaign (of these bassins only)\n"
    "  triage list [--json] | triage assign SUBMISSION_ID UAI | triage reject SUBMISSION_ID\n"
    "  web                      the web interface alone ([web] listen), without taking mail\n"
    "  user add LOGIN --role draio|ien-io [--bassin CODE]... | user list | user remove LOGIN\n"
    "                           the web interface's users (password: first line of stdin)\n"
    "  outbox list [--json] | outbox retry ID | outbox retry --all\n"
    "                           the mails pending, deferred or failed; put failed mails back and send\n"
    "  ack resend SUBMISSION_ID queue the acknowledgement of a submission again and send it\n"
    "  export files --bassin CODE --out FILE.zip [--force]\n"
    "                           the latest PPO of each lycée of a bassin, in one ZIP\n"
    "  check-config [--connect] validate the configuration and templates, change nothing;\n"
    "                           --connect: the pre-flight check (IMAP, SMTP, database, archive)\n"
    "\n"
    "Global options:\n"
    "  -c, --config FILE   configuration file (default /etc/ppo-intake/ppo-intake.conf)\n"
    "  --now ISO-8601      the clock for this command (replays, dry runs, tests)\n"
    "  -v, --verbose       debug logging (twice: trace)\n"
    "  -h, --help          this help; 'ppo-intake COMMAND --help' for a command\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

const std::map<std::string, std::string> kCommandHelp = {
    {"run", "Usage: ppo-intake [-c FILE] run\n\nRuns the daemon: watches the mailbox (IDLE, or polling every\n"
            "[imap] poll_interval seconds), sends the outbox, fires reminders and digests on time.\n"
            "SIGTERM stops it cleanly; SIGHUP reloads the configuration, templates and directory.\n"},
    {"poll", "Usage: ppo-intake [-c FILE] [--now T] poll --once\n\nTakes every message waiting in the mailbox,\n"
             "records and files it, sends the outbox, and exits.\n"},
    {"tick", "Usage: ppo-intake [-c FILE] [--now T] tick [--dry-run]\n\nSends the reminders and digests due at the\n"
             "given instant (default: now), then the outbox. --dry-run lists what would be sent and changes nothing.\n"},
    {"directory", "Usage: ppo-intake [-c FILE] directory import --annuaire FILE [--routing FILE]\n"
                  "                                  [--dry-run] [--skip-invalid] [--force]\n\n"
                  "Imports the official annuaire export (';' CSV) and the bassin -> IEN-IO routing table.\n"
                  "Keeps the open LGTs of the configured académies; importing the same file twice changes nothing;\n"
                  "a lycée missing from the file is marked closed, never deleted.\n"
                  "Files may be UTF-8 (with or without BOM) or Windows-1252 / ISO-8859-15 (converted, the log says\n"
                  "which); UTF-16, binary and truncated files are refused.\n"
                  "Every row that would be imported is checked: UAI and its check letter, Mail (a plain address or\n"
                  "empty), bassin code (letters and digits), no control characters; in the routing file the bassin\n"
                  "code and ien_io_mail. One bad row refuses the whole import (exit 2, each named by file, line and\n"
                  "column) and nothing is written.\n\n"
                  "  --dry-run       print what would change (new, updated, closed lycées; bassins and IEN-IO), write nothing\n"
                  "  --skip-invalid  import the valid rows, list the bad ones as warnings; a lycée whose row is bad\n"
                  "                  is left as it is (not closed)\n"
                  "  --force         accept an import that closes more than 10 % of the open lycées (refused\n"
                  "                  otherwise, exit 2: usually the wrong or a cut export)\n"},
    {"status", "Usage: ppo-intake [-c FILE] status [--json | --csv] [--bassin CODE]...\n\nThe per-lycée status of the campaign:\n"
               "a table, JSON (see doc/design.md), or CSV for Excel (UTF-8 with BOM, ';', states in French; a value\n"
               "starting with = + - or @ gets a leading ' so that a spreadsheet never reads it as a formula).\n"
               "--bassin CODE (repeatable) keeps the lycées of these bassins, as an IEN-IO sees them: no triage\n"
               "lists then. An unknown bassin code is refused.\n"},
    {"outbox", "Usage: ppo-intake [-c FILE] outbox list [--json]\n"
               "       ppo-intake [-c FILE] outbox retry ID\n"
               "       ppo-intake [-c FILE] outbox retry --all\n\n"
               "list: the mails not sent yet: pending, deferred (pending after a temporary failure, with the\n"
               "next attempt) and failed (refused for good by the server, 5xx, or given up after [smtp] max_age),\n"
               "each with its kind, recipients, attempts and last error.\n"
               "retry: like postqueue -f, puts the failed mail ID (or every failed mail) back in the queue, due now,\n"
               "its attempts kept, then sends the outbox (unless another ppo-intake process is sending it).\n"
               "A mail given up after max_age that fails temporarily again is given up again at once.\n"},
    {"ack", "Usage: ppo-intake [-c FILE] ack resend SUBMISSION_ID\n\n"
            "Queues the acknowledgement of a submission once more (rendered again from ack.txt, to the lycée's\n"
            "address and the sender as the first one), then sends the outbox. The per-address limit\n"
            "[smtp] max_per_recipient_per_hour still applies: when it leaves no recipient, nothing is queued\n"
            "(exit 1). Only for a submission credited to a lycée (see status --json for the ids).\n"},
    {"export", "Usage: ppo-intake [-c FILE] export files --bassin CODE --out FILE.zip [--force]\n\n"
               "Writes the latest PPO of each lycée of the bassin in one ZIP: the documents of its latest\n"
               "submission (the files of a winmail.dat, not the container), named '<UAI> - <lycée>.<ext>'\n"
               "(' (2)', ' (3)'... for a submission's further documents). Lycées without a submission are listed.\n"
               "An existing FILE is refused unless --force; the file is written beside it under a temporary name,\n"
               "then renamed (mode 0640).\n"},
    {"triage", "Usage: ppo-intake [-c FILE] triage list [--json]\n"
               "       ppo-intake [-c FILE] triage assign SUBMISSION_ID UAI\n"
               "       ppo-intake [-c FILE] triage reject SUBMISSION_ID\n\n"
               "The messages that could not be attributed to one lycée: list them, attach one to a lycée\n"
               "(its acknowledgement and forward are sent then), or close it.\n"},
    {"web", "Usage: ppo-intake [-c FILE] web\n\nServes the web interface on [web] listen (and /healthz, /metrics on\n"
            "[http] listen) until SIGTERM, without taking mail or sending any: a read-only node beside the daemon.\n"
            "'run' serves the same interface itself when [web] listen is set.\n"},
    {"user", "Usage: ppo-intake [-c FILE] user add LOGIN --role draio|ien-io [--bassin CODE]...\n"
             "       ppo-intake [-c FILE] user list\n"
             "       ppo-intake [-c FILE] user remove LOGIN\n\n"
             "The users of the web interface, in [web] users_file (default /etc/ppo-intake/users).\n"
             "add reads the password from the first line of stdin (12 characters or more; on a terminal it is\n"
             "asked without echo) and stores only its Argon2id hash; adding an existing login replaces its\n"
             "password, role and bassins. LOGIN: 1 to 64 of a-z 0-9 . _ -. A draio sees and does everything;\n"
             "an ien-io sees the lycées and files of their bassins (one --bassin per code, at least one).\n"
             "list shows logins, roles and bassins (never the hashes); remove exits 1 for an unknown login.\n"
             "The daemon reads the file again when it changes: no restart needed.\n\n"
             "  echo 'a long passphrase' | ppo-intake user add ien.douai --role ien-io --bassin 095912\n"},
    {"check-config", "Usage: ppo-intake [-c FILE] check-config [--connect]\n\nValidates the configuration file and the mail\n"
                     "templates without connecting to anything. Exit 0 when valid, 2 otherwise.\n\n"
                     "--connect: the pre-flight check before the campaign. Logs in to IMAP (capabilities, namespace,\n"
                     "delimiter, the mailbox, the three folders found or created as the daemon would, IDLE), to SMTP\n"
                     "(TLS, AUTH, MAIL FROM and RCPT TO the first [digest] to address, then RSET: nothing is sent),\n"
                     "opens the database (schema version against this binary's; not migrated) and writes a file in\n"
                     "the archive (then removes it; free space). One line per check, OK or FAIL and why.\n"
                     "Exit 0 when every check passed, 2 otherwise.\n"},
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string read_file(const std::string& path, const char* what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(std::string("cannot read the ") + what + " " + path);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

int cmd_check_config(Context& ctx) {
    auto templates = workflow::Templates::load(ctx.templates_dir);
    (void)templates;
    if (ctx.config.database.backend == "postgresql") (void)postgres_conninfo(ctx.config.database);   // throws when unusable
    std::cout << "Configuration OK: " << ctx.config.source << "\n"
              << "  mailbox   " << ctx.config.imap.url.scheme << "://" << ctx.config.imap.url.host << ":"
              << ctx.config.imap.url.port << " " << ctx.config.imap.mailbox << "\n"
              << "  smtp      " << ctx.config.smtp.url.scheme << "://" << ctx.config.smtp.url.host << ":"
              << ctx.config.smtp.url.port << "\n"
              << "  database  " << ctx.config.database.backend << "\n"
              << "  archive   " << ctx.config.storage.archive_dir << "\n"
              << "  campaign  " << ctx.config.campaign.name << ", deadline " << ctx.config.campaign.deadline << " ("
              << ctx.config.campaign.timezone << "), académies " << app::academies_csv(ctx.config) << "\n"
              << "  templates " << ctx.templates_dir << "\n";
    if (!ctx.config.web.listen.empty())
        std::cout << "  web       " << (ctx.config.web.tls() ? "https://" : "http://") << ctx.config.web.listen
                  << ", users " << ctx.config.web.users_file << "\n";
    for (const auto& w : workflow::tls_warnings(ctx.config)) std::cout << "  warning   " << w << "\n";
    if (ctx.config.intake.trusted_authserv_id.empty())
        std::cout << "warning: [intake] trusted_authserv_id is empty: sender authentication is off. Anyone can\n"
                     "  write From: ce.<UAI>@ac-lille.fr; such a mail is then credited to that lycée, acknowledged\n"
                     "  and forwarded in its name. Set it to the authserv-id your receiving server writes at the\n"
                     "  start of its Authentication-Results headers (RFC 8601), e.g. \"mx.ac-lille.fr\": a lycée's\n"
                     "  address then counts only with dmarc=pass, or an aligned dkim=pass or spf=pass, from it.\n";
    return 0;
}

// A directory file's problems, as the administrator fixes them: "FILE: line 12, column Mail (UAI ...): ...".
std::string located(const std::string& file, const workflow::RowProblem& p) { return file + ": " + workflow::to_string(p); }

void print_plan(const workflow::ImportPlan& plan, std::ostream& out) {
    for (const auto& r : plan.added)
        out << "  + " << r.lycee.uai << " " << r.lycee.name << " (" << r.lycee.commune << ")\n";
    for (const auto& c : plan.updated) {
        out << "  ~ " << c.row.lycee.uai << " " << c.row.lycee.name << ":";
        for (const auto& what : c.changes) out << " " << what << (&what == &c.changes.back() ? "" : ",");
        out << "\n";
    }
    for (const auto& l : plan.closed) out << "  - " << l.uai << " " << l.name << " (" << l.commune << "): closed\n";
    for (const auto& b : plan.bassin_changes) out << "  bassin " << b << "\n";
}

int cmd_directory_import(Context& ctx, const std::vector<std::string>& args) {
    std::string annuaire, routing;
    bool skip_invalid = false, force = false, dry_run = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--annuaire" && i + 1 < args.size()) annuaire = args[++i];
        else if (args[i] == "--routing" && i + 1 < args.size()) routing = args[++i];
        else if (args[i] == "--skip-invalid") skip_invalid = true;
        else if (args[i] == "--force") force = true;
        else if (args[i] == "--dry-run") dry_run = true;
        else throw UsageError("directory import: unexpected argument '" + args[i] + "'");
    }
    if (annuaire.empty()) throw UsageError("directory import: --annuaire FILE is required");

    // A file refused as a whole (not text, UTF-16, truncated, a column missing)
    // is the administrator's to fix, like a configuration: exit 2, its name first.
    auto read_input = [](const std::string& path, const char* what, auto&& parse) {
        const std::string bytes = read_file(path, what);
        try {
            return parse(bytes);
        } catch (const ppo::Error& e) {
            throw config_error(path + ": " + e.what() + "; nothing imported");
        }
    };
    const auto imported = read_input(annuaire, "annuaire file", [&](const std::string& b) {
        return workflow::read_annuaire(b, ctx.config.campaign.academies);
    });
    workflow::RoutingImport routes;
    if (!routing.empty())
        routes = read_input(routing, "routing file", [](const std::string& b) { return workflow::read_routing(b); });
    for (const auto& [file, encoding, converted] :
         {std::tuple{annuaire, imported.encoding, imported.converted}, std::tuple{routing, routes.encoding, routes.converted}}) {
        if (file.empty()) continue;
        if (converted) spdlog::info("{}: {} detected, converted to UTF-8", file, encoding);
        else spdlog::debug("{}: {}", file, encoding);
    }
    for (const auto& p : imported.ignored) spdlog::debug("{} (row not imported anyway)", located(annuaire, p));

    // Rows that would be imported and are invalid: all or nothing, unless --skip-invalid.
    std::vector<std::string> invalid;
    for (const auto& p : imported.invalid) invalid.push_back(located(annuaire, p));
    for (const auto& p : routes.invalid) invalid.push_back(located(routing, p));
    const int invalid_rows = imported.invalid_rows + routes.invalid_rows;
    if (!invalid.empty() && !skip_invalid) {
        for (const auto& line : invalid) std::cerr << "ppo-intake: " << line << "\n";
        throw UsageErrorInCommand("directory import: " + std::to_string(invalid_rows) +
                                  " invalid row(s), nothing imported; fix the file(s), or import the other rows "
                                  "with --skip-invalid");
    }
    for (const auto& line : invalid) spdlog::warn("{} (row skipped: --skip-invalid)", line);

    auto& store = ctx.store();
    const auto plan = workflow::plan_import(store.directory_rows(), store.bassins(), imported, routes,
                                            ctx.config.campaign.academies);
    const bool too_many = workflow::closes_too_many(plan);

    std::cout << "Annuaire " << annuaire << " (" << imported.encoding << (imported.converted ? ", converted to UTF-8" : "")
              << "): " << imported.rows << " rows read, " << imported.lycees.size() << " lycées kept (académies "
              << app::academies_csv(ctx.config) << ").\n";
    if (!imported.skipped.empty()) {
        std::cout << "Skipped:\n";
        for (const auto& [reason, n] : imported.skipped) std::cout << "  " << n << " " << reason << "\n";
    }
    if (!invalid.empty()) {
        std::cout << "Invalid rows skipped (" << invalid_rows << ", --skip-invalid):\n";
        for (const auto& line : invalid) std::cout << "  " << line << "\n";
        if (plan.left_as_is) std::cout << "  " << plan.left_as_is << " lycée(s) of these rows left as they are (not closed).\n";
    }
    if (!routing.empty())
        std::cout << "Routing " << routing << " (" << routes.encoding << (routes.converted ? ", converted to UTF-8" : "")
                  << "): " << routes.bassins.size() << " bassins.\n";
    if (dry_run) {
        std::cout << "Dry run, nothing written. The import would make " << plan.added.size() << " new, "
                  << plan.updated.size() << " updated, " << plan.unchanged << " unchanged, " << plan.closed.size()
                  << " closed (of " << plan.open_before << " open), " << plan.bassin_changes.size()
                  << " bassin change(s):\n";
        print_plan(plan, std::cout);
        if (too_many) std::cout << "It would be refused without --force (more than 10 % of the open lycées closed).\n";
        return 0;
    }
    if (too_many && !force)
        throw UsageErrorInCommand("directory import: the file would close " + std::to_string(plan.closed.size()) + " of the " +
                                  std::to_string(plan.open_before) +
                                  " open lycées (more than 10 %), nothing imported. Is it the right export (académies " +
                                  app::academies_csv(ctx.config) + ", every lycée, not cut)? Check with --dry-run; " +
                                  "import it anyway with --force");

    const auto now = app::epoch_of(*ctx.clock);
    store.begin();
    try {
        store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline, app::academies_csv(ctx.config), now);
        for (const auto& b : plan.bassin_writes) store.upsert_bassin(b, true);
        for (const auto& row : plan.added) store.upsert_lycee({row.lycee, row.nature}, now);
        for (const auto& c : plan.updated) store.upsert_lycee({c.row.lycee, c.row.nature}, now);
        std::vector<std::string> closing;
        for (const auto& l : plan.closed) closing.push_back(l.uai);
        store.close_lycees(closing, now);
        store.commit();
    } catch (...) {
        store.rollback();
        throw;
    }
    if (too_many) spdlog::warn("directory import: {} of {} open lycées closed (--force)", plan.closed.size(), plan.open_before);
    std::cout << "  " << plan.added.size() << " new, " << plan.updated.size() << " updated, " << plan.unchanged
              << " unchanged, " << plan.closed.size() << " closed (no longer in the file).\n";
    if (!plan.bassin_changes.empty()) {
        std::cout << "Bassins:\n";
        for (const auto& b : plan.bassin_changes) std::cout << "  " << b << "\n";
    }
    auto dir = store.load_directory(ctx.config.campaign.academies);
    std::map<std::string, int> orphan;
    for (const auto& l : dir.lycees()) {
        const auto* b = dir.bassin(l.bassin_code);
        if (!b || b->ien_io_mail.empty()) ++orphan[l.bassin_code.empty() ? "(none)" : l.bassin_code + " " + l.bassin_label];
    }
    if (!orphan.empty()) {
        std::cout << "Bassins with no IEN-IO (their PPOs cannot be forwarded):\n";
        for (const auto& [b, n] : orphan) std::cout << "  " << b << " (" << n << " lycées)\n";
    } else {
        std::cout << "Every bassin has an IEN-IO.\n";
    }
    return 0;
}

// The bassin codes given with --bassin must name a bassin of the directory
// (one of its lycées' or a routed one): a typo is not an empty list.
void check_bassins(const workflow::Directory& dir, const std::vector<std::string>& bassins, const char* command) {
    for (const auto& b : bassins) {
        bool known = dir.bassin(b) != nullptr;
        for (const auto& l : dir.lycees()) known = known || l.bassin_code == b;
        if (!known) throw UsageErrorInCommand(std::string(command) + ": no bassin '" + b + "' in the directory");
    }
}

int cmd_status(Context& ctx, const std::vector<std::string>& args) {
    std::string format = "table";
    std::vector<std::string> bassins;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--json") format = "json";
        else if (a == "--csv") format = "csv";
        else if (a == "--bassin" && i + 1 < args.size()) bassins.push_back(args[++i]);
        else if (a.rfind("--bassin=", 0) == 0) bassins.push_back(a.substr(9));
        else throw UsageError("status: unexpected argument '" + a + "'");
    }
    auto& store = ctx.store();
    auto campaign = store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline,
                                          app::academies_csv(ctx.config), app::epoch_of(*ctx.clock));
    auto dir = store.load_directory(ctx.config.campaign.academies);
    check_bassins(dir, bassins, "status");
    auto st = workflow::build_status(store, ctx.config, campaign.id, dir);
    if (!bassins.empty()) st = workflow::filter_status(st, bassins);
    if (format == "json") std::cout << workflow::status_json(st);
    else if (format == "csv") std::cout << workflow::status_csv(st);
    else std::cout << workflow::status_table(st);
    return 0;
}

// export files --bassin CODE --out FILE.zip [--force]
int cmd_export(Context& ctx, const std::vector<std::string>& args) {
    if (args.empty() || args[0] != "files") throw UsageError("export: expected 'export files --bassin CODE --out FILE.zip'");
    std::string bassin, out;
    bool force = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--bassin" && i + 1 < args.size()) bassin = args[++i];
        else if (args[i] == "--out" && i + 1 < args.size()) out = args[++i];
        else if (args[i] == "--force") force = true;
        else throw UsageError("export files: unexpected argument '" + args[i] + "'");
    }
    if (bassin.empty() || out.empty()) throw UsageError("export files: --bassin CODE and --out FILE.zip are required");
    struct stat existing {};
    if (::lstat(out.c_str(), &existing) == 0) {
        if (!force) throw UsageErrorInCommand("export files: " + out + " exists; --force replaces it");
        if (!S_ISREG(existing.st_mode)) throw UsageErrorInCommand("export files: " + out + " is not a regular file");
    }
    auto& store = ctx.store();
    auto campaign = store.ensure_campaign(ctx.config.campaign.name, ctx.config.campaign.deadline,
                                          app::academies_csv(ctx.config), app::epoch_of(*ctx.clock));
    auto dir = store.load_directory(ctx.config.campaign.academies);
    check_bassins(dir, {bassin}, "export files");
    const auto st = workflow::build_status(store, ctx.config, campaign.id, dir);

    // Written beside the destination under a temporary name, then renamed:
    // FILE is either the old file or the whole new one, never half of it.
    workflow::FilesZip zip;
    {
        AtomicFile file(out, 0640, ErrorKind::permanent, "export files");
        std::ofstream stream(file.temp_path(), std::ios::binary | std::ios::trunc);
        if (!stream) file.fail("cannot write " + file.temp_path(), errno);
        zip = workflow::write_files_zip(store, st, bassin, stream);
        stream.close();
        if (!stream) file.fail("cannot write " + file.temp_path() + " (disk full?)", EIO);
        file.commit(true);   // fsync through the file's own descriptor: the same inode
    }
    std::size_t lycees = 0;
    for (const auto& l : st.lycees) lycees += l.lycee.bassin_code == bassin;
    std::set<std::string> with_files;
    for (const auto& e : zip.entries) with_files.insert(e.uai);
    std::cout << out << ": " << zip.entries.size() << " file(s) from " << with_files.size() << " of the " << lycees
              << " lycée(s) of bassin " << bassin << ".\n";
    if (!zip.without_ppo.empty()) {
        std::cout << "No PPO received from " << zip.without_ppo.size() << " lycée(s):";
        for (const auto& u : zip.without_ppo) std::cout << " " << u;
        std::cout << "\n";
    }
    for (const auto& u : zip.unreadable) std::cerr << "ppo-intake: export files: left out, cannot be read: " << u << "\n";
    return zip.unreadable.empty() ? 0 : 1;
}

}  // namespace

int run_cli(int argc, char** argv) {
    // The document parser's child process (daemon/documents/document_reader.h): no
    // configuration, no logging, no privileges to drop, nothing on stdout but
    // the protocol. Hidden from --help: only the daemon starts it.
    if (argc >= 2 && std::string_view(argv[1]) == "document-worker") return run_document_worker(argc, argv);
    // What the daemon writes (database, archive, outbox copies) is for the
    // service user and its group only, under systemd (UMask=0027) or not.
    ::umask(027);
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string config_path = "/etc/ppo-intake/ppo-intake.conf";
    std::string now_text;
    int verbosity = 0;
    std::size_t i = 0;
    try {
        for (; i < args.size(); ++i) {
            const auto& a = args[i];
            if ((a == "-c" || a == "--config") && i + 1 < args.size()) config_path = args[++i];
            else if (a.rfind("--config=", 0) == 0) config_path = a.substr(9);
            else if (a == "--now" && i + 1 < args.size()) now_text = args[++i];
            else if (a.rfind("--now=", 0) == 0) now_text = a.substr(6);
            else if (a == "-v" || a == "--verbose") ++verbosity;
            else if (a == "-vv") verbosity += 2;
            else if (a == "-h" || a == "--help") {
                std::cout << kUsage;
                return 0;
            } else if (a == "--version") {
                std::cout << "ppo-intake " << PPO_VERSION << "\n";
                return 0;
            } else if (!a.empty() && a[0] == '-') throw UsageError("unknown option '" + a + "'");
            else break;
        }
        if (i >= args.size()) throw UsageError("no command given");
        std::string command = args[i];
        std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
        if (std::find(rest.begin(), rest.end(), "--help") != rest.end() ||
            std::find(rest.begin(), rest.end(), "-h") != rest.end()) {
            auto it = kCommandHelp.find(command);
            if (it == kCommandHelp.end()) throw UsageError("unknown command '" + command + "'");
            std::cout << it->second;
            return 0;
        }
        if (!kCommandHelp.count(command)) throw UsageError("unknown command '" + command + "'");

        setup_logging(verbosity >= 2 ? "trace" : verbosity == 1 ? "debug" : "info");
        Context ctx(config_path, now_text);
        if (verbosity == 0) set_log_level(ctx.config.log.level);

        // check-config and user open neither the database nor the archive
        // (user writes the users file in /etc/ppo-intake, as the
        // administrator who runs it); every other command does, as the owner
        // of the state directory.
        if (command == "check-config") {
            if (rest.size() > 1 || (rest.size() == 1 && rest[0] != "--connect"))
                throw UsageError("check-config: unexpected argument '" + rest.back() + "'");
            if (rest.empty()) return cmd_check_config(ctx);
        }
        if (command == "user") return cmd_user(ctx, rest);
        const char* allow_root = std::getenv("PPO_ALLOW_ROOT");
        Identity became;
        if (drop_root_privileges(ctx.config, allow_root && std::string(allow_root) == "1", &became))
            spdlog::info("running as {} (uid {}, gid {}), the owner of {}", became.name, became.uid, became.gid,
                         state_directory(ctx.config));
        // --connect: as the daemon's user, who writes the archive and the database.
        if (command == "check-config") return cmd_check_config_connect(ctx);
        if (command == "status") return cmd_status(ctx, rest);
        if (command == "directory") {
            if (rest.empty() || rest[0] != "import") throw UsageError("directory: expected 'directory import ...'");
            return cmd_directory_import(ctx, std::vector<std::string>(rest.begin() + 1, rest.end()));
        }
        if (command == "triage") return cmd_triage(ctx, rest);
        if (command == "outbox") return cmd_outbox(ctx, rest);
        if (command == "ack") return cmd_ack(ctx, rest);
        if (command == "export") return cmd_export(ctx, rest);
        if (command == "poll") {
            if (rest.size() != 1 || rest[0] != "--once") throw UsageError("poll: expected 'poll --once' (the daemon is 'run')");
            return cmd_poll_once(ctx);
        }
        if (command == "tick") return cmd_tick(ctx, rest);
        if (command == "web") {
            if (!rest.empty()) throw UsageError("web: unexpected argument '" + rest[0] + "'");
            return cmd_web(ctx);
        }
        if (command == "run") {
            if (!rest.empty()) throw UsageError("run: unexpected argument '" + rest[0] + "'");
            return cmd_run(ctx);
        }
        throw UsageError("unknown command '" + command + "'");
    } catch (const UsageError& e) {
        std::cerr << "ppo-intake: " << e.what() << "\nTry 'ppo-intake --help'.\n";
        return 2;
    } catch (const UsageErrorInCommand& e) {
        std::cerr << "ppo-intake: " << e.what() << "\n";
        return 2;
    } catch (const ppo::Error& e) {
        std::cerr << "ppo-intake: " << e.what() << "\n";
        return e.kind() == ErrorKind::config ? 2 : 1;
    } catch (const std::exception& e) {
        std::cerr << "ppo-intake: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace ppo::daemon
