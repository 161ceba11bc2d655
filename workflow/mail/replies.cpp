#include "workflow/mail/replies.h"
#include "parsers/mime/address.h"

#include "parsers/text/strings.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/intake/document_check.h"
#include "workflow/mail/mail_builder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

namespace ppo::workflow {

namespace {

using text::lower;
using text::trim;

std::string domain_of(const std::string& address) { return parsers::address_domain(address); }

std::string human_size(std::int64_t bytes) {
    char buf[32];
    if (bytes < 1024) std::snprintf(buf, sizeof buf, "%lld octets", static_cast<long long>(bytes));
    else if (bytes < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.0f Ko", static_cast<double>(bytes) / 1024.0);
    else std::snprintf(buf, sizeof buf, "%.1f Mo", static_cast<double>(bytes) / (1024.0 * 1024.0));
    std::string s = buf;
    std::replace(s.begin(), s.end(), '.', ',');
    return s;
}

std::string files_list(const std::vector<FileRecord>& files) {
    std::string out;
    for (const auto& f : files) out += "  - " + f.name + " (" + human_size(f.size) + ")\n";
    if (!out.empty()) out.pop_back();
    return out;
}

// Consumer mail providers: a lycée may use one (its directory Mail), but the
// domain is not the lycée's, so only that exact address is acknowledged.
bool public_mail_provider(const std::string& domain) {
    static const std::set<std::string> providers = {
        "orange.fr", "wanadoo.fr", "free.fr",     "sfr.fr",      "neuf.fr",    "laposte.net", "gmail.com",
        "yahoo.fr",  "yahoo.com",  "hotmail.fr",  "hotmail.com", "outlook.fr", "outlook.com", "live.fr",
        "live.com",  "aol.com",    "icloud.com",  "gmx.fr",      "bbox.fr",    "numericable.fr", "club-internet.fr"};
    return providers.count(domain) > 0;
}

std::string official_address(const Lycee& l) {
    if (!l.mail.empty()) return l.mail;
    auto d = Config::academie_domain(l.academie);
    std::string uai = lower(l.uai);
    return d.empty() ? std::string() : "ce." + uai + "@" + d;
}

std::string content_type_for(const std::string& kind) {
    static const std::map<std::string, std::string> types = {
        {"pdf", "application/pdf"},
        {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {"odt", "application/vnd.oasis.opendocument.text"},
        {"doc", "application/msword"},
        {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
        {"xls", "application/vnd.ms-excel"},
        {"rtf", "application/rtf"},
        {"zip", "application/zip"}};
    auto it = types.find(kind);
    return it == types.end() ? "application/octet-stream" : it->second;
}

}  // namespace

TemplateValues lycee_values(const Config& config, const Lycee& l) {
    return {{"lycee_nom", l.name},
            {"uai", l.uai},
            {"commune", l.commune},
            {"campagne", config.campaign.name},
            {"date_limite", french_date(config.campaign.deadline)},
            {"adresse_depot", config.smtp.from_address}};
}

namespace {

std::string bullet_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += "  - " + l + "\n";
    if (!out.empty()) out.pop_back();
    return out;
}

// Replies (acknowledgements, link replies) go to the lycée's official address,
// and to the sender only inside the académies' or the directory's domains:
// never to an outside address (no backscatter); at most
// [smtp] max_per_recipient_per_hour of a kind to one address.
std::vector<std::string> reply_recipients(const Config& config, Store& store, const Directory& directory,
                                          const Lycee& lycee, const MessageRecord& record, bool reply_to_sender,
                                          const std::string& kind, std::int64_t now) {
    std::vector<std::string> to;
    auto official = official_address(lycee);
    if (!official.empty()) to.push_back(official);
    auto dom = domain_of(record.from);
    auto domains = config.academie_domains();
    bool sender_allowed = reply_to_sender && !dom.empty() &&
                          (std::find(domains.begin(), domains.end(), dom) != domains.end() ||
                           (directory.has_mail_domain(dom) && !public_mail_provider(dom)) ||
                           std::find(config.intake.allowed_domains.begin(), config.intake.allowed_domains.end(), dom) !=
                               config.intake.allowed_domains.end());
    if (sender_allowed && lower(record.from) != lower(official)) to.push_back(lower(record.from));
    std::vector<std::string> rcpt;
    for (const auto& r : to) {
        if (store.count_outbox_to(kind, r, now - 3600) >= static_cast<std::size_t>(config.smtp.max_per_recipient_per_hour)) {
            spdlog::warn("message {}: UAI {}: {} to {} dropped (rate limit of {} per hour)", record.id, record.uai, kind, r,
                         config.smtp.max_per_recipient_per_hour);
            continue;
        }
        rcpt.push_back(r);
    }
    return rcpt;
}

// Queues a reply to the sender's message (an acknowledgement, a link reply):
// threaded on it, marked auto-replied, one per (kind, message).
// `dedupe_key` "" is "<kind>:<message id>", the first one.
std::int64_t queue_reply(const Config& config, Store& store, const MessageRecord& record, const std::string& kind,
                         const RenderedTemplate& t, const std::vector<std::string>& rcpt,
                         const std::string& sender_message_id, const std::string& sender_references,
                         const std::pair<std::string, std::string>& id_header, std::int64_t now,
                         const std::string& dedupe_key = "") {
    MailSpec spec;
    spec.from = config.smtp.from;
    spec.to = rcpt;
    spec.subject = t.subject;
    spec.text = t.body;
    spec.date = now;
    spec.message_id = make_message_id(config.intake.message_id_domain, now);
    spec.in_reply_to = sender_message_id;
    spec.references = trim(sender_references + " " + sender_message_id);
    spec.auto_submitted = "auto-replied";
    spec.extra_headers = {{"X-Loop", config.smtp.from_address}, id_header};
    OutboxMail mail;
    mail.campaign_id = record.campaign_id;
    mail.kind = kind;
    mail.message_ref = record.id;
    mail.uai = record.uai;
    mail.dedupe_key = dedupe_key.empty() ? kind + ":" + std::to_string(record.id) : dedupe_key;
    mail.envelope_from = config.smtp.from_address;
    mail.recipients = rcpt;
    mail.data = build_mail(spec);
    mail.message_id = spec.message_id;
    mail.next_attempt_at = now;
    mail.created_at = now;
    return store.enqueue(mail);
}

// The values of the acknowledgement and forward templates for a submission of
// `lycee`; `documents` are its files without the winmail.dat containers.
TemplateValues submission_values(const Config& config, Store& store, const Directory& directory, const Lycee& lycee,
                                 const MessageRecord& record, const std::vector<FileRecord>& documents) {
    auto versions = store.submissions_of(record.campaign_id, record.uai);
    std::size_t version = 0;
    for (std::size_t i = 0; i < versions.size(); ++i)
        if (versions[i].id == record.id) version = i + 1;
    if (version == 0) version = versions.size() + 1;

    TemplateValues v = lycee_values(config, lycee);
    v["numero"] = std::to_string(record.id);
    v["version"] = std::to_string(version);
    v["nouvelle_version"] = version > 1 ? "1" : "";
    v["date_reception"] = french_datetime(record.received_at, config.campaign.timezone);
    v["fichiers"] = files_list(documents);
    v["en_retard"] = record.late ? "1" : "";
    v["expediteur"] = record.from;

    const auto checks = document_checks(documents, record.uai, config.campaign);
    v["remarques_documents"] = bullet_lines(french_remarks(checks, directory));
    v["controles_documents"] = bullet_lines(french_check_lines(checks, directory));
    return v;
}

// A winmail.dat is archived as received, but its files are what the
// lycée sent: an Outlook user never sees the container.
std::vector<FileRecord> documents_of(const std::vector<FileRecord>& files) {
    std::vector<FileRecord> documents;
    std::copy_if(files.begin(), files.end(), std::back_inserter(documents),
                 [](const FileRecord& f) { return f.kind != "tnef"; });
    return documents;
}

}  // namespace

void enqueue_link_reply(const Config& config, Store& store, const Templates& templates, const Directory& directory,
                        const MessageRecord& record, const std::string& sender_message_id,
                        const std::string& sender_references, std::int64_t now) {
    const Lycee* lycee = directory.by_uai(record.uai);
    if (!lycee || !config.intake.acknowledge) return;
    auto rcpt = reply_recipients(config, store, directory, *lycee, record, true, "link", now);
    if (rcpt.empty()) return;
    TemplateValues v = lycee_values(config, *lycee);
    v["date_reception"] = french_datetime(record.received_at, config.campaign.timezone);
    v["objet"] = record.subject.empty() ? "(sans objet)" : record.subject;
    std::vector<std::string> urls;
    std::istringstream in(record.links);
    for (std::string url; std::getline(in, url);) {
        if (url.empty()) continue;
        urls.push_back(url);
    }
    v["liens"] = bullet_lines(urls);
    queue_reply(config, store, record, "link", templates.render("link", v), rcpt, sender_message_id, sender_references,
                {"X-PPO-Message", std::to_string(record.id)}, now);
}

void enqueue_submission_mails(const Config& config, Store& store, const Templates& templates,
                              const Directory& directory, const MessageRecord& record,
                              const std::vector<FileRecord>& files, const std::string& sender_message_id,
                              const std::string& sender_references, bool acknowledge_sender, std::int64_t now) {
    const Lycee* lycee = directory.by_uai(record.uai);
    if (!lycee) return;
    const std::vector<FileRecord> documents = documents_of(files);
    TemplateValues v = submission_values(config, store, directory, *lycee, record, documents);

    if (config.intake.acknowledge) {
        auto rcpt = reply_recipients(config, store, directory, *lycee, record, acknowledge_sender, "ack", now);
        if (!rcpt.empty())
            queue_reply(config, store, record, "ack", templates.render("ack", v), rcpt, sender_message_id, sender_references,
                        {"X-PPO-Submission", std::to_string(record.id)}, now);
    }

    if (config.workflow.forward) {
        const Bassin* bassin = directory.bassin(lycee->bassin_code);
        if (!bassin || bassin->ien_io_mail.empty()) {
            spdlog::warn("submission {}: UAI {}: bassin {} has no IEN-IO; not forwarded (shown in status and digest)",
                         record.id, record.uai, lycee->bassin_code);
            return;
        }
        v["bassin"] = bassin->label.empty() ? bassin->code : bassin->label;
        v["ien_io_nom"] = bassin->ien_io_name;
        auto t = templates.render("forward", v);
        MailSpec spec;
        spec.from = config.smtp.from;
        spec.to = {bassin->ien_io_mail};
        spec.reply_to = official_address(*lycee);
        spec.subject = t.subject;
        spec.text = t.body;
        spec.date = now;
        spec.message_id = make_message_id(config.intake.message_id_domain, now);
        spec.auto_submitted = "auto-generated";
        spec.extra_headers = {{"X-Loop", config.smtp.from_address}, {"X-PPO-Submission", std::to_string(record.id)},
                              {"X-PPO-UAI", record.uai}};
        OutboxMail mail;
        mail.campaign_id = record.campaign_id;
        mail.kind = "forward";
        mail.message_ref = record.id;
        mail.uai = record.uai;
        mail.dedupe_key = "forward:" + std::to_string(record.id);
        mail.envelope_from = config.smtp.from_address;
        mail.recipients = {bassin->ien_io_mail};
        mail.next_attempt_at = now;
        mail.created_at = now;
        // The forward carries the files byte for byte as they were archived: the
        // outbox keeps references, expanded from the archive when it is sent.
        for (const auto& f : documents) spec.attachments.push_back({f.name, content_type_for(f.kind), "", f.path});
        mail.data = build_mail(spec);
        mail.message_id = spec.message_id;
        store.enqueue(mail);
    }
}

AckResend enqueue_ack_resend(const Config& config, Store& store, const Templates& templates, const Directory& directory,
                             const MessageRecord& record, const std::vector<FileRecord>& files, std::int64_t now) {
    AckResend r;
    const Lycee* lycee = directory.by_uai(record.uai);
    if (record.outcome != "submission" || !lycee) return r;
    // "ack:ID" was the first; "ack:ID:resend:N" the N-th sent again.
    const std::string prefix = "ack:" + std::to_string(record.id) + ":resend:";
    int n = 0;
    for (const auto& m : store.outbox_for_message(record.id))
        if (m.kind == "ack" && m.dedupe_key.rfind(prefix, 0) == 0) n = std::max(n, std::atoi(m.dedupe_key.c_str() + prefix.size()));
    r.dedupe_key = prefix + std::to_string(n + 1);
    r.recipients = reply_recipients(config, store, directory, *lycee, record, true, "ack", now);
    if (r.recipients.empty()) return r;
    TemplateValues v = submission_values(config, store, directory, *lycee, record, documents_of(files));
    r.outbox_id = queue_reply(config, store, record, "ack", templates.render("ack", v), r.recipients, record.message_id, "",
                              {"X-PPO-Submission", std::to_string(record.id)}, now, r.dedupe_key);
    return r;
}

}  // namespace ppo::workflow
