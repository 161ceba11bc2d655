// find_download_links on the share notifications lycées forward to us (Nuage,
// FileSender, France Transfert, WeTransfer), on links as mail clients write
// them, and on lookalike hosts, which must never count.
#include "parsers/mime/download_links.h"

#include "parsers/mime/mime_message.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using ppo::parsers::DownloadLink;
using ppo::parsers::find_download_links;

std::vector<std::string> urls(const std::vector<DownloadLink>& links) {
    std::vector<std::string> out;
    for (const auto& l : links) out.push_back(l.url);
    return out;
}

TEST(DownloadLinks, NuageShareNotification) {
    const auto links = find_download_links(
        "Bonjour,\n\n"
        "Jean Dupont a partagé « PPO 2022 – Lycée Gambetta.pdf » avec vous.\n"
        "Ouvrir « PPO 2022 – Lycée Gambetta.pdf » : https://nuage03.apps.education.fr/index.php/s/Xk3pQ9rTzWm4LbN\n\n"
        "--\nNuage – Un service apps.education.fr\nhttps://apps.education.fr/\n");
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0].url, "https://nuage03.apps.education.fr/index.php/s/Xk3pQ9rTzWm4LbN");
    EXPECT_EQ(links[0].host, "nuage03.apps.education.fr");
    EXPECT_EQ(links[0].service, "Nuage (apps.education.fr)");
}

TEST(DownloadLinks, FileSenderNotification) {
    const auto links = find_download_links(
        "Madame, Monsieur,\n\n"
        "Le fichier ci-dessous a été déposé sur FileSender par ce.0596082r@ac-lille.fr et vous pouvez désormais "
        "le télécharger :\n\n"
        "PPO_2022_Camille_Claudel.pdf (24.3 Mo)\n\n"
        "Lien de téléchargement : "
        "https://filesender.renater.fr/?s=download&token=8c0f2a4e-3b1d-4c9e-9f7a-2d5e6b7c8d9e\n\n"
        "La transaction restera disponible jusqu'au 28/03/2022.\n");
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0].url, "https://filesender.renater.fr/?s=download&token=8c0f2a4e-3b1d-4c9e-9f7a-2d5e6b7c8d9e");
    EXPECT_EQ(links[0].service, "FileSender (RENATER)");
}

TEST(DownloadLinks, FranceTransfertNotification) {
    const auto links = find_download_links(
        "Vous avez reçu des fichiers via France transfert\n"
        "ce.0597091m@ac-lille.fr vous a envoyé des fichiers.\n"
        "Pour y accéder, cliquez sur le lien suivant (valable 30 jours) :\n"
        "https://francetransfert.numerique.gouv.fr/download/download-info-public?enclosure=4f1c2b3a&recipient="
        "cGFyY291cnM%3D&token=9a8b7c6d-1e2f\n"
        "et l'ancienne adresse : https://francetransfert.culture.gouv.fr/download?enclosure=77.\n");
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[0].service, "France Transfert");
    EXPECT_EQ(links[0].url.substr(links[0].url.size() - 20), "&token=9a8b7c6d-1e2f");
    EXPECT_EQ(links[1].url, "https://francetransfert.culture.gouv.fr/download?enclosure=77");
    EXPECT_EQ(links[1].service, "France Transfert");
}

TEST(DownloadLinks, WeTransferNotificationAndShortLink) {
    const auto links = find_download_links(
        "ce.0620001p@ac-lille.fr vous a envoyé PPO_lycee_du_Pre.zip\n"
        "1 fichier, 38,2 Mo au total ・ Expire le 21 mars 2022\n"
        "Télécharger vos fichiers\n"
        "https://wetransfer.com/downloads/5e1a9b2c3d4f5a6b7c8d9e0f1a2b3c4d20220314101010/1a2b3c\n"
        "Lien court : https://we.tl/t-AbCdEf1234!\n");
    EXPECT_EQ(urls(links), (std::vector<std::string>{
                               "https://wetransfer.com/downloads/5e1a9b2c3d4f5a6b7c8d9e0f1a2b3c4d20220314101010/1a2b3c",
                               "https://we.tl/t-AbCdEf1234"}));
    for (const auto& l : links) EXPECT_EQ(l.service, "WeTransfer");
}

