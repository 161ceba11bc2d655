// The PPO checks (document_check.h): what a document's text says about it.
#include "workflow/intake/document_check.h"

#include <gtest/gtest.h>

using namespace ppo::workflow;

namespace {

CampaignConfig campaign() {
    CampaignConfig c;
    c.name = "PPO 2021-2022";
    c.deadline = "2022-03-25";
    return c;
}

const std::string kPpo =
    "Lycée Camille Claudel — Douai\nProgramme pluriannuel d'orientation 2022-2023\n"
    "Axe 1 : découvrir le monde professionnel et les métiers (stages, immersion en entreprises).\n"
    "Axe 2 : connaître les formations de l'enseignement supérieur (Parcoursup, salons, portes ouvertes).\n"
    "Axe 3 : construire son projet d'orientation avec le professeur principal et le PsyEN. "
    "Les heures dédiées à l'orientation sont réparties sur la seconde et le cycle terminal.";

const std::string kMinutes =
    "Compte rendu du conseil d'administration du 14 février 2022. Présents : le proviseur, l'adjoint gestionnaire, "
    "les représentants des personnels et des parents. Ordre du jour : budget rectificatif, voyages scolaires, "
    "règlement intérieur, travaux de la demi-pension. Le budget est adopté à l'unanimité. Les voyages en Espagne "
    "et en Allemagne sont approuvés. La séance est levée à 19 h 30.";

}  // namespace

TEST(DocumentCheck, APpoIsRecognisedWithItsSchoolYears) {
    auto s = ppo_signals(kPpo, false, "", campaign());
    EXPECT_EQ(s.looks_like_ppo, "yes") << s.detail;
    ASSERT_EQ(s.school_years.size(), 1u);
    EXPECT_EQ(s.school_years.front(), "2022-2023");
    EXPECT_NE(s.detail.find("programme pluriannuel d orientation"), std::string::npos) << s.detail;
}

TEST(DocumentCheck, APpoWithoutItsTitleIsRecognisedByItsAxes) {
    std::string text = kPpo;
    text.replace(text.find("Programme pluriannuel d'orientation"), 35, "Notre plan d'action orientation");
    auto s = ppo_signals(text, false, "", campaign());
    EXPECT_EQ(s.looks_like_ppo, "yes") << s.detail;
}

TEST(DocumentCheck, SomethingElseIsNotAPpo) {
    auto s = ppo_signals(kMinutes, false, "", campaign());
    EXPECT_EQ(s.looks_like_ppo, "no") << s.detail;
}

TEST(DocumentCheck, NoTextCannotBeJudged) {
    EXPECT_EQ(ppo_signals("", true, "", campaign()).looks_like_ppo, "unknown");
    EXPECT_EQ(ppo_signals("", false, "encrypted PDF", campaign()).looks_like_ppo, "unknown");
    EXPECT_EQ(ppo_signals("PPO", false, "", campaign()).looks_like_ppo, "unknown");
}

TEST(DocumentCheck, CampaignSchoolYears) {
    auto years = campaign_school_years(campaign());
    EXPECT_EQ(years, (std::vector<std::string>{"2021-2022", "2022-2023"}));
}

TEST(DocumentCheck, ChecksAgainstTheCreditedLycee) {
    FileRecord ppo{1, 1, "ppo.pdf", "/a/ppo.pdf", 10, "x", "pdf"};
    ppo.looks_like_ppo = "yes";
    ppo.named_uais = "0596082R";
    ppo.school_years = "2022-2023";
    FileRecord old = ppo;
    old.name = "ancien.pdf";
    old.school_years = "2019-2020 2020-2021";
    FileRecord other = ppo;
    other.name = "autre.pdf";
    other.named_uais = "0597091M";
    FileRecord minutes = ppo;
    minutes.name = "ca.pdf";
    minutes.looks_like_ppo = "no";
    minutes.named_uais = "";
    minutes.school_years = "";
    FileRecord tnef = ppo;
    tnef.kind = "tnef";
    FileRecord legacy{2, 1, "avant.pdf", "/a/avant.pdf", 10, "y", "pdf"};   // written before version 005

    auto checks = document_checks({ppo, old, other, minutes, tnef, legacy}, "0596082R", campaign());
    ASSERT_EQ(checks.size(), 5u);   // the winmail.dat is not a document
    EXPECT_EQ(checks[0].lycee, "same");
    EXPECT_FALSE(checks[0].flagged());
    EXPECT_TRUE(checks[1].outdated);
    EXPECT_TRUE(checks[1].flagged());
    EXPECT_EQ(checks[2].lycee, "other");
    EXPECT_TRUE(checks[2].flagged());
    EXPECT_EQ(checks[3].lycee, "none");
    EXPECT_TRUE(checks[3].flagged());
    EXPECT_EQ(checks[4].lycee, "");
    EXPECT_FALSE(checks[4].flagged());

    Directory directory({Lycee{"0596082R", "LGT Camille Claudel", "Douai", "059", "09", "095912", "", "", "", true},
                         Lycee{"0597091M", "LGT Alexandre Ribot", "Armentières", "059", "09", "095912", "", "", "", true}},
                        {});
    auto remarks = french_remarks(checks, directory);
    ASSERT_EQ(remarks.size(), 3u);
    EXPECT_EQ(remarks[0], "Le document « ancien.pdf » semble porter sur l'année scolaire 2019-2020, 2020-2021, "
                          "et non sur celle de la campagne en cours.");
    EXPECT_EQ(remarks[1], "Le document « autre.pdf » semble concerner un autre établissement : "
                          "LGT Alexandre Ribot (0597091M, Armentières).");
    EXPECT_EQ(remarks[2], "Le document « ca.pdf » ne semble pas être un programme pluriannuel d'orientation.");
    auto lines = french_check_lines(checks, directory);
    ASSERT_EQ(lines.size(), 4u);   // the unchecked file has no line
    EXPECT_EQ(lines[0], "« ppo.pdf » : ressemble à un PPO ; établissement : celui-ci ; année(s) scolaire(s) : 2022-2023");
}

