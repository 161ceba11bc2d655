// The letterhead rules of identification.h: a lycée's name counts only where
// it names a lycée, with the traps met on real letterheads (issue 21, part 5).
#include "parsers/text/uai.h"
#include "workflow/intake/identification.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

Lycee lycee(std::string uai, std::string name, std::string commune, std::string adresse = "",
            std::string code_postal = "") {
    Lycee l;
    l.adresse = std::move(adresse);
    l.code_postal = std::move(code_postal);
    l.uai = std::move(uai);
    l.name = std::move(name);
    l.commune = std::move(commune);
    l.departement = l.uai.substr(0, 3);
    l.academie = l.uai.starts_with("059") ? "09" : "20";
    l.statut = "Public";
    return l;
}

// Noyon: Saint-Exupéry on rue Louis Pasteur, and a lycée named Louis Pasteur.
// Lille: two lycées named Jean Bart (the UAI must settle it), a lycée privé La
// Salle. Château-Thierry's accents. The UAIs have their right check letters.
const Directory& directory() {
    static const Directory d(
        {
            lycee("0600041U", "Lycée Antoine de Saint-Exupéry", "Noyon", "171 RUE LOUIS PASTEUR", "60400"),
            lycee("0600042V", "Lycée Louis Pasteur", "Noyon"),
            lycee("0590101P", "Lycée Jean Bart", "Lille", "1 RUE DU PORT", "59000"),
            lycee("0590102R", "Lycée privé Jean Bart", "Lille", "24 AVENUE DE DUNKERQUE", "59160"),
            lycee("0590103S", "Lycée privé La Salle", "Lille"),
            lycee("0590104T", "Lycée Faidherbe", "Lille"),
            lycee("0020050U", "Lycée Jean de La Fontaine", "Château-Thierry"),
            lycee("0807463C", "Lycée polyvalent Edouard Gand", "Amiens"),
        },
        {});
    return d;
}

Identification from_letterhead(const std::string& head, int page = 1) {
    IdentificationInput in;
    in.letterhead = head;
    in.letterhead_page = page;
    return identify(in, directory());
}

Identification from_body(const std::string& body) {
    IdentificationInput in;
    in.body_text = body;
    return identify(in, directory());
}

std::string all(const Identification& id) {
    std::string s = id.reason;
    for (const auto& e : id.evidence) s += "\n" + e;
    return s;
}

TEST(LetterheadDirectory, UaisAreValid) {
    // The test's directory must hold real-looking UAIs, or the cases below test nothing.
    for (const auto& l : directory().lycees()) EXPECT_TRUE(ppo::parsers::is_valid_uai(l.uai)) << l.uai;
}

TEST(Letterhead, StreetNamedAfterAnotherLyceeIsNotItsName) {
    const auto id = from_letterhead("Lycée Saint-Exupéry — 171 rue Louis Pasteur — 60400 NOYON");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.uai, "0600041U");
    EXPECT_EQ(id.lycees, std::vector<std::string>{"0600041U"});
}

TEST(Letterhead, StreetNamedAfterAnotherLyceeAloneIsNoEvidence) {
    const auto id = from_letterhead("Cité scolaire\n12 rue Louis Pasteur\n60400 NOYON");   // not Saint-Exupéry's number
    EXPECT_FALSE(id.identified) << all(id);
    EXPECT_TRUE(id.lycees.empty()) << all(id);
}

TEST(Letterhead, StreetNumberBeforeTheNameIsAnAddress) {
    // "171, Louis Pasteur" written without the street word, in a message body.
    const auto id = from_body("Envoyé depuis le 171, Louis Pasteur à Noyon");
    EXPECT_TRUE(id.lycees.empty()) << all(id);
}

TEST(Letterhead, AvenueDuGeneralIsAnAddress) {
    const auto id = from_body("Adresse : avenue du Général Faidherbe, 59000 Lille");
    EXPECT_TRUE(id.lycees.empty()) << all(id);
}

