// Exports that open right in a spreadsheet or a file manager: the CSV's
// neutralised formulas and French states, the XLSX's cell types (read back
// from the sheet's XML), files.zip's names and contents (unzipped again).
#include "workflow/status/exports.h"

#include "daemon/store/database.h"
#include "daemon/store/sql_store.h"
#include "parsers/text/csv.h"
#include "workflow/campaign/campaign_time.h"

#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

namespace fs = std::filesystem;

std::int64_t at(const std::string& iso) { return parse_instant(iso, "Europe/Paris"); }

// Every file of a ZIP held in memory: name -> content.
std::map<std::string, std::string> unzip(const std::string& bytes) {
    std::map<std::string, std::string> out;
    std::istringstream in(bytes);
    Poco::Zip::ZipArchive archive(in);
    for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
        if (it->second.isDirectory()) continue;
        std::istringstream again(bytes);
        Poco::Zip::ZipInputStream zin(again, it->second, true);
        std::ostringstream content;
        content << zin.rdbuf();
        out[it->first] = content.str();
    }
    return out;
}

// The general purpose flags of each entry of the central directory.
std::vector<unsigned> central_flags(const std::string& zip) {
    std::vector<unsigned> flags;
    for (std::size_t p = zip.find("PK\x01\x02"); p != std::string::npos; p = zip.find("PK\x01\x02", p + 4))
        flags.push_back(static_cast<unsigned char>(zip[p + 8]) | (static_cast<unsigned char>(zip[p + 9]) << 8));
    return flags;
}

LyceeStatus lycee(const std::string& uai, const std::string& name, const std::string& academie, const std::string& bassin,
                  const std::string& state) {
    LyceeStatus l;
    l.lycee.uai = uai;
    l.lycee.name = name;
    l.lycee.commune = "Douai";
    l.lycee.academie = academie;
    l.lycee.bassin_code = bassin;
    l.lycee.bassin_label = "BASSIN " + bassin;
    l.ien_io = "ien-io@ac-lille.fr";
    l.state = state;
    return l;
}

// Three lycées: one received (with a submission), one late, one missing.
CampaignStatus sample_status() {
    CampaignStatus st;
    st.name = "PPO 2021-2022";
    st.deadline = "2022-03-25";
    st.timezone = "Europe/Paris";
    auto a = lycee("0596082R", "Lycée Albert Châtelet", "09", "095912", "received");
    SubmissionStatus s;
    s.id = 7;
    s.received_at = at("2022-03-01T10:02:11+01:00");
    s.files = {{"PPO 2022.pdf", 1000, "ab"}, {"annexe.docx", 2000, "cd"}};
    s.acknowledged = true;
    a.submissions.push_back(s);
    a.reminders_sent = {-21};
    auto b = lycee("0590072H", "Lycée Camille Claudel", "09", "095912", "late");
    SubmissionStatus late = s;
    late.id = 9;
    late.received_at = at("2022-03-28T08:00:00+02:00");
    late.late = true;
    b.submissions.push_back(late);
    auto c = lycee("0801234G", "Lycée Madeleine Michelis", "20", "200801", "missing");
    st.lycees = {a, b, c};
    return st;
}

// ---- CSV ----------------------------------------------------------------

TEST(CsvNeutralisation, EachDangerousFirstCharacterGetsAnApostrophe) {
    using parsers::csv_text_field;
    EXPECT_EQ(csv_text_field("=1+1"), "'=1+1");
    EXPECT_EQ(csv_text_field("+33 3 20 00 00 00"), "'+33 3 20 00 00 00");
    EXPECT_EQ(csv_text_field("-2+3"), "'-2+3");
    EXPECT_EQ(csv_text_field("@SUM(A1:A2)"), "'@SUM(A1:A2)");
    EXPECT_EQ(csv_text_field("\tx"), "'\tx");
    // A leading CR also needs quoting (a line break): apostrophe inside the quotes.
    EXPECT_EQ(csv_text_field("\rx"), "\"'\rx\"");
    // Quoting still applies after the apostrophe.
    EXPECT_EQ(csv_text_field("=HYPERLINK(\"http://x\";\"clic\")"), "\"'=HYPERLINK(\"\"http://x\"\";\"\"clic\"\")\"");
    // Harmless values are written as csv_field writes them.
    for (const std::string v : {"", "0596082R", "Lycée a=b", "J-21 J+7", "2022-03-01T10:02:11+01:00", "'quoted", " =x"})
        EXPECT_EQ(csv_text_field(v), parsers::csv_field(v)) << v;
    // Read back, the value is the original with the apostrophe.
    auto back = parsers::parse_csv(csv_text_field("=a;b") + ";x\n");
    ASSERT_EQ(back.header.size(), 2u);
    EXPECT_EQ(back.header[0], "'=a;b");
}

