// The README's demo: a throwaway Dovecot holding a few sample PPO mails, a
// capturing SMTP server, the sample directory imported into SQLite; then
// ppo-intake handles the mailbox, and the demo shows the status table, the
// triage queue and the acknowledgements that were really sent.
#include "bench/harness.h"
#include "parsers/mime/mime_message.h"

#include <iostream>

using namespace ppo::testbench;

namespace {

void show(const std::string& title, const RunResult& r) {
    std::cout << "\n===== " << title << " (exit " << r.exit_code << ")\n" << r.out;
    if (!r.err.empty()) std::cout << r.err;
}

TestFile pdf(const std::string& name, const std::string& tag) { return {name, "application/pdf", sample_pdf(tag, 150000), ""}; }

}  // namespace

int main() {
    try {
        std::cout << "Starting a throwaway Dovecot and an SMTP capture server on 127.0.0.1...\n";
        Harness h;
        std::cout << "Work folder: " << h.dir() << "\nIMAP " << h.imap().url() << ", SMTP " << h.smtp().url()
                  << "\nSample directory imported (140 LGTs of the académies of Lille and Amiens).\n";

        std::vector<TestMail> mails(10);
        mails[0].from = "ce.0596082r@ac-lille.fr";
        mails[0].subject = "PPO du lycée Camille Claudel";
        mails[0].files = {pdf("PPO 2022 Camille Claudel.pdf", "a")};
        mails[1].from = "Marie Dupont <marie.dupont@ac-lille.fr>";
        mails[1].subject = "PPO 0597091M";
        mails[1].files = {pdf("ppo.pdf", "b")};
        mails[2].from = "Direction <direction.jeanne-darc@orange.fr>";
        mails[2].subject = "Programme pluriannuel d'orientation";
        mails[2].files = {pdf("PPO Jeanne d'Arc.pdf", "c")};
        mails[3].from = "secretariat@gmail.com";
        mails[3].subject = "envoi";
        mails[3].files = {pdf("PPO_0591023S.pdf", "d")};
        mails[4].from = "ce.0596082r@ac-lille.fr";
        mails[4].subject = "Réponse automatique : absent";
        mails[4].headers = {{"Auto-Submitted", "auto-replied"}};
        mails[5].from = "ce.0596082r@ac-lille.fr";
        mails[5].subject = "PPO commun avec le lycée 0597091M";
        mails[5].files = {pdf("PPO commun.pdf", "e")};
        mails[6].from = "ce.0596082r@ac-lille.fr";
        mails[6].subject = "PPO Camille Claudel — version corrigée";
        mails[6].files = {pdf("PPO 2022 Camille Claudel v2.pdf", "f")};
        // Issue 12: what the documents say. A PPO whose letterhead alone names
        // its lycée, from a personal address with a bare subject...
        const std::string docs = std::string(PPO_TEST_DATA_DIR) + "/documents/";
        mails[7].from = "jean.dupont@gmail.com";
        mails[7].subject = "PPO";
        mails[7].body = "Bonjour,\nci-joint le document demandé.";
        mails[7].files = {{"document.pdf", "application/pdf", read_file(docs + "ppo-boucher.pdf"), ""}};
        // ... a download link instead of the file...
        mails[8].from = "ce.0608139w@ac-amiens.fr";
        mails[8].subject = "PPO lycée Fénelon";
        mails[8].body = "Bonjour,\nle fichier est trop lourd, le voici :\nhttps://nuage03.apps.education.fr/index.php/s/Ab12Cd34Ef56";
        // ... and the minutes of a board meeting sent as the PPO.
        mails[9].from = "ce.0597091m@ac-lille.fr";
        mails[9].subject = "PPO Ribot";
        mails[9].files = {{"PPO Ribot.pdf", "application/pdf", read_file(docs + "cr-ca.pdf"), ""}};
        for (const auto& m : mails) h.deliver(m);
        std::cout << mails.size() << " mails delivered to INBOX.\n";

        const std::string now = "2022-03-10T14:00:00+01:00";
        show("ppo-intake --now " + now + " poll --once", h.ppo({"poll", "--once"}, now));
        show("ppo-intake status", h.ppo({"status"}, now));
        show("ppo-intake triage list", h.ppo({"triage", "list"}, now));

        auto sent = h.smtp().wait_for(13);
        std::cout << "\n===== " << sent.size() << " mails captured by the SMTP server\n";
        for (const auto& m : sent) {
            auto parsed = ppo::parsers::parse_mime_message(m.data);
            std::string to;
            for (const auto& r : m.rcpt_to) to += (to.empty() ? "" : ", ") + r;
            std::cout << "- to " << to << ": " << parsed.subject << " (" << parsed.attachments.size() << " attachment(s))\n";
        }
        if (!sent.empty()) {
            auto first = ppo::parsers::parse_mime_message(sent.front().data);
            std::cout << "\n----- The first one in full:\nSubject: " << first.subject << "\n\n" << first.text << "\n";
        }
        // The acknowledgement of a document that does not look like a PPO, and
        // the answer to a link.
        for (const auto& m : sent) {
            auto parsed = ppo::parsers::parse_mime_message(m.data);
            if (parsed.text.find("ne semble pas être") != std::string::npos ||
                parsed.subject.find("merci de joindre") != std::string::npos)
                std::cout << "\n----- In full:\nSubject: " << parsed.subject << "\n\n" << parsed.text << "\n";
        }
        std::cout << "\nIMAP folders now: INBOX " << h.imap().count("INBOX") << ", PPO.Traites "
                  << h.imap().count("PPO.Traites") << ", PPO.A-trier " << h.imap().count("PPO.A-trier")
                  << ", PPO.Ignores " << h.imap().count("PPO.Ignores") << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "demo failed: " << e.what() << "\n";
        return 1;
    }
}