TEST(Letterhead, NameWithoutLyceeWordDoesNotCountInALetterhead) {
    const auto id = from_letterhead("Louis Pasteur\nNoyon");
    EXPECT_FALSE(id.identified) << all(id);
}

TEST(Letterhead, NameWithoutLyceeWordStillCountsInAMessage) {
    const auto id = from_body("Voici le PPO de Louis Pasteur, Noyon.");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.uai, "0600042V");
}

TEST(Letterhead, LyceeQualifiersBeforeTheName) {
    for (const std::string head : {"LPO Edouard Gand\n80000 Amiens", "Lycée polyvalent Édouard Gand, Amiens",
                                   "LYCÉE GÉNÉRAL ET TECHNOLOGIQUE ÉDOUARD GAND — AMIENS",
                                   "Lycée\nEdouard Gand\n80000 AMIENS"}) {
        const auto id = from_letterhead(head);
        EXPECT_TRUE(id.identified && id.uai == "0807463C") << head << "\n" << all(id);
    }
}

TEST(Letterhead, AcademieLineIsNotTheTown) {
    // The only "Lille" is the académie's: the town is not there.
    const auto id = from_letterhead("ACADÉMIE DE LILLE\nLycée Faidherbe\nDirection");
    EXPECT_FALSE(id.identified) << all(id);
    EXPECT_NE(id.reason.find("'Faidherbe' without 'Lille'"), std::string::npos) << all(id);
    const auto with_town = from_letterhead("ACADÉMIE DE LILLE\nLycée Faidherbe\n9 rue Armand Carrel 59000 Lille");
    EXPECT_TRUE(with_town.identified && with_town.uai == "0590104T") << all(with_town);
}

TEST(Letterhead, RegionAcademiqueLineNamesNoLycee) {
    const auto id = from_body("Région académique Hauts-de-France\nRectorat de l'académie de Lille");
    EXPECT_TRUE(id.lycees.empty()) << all(id);
}

TEST(Letterhead, CommonWordLeftFromANameIsNotTheName) {
    // "salle" from "Lycée privé La Salle".
    const auto id = from_body("Le conseil se tiendra en salle 12, à Lille.");
    EXPECT_TRUE(id.lycees.empty()) << all(id);
    const auto named = from_body("Le PPO du lycée privé La Salle, à Lille.");
    EXPECT_TRUE(named.identified && named.uai == "0590103S") << all(named);
}

TEST(Letterhead, TwoLyceesOfOneTownShareANameTheNameSaysNothing) {
    const auto id = from_letterhead("Lycée Jean Bart\n59000 Lille");
    EXPECT_FALSE(id.identified) << all(id);
    EXPECT_TRUE(id.lycees.empty()) << all(id);
    EXPECT_NE(id.reason.find("'Jean Bart' of 'Lille' shared by 0590101P and 0590102R"), std::string::npos) << all(id);
}

TEST(Letterhead, TwoLyceesOfOneTownShareANameTheUaiSettlesIt) {
    const auto id = from_letterhead("Lycée privé Jean Bart\n59000 Lille\nUAI : 0590102R");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.uai, "0590102R");
    EXPECT_EQ(id.lycees, std::vector<std::string>{"0590102R"});   // never "several"
}

TEST(Letterhead, TwoLyceesOfOneTownShareANameTheAddressSettlesIt) {
    const auto id = from_letterhead("Lycée Jean Bart\n24, avenue de Dunkerque\n59160 LILLE");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.uai, "0590102R");
    EXPECT_EQ(id.lycees, std::vector<std::string>{"0590102R"});
    ASSERT_EQ(id.evidence.size(), 1u) << all(id);
    EXPECT_EQ(id.evidence[0], "address '24 AVENUE DE DUNKERQUE, 59160' in letterhead, page 1, line 2");
}