TEST(CsvNeutralisation, StatusCsvNeutralisesEveryFieldFromDataAndSaysStatesInFrench) {
    auto st = sample_status();
    st.lycees[0].lycee.name = "=HYPERLINK(\"http://evil.example\",\"Lycée\")";
    st.lycees[0].lycee.commune = "+Douai";
    st.lycees[0].ien_io = "@ien";
    st.lycees[0].submissions[0].files = {{"-cmd.pdf", 1, ""}};
    st.lycees[2].lycee.bassin_label = "-BASSIN";
    const std::string csv = status_csv(st);
    auto table = parsers::parse_csv(csv);
    ASSERT_EQ(table.records.size(), 3u);
    const auto& header = table.header;
    auto col = [&](const std::string& name) {
        for (std::size_t i = 0; i < header.size(); ++i)
            if (header[i] == name) return i;
        ADD_FAILURE() << "no column " << name;
        return std::size_t{0};
    };
    const auto& r0 = table.records[0].fields;
    EXPECT_EQ(r0[col("nom")], "'=HYPERLINK(\"http://evil.example\",\"Lycée\")");
    EXPECT_EQ(r0[col("commune")], "'+Douai");
    EXPECT_EQ(r0[col("ien_io")], "'@ien");
    EXPECT_EQ(r0[col("fichiers")], "'-cmd.pdf");
    EXPECT_EQ(table.records[2].fields[col("bassin")], "'-BASSIN");
    // No field anywhere starts with a formula character.
    for (const auto& r : table.records)
        for (const auto& f : r.fields) EXPECT_FALSE(parsers::csv_needs_neutralising(f)) << f;
    // States in French.
    EXPECT_EQ(r0[col("etat")], "reçu");
    EXPECT_EQ(table.records[1].fields[col("etat")], "en retard");
    EXPECT_EQ(table.records[2].fields[col("etat")], "manquant");
    EXPECT_EQ(r0[col("relances")], "J-21");
    EXPECT_EQ(r0[col("uai")], "0596082R");
}

// ---- XLSX ---------------------------------------------------------------

struct Cell {
    std::string type;    // t="..." ("s": shared string; "" a number)
    std::string style;   // s="..."
    std::string value;   // <v>...</v>
};

// Cells of sheet1.xml by reference ("A2"), with the shared strings resolved
// into `text` for t="s" cells.
struct Sheet {
    std::map<std::string, Cell> cells;
    std::vector<std::string> strings;
    std::size_t rows = 0;
    std::string xml, styles;
    std::string text(const std::string& ref) const {
        auto it = cells.find(ref);
        if (it == cells.end() || it->second.type != "s") return "<not a string>";
        return strings.at(std::stoul(it->second.value));
    }
};

Sheet read_sheet(const std::string& xlsx) {
    auto files = unzip(xlsx);
    Sheet sheet;
    sheet.xml = files.at("xl/worksheets/sheet1.xml");
    sheet.styles = files.at("xl/styles.xml");
    const std::string& shared = files.at("xl/sharedStrings.xml");
    std::regex si("<si><t(?: [^>]*)?>([^<]*)</t></si>");
    for (auto it = std::sregex_iterator(shared.begin(), shared.end(), si); it != std::sregex_iterator(); ++it) {
        std::string s = (*it)[1];
        for (auto [from, to] : {std::pair<std::string, std::string>{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}}) {
            for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
        }
        sheet.strings.push_back(s);
    }
    std::regex cell("<c r=\"([A-Z]+[0-9]+)\"((?: [a-z]+=\"[^\"]*\")*)(?:/>|><v>([^<]*)</v></c>)");
    std::regex attr(" ([a-z]+)=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(sheet.xml.begin(), sheet.xml.end(), cell); it != std::sregex_iterator(); ++it) {
        Cell c;
        const std::string attrs = (*it)[2];
        for (auto a = std::sregex_iterator(attrs.begin(), attrs.end(), attr); a != std::sregex_iterator(); ++a) {
            if ((*a)[1] == "t") c.type = (*a)[2];
            if ((*a)[1] == "s") c.style = (*a)[2];
        }
        c.value = (*it)[3];
        sheet.cells[(*it)[1]] = c;
    }
    for (auto p = sheet.xml.find("<row "); p != std::string::npos; p = sheet.xml.find("<row ", p + 1)) ++sheet.rows;
    return sheet;
}