namespace {

const std::string kConvocation =
    "Lycée Camille Claudel — Douai\nConvocation au conseil d'administration\n"
    "Mesdames, Messieurs, vous êtes invités à la séance du conseil d'administration du jeudi 10 mars 2022 à 17 h 30, "
    "en salle du conseil.\nOrdre du jour :\n1. Approbation du procès-verbal de la séance précédente\n"
    "2. Vote du PPO\n3. Budget rectificatif et voyages scolaires\n4. Questions diverses\n"
    "Le proviseur, M. Martin";

}  // namespace

TEST(DocumentCheck, AConvocationThatListsTheVoteOfThePpoIsNotAPpo) {
    // No title given (a DOCX without headings): the lines that begin with the phrase count, "Vote du PPO" does not.
    auto s = ppo_signals(kConvocation, false, "", campaign(), "", kConvocation);
    EXPECT_EQ(s.looks_like_ppo, "no") << s.detail;
    EXPECT_NE(s.detail.find("mentioned in the text: \"ppo\""), std::string::npos) << s.detail;
    // Its largest type says what it is.
    auto t = ppo_signals(kConvocation, false, "", campaign(), "CONVOCATION\nConseil d'administration", kConvocation);
    EXPECT_EQ(t.looks_like_ppo, "no") << t.detail;
}

TEST(DocumentCheck, ThePhraseInASentenceIsNotATitle) {
    const std::string text = kMinutes + " Le conseil a pris connaissance du programme pluriannuel d'orientation.";
    auto s = ppo_signals(text, false, "", campaign(), "", text);
    EXPECT_EQ(s.looks_like_ppo, "no") << s.detail;
}

TEST(DocumentCheck, TheTitleLinesDecide) {
    // The largest type says PPO: yes, even with little about orientation in the text.
    const std::string text = kMinutes + "\nPPO 2022-2023";
    auto s = ppo_signals(text, false, "", campaign(), "LYCÉE CAMILLE CLAUDEL\nPPO 2022-2023", text);
    EXPECT_EQ(s.looks_like_ppo, "yes") << s.detail;
    // A title without the phrase: the phrase further down is not the title.
    auto t = ppo_signals(kPpo, false, "", campaign(), "Notre plan d'action", kPpo);
    EXPECT_EQ(t.looks_like_ppo, "yes") << t.detail;   // still a PPO by its axes
    EXPECT_NE(t.detail.find("no PPO title"), std::string::npos) << t.detail;
    // A title that names another kind of document: no, whatever the text says.
    auto m = ppo_signals(kPpo, false, "", campaign(), "Compte rendu du conseil d'administration", kPpo);
    EXPECT_EQ(m.looks_like_ppo, "no") << m.detail;
    EXPECT_NE(m.detail.find("the title says: compte rendu"), std::string::npos) << m.detail;
}

TEST(DocumentCheck, ALetterIsNotAPpo) {
    // wkhtmltopdf and pango write one size: the letter's "Objet :" line says what it is.
    const std::string text =
        "Lycée Cassini\n28 place Victor Hugo\n62100 CALAIS\nObjet : calendrier de notre conseil d'administration\n"
        "Madame, nous vous enverrons notre\nprogramme pluriannuel d'orientation prochainement, dès son adoption.\n" +
        kMinutes;
    auto s = ppo_signals(text, false, "", campaign(), "", text);
    EXPECT_EQ(s.looks_like_ppo, "no") << s.detail;
}

TEST(DocumentCheck, ATitleLineWithArticleCounts) {
    const std::string text = "Lycée Camille Claudel\nLe programme pluriannuel d'orientation du lycée\n" + kMinutes;
    auto s = ppo_signals(text, false, "", campaign(), "", text);
    EXPECT_EQ(s.looks_like_ppo, "yes") << s.detail;
}