TEST(Letterhead, AShortenedNameIsSettledByTheAddress) {
    // "Lycée Saint-Exupéry" for "Lycée Antoine de Saint-Exupéry", on a street named after the other lycée.
    const auto id = from_letterhead("Lycée Saint-Exupéry\n171 rue Louis Pasteur\n60400 NOYON");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.lycees, std::vector<std::string>{"0600041U"});
}

TEST(Letterhead, AnAddressWithoutItsPostcodeSettlesNothing) {
    const auto id = from_letterhead("Lycée Jean Bart\n24, avenue de Dunkerque\nLILLE");
    EXPECT_FALSE(id.identified) << all(id);
}

TEST(Letterhead, UaiDecidesOverNamesBeside) {
    // A partner named in the letterhead does not make it "several".
    const auto id = from_letterhead("Lycée Saint-Exupéry — Noyon — 0600041U\nen partenariat avec le lycée Louis Pasteur");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.lycees, std::vector<std::string>{"0600041U"});
}

TEST(Letterhead, CombiningMarksAreComposed) {
    // pdfTeX writes the circumflex as a combining mark after the letter.
    const auto id = from_letterhead("Lycée Jean de La Fontaine\n02400 CHA\u0302TEAU-THIERRY");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.uai, "0020050U");
}

TEST(Letterhead, LigaturesAreFolded) {
    // "ﬁ" (U+FB01) as PDF producers write it.
    EXPECT_EQ(fold_for_search("Pro\xEF\xAC\x81l \xC5\x93uvre"), " profil oeuvre ");
}

TEST(Letterhead, UaiWrittenWithSpacesDotsOrLowerCase) {
    for (const std::string head : {"UAI : 0 807 463 C", "RNE 0807463.c", "0807463 c", "n° 080 74 63 C"}) {
        const auto id = from_letterhead(head);
        EXPECT_TRUE(id.identified && id.uai == "0807463C") << head << "\n" << all(id);
    }
}

TEST(Letterhead, SpacedNumberWithAWrongLetterIsNoUai) {
    // Written apart, a wrong check letter means it is not a UAI: no blocker.
    const auto id = from_letterhead("Lycée polyvalent Edouard Gand\nAmiens\nréf. 0 807 463 D");
    ASSERT_TRUE(id.identified) << all(id);
    EXPECT_EQ(id.uai, "0807463C");
}

TEST(Letterhead, PhoneNumbersAreNoUai) {
    const auto id = from_letterhead("Tél. 03 22 71 61 00 A\n03.44.09.12.34 b");
    EXPECT_TRUE(id.lycees.empty()) << all(id);
    EXPECT_TRUE(id.reason.find("check letter") == std::string::npos) << all(id);
}

TEST(Letterhead, EvidenceSaysPageAndLine) {
    const auto name = from_letterhead("ACADÉMIE D'AMIENS\nLycée Faidherbe\n9 rue Armand Carrel\n59000 Lille");
    ASSERT_TRUE(name.identified) << all(name);
    ASSERT_EQ(name.evidence.size(), 1u) << all(name);
    EXPECT_EQ(name.evidence[0],
              "name 'Faidherbe' in letterhead, page 1, line 2 + town 'Lille' in letterhead, page 1, line 4");
    const auto id = from_letterhead("ACADÉMIE D'AMIENS\nLycée Saint-Exupéry\n171 rue Louis Pasteur\n60400 NOYON");
    ASSERT_TRUE(id.identified) << all(id);
    ASSERT_EQ(id.evidence.size(), 1u) << all(id);
    EXPECT_EQ(id.evidence[0], "address '171 RUE LOUIS PASTEUR, 60400' in letterhead, page 1, line 3");
    const auto uai = from_letterhead("Lycée\n\nUAI 0 807 463 C", 0);
    ASSERT_FALSE(uai.evidence.empty());
    EXPECT_EQ(uai.evidence[0], "UAI 0807463C ('0 807 463 C') in letterhead, line 3");
}

}  // namespace
}  // namespace ppo::workflow