// The number format (formatCode) of a cell style index, through cellXfs and numFmts.
std::string number_format(const Sheet& sheet, const std::string& style) {
    const auto xfs_start = sheet.styles.find("<cellXfs");
    const auto xfs_end = sheet.styles.find("</cellXfs>");
    std::string xfs = sheet.styles.substr(xfs_start, xfs_end - xfs_start);
    std::regex xf("<xf [^>]*numFmtId=\"([0-9]+)\"");
    std::vector<std::string> ids;
    for (auto it = std::sregex_iterator(xfs.begin(), xfs.end(), xf); it != std::sregex_iterator(); ++it) ids.push_back((*it)[1]);
    const std::string id = ids.at(style.empty() ? 0 : std::stoul(style));
    std::smatch m;
    const std::regex fmt("<numFmt numFmtId=\"" + id + "\" formatCode=\"([^\"]*)\"");
    if (std::regex_search(sheet.styles, m, fmt)) return m[1];
    return "builtin " + id;
}

TEST(StatusXlsx, OneRowPerLyceeCodesAsTextDatesAsDatesStatesInFrench) {
    const auto st = sample_status();
    const std::string xlsx = status_xlsx(st);
    ASSERT_GT(xlsx.size(), 1000u);
    EXPECT_EQ(xlsx.substr(0, 2), "PK");
    const Sheet sheet = read_sheet(xlsx);

    // A header row, then one row per lycée.
    EXPECT_EQ(sheet.rows, 1 + st.lycees.size());
    EXPECT_EQ(sheet.text("A1"), "UAI");
    EXPECT_EQ(sheet.text("D1"), "Académie");
    EXPECT_EQ(sheet.text("H1"), "État");
    EXPECT_EQ(sheet.text("J1"), "Dernier envoi");

    // Codes are text: "09" and "095912" keep their leading zero.
    EXPECT_EQ(sheet.text("A2"), "0596082R");
    EXPECT_EQ(sheet.text("D2"), "09");
    EXPECT_EQ(sheet.text("E2"), "095912");
    EXPECT_EQ(sheet.text("D4"), "20");
    const std::string code_format = number_format(sheet, sheet.cells.at("D2").style);
    EXPECT_TRUE(code_format == "builtin 49" || code_format == "@") << code_format;   // text
    EXPECT_EQ(sheet.text("B2"), "Lycée Albert Châtelet");

    // States in French.
    EXPECT_EQ(sheet.text("H2"), "reçu");
    EXPECT_EQ(sheet.text("H3"), "en retard");
    EXPECT_EQ(sheet.text("H4"), "manquant");

    // The number of submissions is a number.
    EXPECT_EQ(sheet.cells.at("I2").type, "");
    EXPECT_EQ(sheet.cells.at("I2").value, "1");
    EXPECT_EQ(sheet.cells.at("I4").value, "0");

    // The last submission is a date-time: a number (days since 1899-12-30,
    // local time of the campaign) with a date format.
    const Cell& when = sheet.cells.at("J2");
    EXPECT_EQ(when.type, "");
    const double expected = 44621.0 + (10 * 3600 + 2 * 60 + 11) / 86400.0;   // 2022-03-01 10:02:11
    EXPECT_NEAR(std::stod(when.value), expected, 1e-6);
    EXPECT_EQ(number_format(sheet, when.style), "dd/mm/yyyy hh:mm");
    const double late = 44648.0 + 8 / 24.0;   // 2022-03-28 08:00 (summer time)
    EXPECT_NEAR(std::stod(sheet.cells.at("J3").value), late, 1e-6);
    EXPECT_EQ(sheet.cells.count("J4"), 0u);   // missing: no date at all

    EXPECT_EQ(sheet.text("K2"), "PPO 2022.pdf, annexe.docx");
    EXPECT_EQ(sheet.text("L2"), "oui");
    EXPECT_EQ(sheet.text("N2"), "J-21");

    // Frozen header, a filter over the table, widths set.
    EXPECT_NE(sheet.xml.find("ySplit=\"1\""), std::string::npos);
    EXPECT_NE(sheet.xml.find("state=\"frozen\""), std::string::npos);
    EXPECT_NE(sheet.xml.find("<autoFilter ref=\"A1:N4\"/>"), std::string::npos);
    EXPECT_NE(sheet.xml.find("<col min=\"2\" max=\"2\" width=\""), std::string::npos);
}

TEST(StatusXlsx, FormulasAndControlCharactersStayText) {
    auto st = sample_status();
    st.lycees[0].lycee.name = "=1+1";
    st.lycees[1].lycee.name = std::string("bad\x01name\xff");
    const Sheet sheet = read_sheet(status_xlsx(st));
    EXPECT_EQ(sheet.text("B2"), "=1+1");
    EXPECT_EQ(sheet.xml.find("<f>"), std::string::npos);
    EXPECT_EQ(sheet.text("B3"), "bad name?");
}

