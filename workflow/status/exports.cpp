#include "workflow/status/exports.h"

#include "parsers/text/error.h"
#include "workflow/ports/archive.h"
#include "workflow/campaign/campaign_time.h"

#include <Poco/DateTime.h>
#include <Poco/Exception.h>
#include <Poco/Path.h>
#include <Poco/Zip/Compress.h>
#include <spdlog/spdlog.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace ppo::workflow {

namespace {

// A private temporary file in $TMPDIR (mode 0600, mkstemp), removed by the
// destructor whatever happened in between.
class TempFile {
public:
    explicit TempFile(const std::string& stem) {
        const char* env = std::getenv("TMPDIR");
        const std::string dir = env && *env ? env : "/tmp";
        std::string name = dir + "/ppo-intake-" + stem + "-XXXXXX";
        const int fd = ::mkstemp(name.data());
        if (fd < 0) throw transient_error("cannot create a temporary file in " + dir + ": " + std::strerror(errno));
        ::close(fd);
        path_ = name;
    }
    ~TempFile() { ::unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

std::string read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw transient_error("cannot read back " + path + ": " + std::strerror(errno));
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

// Text for a cell: valid UTF-8 kept, control characters turned into spaces,
// a stray byte into '?', at most Excel's 32,767 characters (cut on a code point).
std::string cell_text(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size() && chars < 32000;) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool valid = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; valid && k < len; ++k) valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (!valid) {
            out += '?';
            ++i;
        } else if (len == 1 && (c < 0x20 || c == 0x7F)) {
            out += ' ';
            ++i;
        } else {
            out.append(s, i, len);
            i += len;
        }
        ++chars;
    }
    return out;
}

// The local wall-clock time of an instant in `zone`, from iso_local()'s
// "2022-03-01T10:02:11+01:00".
struct LocalTime {
    int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};

LocalTime local_time(std::int64_t epoch, const std::string& zone) {
    const std::string iso = iso_local(epoch, zone);
    LocalTime t;
    if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &t.year, &t.month, &t.day, &t.hour, &t.minute, &t.second) != 6)
        throw permanent_error("unexpected local time '" + iso + "'");
    return t;
}

void check(lxw_error e, const char* what) {
    if (e != LXW_NO_ERROR) throw transient_error(std::string("XLSX: ") + what + ": " + lxw_strerror(e));
}

// The columns of the sheet: header, width (characters).
struct Column {
    const char* header;
    double width;
};
constexpr std::array<Column, 14> kColumns = {{{"UAI", 11},
                                               {"Lycée", 44},
                                               {"Commune", 22},
                                               {"Académie", 10},
                                               {"Code bassin", 12},
                                               {"Bassin", 26},
                                               {"IEN-IO", 32},
                                               {"État", 11},
                                               {"Envois", 8},
                                               {"Dernier envoi", 17},
                                               {"Fichiers", 44},
                                               {"Accusé envoyé", 14},
                                               {"Transmis à l'IEN-IO", 19},
                                               {"Relances", 14}}};

// Closes the workbook exactly once (workbook_close also frees it).
struct WorkbookCloser {
    lxw_workbook* wb = nullptr;
    lxw_error close() {
        auto* w = wb;
        wb = nullptr;
        return w ? workbook_close(w) : LXW_NO_ERROR;
    }
    ~WorkbookCloser() {
        // An exception between workbook_new and the close: the file is
        // written anyway (and removed by TempFile); only the memory matters.
        if (wb) (void)workbook_close(wb);
    }
};

}  // namespace

std::string status_xlsx(const CampaignStatus& st) {
    TempFile tmp("status-xlsx");
    const char* env = std::getenv("TMPDIR");
    std::string tmpdir = env && *env ? env : "/tmp";
    lxw_workbook_options options{};
    options.constant_memory = LXW_FALSE;
    options.tmpdir = tmpdir.data();
    WorkbookCloser book;
    book.wb = workbook_new_opt(tmp.path().c_str(), &options);
    if (!book.wb) throw transient_error("XLSX: cannot start a workbook in " + tmpdir);
    lxw_workbook* wb = book.wb;

    std::string title = cell_text(st.name);
    lxw_doc_properties props{};
    props.title = title.data();
    check(workbook_set_properties(wb, &props), "properties");

    lxw_worksheet* ws = workbook_add_worksheet(wb, "Lycées");
    if (!ws) throw transient_error("XLSX: cannot add the sheet");
    lxw_format* header = workbook_add_format(wb);
    format_set_bold(header);
    format_set_bg_color(header, 0xDDE5F0);
    format_set_bottom(header, LXW_BORDER_THIN);
    format_set_text_wrap(header);
    format_set_align(header, LXW_ALIGN_VERTICAL_CENTER);
    lxw_format* text = workbook_add_format(wb);
    format_set_num_format(text, "@");   // stays text when edited: "09" never becomes 9
    lxw_format* when = workbook_add_format(wb);
    format_set_num_format(when, "dd/mm/yyyy hh:mm");

    for (lxw_col_t c = 0; c < kColumns.size(); ++c) {
        check(worksheet_set_column(ws, c, c, kColumns[c].width, nullptr), "column width");
        check(worksheet_write_string(ws, 0, c, kColumns[c].header, header), "header");
    }
    worksheet_freeze_panes(ws, 1, 0);

    auto str = [&](lxw_row_t r, lxw_col_t c, const std::string& v, lxw_format* f = nullptr) {
        if (v.empty()) return;
        check(worksheet_write_string(ws, r, c, cell_text(v).c_str(), f), "cell");
    };
    lxw_row_t row = 1;
    for (const auto& l : st.lycees) {
        str(row, 0, l.lycee.uai, text);
        str(row, 1, l.lycee.name);
        str(row, 2, l.lycee.commune);
        str(row, 3, l.lycee.academie, text);
        str(row, 4, l.lycee.bassin_code, text);
        str(row, 5, l.lycee.bassin_label);
        str(row, 6, l.ien_io);
        str(row, 7, state_label_fr(l.state));
        check(worksheet_write_number(ws, row, 8, static_cast<double>(l.submissions.size()), nullptr), "count");
        std::string files, reminders;
        bool ack = false, fwd = false;
        if (!l.submissions.empty()) {
            const auto& s = l.submissions.back();
            const LocalTime t = local_time(s.received_at, st.timezone);
            lxw_datetime dt{t.year, t.month, t.day, t.hour, t.minute, static_cast<double>(t.second)};
            check(worksheet_write_datetime(ws, row, 9, &dt, when), "date");
            for (const auto& f : s.files) files += (files.empty() ? "" : ", ") + f.name;
            ack = s.acknowledged;
            fwd = s.forwarded;
        }
        for (int r : l.reminders_sent) reminders += (reminders.empty() ? "" : " ") + ("J" + offset_label(r));
        str(row, 10, files);
        str(row, 11, ack ? "oui" : "non");
        str(row, 12, fwd ? "oui" : "non");
        str(row, 13, reminders);
        ++row;
    }
    check(worksheet_autofilter(ws, 0, 0, row - 1, static_cast<lxw_col_t>(kColumns.size() - 1)), "filter");
    check(book.close(), ("writing " + tmp.path()).c_str());
    return read_whole(tmp.path());
}

