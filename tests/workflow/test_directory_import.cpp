#include "parsers/csv.h"
#include "parsers/error.h"
#include "workflow/directory_import.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using ppo::workflow::read_annuaire;
using ppo::workflow::read_routing;

namespace {

std::string sample() {
    std::ifstream in(std::string(PPO_TEST_DATA_DIR) + "/annuaire-hdf-sample.csv", std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Counts the LGTs of the sample without the product's code: split lines on ';'
// (the sample has no quoted fields) and apply DESIGN.md's rule.
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
    EXPECT_TRUE(r.errors.empty());
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

TEST(DirectoryImport, WrongCheckLetterIsReportedWithItsLineAndTheRestIsKept) {
    auto text = sample();
    auto pos = text.find("0596082R");
    ASSERT_NE(pos, std::string::npos);
    text[pos + 7] = 'X';
    auto line = std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n') + 1;
    auto r = read_annuaire(text, {"09", "20"});
    EXPECT_EQ(r.lycees.size(), 139u);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0], "line " + std::to_string(line) +
                               ": UAI 0596082X has a wrong check letter (expected 0596082R)");
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
                          "095913;BASSIN DUNKERQUE;;pas-une-adresse\n");
    ASSERT_EQ(r.bassins.size(), 2u);
    EXPECT_EQ(r.bassins[0].ien_io_mail, "ien-io.douai@ac-lille.fr");
    EXPECT_EQ(r.bassins[1].ien_io_mail, "");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("line 3"), std::string::npos);
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