TEST(StatusXlsx, EmptyStatusHasTheHeaderOnlyAndLeavesNoTemporaryFile) {
    const fs::path tmp = fs::temp_directory_path() / ("ppo-xlsx-test-" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    const char* old = std::getenv("TMPDIR");
    const std::string saved = old ? old : "";
    ::setenv("TMPDIR", tmp.c_str(), 1);
    CampaignStatus st;
    st.timezone = "Europe/Paris";
    const Sheet sheet = read_sheet(status_xlsx(st));
    EXPECT_EQ(sheet.rows, 1u);
    EXPECT_TRUE(fs::is_empty(tmp)) << "a temporary file was left in " << tmp;
    if (old) ::setenv("TMPDIR", saved.c_str(), 1);
    else ::unsetenv("TMPDIR");
    fs::remove_all(tmp);
}

// ---- files.zip ----------------------------------------------------------

TEST(ZipEntryName, UaiNameAndExtensionSanitised) {
    std::set<std::string> used;
    EXPECT_EQ(zip_entry_name("0596082R", "Lycée Albert Châtelet", "PPO final.PDF", 1, used),
              "0596082R - Lycée Albert Châtelet.pdf");
    EXPECT_EQ(zip_entry_name("0596082R", "Lycée Albert Châtelet", "annexe.docx", 2, used),
              "0596082R - Lycée Albert Châtelet (2).docx");
    // Same name and extension again: made unique.
    EXPECT_EQ(zip_entry_name("0596082R", "Lycée Albert Châtelet", "x.pdf", 1, used),
              "0596082R - Lycée Albert Châtelet (2).pdf");
    // No folder, no control character, no leading dot.
    EXPECT_EQ(zip_entry_name("0590072H", "Lycée A/B\\C\x01", "../../etc/passwd", 1, used), "0590072H - Lycée A-B-C");
    EXPECT_EQ(zip_entry_name("0590072H", "x", "noext", 1, used), "0590072H - x");
    EXPECT_EQ(zip_entry_name("", "..hidden", ".pdf", 1, used), "- ..hidden");
}

class FilesZipTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("ppo-files-zip-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
        db_ = std::make_unique<daemon::Database>(DatabaseConfig{"sqlite://:memory:", "sqlite", ":memory:"});
        db_->migrate(PPO_SOURCE_DIR "/sql");
        store_ = std::make_unique<daemon::SqlStore>(*db_);
        config_.campaign.deadline = "2022-03-25";
        store_->upsert_bassin({"095912", "BASSIN DOUAI", "Mme Io", "ien-io.douai@ac-lille.fr"}, true);
        store_->upsert_bassin({"096212", "BASSIN BOULOGNE", "M. Io", "ien-io.boulogne@ac-lille.fr"}, true);
        add("0590072H", "Lycée Camille Claudel", "095912");
        add("0596082R", "Lycée Albert Châtelet", "095912");
        add("0596083S", "Lycée Sans Envoi", "095912");
        add("0626769W", "LEGT Édouard Branly", "096212");
        campaign_ = store_->ensure_campaign(config_.campaign.name, config_.campaign.deadline, "09,20", at("2022-01-10"));
    }
    void TearDown() override { fs::remove_all(dir_); }

    void add(const std::string& uai, const std::string& name, const std::string& bassin) {
        Lycee l;
        l.uai = uai;
        l.name = name;
        l.commune = "Douai";
        l.departement = uai.substr(0, 3);
        l.academie = "09";
        l.bassin_code = bassin;
        l.statut = "Public";
        store_->upsert_lycee({l, "300"}, at("2022-01-10"));
    }

    // A submission with these files (name, kind, content), written to disk.
    std::int64_t submit(const std::string& uai, const std::string& when,
                        const std::vector<std::tuple<std::string, std::string, std::string>>& files) {
        MessageRecord r;
        r.campaign_id = campaign_.id;
        r.mailbox = "INBOX";
        r.uidvalidity = 1;
        r.uid = ++uid_;
        r.received_at = at(when);
        r.from = "ce." + uai + "@ac-lille.fr";
        r.outcome = "submission";
        r.uai = uai;
        r.identified_by = "sender";
        r.folder = "processed";
        store_->begin();
        const auto id = store_->insert_message(r);
        int n = 0;
        for (const auto& [name, kind, content] : files) {
            FileRecord f;
            f.message_ref = id;
            f.name = name;
            f.path = (dir_ / (std::to_string(id) + "-" + std::to_string(++n))).string();
            std::ofstream(f.path, std::ios::binary) << content;
            f.size = static_cast<std::int64_t>(content.size());
            f.sha256 = "00";
            f.kind = kind;
            if (content.rfind("from-tnef", 0) == 0) f.container = "winmail.dat";
            store_->insert_file(f);
        }
        store_->commit();
        return id;
    }

    CampaignStatus status() {
        auto dir = store_->load_directory({"09"});
        return build_status(*store_, config_, campaign_.id, dir);
    }

    fs::path dir_;
    std::unique_ptr<daemon::Database> db_;
    std::unique_ptr<daemon::SqlStore> store_;
    Config config_;
    CampaignInfo campaign_;
    std::uint32_t uid_ = 0;
};

