// Inline forward blocks as the clients write them, and texts that only look
// like them.
#include "parsers/mime/forward_block.h"

#include <gtest/gtest.h>

using ppo::parsers::find_inline_forwards;

TEST(ForwardBlock, ThunderbirdFrench) {
    auto f = find_inline_forwards(
        "Bonjour,\n\n\n-------- Message transféré --------\nSujet : \tPPO 2022\nDate : \tTue, 1 Mar 2022 09:12:03 +0100\n"
        "De : \tProviseur <ce.0596082r@ac-lille.fr>\nPour : \tsecretariat@lycee.fr\n\nVoici notre PPO.\n");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].from_address, "ce.0596082r@ac-lille.fr");
    EXPECT_EQ(f[0].subject, "PPO 2022");
    EXPECT_NE(f[0].text.find("Voici notre PPO."), std::string::npos);
    EXPECT_EQ(f[0].text.find("Bonjour"), std::string::npos);
}

TEST(ForwardBlock, GmailEnglishAndFrench) {
    auto en = find_inline_forwards(
        "FYI\r\n\r\n---------- Forwarded message ---------\r\nFrom: Lycee Claudel <CE.0596082R@AC-LILLE.FR>\r\n"
        "Date: Tue, Mar 1, 2022 at 9:12 AM\r\nSubject: PPO\r\nTo: <someone@gmail.com>\r\n\r\nText\r\n");
    ASSERT_EQ(en.size(), 1u);
    EXPECT_EQ(en[0].from_address, "ce.0596082r@ac-lille.fr");
    EXPECT_EQ(en[0].from_display, "Lycee Claudel");
    auto fr = find_inline_forwards(
        "---------- Message transféré ---------\nDe : <ce.0597091m@ac-lille.fr>\nDate: mar. 1 mars 2022 à 09:12\n"
        "Subject: PPO\nTo: <x@gmail.com>\n");
    ASSERT_EQ(fr.size(), 1u);
    EXPECT_EQ(fr[0].from_address, "ce.0597091m@ac-lille.fr");
}

TEST(ForwardBlock, OutlookFrenchAndEnglishQuoted) {
    auto fr = find_inline_forwards(
        "Cordialement\n\n________________________________\nDe : Proviseur [mailto:ce.0596082r@ac-lille.fr]\n"
        "Envoyé : mardi 1 mars 2022 09:12\nÀ : Secrétariat\nObjet : PPO\n\nCorps\n");
    ASSERT_EQ(fr.size(), 1u);
    EXPECT_EQ(fr[0].from_address, "ce.0596082r@ac-lille.fr");
    EXPECT_EQ(fr[0].subject, "PPO");
    auto en = find_inline_forwards(
        "> -----Original Message-----\n> From: ce.0596082r@ac-lille.fr\n> Sent: Tuesday, March 1, 2022 9:12 AM\n"
        "> To: x\n> Subject: PPO\n>\n> Body\n");
    ASSERT_EQ(en.size(), 1u);
    EXPECT_EQ(en[0].from_address, "ce.0596082r@ac-lille.fr");
}

TEST(ForwardBlock, AppleMail) {
    auto f = find_inline_forwards(
        "Début du message réexpédié :\n\nDe: Lycée <ce.0596082r@ac-lille.fr>\nObjet: PPO\nDate: 1 mars 2022 à 09:12:03 UTC+1\n"
        "À: moi@icloud.com\n\nTexte\n");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].from_address, "ce.0596082r@ac-lille.fr");
}

TEST(ForwardBlock, TwoBlocksAreTwoMessages) {
    auto f = find_inline_forwards(
        "-------- Forwarded Message --------\nSubject: a\nFrom: a@ac-lille.fr\n\nA\n\n"
        "-------- Forwarded Message --------\nSubject: b\nFrom: b@ac-amiens.fr\n\nB\n");
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].from_address, "a@ac-lille.fr");
    EXPECT_EQ(f[1].from_address, "b@ac-amiens.fr");
    EXPECT_EQ(f[0].text.find("\nB"), std::string::npos);
}

TEST(ForwardBlock, SentencesAndRepliesAreNotForwards) {
    EXPECT_TRUE(find_inline_forwards("De : la part du proviseur, voici le PPO.\nMerci.\n").empty());
    EXPECT_TRUE(find_inline_forwards("From: me@x.fr\n\nno second header line\n").empty());
    EXPECT_TRUE(find_inline_forwards("Le 01/03/2022 à 09:12, ce.0596082r@ac-lille.fr a écrit :\n> texte\n").empty());
    EXPECT_TRUE(find_inline_forwards("").empty());
    EXPECT_TRUE(find_inline_forwards("-------- Message transféré --------\n").empty());
}