TEST(DownloadLinks, OutlookAngleBracketsParenthesesAndPunctuation) {
    const auto links = find_download_links(
        "Voici le PPO <https://1drv.ms/b/s!AkF2x9q3PpoExample>.\n"
        "Copie sur le Drive (https://drive.google.com/file/d/1AbC_dEf/view?usp=sharing), "
        "sinon Dropbox : https://www.dropbox.com/s/abc123/PPO.pdf?dl=0;\n"
        "\"https://lycee.sharepoint.com/:b:/g/EabcDEF\" et 'https://www.swisstransfer.com/d/1234-abcd'\n"
        "https://fr.wikipedia.org/wiki/Lyc%C3%A9e_(France) n'est pas un partage.\n"
        "Encore : https://1drv.ms/b/s!AkF2x9q3PpoExample (le même).\n");
    ASSERT_EQ(links.size(), 5u);
    EXPECT_EQ(links[0].url, "https://1drv.ms/b/s!AkF2x9q3PpoExample");
    EXPECT_EQ(links[0].service, "OneDrive");
    EXPECT_EQ(links[1].url, "https://drive.google.com/file/d/1AbC_dEf/view?usp=sharing");
    EXPECT_EQ(links[1].service, "Google Drive");
    EXPECT_EQ(links[2].url, "https://www.dropbox.com/s/abc123/PPO.pdf?dl=0");
    EXPECT_EQ(links[2].service, "Dropbox");
    EXPECT_EQ(links[3].url, "https://lycee.sharepoint.com/:b:/g/EabcDEF");
    EXPECT_EQ(links[4].url, "https://www.swisstransfer.com/d/1234-abcd");
    EXPECT_EQ(links[4].service, "SwissTransfer");
}

TEST(DownloadLinks, BalancedParenthesesStayInTheUrl) {
    const auto links = find_download_links("(voir https://cloud.lycee-exemple.fr/s/AbCdEfGh12345(1))");
    ASSERT_EQ(links.size(), 0u);  // "(1)" after the token: not a share path
    const auto l2 = find_download_links("(https://drive.google.com/drive/folders/x_(2022))");
    ASSERT_EQ(l2.size(), 1u);
    EXPECT_EQ(l2[0].url, "https://drive.google.com/drive/folders/x_(2022)");
}

TEST(DownloadLinks, OtherServices) {
    const auto links = find_download_links(
        "https://fromsmash.com/PPO-2022 https://www.transfernow.net/dl/20220314abcd "
        "https://www.grosfichiers.com/AbCdEf https://mega.nz/file/abc#key "
        "https://docs.google.com/document/d/1xyz/edit https://onedrive.live.com/?id=ABC "
        "https://dl.dropboxusercontent.com/s/x/PPO.pdf");
    std::vector<std::string> services;
    for (const auto& l : links) services.push_back(l.service);
    EXPECT_EQ(services, (std::vector<std::string>{"Smash", "TransferNow", "GrosFichiers", "MEGA", "Google Drive",
                                                  "OneDrive", "Dropbox"}));
}

TEST(DownloadLinks, GenericNextcloudAndOwncloudShares) {
    const auto links = find_download_links(
        "https://cloud.lycee-gambetta.fr/index.php/s/Q7wErTyUiOpAsDf "
        "http://owncloud.example.org/s/AbCdEfGh12345678/download "
        "https://portail.apps.education.fr/s/ZzYyXxWw12345 "
        "https://www.amazon.fr/s/ref=nb_sb_noss https://example.org/s/short https://example.org/docs/s/AbCdEfGh1234");
    ASSERT_EQ(links.size(), 3u);
    EXPECT_EQ(links[0].service, "Nextcloud");
    EXPECT_EQ(links[0].host, "cloud.lycee-gambetta.fr");
    EXPECT_EQ(links[1].service, "Nextcloud");
    EXPECT_EQ(links[2].service, "Nuage (apps.education.fr)");
}