TEST_F(FilesZipTest, LatestSubmissionOfEachLyceeOfTheBassinNamedByUaiAndLycee) {
    submit("0590072H", "2022-03-01T10:00:00+01:00", {{"old.pdf", "pdf", "first version"}});
    const auto latest = submit("0590072H", "2022-03-02T10:00:00+01:00", {{"PPO v2.PDF", "pdf", "second version"}});
    // An Outlook mail: the winmail.dat is left out, its two files are in.
    submit("0596082R", "2022-03-03T10:00:00+01:00",
           {{"winmail.dat", "tnef", "TNEF container"}, {"PPO.docx", "docx", "from-tnef docx"}, {"Annexe.pdf", "pdf", "from-tnef pdf"}});
    submit("0626769W", "2022-03-03T10:00:00+01:00", {{"other bassin.pdf", "pdf", "not in this zip"}});

    std::ostringstream out;
    const FilesZip zip = write_files_zip(*store_, status(), "095912", out);
    const auto files = unzip(out.str());

    std::map<std::string, std::string> expected = {
        {"0590072H - Lycée Camille Claudel.pdf", "second version"},
        {"0596082R - Lycée Albert Châtelet.docx", "from-tnef docx"},
        {"0596082R - Lycée Albert Châtelet (2).pdf", "from-tnef pdf"},
    };
    EXPECT_EQ(files, expected);
    ASSERT_EQ(zip.entries.size(), 3u);
    EXPECT_EQ(zip.entries[0].submission_id, latest);
    EXPECT_EQ(zip.without_ppo, std::vector<std::string>{"0596083S"});
    EXPECT_TRUE(zip.unreadable.empty());
    // Every name is flagged UTF-8 (bit 11, set by Poco), so Windows shows the accents.
    auto flags = central_flags(out.str());
    ASSERT_EQ(flags.size(), 3u);
    for (auto f : flags) EXPECT_TRUE(f & 0x800) << std::hex << f;
    // The local headers too.
    for (std::size_t p = out.str().find("PK\x03\x04"); p != std::string::npos; p = out.str().find("PK\x03\x04", p + 4))
        EXPECT_TRUE(static_cast<unsigned char>(out.str()[p + 7]) & 0x08);
}

TEST_F(FilesZipTest, AnUnreadableFileIsLeftOutAndReported) {
    submit("0590072H", "2022-03-01T10:00:00+01:00", {{"ppo.pdf", "pdf", "kept"}});
    submit("0596082R", "2022-03-01T10:00:00+01:00", {{"ppo.pdf", "pdf", "lost"}});
    const auto plan = plan_files_zip(*store_, status(), "095912");
    ASSERT_EQ(plan.entries.size(), 2u);
    fs::remove(plan.entries[1].path);
    std::ostringstream out;
    const FilesZip zip = write_files_zip(*store_, status(), "095912", out);
    const auto files = unzip(out.str());
    EXPECT_EQ(files.size(), 1u);
    EXPECT_EQ(files.count("0590072H - Lycée Camille Claudel.pdf"), 1u);
    ASSERT_EQ(zip.unreadable.size(), 1u);
    EXPECT_NE(zip.unreadable[0].find(plan.entries[1].path), std::string::npos);
}

TEST_F(FilesZipTest, ABassinWithNothingReceivedGivesAnEmptyButValidZip) {
    std::ostringstream out;
    const FilesZip zip = write_files_zip(*store_, status(), "096212", out);
    EXPECT_TRUE(zip.entries.empty());
    EXPECT_EQ(zip.without_ppo, std::vector<std::string>{"0626769W"});
    EXPECT_TRUE(unzip(out.str()).empty());
    EXPECT_EQ(out.str().substr(0, 4), std::string("PK\x05\x06", 4));
}

}  // namespace
}  // namespace ppo::workflow
