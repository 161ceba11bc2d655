// reason_fr: every reason the intake writes (judge.cpp, intake.cpp,
// identification.cpp, sender_auth.cpp, service's triage reject) reads in French.
#include "workflow/intake/reasons.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ppo::workflow {
namespace {

struct Case {
    std::string english;
    std::string french;
};

TEST(ReasonFr, EveryReasonTheCodeWrites) {
    const std::vector<Case> cases = {
        // judge.cpp
        {"no document attached (0 other attachment(s))", "Aucun document joint"},
        {"no document attached (1 other attachment(s))",
         "Aucun document joint (seulement 1 pièce jointe qui n’est pas un document)"},
        {"no document attached (3 other attachment(s))",
         "Aucun document joint (seulement 3 pièces jointes qui ne sont pas des documents)"},
        {"download link: nuage03.apps.education.fr, wetransfer.com",
         "Un lien de téléchargement au lieu du fichier (nuage03.apps.education.fr, wetransfer.com)"},
        {"same content as message 12 (delivered again)", "Même contenu que le message n° 12 (distribué une seconde fois)"},
        {"malformed message: empty message", "Message mal formé (message vide)"},
        {"malformed message: more than 10000 MIME parts", "Message mal formé (more than 10000 MIME parts)"},
        {"message of 60000000 bytes exceeds max_message_size (52428800)",
         "Message de 60000000 octets, au-delà de la taille maximale acceptée (52428800 octets, max_message_size)"},
        {"the IMAP server cannot deliver this message (uid 7): NO [UNAVAILABLE]",
         "Le serveur IMAP ne peut pas fournir ce message (uid 7 : NO [UNAVAILABLE])"},
        {"evidence for two lycées: 0590072H (sender), 0596082R (forwarded)",
         "Indices pour deux lycées : 0590072H (expéditeur), 0596082R (message transféré)"},
        {"evidence for 3 lycées: 0590072H (UAI in subject, name in body), 0596082R (thread), 0626769W (document)",
         "Indices pour 3 lycées : 0590072H (UAI dans l’objet, nom dans le corps du message), 0596082R (réponse à l’un "
         "de nos messages), 0626769W (en-tête du document)"},
        {"forwarded message: UAI 0590001F is not a lycée of this campaign (sender ce.0590001f@ac-lille.fr)",
         "Message transféré : l’UAI 0590001F n’est celle d’aucun lycée de la campagne (adresse de l’expéditeur "
         "ce.0590001f@ac-lille.fr)"},
        {"document: UAI 0123456S is not a lycée of this campaign (in body)",
         "Document joint : l’UAI 0123456S n’est celle d’aucun lycée de la campagne (dans le corps du message)"},
        // identification.cpp
        {"UAI 0123456S is not a lycée of this campaign (in file name 'PPO 0123456S.pdf')",
         "L’UAI 0123456S n’est celle d’aucun lycée de la campagne (dans le nom de fichier « PPO 0123456S.pdf »)"},
        {"UAI 0590072A in sender address ce.0590072a@ac-lille.fr has a wrong check letter (expected 0590072H)",
         "L’UAI 0590072A dans l’adresse de l’expéditeur ce.0590072a@ac-lille.fr a une lettre clé erronée (UAI attendue : "
         "0590072H)"},
        {"UAI 0590072A in subject has a wrong check letter (expected 0590072H)",
         "L’UAI 0590072A dans l’objet a une lettre clé erronée (UAI attendue : 0590072H)"},
        {"sender not authenticated (dmarc=fail)",
         "L’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée (dmarc=fail)"},
        {"sender not authenticated", "L’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée"},
        {"sender not authenticated (no Authentication-Results from mx.ac-lille.fr)",
         "L’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée (aucun résultat d’authentification de "
         "mx.ac-lille.fr)"},
        {"sender not authenticated (no DMARC, DKIM or SPF result from mx.ac-lille.fr)",
         "L’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée (aucun résultat DMARC, DKIM ni SPF de "
         "mx.ac-lille.fr)"},
        {"sender not authenticated (dkim=pass for gmail.com, not ac-lille.fr)",
         "L’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée (dkim=pass pour gmail.com, et non "
         "ac-lille.fr)"},
        {"sender not authenticated (no From address)",
         "L’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée (pas d’adresse d’expéditeur)"},
        {"no evidence: sender not a lycée address, no UAI, no lycée name with its town",
         "Aucun indice : l’expéditeur n’est pas l’adresse d’un lycée, ni UAI, ni nom de lycée accompagné de sa commune"},
        {"no evidence: sender jean.dupont@gmail.com not authenticated, no UAI, no lycée name with its town (name "
         "'Camille Claudel' without 'Douai')",
         "Aucun indice : l’expéditeur jean.dupont@gmail.com n’est pas authentifié, ni UAI, ni nom de lycée accompagné de "
         "sa commune (le nom « Camille Claudel » sans la commune « Douai »)"},
        // intake.cpp: auto-replies (ignored) and failures (quarantined)
        {"auto-submitted message (Auto-Submitted: auto-replied)", "Message automatique (Auto-Submitted: auto-replied)"},
        {"bulk mail (Precedence: bulk)", "Envoi en nombre (Precedence: bulk)"},
        {"mailing-list message (List-Id)", "Message d’une liste de diffusion (List-Id)"},
        {"bounce (empty Return-Path)", "Avis de non-remise (Return-Path vide)"},
        {"bounce (from mailer-daemon@ac-lille.fr)", "Avis de non-remise (de mailer-daemon@ac-lille.fr)"},
        {"auto-reply (X-Autoreply)", "Réponse automatique (X-Autoreply)"},
        {"our own message (Message-ID <1.2@region-academique-hauts-de-france.fr>)",
         "L’un de nos propres messages (Message-ID <1.2@region-academique-hauts-de-france.fr>)"},
        {"mail loop (X-Loop)", "Boucle de messagerie (X-Loop)"},
        {"our own address as sender", "Notre propre adresse comme expéditeur"},
        {"cannot handle the message: bad alloc", "Le message n’a pas pu être traité (bad alloc)"},
        {"internal error while reading the message: x", "Erreur interne à la lecture du message (x)"},
        {"cannot judge the message: x", "Le message n’a pas pu être examiné (x)"},
        {"internal error while judging the message: x", "Erreur interne à l’examen du message (x)"},
        {"cannot archive the files: disk full", "Les fichiers n’ont pas pu être archivés (disk full)"},
        {"internal error while archiving the files: x", "Erreur interne à l’archivage des fichiers (x)"},
        {"cannot record the message: constraint", "Le message n’a pas pu être enregistré (constraint)"},
        // triage reject
        {"rejected by hand (was: no document attached (0 other attachment(s)))",
         "Écarté à la main (motif initial : aucun document joint)"},
        // several at once
        {"sender not authenticated (dmarc=fail); UAI 0123456S is not a lycée of this campaign (in body)",
         "L’adresse de l’expéditeur, celle d’un lycée, n’est pas authentifiée (dmarc=fail) ; l’UAI 0123456S n’est "
         "celle d’aucun lycée de la campagne (dans le corps du message)"},
        {"", ""},
    };
    for (const auto& c : cases) EXPECT_EQ(reason_fr(c.english), c.french) << c.english;
}

TEST(ReasonFr, UnknownReasonsKeepTheirEnglishInParentheses) {
    EXPECT_EQ(reason_fr("something new"), "Motif non répertorié (something new)");
}

TEST(ReasonFr, NoEnglishWordLeftInTheKnownReasons) {
    for (const char* r : {"no document attached (2 other attachment(s))", "download link: a.fr",
                          "evidence for two lycées: 0590072H (sender), 0596082R (name in subject)",
                          "no evidence: sender not a lycée address, no UAI, no lycée name with its town"}) {
        const auto fr = reason_fr(r);
        for (const char* word : {" no ", " not ", " the ", " in ", "evidence", "sender", "attached", "link:"})
            EXPECT_EQ(fr.find(word), std::string::npos) << r << " -> " << fr;
    }
}

TEST(EvidenceFr, EveryPieceTheCodeWrites) {
    EXPECT_EQ(evidence_fr("sender ce.0590072h@ac-lille.fr"), "expéditeur ce.0590072h@ac-lille.fr");
    EXPECT_EQ(evidence_fr("sender ce.0590072h@ac-lille.fr not authenticated"),
              "expéditeur ce.0590072h@ac-lille.fr (non authentifié)");
    EXPECT_EQ(evidence_fr("UAI 0590072H in subject; UAI 0590072H in file name 'PPO; 0590072H.pdf'"),
              "UAI 0590072H dans l’objet ; UAI 0590072H dans le nom de fichier « PPO; 0590072H.pdf »");
    EXPECT_EQ(evidence_fr("name 'Camille Claudel' + town 'Douai' in body"),
              "nom « Camille Claudel » et commune « Douai » dans le corps du message");
    EXPECT_EQ(evidence_fr("name 'Camille Claudel' in subject + town 'Douai' in body"),
              "nom « Camille Claudel » dans l’objet et commune « Douai » dans le corps du message");
    EXPECT_EQ(evidence_fr("forwarded: sender ce.0590072h@ac-lille.fr"),
              "message transféré : expéditeur ce.0590072h@ac-lille.fr");
    EXPECT_EQ(evidence_fr("thread: replies to our mail to 0590072H"), "réponse à notre message au lycée 0590072H");
    EXPECT_EQ(evidence_fr("document: UAI 0590072H in body"), "document joint : UAI 0590072H dans le corps du message");
    EXPECT_EQ(evidence_fr(""), "");
}

TEST(EvidenceFr, LetterheadPiecesSayPageAndLine) {
    EXPECT_EQ(evidence_fr("document: 'ppo.pdf': name 'Saint-Exupéry' in letterhead, page 1, line 2 + town 'Noyon' in "
                          "letterhead, page 1, line 4"),
              "document joint : « ppo.pdf » : nom « Saint-Exupéry » dans l’en-tête du document, page 1, ligne 2 et "
              "commune « Noyon » dans l’en-tête du document, page 1, ligne 4");
    EXPECT_EQ(evidence_fr("'b.pdf': address '162 RUE ANATOLE FRANCE, 62500' in letterhead, page 1, line 2"),
              "« b.pdf » : adresse « 162 RUE ANATOLE FRANCE, 62500 » dans l’en-tête du document, page 1, ligne 2");
    EXPECT_EQ(evidence_fr("'ppo.docx': UAI 0807463C ('0 807 463 C') in letterhead, line 3"),
              "« ppo.docx » : UAI 0807463C ('0 807 463 C') dans l’en-tête du document, ligne 3");
}

TEST(ReasonFr, ANameTwoLyceesOfOneTownShare) {
    EXPECT_EQ(reason_fr("no evidence: sender not a lycée address, no UAI, no lycée name with its town (name 'Jean Bart' "
                        "of 'Lille' shared by 0590101P and 0590102R)"),
              "Aucun indice : l’expéditeur n’est pas l’adresse d’un lycée, ni UAI, ni nom de lycée accompagné de sa "
              "commune (le nom « Jean Bart » à « Lille », commun à 0590101P et 0590102R)");
}

}  // namespace
}  // namespace ppo::workflow
