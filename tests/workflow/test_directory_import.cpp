#include "parsers/text/csv.h"
#include "parsers/text/error.h"
#include "workflow/campaign/directory_import.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

using ppo::workflow::read_annuaire;
using ppo::workflow::read_routing;
using ppo::workflow::to_string;

namespace {

std::string sample(const std::string& name = "annuaire-hdf-sample.csv") {
    std::ifstream in(std::string(PPO_TEST_DATA_DIR) + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Counts the LGTs of the sample without the product's code: split lines on ';'
// (the sample has no quoted fields) and apply doc/design.md's rule.
int count_lgt_independently(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);
    int n = 0;
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ls(line);
        std::string cell;
        while (std::getline(ls, cell, ';')) f.push_back(cell);
        if (f.size() < 18) continue;
        // Type_etablissement=2, Code_academie=11, Voie_generale=15, Voie_technologique=16
        bool lycee = f[2] == "Lycée";
        bool gt = f[15] == "1" || f[16] == "1";
        bool acad = f[11] == "09" || f[11] == "20";
        n += lycee && gt && acad;
    }
    return n;
}

std::string lower_header(std::string text) {
    auto nl = text.find('\n');
    for (std::size_t i = 0; i < nl; ++i) text[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    return text;
}

}  // namespace

TEST(DirectoryImport, KeepsExactlyTheOpenLgtsOfTheConfiguredAcademies) {
    auto text = sample();
    auto r = read_annuaire(text, {"09", "20"});
    EXPECT_EQ(static_cast<int>(r.lycees.size()), count_lgt_independently(text));
    EXPECT_EQ(r.lycees.size(), 140u);
    EXPECT_EQ(r.rows, 168);
    EXPECT_EQ(r.skipped.at("lycée without voie générale or technologique (LP)"), 9);
    EXPECT_EQ(r.skipped.at("not a lycée (Collège)"), 8);
    EXPECT_EQ(r.skipped.at("not a lycée (Information et orientation)"), 11);
    EXPECT_TRUE(r.invalid.empty());
    EXPECT_EQ(r.encoding, "UTF-8");
    auto only_amiens = read_annuaire(text, {"20"});
    EXPECT_EQ(only_amiens.lycees.size(), 46u);
    EXPECT_EQ(only_amiens.skipped.at("other académie"), 94);
}

TEST(DirectoryImport, BomLowerCaseHeadersAndLfAreTheSame) {
    auto text = sample();
    auto base = read_annuaire(text, {"09", "20"});
    std::string lf = text;
    lf.erase(std::remove(lf.begin(), lf.end(), '\r'), lf.end());
    for (const auto& variant : {"\xEF\xBB\xBF" + text, lower_header(text), lf}) {
        auto r = read_annuaire(variant, {"09", "20"});
        ASSERT_EQ(r.lycees.size(), base.lycees.size());
        for (std::size_t i = 0; i < r.lycees.size(); ++i) {
            EXPECT_EQ(r.lycees[i].lycee.uai, base.lycees[i].lycee.uai);
            EXPECT_EQ(r.lycees[i].lycee.name, base.lycees[i].lycee.name);
            EXPECT_EQ(r.lycees[i].lycee.bassin_code, base.lycees[i].lycee.bassin_code);
        }
    }
}

TEST(DirectoryImport, WrongCheckLetterMakesTheRowInvalidWithItsLineAndColumn) {
    auto text = sample();
    auto pos = text.find("0596082R");
    ASSERT_NE(pos, std::string::npos);
    text[pos + 7] = 'X';
    auto line = std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n') + 1;
    auto r = read_annuaire(text, {"09", "20"});
    EXPECT_EQ(r.lycees.size(), 139u);
    EXPECT_EQ(r.invalid_rows, 1);
    ASSERT_EQ(r.invalid.size(), 1u);
    EXPECT_EQ(ppo::workflow::to_string(r.invalid[0]),
              "line " + std::to_string(line) +
                  ", column Identifiant_de_l_etablissement: UAI 0596082X has a wrong check letter (expected 0596082R)");
    EXPECT_TRUE(r.invalid_uais.empty());
}

TEST(DirectoryImport, QuotedFieldsClosedRowsAndMissingColumns) {
    std::string csv =
        "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Code_academie;Voie_generale;"
        "Voie_technologique;Nom_commune;Mail;etat\r\n"
        "0590072H;\"Lycée \"\"de l'Europe\"\"; Dunkerque\";Lycée;09;1;0;Dunkerque;CE.0590072H@AC-LILLE.FR;OUVERT\r\n"
        "0600009J;Lycée fermé;Lycée;20;1;1;Beauvais;;FERME\r\n";
    auto r = read_annuaire(csv, {"09", "20"});
    ASSERT_EQ(r.lycees.size(), 1u);
    EXPECT_EQ(r.lycees[0].lycee.name, "Lycée \"de l'Europe\"; Dunkerque");
    EXPECT_EQ(r.lycees[0].lycee.mail, "ce.0590072h@ac-lille.fr");
    EXPECT_EQ(r.lycees[0].lycee.departement, "059");
    EXPECT_EQ(r.skipped.at("not open (FERME)"), 1);
    try {
        read_annuaire("uai;nom\n0590072H;x\n", {"09"});
        FAIL() << "a file without the annuaire columns must be refused";
    } catch (const ppo::Error& e) {
        EXPECT_NE(std::string(e.what()).find("Identifiant_de_l_etablissement"), std::string::npos);
    }
}

TEST(DirectoryImport, RoutingTable) {
    auto r = read_routing("code_bassin_formation;libelle_bassin_formation;ien_io_nom;ien_io_mail\n"
                          "095912;BASSIN DOUAI;IEN-IO Douai;IEN-IO.Douai@ac-lille.fr\n"
                          "095913;BASSIN DUNKERQUE;;pas-une-adresse\n"
                          "095914;BASSIN LILLE;;\n"
                          "../x;BASSIN X;;a@x.fr\n"
                          "095912;BASSIN DOUAI;;b@x.fr\n");
    ASSERT_EQ(r.bassins.size(), 2u);
    EXPECT_EQ(r.bassins[0].ien_io_mail, "ien-io.douai@ac-lille.fr");
    EXPECT_EQ(r.bassins[1].code, "095914");
    EXPECT_EQ(r.bassins[1].ien_io_mail, "");
    EXPECT_EQ(r.invalid_rows, 3);
    ASSERT_EQ(r.invalid.size(), 3u);
    EXPECT_EQ(to_string(r.invalid[0]),
              "line 3, column ien_io_mail (bassin 095913): 'pas-une-adresse' is not a mail address: no '@'");
    EXPECT_EQ(to_string(r.invalid[1]),
              "line 5, column code_bassin_formation: '../x' is not a bassin code (1 to 16 letters and digits)");
    EXPECT_EQ(to_string(r.invalid[2]),
              "line 6, column code_bassin_formation (bassin 095912): bassin 095912 appears twice (first at line 2)");
}

namespace {

// The sample with one field of the row of `uai` replaced.
std::string with_field(std::string text, const std::string& uai, int column, const std::string& value) {
    auto start = text.find("\n" + uai + ";") + 1;
    auto end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    std::size_t b = 0;
    for (int i = 0; i < column; ++i) b = line.find(';', b) + 1;
    auto e = line.find(';', b);
    line.replace(b, e - b, value);
    return text.replace(start, end - start, line);
}

int line_of(const std::string& text, const std::string& uai) {
    return static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(text.find("\n" + uai + ";")), '\n')) + 2;
}

