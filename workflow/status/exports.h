// Exports of the campaign's status for people who open them in a spreadsheet
// or a file manager: the status as an XLSX workbook (libxlsxwriter), and the
// latest PPO of each lycée of a bassin as one ZIP (Poco::Zip). The CSV is
// status_csv() in status.h. Used by the CLI (`export files`) and the web
// interface (/export/status.xlsx, /export/files.zip); the caller filters the
// status by role first (filter_status).
#pragma once

#include "workflow/status/status.h"
#include "workflow/ports/store.h"

#include <cstdint>
#include <iosfwd>
#include <set>
#include <string>
#include <vector>

namespace ppo::workflow {

// The status as an .xlsx file (its bytes): one sheet "Lycées", a frozen header
// row with a filter, one row per lycée of `status`. UAI, académie and bassin
// codes are text cells ("09" stays "09"), the last submission's time is a real
// date-time (campaign time zone, format jj/mm/aaaa hh:mm), the number of
// submissions a number, states in French. libxlsxwriter writes to a private
// temporary file in $TMPDIR (mode 0600), read back and removed whatever happens.
// Throws ppo::Error(transient) when the file cannot be written.
std::string status_xlsx(const CampaignStatus& status);

// One file of files.zip.
struct ZipEntry {
    std::string name;              // in the archive: "0596082R - Lycée Camille Claudel.pdf"
    std::string path;              // the archived file it is read from (FileRecord.path)
    std::string uai;
    std::int64_t submission_id = 0;
    std::int64_t received_at = 0;
    std::int64_t size = 0;
};

struct FilesZip {
    std::string bassin;
    std::vector<ZipEntry> entries;            // by UAI, then the submission's file order
    std::vector<std::string> without_ppo;     // UAIs of the bassin with no submission
    std::vector<std::string> unreadable;      // "path: reason" of files that could not be read (left out)
};

// What files.zip holds for `bassin` (a code): for each lycée of `status` in
// that bassin, the documents of its latest submission (a winmail.dat
// container, kind "tnef", left out: its files are there), named by
// zip_entry_name(). Reads only the store (files_of), not the files.
FilesZip plan_files_zip(Store& store, const CampaignStatus& status, const std::string& bassin);

// "<UAI> - <lycée name><.ext>" with the extension of the original file name
// (lower-cased); the n-th document (n >= 2) of one submission gets " (n)"
// before the extension. Safe in any file manager: no '/', '\\', control
// characters or leading dot (workflow/ports/archive.h safe_file_name, which also
// makes it unique among `used`).
std::string zip_entry_name(const std::string& uai, const std::string& lycee_name, const std::string& original_name,
                           std::size_t n, std::set<std::string>& used);

// Writes files.zip for `bassin` to `out` and returns what it holds. The ZIP is
// built in a private temporary file in $TMPDIR (removed whatever happens: a
// half-made ZIP never reaches `out`), seekable so that every local header
// carries its sizes, then copied to `out` (which need not be seekable: a
// socket, a string). Names are UTF-8 and Poco flags them so (bit 11):
// Windows shows the accents. A file that cannot be read is left out, logged
// and listed in `unreadable`. Throws ppo::Error(transient) when the
// temporary file or `out` cannot be written. The web calls it with the
// status already filtered by role (filter_status): a bassin that is not the
// viewer's then gives an empty ZIP.
FilesZip write_files_zip(Store& store, const CampaignStatus& status, const std::string& bassin, std::ostream& out);

}  // namespace ppo::workflow
