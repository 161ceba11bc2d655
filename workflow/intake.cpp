#include "workflow/intake.h"

#include "parsers/document_type.h"
#include "parsers/error.h"
#include "workflow/campaign_time.h"
#include "workflow/identification.h"
#include "workflow/mail_builder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <future>
#include <map>

namespace ppo::workflow {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string domain_of(const std::string& address) {
    auto at = address.rfind('@');
    return at == std::string::npos ? std::string() : lower(address.substr(at + 1));
}

std::string local_part(const std::string& address) {
    auto at = address.rfind('@');
    return lower(at == std::string::npos ? address : address.substr(0, at));
}

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

TemplateValues lycee_values(const Config& config, const Lycee& l) {
    return {{"lycee_nom", l.name},
            {"uai", l.uai},
            {"commune", l.commune},
            {"campagne", config.campaign.name},
            {"date_limite", french_date(config.campaign.deadline)},
            {"adresse_depot", config.smtp.from_address}};
}

}  // namespace

Folder folder_from_name(const std::string& name) {
    if (name == "triage") return Folder::triage;
    if (name == "ignored") return Folder::ignored;
    return Folder::processed;
}

std::string folder_name(Folder folder) {
    switch (folder) {
        case Folder::triage: return "triage";
        case Folder::ignored: return "ignored";
        case Folder::processed: default: return "processed";
    }
}

std::string auto_reply_reason(const parsers::MimeMessage& m, const Config& config) {
    if (auto v = m.header("Auto-Submitted"); v && lower(trim(*v)) != "no" && !trim(*v).empty())
        return "auto-submitted message (Auto-Submitted: " + trim(*v) + ")";
    if (auto v = m.header("Precedence")) {
        auto p = lower(trim(*v));
        if (p == "bulk" || p == "junk" || p == "list") return "bulk mail (Precedence: " + p + ")";
    }
    if (m.header("List-Id")) return "mailing-list message (List-Id)";
    if (m.has_return_path && m.return_path.empty()) return "bounce (empty Return-Path)";
    auto lp = local_part(m.from_address);
    if (lp == "mailer-daemon" || lp == "postmaster") return "bounce (from " + m.from_address + ")";
    if (m.header("X-Autoreply") || m.header("X-Autorespond")) return "auto-reply (X-Autoreply)";
    const std::string own = "@" + config.intake.message_id_domain + ">";
    if (m.message_id.size() > own.size() && lower(m.message_id).ends_with(own))
        return "our own message (Message-ID " + m.message_id + ")";
    if (auto v = m.header("X-Loop"); v && lower(*v).find(lower(config.smtp.from_address)) != std::string::npos)
        return "mail loop (X-Loop)";
    if (lower(m.from_address) == lower(config.smtp.from_address)) return "our own address as sender";
    return "";
}

bool sender_authenticated(const parsers::MimeMessage& m, const std::string& trusted) {
    return authenticate_sender(m, trusted).authenticated;
}