constexpr int kMail = 21, kBassin = 70, kName = 1;

}  // namespace

TEST(DirectoryImport, DirectoryDataIsNeverSyntax) {
    struct Case {
        int column;
        std::string value, expected;
    };
    for (const auto& c : std::vector<Case>{
             {kMail, "ce.0596082r@ac-lille.fr,evil@x.fr", "column Mail (UAI 0596082R): 'ce.0596082r@ac-lille.fr,evil@x.fr' is not a mail address: character ',' is not allowed"},
             {kMail, "\"ce@ac-lille.fr\r\n\tRCPT TO:<evil@x.fr>\"", "column Mail (UAI 0596082R): 'ce@ac-lille.fr\\r\\n\\tRCPT TO:<evil@x.fr>' is not a mail address: control character 0x0D"},
             {kBassin, "../../../x", "column code_bassin_formation (UAI 0596082R): '../../../x' is not a bassin code"},
             {kBassin, "12345678901234567", "is not a bassin code"},
             {kName, "\"Lycée\r\nBcc: x@y.fr\"", "column Nom_etablissement (UAI 0596082R): 'Lycée\\r\\nBcc: x@y.fr' holds a control character"},
         }) {
        const auto text = with_field(sample(), "0596082R", c.column, c.value);
        auto r = read_annuaire(text, {"09", "20"});
        EXPECT_EQ(r.lycees.size(), 139u) << c.value;
        ASSERT_EQ(r.invalid.size(), 1u) << c.value;
        const auto msg = to_string(r.invalid[0]);
        EXPECT_EQ(msg.rfind("line " + std::to_string(line_of(text, "0596082R")) + ", ", 0), 0u) << msg;
        EXPECT_NE(msg.find(c.expected), std::string::npos) << msg;
        EXPECT_EQ(r.invalid_uais, std::vector<std::string>{"0596082R"});
    }
}

