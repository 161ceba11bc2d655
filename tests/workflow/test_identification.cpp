#include "workflow/intake/identification.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

Lycee lycee(std::string uai, std::string name, std::string commune, std::string academie, std::string mail,
            std::string statut) {
    Lycee l;
    l.uai = std::move(uai);
    l.name = std::move(name);
    l.commune = std::move(commune);
    l.departement = l.uai.substr(0, 3);
    l.academie = std::move(academie);
    l.mail = std::move(mail);
    l.statut = std::move(statut);
    return l;
}

// Two lycées in Douai; "Jean Moulin" is a prefix of "Jean Moulin de la Mer", both
// in Beauvais; a private lycée on a shared domain, one without a mail, one whose
// name has nothing distinctive left once the generic words are removed.
const Directory& directory() {
    static const Directory d(
        {
            lycee("0590072H", "Lycée général et technologique Camille Claudel", "Douai", "09", "ce.0590072h@ac-lille.fr", "Public"),
            lycee("0596082R", "Lycée polyvalent Albert Châtelet", "Douai", "09", "ce.0596082r@ac-lille.fr", "Public"),
            lycee("0597091M", "Lycée privé Jeanne d'Arc", "Lille", "09", "direction.jeanne-darc@orange.fr", "Privé"),
            lycee("0600009J", "Lycée Jean Moulin", "Beauvais", "20", "ce.0600009j@ac-amiens.fr", "Public"),
            lycee("0600010K", "Lycée privé Jean Moulin de la Mer", "Beauvais", "20", "secretariat.jmm@orange.fr", "Privé"),
            lycee("0626769W", "LEGT Édouard Branly", "Boulogne-sur-Mer", "09", "ce.0626769w@ac-lille.fr", "Public"),
            lycee("0801234G", "Lycée d'enseignement général et technologique Madeleine Michelis", "Amiens", "20",
                  "ce.0801234g@ac-amiens.fr", "Public"),
            lycee("0620001P", "Lycée privé du Pré", "Arras", "09", "", "Privé"),
        },
        {});
    return d;
}