void enqueue_submission_mails(const Config& config, Store& store, const Templates& templates,
                              const Directory& directory, const MessageRecord& record,
                              const std::vector<FileRecord>& files, const std::string& sender_message_id,
                              const std::string& sender_references, bool acknowledge_sender, std::int64_t now) {
    const Lycee* lycee = directory.by_uai(record.uai);
    if (!lycee) return;
    auto versions = store.submissions_of(record.campaign_id, record.uai);
    std::size_t version = 0;
    for (std::size_t i = 0; i < versions.size(); ++i)
        if (versions[i].id == record.id) version = i + 1;
    if (version == 0) version = versions.size() + 1;

    TemplateValues v = lycee_values(config, *lycee);
    v["numero"] = std::to_string(record.id);
    v["version"] = std::to_string(version);
    v["nouvelle_version"] = version > 1 ? "1" : "";
    v["date_reception"] = french_datetime(record.received_at, config.campaign.timezone);
    v["fichiers"] = files_list(files);
    v["en_retard"] = record.late ? "1" : "";
    v["expediteur"] = record.from;

    if (config.intake.acknowledge) {
        // Acknowledgements go to the lycée's official address, and to the
        // sender only inside the académies' or the directory's domains: never
        // to an outside address (no backscatter).
        std::vector<std::string> to;
        auto official = official_address(*lycee);
        if (!official.empty()) to.push_back(official);
        auto dom = domain_of(record.from);
        auto domains = config.academie_domains();
        bool sender_allowed = acknowledge_sender && !dom.empty() &&
                              (std::find(domains.begin(), domains.end(), dom) != domains.end() ||
                               (directory.has_mail_domain(dom) && !public_mail_provider(dom)) ||
                               std::find(config.intake.allowed_domains.begin(), config.intake.allowed_domains.end(), dom) !=
                                   config.intake.allowed_domains.end());
        if (sender_allowed && lower(record.from) != lower(official)) to.push_back(lower(record.from));
        std::vector<std::string> rcpt;
        for (const auto& r : to) {
            if (store.count_outbox_to("ack", r, now - 3600) >= static_cast<std::size_t>(config.smtp.max_per_recipient_per_hour)) {
                spdlog::warn("submission {}: UAI {}: acknowledgement to {} dropped (rate limit of {} per hour)", record.id,
                             record.uai, r, config.smtp.max_per_recipient_per_hour);
                continue;
            }
            rcpt.push_back(r);
        }
        if (!rcpt.empty()) {
            auto t = templates.render("ack", v);
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
            spec.extra_headers = {{"X-Loop", config.smtp.from_address}, {"X-PPO-Submission", std::to_string(record.id)}};
            OutboxMail mail;
            mail.campaign_id = record.campaign_id;
            mail.kind = "ack";
            mail.message_ref = record.id;
            mail.uai = record.uai;
            mail.dedupe_key = "ack:" + std::to_string(record.id);
            mail.envelope_from = config.smtp.from_address;
            mail.recipients = rcpt;
            mail.data = build_mail(spec);
            mail.next_attempt_at = now;
            mail.created_at = now;
            store.enqueue(mail);
        }
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
        for (const auto& f : files) spec.attachments.push_back({f.name, content_type_for(f.kind), "", f.path});
        mail.data = build_mail(spec);
        store.enqueue(mail);
    }
}

}  // namespace ppo::workflow