TEST(DirectoryImport, RowsFilteredOutAreNotJudged) {
    // 0629417Z is a lycée professionnel: not expected, so its bad Mail is only "ignored".
    const auto text = with_field(sample(), "0629417Z", kMail, "a,b@x.fr");
    auto r = read_annuaire(text, {"09", "20"});
    EXPECT_EQ(r.lycees.size(), 140u);
    EXPECT_TRUE(r.invalid.empty());
    ASSERT_EQ(r.ignored.size(), 1u);
    EXPECT_NE(to_string(r.ignored[0]).find("column Mail (UAI 0629417Z)"), std::string::npos);
}

TEST(DirectoryImport, ShiftedColumnsAndDuplicatesAreInvalid) {
    auto text = sample();
    const auto dup_start = text.find("\n0596082R;") + 1;
    const std::string row = text.substr(dup_start, text.find('\n', dup_start) - dup_start + 1);
    text += row;                                                     // the same UAI again, last
    auto shifted = text.find("\n0626769W;Lycée privé Jeanne d'Arc;") + 1;
    text.replace(shifted, 8 + 1 + 25, "0626769W;Lycée privé; Jeanne d'Arc");  // one ';' too many
    auto r = read_annuaire(text, {"09", "20"});
    EXPECT_EQ(r.lycees.size(), 139u);
    ASSERT_EQ(r.invalid.size(), 2u);
    EXPECT_NE(to_string(r.invalid[0]).find("line 2 (UAI 0626769W): the row has 73 columns where the header has 72"),
              std::string::npos) << to_string(r.invalid[0]);
    EXPECT_NE(to_string(r.invalid[1]).find("UAI 0596082R appears twice (first at line"), std::string::npos)
        << to_string(r.invalid[1]);
}

TEST(DirectoryImport, Windows1252CopyGivesTheSameLycees) {
    const auto utf8 = sample();
    // The same file as Excel on Windows saves it ("CSV (;)"), made with iconv -t WINDOWS-1252.
    const auto cp1252 = sample("annuaire-hdf-sample-cp1252.csv");
    ASSERT_NE(cp1252, utf8);
    ASSERT_EQ(cp1252.find("\xC3"), std::string::npos) << "still UTF-8";
    auto a = read_annuaire(utf8, {"09", "20"});
    auto b = read_annuaire(cp1252, {"09", "20"});
    EXPECT_EQ(b.encoding, "Windows-1252");
    EXPECT_TRUE(b.converted);
    ASSERT_EQ(b.lycees.size(), a.lycees.size());
    for (std::size_t i = 0; i < a.lycees.size(); ++i) {
        EXPECT_EQ(b.lycees[i].lycee.uai, a.lycees[i].lycee.uai);
        EXPECT_EQ(b.lycees[i].lycee.name, a.lycees[i].lycee.name);
        EXPECT_EQ(b.lycees[i].lycee.commune, a.lycees[i].lycee.commune);
        EXPECT_EQ(b.lycees[i].lycee.statut, a.lycees[i].lycee.statut);
    }
    EXPECT_EQ(b.skipped, a.skipped);
}

TEST(DirectoryImport, TruncatedAndForeignFilesAreRefusedWithTheirLine) {
    const auto text = sample();
    auto refusal = [](const std::string& bytes) -> std::string {
        try {
            read_annuaire(bytes, {"09", "20"});
        } catch (const ppo::Error& e) {
            EXPECT_EQ(e.kind(), ppo::ErrorKind::corrupt);
            return e.what();
        }
        return "accepted";
    };
    // Cut in the middle of the last row, with and without a final line break.
    const auto cut = text.substr(0, text.size() - 200);
    EXPECT_NE(refusal(cut).find("line 169: the last row has"), std::string::npos) << refusal(cut);
    EXPECT_NE(refusal(cut).find("and no final line break: the file is truncated"), std::string::npos);
    EXPECT_NE(refusal(cut + "\r\n").find("line 169: the last row has"), std::string::npos);
    // Cut inside a quoted field.
    EXPECT_NE(refusal(text + "0590072H;\"Lycée").find("line 170: unterminated quoted field"), std::string::npos);
    // Without its last line break but whole: accepted.
    EXPECT_EQ(read_annuaire(text.substr(0, text.size() - 2), {"09", "20"}).lycees.size(), 140u);
    EXPECT_NE(refusal("\xFF\xFEI\0d\0").find("UTF-16"), std::string::npos);
    EXPECT_NE(refusal("").find("empty"), std::string::npos);
}