struct Case {
    const char* name = "";
    std::string from{};
    bool authenticated = true;
    std::string subject{};
    std::string body{};
    std::vector<std::string> files{};
    // Expected
    bool identified = false;
    std::string uai{};
    std::string by{};
    std::string reason{};    // substring of the reason (must be empty when identified)
    std::string evidence{};  // one evidence line that must be present ("" = not checked)
    int evidence_count = -1; // -1 = not checked
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const std::string kNoEvidence = "no evidence: sender not a lycée address, no UAI, no lycée name with its town";

const Case kCases[] = {
    // --- sender ---------------------------------------------------------
    {.name = "OfficialAddressLowerCase", .from = "ce.0590072h@ac-lille.fr", .subject = "PPO",
     .identified = true, .uai = "0590072H", .by = "sender", .evidence = "sender ce.0590072h@ac-lille.fr",
     .evidence_count = 1},
    {.name = "OfficialAddressUpperCase", .from = "CE.0590072H@AC-LILLE.FR", .subject = "PPO",
     .identified = true, .uai = "0590072H", .by = "sender", .evidence = "sender ce.0590072h@ac-lille.fr"},
    {.name = "OfficialAddressWithDisplayName", .from = "Lycée Camille Claudel <CE.0590072H@ac-lille.fr>",
     .identified = true, .uai = "0590072H", .by = "sender", .evidence = "sender ce.0590072h@ac-lille.fr"},
    {.name = "OfficialAddressAmiens", .from = "Ce.0600009J@Ac-Amiens.fr",
     .identified = true, .uai = "0600009J", .by = "sender"},
    {.name = "OfficialLocalPartOtherDomain", .from = "ce.0590072h@gmail.com", .reason = kNoEvidence},
    {.name = "PersonalAcademieAddressAlone", .from = "jean.dupont@ac-lille.fr", .subject = "Envoi PPO",
     .reason = kNoEvidence, .evidence_count = 0},
    {.name = "PersonalAcademieAddressPlusUaiInSubject", .from = "jean.dupont@ac-lille.fr",
     .subject = "PPO lycée 0590072H",
     .identified = true, .uai = "0590072H", .by = "uai", .evidence = "UAI 0590072H in subject", .evidence_count = 1},
    {.name = "PrivateFromDirectoryMail", .from = "Direction.Jeanne-Darc@Orange.FR",
     .identified = true, .uai = "0597091M", .by = "sender", .evidence = "sender direction.jeanne-darc@orange.fr"},
    {.name = "SharedDomainOtherAddress", .from = "secretariat.jeanne-darc@orange.fr", .reason = kNoEvidence},
    {.name = "OfficialAddressNotInCampaign", .from = "ce.0590001f@ac-lille.fr",
     .reason = "UAI 0590001F is not a lycée of this campaign"},
    {.name = "OfficialAddressWrongCheckLetter", .from = "ce.0590072x@ac-lille.fr",
     .reason = "has a wrong check letter (expected 0590072H)"},
    // An unauthenticated lycée address is a forgery until shown otherwise: the
    // message is never identified, whatever else it says.
    {.name = "UnauthenticatedSenderAlone", .from = "ce.0590072h@ac-lille.fr", .authenticated = false,
     .subject = "PPO", .reason = "sender not authenticated", .evidence_count = 0},
    {.name = "UnauthenticatedPrivateSenderAlone", .from = "direction.jeanne-darc@orange.fr", .authenticated = false,
     .reason = "sender not authenticated"},
    {.name = "UnauthenticatedSenderPlusUaiInSubject", .from = "ce.0590072h@ac-lille.fr", .authenticated = false,
     .subject = "PPO 0590072H", .reason = "sender not authenticated", .evidence = "UAI 0590072H in subject",
     .evidence_count = 1},
    {.name = "UnauthenticatedSenderPlusOtherUai", .from = "ce.0596082r@ac-lille.fr",
     .authenticated = false, .subject = "PPO 0590072H", .reason = "sender not authenticated", .evidence_count = 1},
    {.name = "UnauthenticatedOfficialAddressNotInCampaign", .from = "ce.0590001f@ac-lille.fr",
     .authenticated = false, .subject = "PPO 0590072H", .reason = "sender not authenticated"},
    {.name = "UnauthenticatedOfficialAddressOfAnotherAcademie", .from = "ce.0590072h@ac-versailles.fr",
     .authenticated = false, .subject = "PPO 0590072H", .reason = "sender not authenticated"},
    {.name = "UnauthenticatedPersonalAddressPlusUai", .from = "jean.dupont@ac-lille.fr", .authenticated = false,
     .subject = "PPO 0590072H", .identified = true, .uai = "0590072H", .by = "uai", .evidence_count = 1},
    {.name = "UnauthenticatedOutsideAddressPlusUai", .from = "parent@gmail.com", .authenticated = false,
     .subject = "PPO 0590072H", .identified = true, .uai = "0590072H", .by = "uai", .evidence_count = 1},

    // --- UAI ------------------------------------------------------------
    {.name = "UaiOnlyInFileName", .from = "parent@gmail.com", .files = {"notes.txt", "PPO 0590072H.pdf"},
     .identified = true, .uai = "0590072H", .by = "uai", .evidence = "UAI 0590072H in file name 'PPO 0590072H.pdf'",
     .evidence_count = 1},
    {.name = "UaiInBodyLowerCase", .body = "Bonjour,\nci-joint le PPO du lycée (uai 0626769w).",
     .identified = true, .uai = "0626769W", .by = "uai", .evidence = "UAI 0626769W in body"},
    {.name = "SameUaiEverywhereListsEachPlace", .subject = "0590072H", .body = "UAI 0590072H",
     .files = {"0590072H.pdf"}, .identified = true, .uai = "0590072H", .by = "uai", .evidence_count = 3},
    {.name = "WrongCheckLetterInSubject", .from = "jean.dupont@ac-lille.fr", .subject = "PPO 0590072X",
     .reason = "UAI 0590072X in subject has a wrong check letter (expected 0590072H)"},
    {.name = "WrongCheckLetterBlocksOfficialSender", .from = "ce.0590072h@ac-lille.fr",
     .files = {"PPO_0596082X.pdf"},
     .reason = "UAI 0596082X in file name 'PPO_0596082X.pdf' has a wrong check letter (expected 0596082R)",
     .evidence = "sender ce.0590072h@ac-lille.fr"},
    {.name = "UaiNotInCampaign", .body = "Notre UAI : 0123456S", .reason = "UAI 0123456S is not a lycée of this campaign"},
    {.name = "UaiNotInCampaignBlocksValidOne", .subject = "PPO 0590072H", .body = "pour 0123456S",
     .reason = "UAI 0123456S is not a lycée of this campaign"},
    {.name = "TwoUaisInBody", .body = "0590072H et 0596082R",
     .reason = "evidence for two lycées: 0590072H (UAI in body), 0596082R (UAI in body)"},
    {.name = "PhoneNumbersNotMistaken", .from = "ce.0590072h@ac-lille.fr",
     .body = "Tél. 03 21 28 31 39 / 03.21.28.31.39 / 0321283139\nSIRET 19590072800014\nRNE : 05900721H",
     .identified = true, .uai = "0590072H", .by = "sender", .evidence_count = 1},

    // --- sender vs UAI --------------------------------------------------
    {.name = "SenderAndSubjectAgree", .from = "ce.0590072h@ac-lille.fr", .subject = "PPO 0590072H",
     .identified = true, .uai = "0590072H", .by = "sender", .evidence = "UAI 0590072H in subject", .evidence_count = 2},
    {.name = "SenderVsUaiInBody", .from = "ce.0590072h@ac-lille.fr", .body = "PPO du lycée 0596082R",
     .reason = "evidence for two lycées: 0590072H (sender), 0596082R (UAI in body)"},
    {.name = "SenderVsUaiInSubject", .from = "direction.jeanne-darc@orange.fr", .subject = "PPO 0590072H",
     .reason = "evidence for two lycées: 0597091M (sender), 0590072H (UAI in subject)"},

    // --- names ----------------------------------------------------------
    {.name = "NameAndTownAccentsAndCaseDiffer", .body = "ci-joint le PPO du lycee camille claudel de DOUAI",
     .identified = true, .uai = "0590072H", .by = "name",
     .evidence = "name 'Camille Claudel' + town 'Douai' in body", .evidence_count = 1},
    {.name = "NameWithAccentsInUpperCase", .subject = "PPO – LYCÉE ALBERT CHÂTELET – Douai",
     .identified = true, .uai = "0596082R", .by = "name", .evidence = "name 'Albert Châtelet' + town 'Douai' in subject"},
    {.name = "NameFoldedFromTheDirectoryAccents", .body = "lycée albert chatelet, douai",
     .identified = true, .uai = "0596082R", .by = "name"},
    {.name = "NameWithoutTown", .body = "PPO du lycée Camille Claudel",
     .reason = "no lycée name with its town (name 'Camille Claudel' without 'Douai')"},
    {.name = "TownWithoutName", .body = "Lycée de Douai", .reason = kNoEvidence},
    {.name = "NameNotOnWordBoundary", .body = "Camille Claudelle, Douai", .reason = kNoEvidence},
    {.name = "NameInSubjectTownInBody", .subject = "PPO Camille Claudel", .body = "Rue X\n59500 DOUAI",
     .identified = true, .uai = "0590072H", .by = "name",
     .evidence = "name 'Camille Claudel' in subject + town 'Douai' in body"},
    {.name = "NameInFileNameWithPunctuation", .files = {"PPO_Edouard-BRANLY_boulogne_sur_mer.xlsx"},
     .identified = true, .uai = "0626769W", .by = "name",
     .evidence = "name 'Édouard Branly' + town 'Boulogne-sur-Mer' in file name 'PPO_Edouard-BRANLY_boulogne_sur_mer.xlsx'"},
    {.name = "LongGenericPrefixStripped", .body = "Lycée Madeleine Michelis\n80000 Amiens",
     .identified = true, .uai = "0801234G", .by = "name",
     .evidence = "name 'Madeleine Michelis' + town 'Amiens' in body"},
    {.name = "TypographicApostrophe", .body = "Lycée Jeanne d’Arc — LILLE",
     .identified = true, .uai = "0597091M", .by = "name", .evidence = "name 'Jeanne d'Arc' + town 'Lille' in body"},
    {.name = "NoSignificantWordNoNameEvidence", .body = "Lycée privé du Pré, Arras", .reason = kNoEvidence},
    {.name = "PrefixNameLongerOneWins", .body = "Lycée privé Jean Moulin de la Mer, Beauvais",
     .identified = true, .uai = "0600010K", .by = "name", .evidence = "name 'Jean Moulin de la Mer' + town 'Beauvais'",
     .evidence_count = 1},
    {.name = "PrefixNameShorterAlone", .body = "Lycée Jean Moulin, 60000 Beauvais",
     .identified = true, .uai = "0600009J", .by = "name", .evidence = "name 'Jean Moulin' + town 'Beauvais' in body"},
    {.name = "PrefixNameBothMentioned", .subject = "Jean Moulin de la Mer",
     .body = "Envoyé par le lycée Jean Moulin de Beauvais",
     .reason = "evidence for two lycées: 0600009J (name in body), 0600010K (name in subject)"},
    {.name = "SenderWithOwnSignature", .from = "ce.0590072h@ac-lille.fr",
     .body = "Cordialement,\nLycée Camille Claudel\n191 rue Saint-Vaast\n59500 Douai",
     .identified = true, .uai = "0590072H", .by = "sender", .evidence = "name 'Camille Claudel' + town 'Douai' in body",
     .evidence_count = 2},
    // Decision: a name with its town is a vote even against the sender.
    {.name = "SenderNamesAnotherLycee", .from = "ce.0590072h@ac-lille.fr",
     .body = "Je transmets le PPO du lycée Albert Châtelet de Douai.",
     .reason = "evidence for two lycées: 0590072H (sender), 0596082R (name in body)"},
    {.name = "UaiAndNameAgree", .subject = "PPO 0626769W", .body = "Lycée Édouard Branly, Boulogne-sur-Mer",
     .identified = true, .uai = "0626769W", .by = "uai", .evidence_count = 2},
    {.name = "ThreeLycees", .from = "ce.0590072h@ac-lille.fr", .subject = "0596082R",
     .body = "lycée Jean Moulin, Beauvais", .reason = "evidence for 3 lycées: 0590072H (sender), 0596082R (UAI in subject), 0600009J (name in body)"},

    // --- nothing --------------------------------------------------------
    {.name = "Empty", .reason = kNoEvidence, .evidence_count = 0},
    {.name = "InvalidUtf8DoesNotBreakFolding", .from = "x@y.fr", .body = "Camille \xC3 Claudel \xFF Douai \xE2\x82",
     .identified = true, .uai = "0590072H", .by = "name"},
};

class Identify : public ::testing::TestWithParam<Case> {};

TEST_P(Identify, Outcome) {
    const Case& c = GetParam();
    IdentificationInput in;
    in.from_address = c.from;
    in.sender_authenticated = c.authenticated;
    in.subject = c.subject;
    in.body_text = c.body;
    in.filenames = c.files;
    const Identification r = identify(in, directory());

    std::string all_evidence;
    for (const auto& e : r.evidence) all_evidence += "\n  " + e;
    SCOPED_TRACE("reason: " + r.reason + "\nevidence:" + all_evidence);

    EXPECT_EQ(r.identified, c.identified);
    EXPECT_EQ(r.uai, c.uai);
    EXPECT_EQ(r.identified_by, c.by);
    if (c.identified) {
        EXPECT_TRUE(r.reason.empty());
    } else {
        EXPECT_FALSE(r.reason.empty());
        EXPECT_NE(r.reason.find(c.reason), std::string::npos) << "expected reason containing: " << c.reason;
    }
    if (!c.evidence.empty()) {
        bool found = false;
        for (const auto& e : r.evidence)
            if (e.find(c.evidence) != std::string::npos) found = true;
        EXPECT_TRUE(found) << "expected evidence: " << c.evidence;
    }
    if (c.evidence_count >= 0) {
        EXPECT_EQ(r.evidence.size(), static_cast<std::size_t>(c.evidence_count));
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, Identify, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.name); });

