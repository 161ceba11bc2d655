// Reads the official "Annuaire de l'éducation" export (and the bassin -> IEN-IO
// routing table) into the lycées expected in a campaign, and plans what an
// import would change in the stored directory. Pure: the caller reads the
// files and writes the plan to the store.
//
// Files: UTF-8 (with or without BOM), or Windows-1252 / ISO-8859-15 converted
// (parsers/text/text_encoding.h); ';'-separated, columns found by name whatever their
// case, quoted fields and CRLF accepted. A file that is not text, is UTF-16, is
// truncated (an unterminated quoted field, a last row with fewer columns than
// the header) or lacks a required column is refused: ppo::Error(corrupt).
//
// An expected lycée (LGT) is a row with Type_etablissement "Lycée", Voie_generale
// or Voie_technologique = 1, etat OUVERT (or empty), of one of the configured
// académies. Directory data is data, never syntax: every row that would be
// imported must have a valid UAI (check letter), a strict addr-spec or empty
// Mail (parsers/mime/address.h), a bassin code of 1-16 ASCII letters and digits (or
// none), no control character in any kept text, the right number of columns,
// and a UAI not seen before. A row that fails is *invalid*: it is reported
// with its line and column and is not in `lycees`; rows filtered out anyway
// (collèges, other académies, closed) are not judged, their problems are only
// listed in `ignored` for debugging. Routing rows: a valid bassin code (required,
// unique) and a strict or empty ien_io_mail.
#pragma once

#include "workflow/campaign/directory.h"

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::workflow {

struct DirectoryRow {
    Lycee lycee;
    std::string nature;                       // code_nature, e.g. "300"
};

struct RowProblem {
    int line = 0;                             // 1-based line where the row starts
    std::string column;                       // the column as the file names it ("Mail"); empty for the whole row
    std::string message;                      // "'a,b@x.fr' is not a mail address: character ',' is not allowed"
    std::string key;                          // "UAI 0590072H" / "bassin 095912" when known
};
// "line 12, column Mail (UAI 0590072H): 'a,b@x.fr' is not a mail address: ..."
std::string to_string(const RowProblem& problem);

// A value quoted for a message: control characters shown as \r \n \t \xNN, cut at 80 bytes.
std::string printable(std::string_view value);

// True when `code` is 1 to 16 ASCII letters or digits (it becomes a folder name).
bool is_valid_bassin_code(std::string_view code);

struct AnnuaireImport {
    std::string encoding;                     // "UTF-8", "Windows-1252", ... (parsers::DecodedText)
    bool converted = false;                   // the file was converted to UTF-8
    std::vector<DirectoryRow> lycees;         // the valid LGTs, in file order
    std::vector<Bassin> bassins;              // code + label of every bassin of a kept lycée
    std::map<std::string, int> skipped;       // reason -> count (rows filtered out: collèges, LP, ...)
    std::vector<RowProblem> invalid;          // every problem of the invalid rows (one row may have several)
    int invalid_rows = 0;
    std::vector<std::string> invalid_uais;    // the valid UAIs of invalid rows: left as they are, never closed for it
    std::vector<RowProblem> ignored;          // problems of rows filtered out anyway (for debug logs)
    int rows = 0;                             // data rows read
};

AnnuaireImport read_annuaire(std::string_view file_bytes, const std::vector<std::string>& academies);

struct RoutingImport {
    std::string encoding;
    bool converted = false;
    std::vector<Bassin> bassins;              // the valid rows, with IEN-IO name and mail
    std::vector<RowProblem> invalid;
    int invalid_rows = 0;
    int rows = 0;
};

// Columns: code_bassin_formation; libelle_bassin_formation; ien_io_nom; ien_io_mail.
RoutingImport read_routing(std::string_view file_bytes);

// What an import changes, decided here once: the dry run prints it, the
// import writes it.
struct LyceeChange {
    DirectoryRow row;                         // the new state
    std::vector<std::string> changes;         // "name 'A' -> 'B'", "reopened"
};

struct ImportPlan {
    std::vector<DirectoryRow> added;
    std::vector<LyceeChange> updated;         // changed or reopened
    std::vector<Lycee> closed;                // open lycées of the académies missing from the file
    std::size_t unchanged = 0;
    std::size_t open_before = 0;              // open lycées of the campaign's académies before the import
    std::size_t left_as_is = 0;               // open lycées whose row was invalid and skipped
    std::vector<Bassin> bassin_writes;        // the new state of every bassin that changes
    std::vector<std::string> bassin_changes;  // one line per change: "095912: IEN-IO a@x.fr -> b@x.fr"

    bool changes_nothing() const { return added.empty() && updated.empty() && closed.empty() && bassin_writes.empty(); }
};

// `stored`: every lycée in the store (open or not, any académie); `stored_bassins`:
// every bassin. Bassin labels come from the routing file when it has one, else
// from the annuaire; the IEN-IO only from the routing file (kept otherwise).
ImportPlan plan_import(const std::vector<DirectoryRow>& stored, const std::vector<Bassin>& stored_bassins,
                       const AnnuaireImport& annuaire, const RoutingImport& routing,
                       const std::vector<std::string>& academies);

// The safety valve: true when the plan closes more than `max_percent` % of the
// open lycées (an export of the wrong académie, a cut file, a wrong filter).
bool closes_too_many(const ImportPlan& plan, int max_percent = 10);

}  // namespace ppo::workflow