namespace {

ppo::workflow::DirectoryRow stored_row(const ppo::workflow::DirectoryRow& r, bool open = true) {
    auto s = r;
    s.lycee.open = open;
    return s;
}

}  // namespace

TEST(DirectoryImport, PlanSaysWhatChangesAndTheValveCounts) {
    using namespace ppo::workflow;
    auto file = read_annuaire(sample(), {"09", "20"});
    RoutingImport routing;
    routing.bassins.push_back({"095912", "BASSIN DOUAI", "IEN-IO Douai", "ien-io.douai@ac-lille.fr"});
    // The store: every lycée of the file but the first, the second renamed, the third closed, plus one no longer in it.
    std::vector<DirectoryRow> stored;
    for (std::size_t i = 1; i < file.lycees.size(); ++i) stored.push_back(stored_row(file.lycees[i], i != 3));
    stored[0].lycee.name = "Ancien nom";
    DirectoryRow gone = file.lycees[0];
    gone.lycee.uai = "0590072H";
    stored.push_back(gone);
    std::vector<Bassin> bassins{{"095912", "BASSIN DOUAI", "", "old@ac-lille.fr"}};
    auto plan = plan_import(stored, bassins, file, routing, {"09", "20"});
    ASSERT_EQ(plan.added.size(), 1u);
    EXPECT_EQ(plan.added[0].lycee.uai, file.lycees[0].lycee.uai);
    ASSERT_EQ(plan.updated.size(), 2u);
    EXPECT_EQ(plan.updated[0].changes, std::vector<std::string>{"name 'Ancien nom' -> '" + file.lycees[1].lycee.name + "'"});
    EXPECT_EQ(plan.updated[1].changes, std::vector<std::string>{"reopened"});
    EXPECT_EQ(plan.unchanged, 137u);
    ASSERT_EQ(plan.closed.size(), 1u);
    EXPECT_EQ(plan.closed[0].uai, "0590072H");
    EXPECT_EQ(plan.open_before, 139u);
    EXPECT_FALSE(closes_too_many(plan));
    EXPECT_NE(std::find(plan.bassin_changes.begin(), plan.bassin_changes.end(),
                        "095912: IEN-IO name '' -> 'IEN-IO Douai', IEN-IO 'old@ac-lille.fr' -> 'ien-io.douai@ac-lille.fr'"),
              plan.bassin_changes.end());

    // The same file applied again: nothing to do.
    std::vector<DirectoryRow> now;
    for (const auto& r : file.lycees) now.push_back(stored_row(r));
    std::vector<Bassin> now_bassins;
    for (const auto& b : file.bassins) now_bassins.push_back(b.code == "095912" ? routing.bassins[0] : b);
    EXPECT_TRUE(plan_import(now, now_bassins, file, routing, {"09", "20"}).changes_nothing());

    // 14 of 140 closed is 10 %: allowed; 15 is not. A lycée whose row is invalid is left as it is.
    auto fewer = file;
    fewer.lycees.erase(fewer.lycees.begin(), fewer.lycees.begin() + 14);
    EXPECT_FALSE(closes_too_many(plan_import(now, now_bassins, fewer, routing, {"09", "20"})));
    fewer.lycees.erase(fewer.lycees.begin());
    auto too_many = plan_import(now, now_bassins, fewer, routing, {"09", "20"});
    EXPECT_EQ(too_many.closed.size(), 15u);
    EXPECT_TRUE(closes_too_many(too_many));
    fewer.invalid_uais.push_back(file.lycees[0].lycee.uai);
    auto left = plan_import(now, now_bassins, fewer, routing, {"09", "20"});
    EXPECT_EQ(left.closed.size(), 14u);
    EXPECT_EQ(left.left_as_is, 1u);
    EXPECT_FALSE(closes_too_many(left));
}

TEST(Csv, QuotesSeparatorsAndLineBreaks) {
    auto t = ppo::parsers::parse_csv("a;b;c\r\n1;\"x;y\";\"multi\nline\"\r\n\r\n2;\"\"\"q\"\"\";\n");
    ASSERT_EQ(t.records.size(), 2u);
    EXPECT_EQ(t.records[0].fields, (std::vector<std::string>{"1", "x;y", "multi\nline"}));
    EXPECT_EQ(t.records[1].line, 5);
    EXPECT_EQ(t.records[1].fields, (std::vector<std::string>{"2", "\"q\"", ""}));
    EXPECT_EQ(ppo::parsers::csv_field("a;b"), "\"a;b\"");
    EXPECT_EQ(ppo::parsers::csv_field("plain"), "plain");
    auto bad = ppo::parsers::parse_csv("a\n\"open");
    EXPECT_EQ(bad.problems.size(), 1u);
}