namespace ppo::workflow {

namespace {

std::int64_t epoch(const Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

std::string join_evidence(const std::vector<std::string>& e) {
    std::string out;
    for (const auto& s : e) out += (out.empty() ? "" : "; ") + s;
    return out;
}

}  // namespace

Intake::Intake(const Config& config, Store& store, MailSource& source, Archive& archive, const Templates& templates,
               const Clock& clock)
    : config_(config), store_(store), source_(source), archive_(archive), templates_(templates), clock_(clock) {
    auto academies = [&] {
        std::string s;
        for (const auto& a : config.campaign.academies) s += (s.empty() ? "" : ",") + a;
        return s;
    }();
    campaign_ = store_.ensure_campaign(config.campaign.name, config.campaign.deadline, academies, epoch(clock));
    // The directory (and its NameIndex) is loaded by each poll_once(), the only user.
}

Intake::Prepared Intake::prepare(FetchedMessage& fetched, std::uint32_t uidvalidity) const {
    Prepared p;
    const std::int64_t now = p.now = epoch(clock_);
    parsers::MimeLimits limits;
    limits.max_message_bytes = config_.intake.max_message_size;
    limits.max_parts = config_.intake.max_parts;
    limits.max_depth = config_.intake.max_depth;

    MessageRecord& rec = p.rec;
    rec.campaign_id = campaign_.id;
    rec.mailbox = config_.imap.mailbox;
    rec.uidvalidity = uidvalidity;
    rec.uid = fetched.uid;
    // Arrival is the server's INTERNALDATE; --now replays may set an earlier clock.
    rec.received_at = fetched.internal_date > 0 ? std::min(fetched.internal_date, now) : now;

    parsers::MimeMessage& msg = p.msg;
    auto& documents = p.documents;
    try {
        msg = parsers::parse_mime_message(fetched.raw, limits);
        // The decoded parts are all that is needed from here on.
        fetched.raw.clear();
        fetched.raw.shrink_to_fit();
        rec.message_id = msg.message_id;
        rec.from = lower(msg.from_address);
        rec.subject = msg.subject;
        for (std::size_t i = 0; i < msg.attachments.size(); ++i) {
            const auto& a = msg.attachments[i];
            auto kind = parsers::classify_document(a.filename, a.content_type, a.data);
            if (kind != parsers::DocumentKind::none) documents.emplace_back(i, kind);
        }
        if (msg.corrupt) {
            rec.outcome = "quarantined";
            rec.reason = "malformed message: " + msg.corrupt_reason;
        } else if (auto why = auto_reply_reason(msg, config_); !why.empty()) {
            rec.outcome = "ignored";
            rec.reason = why;
        } else if (documents.empty()) {
            rec.outcome = "unidentified";
            rec.reason = "no document attached (" + std::to_string(msg.attachments.size()) + " other attachment(s))";
        } else {
            IdentificationInput in;
            in.from_address = msg.from_address;
            in.sender_authenticated = sender_authenticated(msg, config_.intake.trusted_authserv_id);
            in.subject = msg.subject;
            in.body_text = msg.text;
            for (const auto& a : msg.attachments) in.filenames.push_back(a.filename);
            auto id = identify(in, directory_, config_.academie_domains(), &*names_);
            rec.evidence = join_evidence(id.evidence);
            if (!in.sender_authenticated) rec.evidence += (rec.evidence.empty() ? "" : "; ") + std::string("sender not authenticated");
            if (id.identified) {
                rec.outcome = "submission";
                rec.uai = id.uai;
                rec.identified_by = id.identified_by;
                rec.late = rec.received_at >= deadline_end(config_.campaign);
            } else {
                rec.outcome = "unidentified";
                rec.reason = id.reason;
            }
        }
    } catch (const ppo::Error& e) {
        if (e.kind() == ErrorKind::transient) throw;
        rec.outcome = "quarantined";
        rec.reason = std::string("cannot handle the message: ") + e.what();
        documents.clear();
    } catch (const std::exception& e) {
        rec.outcome = "quarantined";
        rec.reason = std::string("internal error while reading the message: ") + e.what();
        documents.clear();
    }
    if (rec.outcome == "ignored") rec.folder = "ignored";
    else if (rec.outcome == "submission") rec.folder = "processed";
    else rec.folder = "triage";
    return p;
}

void Intake::archive_files(Prepared& p) {
    MessageRecord& rec = p.rec;
    parsers::MimeMessage& msg = p.msg;
    // Files: <académie>/<bassin>/<UAI>/<submission>/ for a lycée's, _triage/<id>/ otherwise.
    if (rec.outcome == "submission" || rec.outcome == "unidentified") {
        std::string dir;
        if (const Lycee* l = directory_.by_uai(rec.uai)) {
            dir = l->academie + "/" + (l->bassin_code.empty() ? std::string("sans-bassin") : l->bassin_code) + "/" + l->uai +
                  "/" + std::to_string(rec.id);
        } else {
            dir = "_triage/" + std::to_string(rec.id);
        }
        std::set<std::string> used;
        for (const auto& [index, kind] : p.documents) {
            const parsers::Attachment* att = &msg.attachments[index];
            auto name = safe_file_name(att->filename.empty() ? "document." + std::string(parsers::to_string(kind)) : att->filename, used);
            auto stored = archive_.write(dir, name, att->data);
            p.files.push_back({0, rec.id, name, stored.path, stored.size, stored.sha256, std::string(parsers::to_string(kind))});
        }
    }
    // The files are kept: the decoded copies can go.
    msg.attachments.clear();
    msg.attachments.shrink_to_fit();
    p.documents.clear();
}

Intake::Handled Intake::record(Prepared& p, IntakeStats& stats) {
    MessageRecord& rec = p.rec;
    rec.id = store_.insert_message(rec);
    for (auto& f : p.files) {
        f.message_ref = rec.id;
        f.id = store_.insert_file(f);
    }
    if (rec.outcome == "submission")
        enqueue_submission_mails(config_, store_, templates_, directory_, rec, p.files, p.msg.message_id,
                                 p.msg.references, true, p.now);

    if (rec.outcome == "submission") ++stats.submissions;
    else if (rec.outcome == "unidentified") ++stats.unidentified;
    else if (rec.outcome == "ignored") ++stats.ignored;
    else ++stats.quarantined;
    if (on_message) on_message(rec);
    return {rec.id, rec.uid, folder_from_name(rec.folder)};
}

void Intake::file_messages(const std::vector<Handled>& handled) {
    std::map<Folder, std::vector<const Handled*>> by_folder;
    for (const auto& h : handled) by_folder[h.folder].push_back(&h);
    for (const auto& [folder, items] : by_folder) {
        std::vector<std::uint32_t> uids;
        std::vector<std::int64_t> ids;
        for (const auto* h : items) {
            uids.push_back(h->uid);
            ids.push_back(h->id);
        }
        source_.move(uids, folder);
        store_.mark_moved(ids);
    }
}

IntakeStats Intake::poll_once() {
    IntakeStats stats;
    directory_ = store_.load_directory(config_.campaign.academies);
    names_.emplace(directory_);
    const std::string& mailbox = config_.imap.mailbox;
    const std::uint32_t uidvalidity = source_.open();
    std::uint32_t after = 0;
    if (auto st = store_.mailbox_state(mailbox)) {
        if (st->uidvalidity == uidvalidity) {
            after = st->last_uid;
        } else {
            // Every UID changed meaning: match what is in the inbox by
            // Message-ID instead of handling it all again.
            spdlog::warn("mailbox {}: UIDVALIDITY changed from {} to {}; resynchronising by Message-ID", mailbox,
                         st->uidvalidity, uidvalidity);
            ++stats.uidvalidity_resyncs;
        }
    }
    auto summaries = source_.list(after);
    stats.seen = summaries.size();

    // What is already recorded: by UID, else by Message-ID (a copy delivered
    // twice, or any message after a UIDVALIDITY change). Two queries for the
    // whole listing rather than two per message.
    std::map<std::uint32_t, MessageRecord> by_uid;
    for (auto& m : store_.messages_after_uid(mailbox, uidvalidity, after)) by_uid.emplace(m.uid, std::move(m));
    std::vector<std::string> unknown_ids;
    for (const auto& s : summaries)
        if (!by_uid.count(s.uid) && !s.message_id.empty()) unknown_ids.push_back(s.message_id);
    std::map<std::string, MessageRecord> by_message_id;
    for (auto& m : store_.messages_with_message_ids(unknown_ids)) by_message_id.emplace(m.message_id, std::move(m));

    std::vector<Handled> refile;
    std::vector<MessageSummary> to_fetch;
    for (const auto& s : summaries) {
        const MessageRecord* known = nullptr;
        if (auto u = by_uid.find(s.uid); u != by_uid.end()) {
            known = &u->second;
        } else if (auto m = by_message_id.find(s.message_id); !s.message_id.empty() && m != by_message_id.end()) {
            known = &m->second;
            spdlog::info("uid {}: Message-ID {} was already handled as submission {}; filing it in {}", s.uid,
                         s.message_id, known->id, known->folder);
        }
        if (known) {
            refile.push_back({known->id, s.uid, folder_from_name(known->folder)});
            ++stats.refiled;
        } else {
            to_fetch.push_back(s);
        }
    }
    if (!refile.empty()) file_messages(refile);

    std::uint32_t max_uid = after;
    for (const auto& s : summaries) max_uid = std::max(max_uid, s.uid);

    // Batches: as many messages as fit in batch_bytes (at least one), and at
    // most kMaxBatchMessages, so that a daemon restarted again and again still
    // commits progress between crashes.
    struct Batch {
        std::vector<std::uint32_t> uids;
        std::vector<MessageSummary> oversized;
        std::vector<FetchedMessage> fetched;
        std::uint32_t first_uid() const { return uids.empty() ? oversized.front().uid : uids.front(); }
    };
    std::size_t i = 0;
    auto next_batch = [&] {
        // 50: small enough that the pipeline fills and drains quickly, large
        // enough that a sync and a commit per batch cost little.
        constexpr std::size_t kMaxBatchMessages = 50;
        Batch batch;
        std::uint64_t bytes = 0;
        while (i < to_fetch.size() && batch.uids.size() < kMaxBatchMessages &&
               (batch.uids.empty() || bytes + to_fetch[i].size <= config_.intake.batch_bytes)) {
            if (to_fetch[i].size > config_.intake.max_message_size) {
                batch.oversized.push_back(to_fetch[i]);
            } else {
                batch.uids.push_back(to_fetch[i].uid);
                bytes += to_fetch[i].size;
            }
            ++i;
        }
        return batch;
    };
    // Before rethrowing: the next pass starts from the first message not committed.
    auto remember_progress = [&](std::uint32_t first_left) {
        try {
            store_.set_mailbox_state(mailbox, {uidvalidity, first_left - 1});
        } catch (...) {
            // The state is an optimisation: the next pass re-lists from the old one.
        }
    };

    if (to_fetch.empty()) {
        store_.set_mailbox_state(mailbox, {uidvalidity, max_uid});
        return stats;
    }
    // Three stages, one batch in each: while this thread fetches batch k+2
    // over IMAP, batch k+1 is parsed and judged on two worker threads (no
    // lock held) and batch k is recorded on a third: ids reserved, files
    // archived and synced, then the rows in one transaction. Filing batch k
    // (MOVE) comes back to this thread, which owns the IMAP session. A batch
    // is committed whole or not at all, in UID order; the sender is woken
    // after each commit.
    struct Stage {
        std::uint32_t first_uid = 0;
        std::vector<MessageSummary> oversized;
        std::future<std::vector<Prepared>> prepared;
    };
    auto fetch = [&](Batch& batch) {
        if (!batch.uids.empty()) batch.fetched = source_.fetch(batch.uids);
    };
    auto start_prepare = [&](Batch batch) {
        Stage st;
        st.first_uid = batch.first_uid();
        st.oversized = std::move(batch.oversized);
        st.prepared = std::async(std::launch::async, [this, uidvalidity, fetched = std::move(batch.fetched)]() mutable {
            // Parsing is most of the CPU: the second half on a thread of its own.
            std::vector<Prepared> out(fetched.size());
            const std::size_t half = fetched.size() / 2;
            auto second = std::async(std::launch::async, [&, half] {
                for (std::size_t k = half; k < fetched.size(); ++k) out[k] = prepare(fetched[k], uidvalidity);
            });
            std::exception_ptr first_error;
            try {
                for (std::size_t k = 0; k < half; ++k) out[k] = prepare(fetched[k], uidvalidity);
            } catch (...) {
                first_error = std::current_exception();
            }
            second.get();   // waits (and rethrows) before `out` can go away
            if (first_error) std::rethrow_exception(first_error);
            return out;
        });
        return st;
    };
    auto start_record = [&](std::vector<MessageSummary> oversized, std::vector<Prepared> prepared) {
        return std::async(std::launch::async, [this, &stats, &mailbox, uidvalidity, oversized = std::move(oversized),
                                               prepared = std::move(prepared)]() mutable {
            // Ids first (a short transaction of their own), then the files
            // under their final names and one sync, all without the write
            // lock; then the rows, in one transaction. The sender thread,
            // which needs the lock for a moment after each mail, waits little.
            const auto ids = store_.reserve_message_ids(oversized.size() + prepared.size());
            for (std::size_t j = 0; j < prepared.size(); ++j) {
                prepared[j].rec.id = ids[oversized.size() + j];
                archive_files(prepared[j]);
            }
            archive_.sync();
            std::vector<Handled> handled;
            try {
                store_.begin();
                for (std::size_t j = 0; j < oversized.size(); ++j) {
                    const auto& s = oversized[j];
                    // Never downloaded: it stays in the triage folder for a person.
                    MessageRecord rec;
                    rec.campaign_id = campaign_.id;
                    rec.mailbox = mailbox;
                    rec.uidvalidity = uidvalidity;
                    rec.uid = s.uid;
                    rec.message_id = s.message_id;
                    rec.received_at = epoch(clock_);
                    rec.outcome = "quarantined";
                    rec.reason = "message of " + std::to_string(s.size) + " bytes exceeds max_message_size (" +
                                 std::to_string(config_.intake.max_message_size) + ")";
                    rec.folder = "triage";
                    rec.id = ids[j];
                    store_.insert_message(rec);
                    ++stats.quarantined;
                    if (on_message) on_message(rec);
                    handled.push_back({rec.id, s.uid, Folder::triage});
                }
                for (auto& p : prepared) {
                    handled.push_back(record(p, stats));
                    p = Prepared{};
                }
                store_.commit();
            } catch (...) {
                store_.rollback();
                throw;
            }
            return handled;
        });
    };

    std::optional<Stage> preparing;       // being parsed
    std::optional<Batch> pending_batch;   // fetched, waiting for the parsers
    try {
        Batch first = next_batch();
        fetch(first);
        preparing = start_prepare(std::move(first));
    } catch (...) {
        remember_progress(to_fetch.front().uid);
        throw;
    }
    std::exception_ptr fetch_error;
    std::uint32_t unfetched_uid = 0;   // first UID of the batch whose fetch failed
    auto fetch_next = [&] {
        if (fetch_error || pending_batch || i >= to_fetch.size()) return;
        Batch batch = next_batch();
        try {
            fetch(batch);
            pending_batch = std::move(batch);
        } catch (...) {
            fetch_error = std::current_exception();
            unfetched_uid = batch.first_uid();
        }
    };
    while (preparing) {
        Stage current = std::move(*preparing);
        preparing.reset();
        fetch_next();   // the first time round: while the first batch is parsed
        std::vector<Prepared> prepared;
        try {
            prepared = current.prepared.get();
        } catch (...) {
            remember_progress(current.first_uid);
            throw;
        }
        auto recording = start_record(std::move(current.oversized), std::move(prepared));
        if (pending_batch) {
            preparing = start_prepare(std::move(*pending_batch));
            pending_batch.reset();
        }
        fetch_next();
        std::vector<Handled> handled;
        try {
            handled = recording.get();
        } catch (...) {
            if (preparing) preparing->prepared.wait();
            remember_progress(current.first_uid);
            throw;
        }
        if (on_batch_committed) on_batch_committed();
        if (fetch_error) {
            // What is parsed or fetched but not committed waits for the next pass.
            if (preparing) preparing->prepared.wait();
            remember_progress(preparing ? preparing->first_uid : pending_batch ? pending_batch->first_uid() : unfetched_uid);
            try {
                file_messages(handled);
            } catch (...) {
                // The connection may be gone: the next pass finds them recorded and files them.
            }
            std::rethrow_exception(fetch_error);
        }
        file_messages(handled);
    }
    store_.set_mailbox_state(mailbox, {uidvalidity, max_uid});
    return stats;
}

}  // namespace ppo::workflow