TEST(DownloadLinks, LookalikeHostsAreRefused) {
    const auto links = find_download_links(
        "https://evil-wetransfer.com/downloads/x\n"
        "https://wetransfer.com.evil.fr/downloads/x\n"
        "https://wetransfer.com@evil.fr/downloads/x\n"
        "https://user:wetransfer.com@evil.fr/\n"
        "https://evil.fr\\@wetransfer.com/\n"
        "https://notwe.tl/t-abc\n"
        "https://drive.google.com.evil.fr/file/d/x\n"
        "https://nuage03.apps.education.fr.evil.fr/x\n"
        "https://apps-education.fr/s/\n"
        "https://filesender.renater.fr%2F.evil.fr/x\n"
        "ftp://wetransfer.com/x\n"
        "https://evilsharepoint.com/x\n");
    EXPECT_TRUE(links.empty()) << links.front().url;
}

TEST(DownloadLinks, HostIsCaseInsensitivePercentDecodedAndKeepsUserinfoOut) {
    const auto links = find_download_links(
        "HTTPS://WeTransfer.COM/downloads/abc\n"
        "https://evil.fr@wetransfer.com/downloads/def\n"
        "https://wetransfer%2Ecom/downloads/ghi\n"
        "https://wetransfer.com.:443/downloads/jkl\n");
    ASSERT_EQ(links.size(), 4u);
    for (const auto& l : links) {
        EXPECT_EQ(l.host, "wetransfer.com") << l.url;
        EXPECT_EQ(l.service, "WeTransfer");
    }
    EXPECT_EQ(links[0].url, "HTTPS://WeTransfer.COM/downloads/abc");  // as written
}

TEST(DownloadLinks, DistinctInOrderOfAppearance) {
    const auto links = find_download_links(
        "https://we.tl/t-B https://we.tl/t-A https://we.tl/t-B. <https://we.tl/t-A> https://we.tl/t-C");
    EXPECT_EQ(urls(links), (std::vector<std::string>{"https://we.tl/t-B", "https://we.tl/t-A", "https://we.tl/t-C"}));
}

TEST(DownloadLinks, FrenchQuotesAndNoBreakSpacesEndTheUrl) {
    const auto links = find_download_links("lien : «\xC2\xA0https://we.tl/t-Quote\xC2\xA0» ou “https://we.tl/t-Curly”");
    EXPECT_EQ(urls(links), (std::vector<std::string>{"https://we.tl/t-Quote", "https://we.tl/t-Curly"}));
}

TEST(DownloadLinks, LargeHostileInputIsLinear) {
    std::string text;
    for (int k = 0; k < 100000; ++k) text += "https://we.tl/";  // one 1.4 MB "URL"
    text += std::string(1000000, ')');
    text += ' ';
    for (int k = 0; k < 50000; ++k) text += "http http:/ https://x.fr/s/ ";
    for (int k = 0; k < 20000; ++k) text += "https://we.tl/t-" + std::to_string(k) + " ";
    const auto start = std::chrono::steady_clock::now();
    const auto links = find_download_links(text);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(links.size(), 20001u);
    EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(DownloadLinks, HtmlOnlyMessageLinksAreFound) {
    const auto m = ppo::parsers::parse_mime_message(
        "From: ce.0596082r@ac-lille.fr\r\nSubject: PPO\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><body><p>Le fichier est trop lourd : <a href=\"https://nuage03.apps.education.fr/index.php/s/"
        "Xk3pQ9rTzWm4LbN\">PPO 2022</a></p></body></html>\r\n");
    const auto links = find_download_links(m.text);
    ASSERT_EQ(links.size(), 1u);
    EXPECT_EQ(links[0].url, "https://nuage03.apps.education.fr/index.php/s/Xk3pQ9rTzWm4LbN");
}

}  // namespace