TEST(Identify, UnauthenticatedLyceeSenderReasonCarriesTheDetail) {
    IdentificationInput in;
    in.from_address = "ce.0590072h@ac-lille.fr";
    in.sender_authenticated = false;
    in.sender_auth_detail = "dmarc=fail";
    in.subject = "PPO 0590072H";
    const auto r = identify(in, directory());
    EXPECT_FALSE(r.identified);
    EXPECT_EQ(r.reason, "sender not authenticated (dmarc=fail)");
    in.sender_authenticated = true;
    EXPECT_TRUE(identify(in, directory()).identified);
}

TEST(Identify, AcademieDomainsCanBeReplaced) {
    // 0620001P has no directory mail: only the ce.<UAI> rule can identify it.
    IdentificationInput in;
    in.from_address = "ce.0620001p@ac-lille.fr";
    const auto by_default = identify(in, directory());
    EXPECT_TRUE(by_default.identified);
    EXPECT_EQ(by_default.uai, "0620001P");
    EXPECT_EQ(by_default.identified_by, "sender");

    const auto amiens_only = identify(in, directory(), {"ac-amiens.fr"});
    EXPECT_FALSE(amiens_only.identified);
    EXPECT_NE(amiens_only.reason.find("no evidence"), std::string::npos) << amiens_only.reason;
}

TEST(Identify, EmptyDirectoryMakesEveryUaiOutsideTheCampaign) {
    IdentificationInput in;
    in.from_address = "ce.0590072h@ac-lille.fr";
    const auto r = identify(in, Directory{});
    EXPECT_FALSE(r.identified);
    EXPECT_NE(r.reason.find("UAI 0590072H is not a lycée of this campaign"), std::string::npos) << r.reason;
}

TEST(Identify, TwoLyceesSharingOneDirectoryMailAreAmbiguous) {
    const Directory d({lycee("0590072H", "Lycée Camille Claudel", "Douai", "09", "cite.scolaire@orange.fr", "Privé"),
                       lycee("0596082R", "Lycée Albert Châtelet", "Douai", "09", "cite.scolaire@orange.fr", "Privé")},
                      {});
    IdentificationInput in;
    in.from_address = "cite.scolaire@orange.fr";
    const auto r = identify(in, d);
    EXPECT_FALSE(r.identified);
    EXPECT_NE(r.reason.find("evidence for two lycées: 0590072H (sender), 0596082R (sender)"), std::string::npos)
        << r.reason;
}

}  // namespace
}  // namespace ppo::workflow