std::string zip_entry_name(const std::string& uai, const std::string& lycee_name, const std::string& original_name,
                           std::size_t n, std::set<std::string>& used) {
    std::string ext;
    // The original name's extension, as safe_file_name sees one (a dot, at most 9 characters after it).
    const auto slash = original_name.find_last_of("/\\");
    const std::string base = slash == std::string::npos ? original_name : original_name.substr(slash + 1);
    if (auto dot = base.rfind('.'); dot != std::string::npos && dot > 0 && base.size() - dot <= 10 && base.size() - dot > 1) {
        ext = base.substr(dot);
        std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    // A '/' or '\\' in a lycée's name is not a folder: safe_file_name keeps
    // only what follows the last one, so they become '-' first.
    std::string stem = uai + " - " + lycee_name;
    std::replace(stem.begin(), stem.end(), '/', '-');
    std::replace(stem.begin(), stem.end(), '\\', '-');
    if (n >= 2) stem += " (" + std::to_string(n) + ")";
    return safe_file_name(stem + ext, used);
}

FilesZip plan_files_zip(Store& store, const CampaignStatus& status, const std::string& bassin) {
    FilesZip plan;
    plan.bassin = bassin;
    std::set<std::string> used;
    for (const auto& l : status.lycees) {
        if (l.lycee.bassin_code != bassin) continue;
        if (l.submissions.empty()) {
            plan.without_ppo.push_back(l.lycee.uai);
            continue;
        }
        const auto& latest = l.submissions.back();
        std::size_t n = 0;
        for (const auto& f : store.files_of(latest.id)) {
            if (f.kind == "tnef") continue;   // the winmail.dat itself: its files are the documents
            ZipEntry e;
            e.name = zip_entry_name(l.lycee.uai, l.lycee.name, f.name, ++n, used);
            e.path = f.path;
            e.uai = l.lycee.uai;
            e.submission_id = latest.id;
            e.received_at = latest.received_at;
            e.size = f.size;
            plan.entries.push_back(std::move(e));
        }
    }
    return plan;
}

FilesZip write_files_zip(Store& store, const CampaignStatus& status, const std::string& bassin, std::ostream& out) {
    FilesZip plan = plan_files_zip(store, status, bassin);
    TempFile tmp("files-zip");
    std::vector<ZipEntry> kept;
    try {
        std::ofstream file(tmp.path(), std::ios::binary | std::ios::trunc);
        if (!file) throw transient_error("cannot write " + tmp.path() + ": " + std::strerror(errno));
        Poco::Zip::Compress zip(file, true);
        // Already compressed: stored as they are (the rest is deflated).
        zip.setStoreExtensions({"docx", "xlsx", "pptx", "odt", "ods", "odp", "zip", "jpg", "jpeg", "png", "gz"});
        for (const auto& e : plan.entries) {
            std::ifstream in(e.path, std::ios::binary);
            if (!in) {
                const std::string why = e.path + ": " + std::strerror(errno);
                spdlog::warn("files.zip (bassin {}): UAI {}: submission {}: cannot read {}; left out", bassin, e.uai,
                             e.submission_id, why);
                plan.unreadable.push_back(why);
                continue;
            }
            const LocalTime t = local_time(e.received_at, status.timezone);
            zip.addFile(in, Poco::DateTime(t.year, t.month, t.day, t.hour, t.minute, t.second), Poco::Path(e.name),
                        Poco::Zip::ZipCommon::CM_AUTO, Poco::Zip::ZipCommon::CL_NORMAL);
            kept.push_back(e);
        }
        zip.close();
        file.close();
        if (!file) throw transient_error("cannot write " + tmp.path() + " (disk full?)");
    } catch (const Poco::Exception& e) {
        throw transient_error("files.zip: " + e.displayText());
    }
    plan.entries = std::move(kept);
    std::ifstream in(tmp.path(), std::ios::binary);
    if (!in) throw transient_error("cannot read back " + tmp.path() + ": " + std::strerror(errno));
    out << in.rdbuf();
    out.flush();
    if (!out) throw transient_error("files.zip: the output could not be written");
    return plan;
}

}  // namespace ppo::workflow
