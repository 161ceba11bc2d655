#include "workflow/intake/intake.h"
#include "parsers/mime/address.h"

#include "parsers/text/strings.h"

#include "parsers/mime/content_digest.h"
#include "parsers/document/document_type.h"
#include "parsers/mime/download_links.h"
#include "parsers/mime/tnef.h"
#include "parsers/text/error.h"
#include "parsers/mime/forward_block.h"
#include "parsers/mime/msg_id.h"
#include "workflow/campaign/campaign_time.h"
#include "workflow/intake/crash_point.h"
#include "workflow/intake/identification.h"
#include "workflow/mail/mail_builder.h"
#include "workflow/intake/sender_auth.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <future>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>

namespace ppo::workflow {

namespace {

using text::lower;
using text::trim;

std::string local_part(const std::string& address) { return parsers::address_local_part(address); }

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
        return "auto-submitted message (Auto-Submitted: " + std::string(trim(*v)) + ")";
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


namespace {

std::string printable_ascii(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
    return out;
}

std::int64_t epoch(const Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

}  // namespace

Intake::Intake(const Config& config, Store& store, MailSource& source, Archive& archive, const Templates& templates,
               const Clock& clock, DocumentReader* documents)
    : config_(config), store_(store), source_(source), archive_(archive), templates_(templates), clock_(clock),
      reader_(config.documents.read ? documents : nullptr) {
    auto academies = [&] {
        std::string s;
        for (const auto& a : config.campaign.academies) s += (s.empty() ? "" : ",") + a;
        return s;
    }();
    campaign_ = store_.ensure_campaign(config.campaign.name, config.campaign.deadline, academies, epoch(clock));
    // The directory (and its NameIndex) is loaded by each poll_once(), the only user.
}

ListingPlan plan_listing(const std::vector<MessageSummary>& listing, const std::vector<MessageRecord>& recorded,
                         std::uint64_t max_message_size, std::uint32_t after_uid) {
    std::map<std::uint32_t, const MessageRecord*> by_uid;
    for (const auto& m : recorded) by_uid.emplace(m.uid, &m);
    ListingPlan plan;
    plan.max_uid = after_uid;
    for (const auto& s : listing) {
        plan.max_uid = std::max(plan.max_uid, s.uid);
        if (auto it = by_uid.find(s.uid); it != by_uid.end()) {
            plan.refile.push_back({it->second->id, s.uid, folder_from_name(it->second->folder)});
            continue;
        }
        plan.fresh.push_back({s, s.size > max_message_size});
    }
    return plan;
}

Intake::Prepared Intake::prepare(FetchedMessage& fetched, std::uint32_t uidvalidity) const {
    Prepared p;
    const std::int64_t now = p.now = epoch(clock_);
    parsers::MimeLimits limits;
    limits.max_message_bytes = config_.intake.max_message_size;
    limits.max_parts = config_.intake.max_parts;
    limits.max_depth = config_.intake.max_depth;

    MessageFacts& f = p.facts;
    MessageRecord& base = f.base;
    base.campaign_id = campaign_.id;
    base.mailbox = config_.imap.mailbox;
    base.uidvalidity = uidvalidity;
    base.uid = fetched.uid;
    // Arrival is the server's INTERNALDATE; --now replays may set an earlier clock.
    base.received_at = fetched.internal_date > 0 ? std::min(fetched.internal_date, now) : now;

    parsers::MimeMessage& msg = p.msg;
    try {
        fault("read", fetched.uid);
        const std::string_view raw = fetched.bytes();
        base.content_sha256 = parsers::content_digest(raw);
        if (fetched.mapped) {
            // A big message read from its file: what has been read may leave memory.
            auto mapped = fetched.mapped;
            mapped->release(raw.data(), raw.data() + raw.size());
            limits.release = [mapped](const char* from, const char* to) { mapped->release(from, to); };
        }
        msg = parsers::parse_mime_message(raw, limits);
        limits.release = nullptr;
        // The decoded parts are all that is needed from here on.
        fetched.raw.clear();
        fetched.raw.shrink_to_fit();
        fetched.mapped.reset();
        base.message_id = msg.message_id;
        base.from = lower(msg.from_address);
        base.subject = msg.subject;
        for (std::size_t i = 0; i < msg.attachments.size(); ++i) {
            const auto& a = msg.attachments[i];
            // TNEF first: a winmail.dat holding a PDF near its start would
            // otherwise pass for that PDF (a PDF header may follow junk).
            if (reader_ && parsers::is_tnef(a.filename, a.content_type, a.data)) {
                p.documents.push_back({i, parsers::DocumentKind::none, true});
                continue;
            }
            auto kind = parsers::classify_document(a.filename, a.content_type, a.data);
            if (kind != parsers::DocumentKind::none) p.documents.push_back({i, kind});
        }
        f.attachments = msg.attachments.size();
        if (msg.corrupt) {
            f.corrupt_reason = msg.corrupt_reason;
        } else {
            f.auto_reply = auto_reply_reason(msg, config_);
            // Only what is kept is read (not an auto-reply's, not a broken message's).
            if (f.auto_reply.empty()) read_documents(p);
            f.documents = static_cast<std::size_t>(
                std::count_if(p.documents.begin(), p.documents.end(), [](const Document& d) { return !d.tnef; }));
            if (f.documents == 0)
                for (const auto& l : parsers::find_download_links(msg.text)) f.links.push_back(l.host + " " + l.url);
            if (f.auto_reply.empty() && (f.documents > 0 || !f.links.empty())) {
                IdentificationInput in;
                in.from_address = msg.from_address;
                const auto auth = authenticate_sender(msg, config_.intake.trusted_authserv_id);
                in.sender_authenticated = auth.authenticated;
                in.sender_auth_detail = auth.reason;
                in.subject = msg.subject;
                in.body_text = msg.text;
                for (const auto& a : msg.attachments) in.filenames.push_back(a.filename);
                f.own = identify(in, directory_, config_.academie_domains(), &*names_);
                if (!in.sender_authenticated)
                    f.own.evidence.push_back("sender " + base.from + " not authenticated");
                // Forwarded messages: attached (message/rfc822) or quoted inline.
                // Their sender is what they say it is: anyone can write it, so
                // it only points at a lycée, whose official address is then
                // the one acknowledged.
                auto forwards = msg.forwarded;
                for (auto& inline_fwd : parsers::find_inline_forwards(msg.text)) forwards.push_back(std::move(inline_fwd));
                for (const auto& fw : forwards) {
                    IdentificationInput fin;
                    fin.from_address = fw.from_address;
                    fin.subject = fw.subject;
                    fin.body_text = fw.text;
                    fin.filenames = fw.filenames;
                    f.forwarded.push_back(identify(fin, directory_, config_.academie_domains(), &*names_));
                }
                f.replied_to = parsers::parse_msg_id_list(msg.in_reply_to + " " + msg.references);
                // What each document's letterhead names: evidence when the
                // message names no lycée, a check against the one it names.
                for (auto& d : p.documents) {
                    if (!d.read || d.text.head.empty()) continue;
                    IdentificationInput din;
                    din.letterhead = d.text.head;
                    din.letterhead_page = d.kind == parsers::DocumentKind::pdf ? 1 : 0;
                    auto named = identify(din, directory_, config_.academie_domains(), &*names_);
                    for (const auto& u : named.lycees) d.named_uais += (d.named_uais.empty() ? "" : " ") + u;
                    const auto& name = msg.attachments[d.index].filename;
                    for (auto& e : named.evidence) e = "'" + name + "': " + e;
                    if (named.identified) named.identified_by = "document";
                    f.documents_named.push_back(std::move(named));
                }
            }
        }
    } catch (const ppo::Error& e) {
        if (e.kind() == ErrorKind::transient) throw;
        f.unreadable = std::string("cannot handle the message: ") + e.what();
    } catch (const std::exception& e) {
        f.unreadable = std::string("internal error while reading the message: ") + e.what();
    }
    if (!f.unreadable.empty()) {
        p.documents.clear();
        msg.attachments.clear();
    }
    return p;
}

void Intake::read_documents(Prepared& p) const {
    if (reader_ == nullptr) return;
    parsers::MimeMessage& msg = p.msg;
    // winmail.dat first: the files inside are the message's documents, under
    // their real names; the container itself is kept too.
    const std::size_t listed = p.documents.size();
    for (std::size_t k = 0; k < listed; ++k) {
        if (!p.documents[k].tnef) continue;
        const std::size_t index = p.documents[k].index;
        auto content = reader_->unpack_tnef(msg.attachments[index].data);
        const std::string container = msg.attachments[index].filename.empty() ? "winmail.dat" : msg.attachments[index].filename;
        if (!content.error.empty()) {
            spdlog::warn("uid {}: {} could not be unpacked: {}", p.facts.base.uid, container, content.error);
            msg.problems.push_back(container + ": " + content.error);
        }
        if (!content.body_text.empty()) msg.text += (msg.text.empty() ? "" : "\n") + content.body_text;
        for (auto& file : content.files) {
            parsers::Attachment a;
            a.filename = std::move(file.name);
            a.data = std::move(file.data);
            auto kind = parsers::classify_document(a.filename, a.content_type, a.data);
            msg.attachments.push_back(std::move(a));
            if (kind == parsers::DocumentKind::none) continue;
            Document d;
            d.index = msg.attachments.size() - 1;
            d.kind = kind;
            d.container = container;
            p.documents.push_back(std::move(d));
        }
    }
    for (auto& d : p.documents) {
        if (d.tnef) continue;
        d.text = reader_->read_text(d.kind, msg.attachments[d.index].data);
        d.read = true;
        if (!d.text.error.empty())
            spdlog::info("uid {}: '{}' ({}) not read: {}", p.facts.base.uid, msg.attachments[d.index].filename,
                         parsers::to_string(d.kind), d.text.error);
        d.signals = ppo_signals(d.text.text, d.text.image_only, d.text.error, config_.campaign, d.text.title, d.text.head);
    }
}

void Intake::archive_files(Prepared& p) {
    MessageRecord& rec = p.rec;
    parsers::MimeMessage& msg = p.msg;
    // Files: <académie>/<bassin>/<UAI>/<submission>/ for a lycée's, _triage/<id>/ otherwise.
    if (p.verdict.keep_files) {
        std::string dir;
        if (const Lycee* l = directory_.by_uai(rec.uai)) {
            dir = l->academie + "/" + (l->bassin_code.empty() ? std::string("sans-bassin") : l->bassin_code) + "/" + l->uai +
                  "/" + std::to_string(rec.id);
        } else {
            dir = "_triage/" + std::to_string(rec.id);
        }
        std::set<std::string> used;
        for (const auto& d : p.documents) {
            const parsers::Attachment* att = &msg.attachments[d.index];
            const std::string kind = d.tnef ? "tnef" : std::string(parsers::to_string(d.kind));
            auto name = safe_file_name(att->filename.empty() ? (d.tnef ? "winmail.dat" : "document." + kind) : att->filename, used);
            auto stored = archive_.write(dir, name, att->data);
            FileRecord file{0, rec.id, name, stored.path, stored.size, stored.sha256, kind};
            file.container = d.container;
            if (d.read) {
                file.text = d.text.text;
                file.text_error = d.text.error.empty() && d.text.image_only ? "scanned image (no text)" : d.text.error;
                file.looks_like_ppo = d.signals.looks_like_ppo;
                file.school_years = text::join(d.signals.school_years, " ");
                file.named_uais = d.named_uais;
                file.check_detail = d.signals.detail;
            }
            p.files.push_back(std::move(file));
        }
    }
    // The files are kept: the decoded copies can go.
    msg.attachments.clear();
    msg.attachments.shrink_to_fit();
    p.documents.clear();
}

void Intake::write_rows(Prepared& p) {
    MessageRecord& rec = p.rec;
    store_.insert_message(rec);
    for (auto& f : p.files) {
        f.message_ref = rec.id;
        f.id = store_.insert_file(f);
    }
    fault("record", rec.uid);
    if (p.verdict.send_mails)
        enqueue_submission_mails(config_, store_, templates_, directory_, rec, p.files, p.msg.message_id,
                                 p.msg.references, true, p.now);
    if (p.verdict.send_link_reply)
        enqueue_link_reply(config_, store_, templates_, directory_, rec, p.msg.message_id, p.msg.references, p.now);
}

void Intake::count(const MessageRecord& rec, IntakeStats& stats) {
    if (rec.outcome == "submission") ++stats.submissions;
    else if (rec.outcome == "unidentified") ++stats.unidentified;
    else if (rec.outcome == "ignored") ++stats.ignored;
    else if (rec.outcome == "duplicate") ++stats.duplicates;
    else ++stats.quarantined;
    if (on_message) on_message(rec);
}

std::vector<Filing> Intake::record_batch(const std::vector<Unread>& unread, std::vector<Prepared>& prepared,
                                         std::uint32_t uidvalidity, IntakeStats& stats) {
    // What the store knows that bears on the batch, in two queries: messages
    // with the same content, and the lycées of our mails they reply to.
    std::vector<std::string> digests, replied;
    for (const auto& p : prepared) {
        digests.push_back(p.facts.base.content_sha256);
        replied.insert(replied.end(), p.facts.replied_to.begin(), p.facts.replied_to.end());
    }
    std::multimap<std::string, MessageRecord> by_digest;
    for (auto& m : store_.messages_with_content(digests)) by_digest.emplace(m.content_sha256, std::move(m));
    std::multimap<std::string, std::string> thread;
    for (auto& [mid, uai] : store_.lycees_of_sent_mails(replied)) thread.emplace(mid, uai);

    // Ids first (a short transaction of their own), so that the files go
    // under their final names before the write lock is taken.
    const auto ids = store_.reserve_message_ids(unread.size() + prepared.size());
    JudgeContext ctx;
    ctx.directory = &directory_;
    ctx.uidvalidity = uidvalidity;
    ctx.deadline_end = deadline_end(config_.campaign);

    auto make_record = [&](const MessageRecord& base, const Verdict& v, std::int64_t id) {
        MessageRecord rec = base;
        rec.id = id;
        rec.outcome = v.outcome;
        rec.reason = v.reason;
        rec.uai = v.uai;
        rec.identified_by = v.identified_by;
        rec.evidence = v.evidence;
        rec.links = v.links;
        rec.late = v.late;
        rec.duplicate_of = v.duplicate_of;
        rec.folder = v.folder;
        return rec;
    };

    for (std::size_t j = 0; j < prepared.size(); ++j) {
        Prepared& p = prepared[j];
        const std::uint32_t uid = p.facts.base.uid;
        try {
            fault("judge", uid);
            Known known;
            auto [lo, hi] = by_digest.equal_range(p.facts.base.content_sha256);
            for (auto it = lo; it != hi; ++it) known.same_content.push_back(it->second);
            std::sort(known.same_content.begin(), known.same_content.end(),
                      [](const MessageRecord& a, const MessageRecord& b) { return a.id < b.id; });
            std::set<std::string> uais;
            for (const auto& mid : p.facts.replied_to) {
                auto [tlo, thi] = thread.equal_range(mid);
                for (auto it = tlo; it != thi; ++it) uais.insert(it->second);
            }
            known.thread_uais.assign(uais.begin(), uais.end());
            p.verdict = judge(p.facts, known, ctx);
        } catch (const ppo::Error& e) {
            if (e.kind() == ErrorKind::transient) throw;
            p.verdict = quarantine(std::string("cannot judge the message: ") + e.what());
        } catch (const std::exception& e) {
            p.verdict = quarantine(std::string("internal error while judging the message: ") + e.what());
        }
        if (p.verdict.action == Verdict::Action::refile) {
            // Relocated now: another copy later in the batch is not this message again.
            auto [lo, hi] = by_digest.equal_range(p.facts.base.content_sha256);
            for (auto it = lo; it != hi; ++it)
                if (it->second.id == p.verdict.refile_of) it->second.uidvalidity = uidvalidity;
            continue;
        }
        p.rec = make_record(p.facts.base, p.verdict, ids[unread.size() + j]);
        // A later copy in this batch is a duplicate of this one.
        if (!p.rec.content_sha256.empty() && p.verdict.outcome != "quarantined")
            by_digest.emplace(p.rec.content_sha256, p.rec);
        try {
            fault("archive", uid);
            archive_files(p);
        } catch (const ppo::Error& e) {
            if (e.kind() == ErrorKind::transient) throw;   // the disk, not the message
            p.verdict = quarantine(std::string("cannot archive the files: ") + e.what());
            p.rec = make_record(p.facts.base, p.verdict, p.rec.id);
            p.files.clear();
        } catch (const std::exception& e) {
            p.verdict = quarantine(std::string("internal error while archiving the files: ") + e.what());
            p.rec = make_record(p.facts.base, p.verdict, p.rec.id);
            p.files.clear();
        }
    }
    archive_.sync();
    crash_point("archive");

    std::vector<Filing> filed;
    std::vector<MessageRecord> done;
    store_.begin();
    try {
        for (std::size_t j = 0; j < unread.size(); ++j) {
            MessageRecord base;
            base.campaign_id = campaign_.id;
            base.mailbox = config_.imap.mailbox;
            base.uidvalidity = uidvalidity;
            base.uid = unread[j].summary.uid;
            base.message_id = unread[j].summary.message_id;
            base.received_at = epoch(clock_);
            // Never read: it stays in the triage folder for a person.
            MessageRecord rec = make_record(base, unread[j].verdict, ids[j]);
            store_.insert_message(rec);
            filed.push_back({rec.id, rec.uid, folder_from_name(rec.folder)});
            done.push_back(std::move(rec));
        }
        for (auto& p : prepared) {
            if (p.verdict.action == Verdict::Action::refile) {
                spdlog::info("uid {}: same message as {} (recorded before the mailbox's UIDVALIDITY changed); filing it in {}",
                             p.facts.base.uid, p.verdict.refile_of, p.verdict.folder);
                store_.relocate_message(p.verdict.refile_of, uidvalidity, p.facts.base.uid);
                filed.push_back({p.verdict.refile_of, p.facts.base.uid, folder_from_name(p.verdict.folder)});
                ++stats.refiled;
                continue;
            }
            // One savepoint per message: its failure undoes its own rows only.
            store_.savepoint("ppo_message");
            try {
                write_rows(p);
                store_.release_savepoint("ppo_message");
            } catch (const std::exception& e) {
                const auto* pe = dynamic_cast<const ppo::Error*>(&e);
                if (pe && pe->kind() == ErrorKind::transient) throw;
                store_.rollback_to_savepoint("ppo_message");
                store_.release_savepoint("ppo_message");
                spdlog::error("uid {}: message {} quarantined: cannot record it: {}", p.rec.uid, p.rec.id, e.what());
                p.verdict = quarantine(std::string("cannot record the message: ") + e.what());
                // The row that could not be written may have failed on a
                // stranger's field (bytes a database refuses): the quarantine
                // row keeps them as printable ASCII only.
                MessageRecord plain = p.facts.base;
                plain.from = printable_ascii(plain.from);
                plain.subject = printable_ascii(plain.subject);
                plain.message_id = printable_ascii(plain.message_id);
                p.verdict.reason = printable_ascii(p.verdict.reason);
                p.rec = make_record(plain, p.verdict, p.rec.id);
                p.files.clear();
                store_.insert_message(p.rec);   // a failure here is the database's: the batch waits
            }
            filed.push_back({p.rec.id, p.rec.uid, folder_from_name(p.rec.folder)});
            done.push_back(p.rec);
            p.msg = parsers::MimeMessage{};
        }
        store_.commit();
    } catch (...) {
        store_.rollback();
        throw;
    }
    crash_point("commit");
    for (const auto& rec : done) count(rec, stats);
    return filed;
}

void Intake::file_messages(const std::vector<Filing>& filings) {
    std::map<Folder, std::vector<const Filing*>> by_folder;
    for (const auto& h : filings) by_folder[h.folder].push_back(&h);
    for (const auto& [folder, items] : by_folder) {
        std::vector<std::uint32_t> uids;
        std::vector<std::int64_t> ids;
        for (const auto* h : items) {
            uids.push_back(h->uid);
            ids.push_back(h->id);
        }
        source_.move(uids, folder);
        crash_point("move");
        store_.mark_moved(ids);
    }
}

IntakeStats Intake::poll_once() {
    IntakeStats stats;
    directory_ = store_.load_directory(config_.campaign.academies);
    names_.emplace(directory_);
    // Loaded for this pass only: a daemon waiting for mail does not keep it.
    struct Unload {
        Intake& intake;
        ~Unload() {
            intake.names_.reset();
            intake.directory_ = Directory{};
        }
    } unload{*this};
    const std::string& mailbox = config_.imap.mailbox;
    const std::uint32_t uidvalidity = source_.open();
    std::uint32_t after = 0;
    if (auto st = store_.mailbox_state(mailbox)) {
        if (st->uidvalidity == uidvalidity) {
            after = st->last_uid;
        } else {
            // Every UID changed meaning: what is in the inbox is recognised by
            // its content (same digest, never moved) instead of its UID.
            spdlog::warn("mailbox {}: UIDVALIDITY changed from {} to {}; recognising recorded messages by their content",
                         mailbox, st->uidvalidity, uidvalidity);
            ++stats.uidvalidity_resyncs;
        }
    }
    const auto listing = source_.list(after);
    stats.seen = listing.size();
    const ListingPlan plan =
        plan_listing(listing, store_.messages_after_uid(mailbox, uidvalidity, after), config_.intake.max_message_size, after);
    stats.refiled += plan.refile.size();
    if (!plan.refile.empty()) file_messages(plan.refile);
    const auto& fresh = plan.fresh;

    // Batches: as many messages as fit in batch_bytes (at least one), and at
    // most kMaxBatchMessages, so that a daemon restarted again and again still
    // commits progress between crashes.
    struct Batch {
        std::vector<std::uint32_t> uids;
        std::vector<Unread> unread;
        std::vector<FetchedMessage> fetched;
        std::uint32_t first_uid() const {
            std::uint32_t first = std::numeric_limits<std::uint32_t>::max();
            for (auto u : uids) first = std::min(first, u);
            for (const auto& u : unread) first = std::min(first, u.summary.uid);
            return first;
        }
    };
    std::size_t i = 0;
    auto next_batch = [&] {
        // 50: small enough that the pipeline fills and drains quickly, large
        // enough that a sync and a commit per batch cost little.
        constexpr std::size_t kMaxBatchMessages = 50;
        Batch batch;
        std::uint64_t bytes = 0;
        while (i < fresh.size() && batch.uids.size() < kMaxBatchMessages &&
               (batch.uids.empty() || bytes + fresh[i].summary.size <= config_.intake.batch_bytes)) {
            if (fresh[i].oversized) {
                batch.unread.push_back({fresh[i].summary, judge_oversized(fresh[i].summary, config_.intake.max_message_size)});
            } else {
                batch.uids.push_back(fresh[i].summary.uid);
                bytes += fresh[i].summary.size;
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

    if (fresh.empty()) {
        store_.set_mailbox_state(mailbox, {uidvalidity, plan.max_uid});
        return stats;
    }
    // Three stages, one batch in each: while this thread fetches batch k+2
    // over IMAP, batch k+1 is read on two worker threads (no lock held) and
    // batch k is judged and recorded on a third: ids reserved, files archived
    // and synced, then the rows in one transaction. Filing batch k (MOVE)
    // comes back to this thread, which owns the IMAP session. A batch is
    // committed whole (its failed messages quarantined) or not at all, in UID
    // order; the sender is woken after each commit.
    struct Stage {
        std::uint32_t first_uid = 0;
        std::vector<Unread> unread;
        std::future<std::vector<Prepared>> prepared;
    };
    auto fetch = [&](Batch& batch) {
        if (!batch.uids.empty()) {
            try {
                batch.fetched = source_.fetch(batch.uids);
            } catch (const ppo::Error& e) {
                // The server refused the batch (NO) while the session holds:
                // one message it cannot deliver (a broken file in its store)
                // must not keep the others waiting. Each one alone; those it
                // still refuses are judged unread, the others go on.
                if (e.kind() == ErrorKind::transient) throw;
                spdlog::warn("mailbox {}: FETCH of {} message(s) refused ({}); fetching them one by one", mailbox,
                             batch.uids.size(), e.what());
                batch.fetched.clear();
                std::vector<std::uint32_t> readable;
                for (auto uid : batch.uids) {
                    try {
                        for (auto& m : source_.fetch({uid})) batch.fetched.push_back(std::move(m));
                        readable.push_back(uid);
                    } catch (const ppo::Error& one) {
                        if (one.kind() == ErrorKind::transient) throw;
                        const auto it = std::find_if(fresh.begin(), fresh.end(),
                                                     [&](const ListingPlan::New& n) { return n.summary.uid == uid; });
                        spdlog::error("uid {}: the server cannot deliver it: {}; quarantined", uid, one.what());
                        batch.unread.push_back({it->summary, judge_unfetchable(it->summary, one.what())});
                    }
                }
                batch.uids = std::move(readable);
            }
        }
        crash_point("fetch");
    };
    auto start_prepare = [&](Batch batch) {
        Stage st;
        st.first_uid = batch.first_uid();
        st.unread = std::move(batch.unread);
        st.prepared = std::async(std::launch::async, [this, uidvalidity, fetched = std::move(batch.fetched)]() mutable {
            // Reading is most of the CPU: the second half on a thread of its own.
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
    auto start_record = [&](std::vector<Unread> unread, std::vector<Prepared> prepared) {
        return std::async(std::launch::async, [this, &stats, uidvalidity, unread = std::move(unread),
                                               prepared = std::move(prepared)]() mutable {
            return record_batch(unread, prepared, uidvalidity, stats);
        });
    };

    std::optional<Stage> preparing;       // being read
    std::optional<Batch> pending_batch;   // fetched, waiting for the readers
    try {
        Batch first = next_batch();
        fetch(first);
        preparing = start_prepare(std::move(first));
    } catch (...) {
        remember_progress(fresh.front().summary.uid);
        throw;
    }
    std::exception_ptr fetch_error;
    std::uint32_t unfetched_uid = 0;   // first UID of the batch whose fetch failed
    auto fetch_next = [&] {
        if (fetch_error || pending_batch || i >= fresh.size()) return;
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
        fetch_next();   // the first time round: while the first batch is read
        std::vector<Prepared> prepared;
        try {
            prepared = current.prepared.get();
        } catch (...) {
            remember_progress(current.first_uid);
            throw;
        }
        auto recording = start_record(std::move(current.unread), std::move(prepared));
        if (pending_batch) {
            preparing = start_prepare(std::move(*pending_batch));
            pending_batch.reset();
        }
        fetch_next();
        std::vector<Filing> filed;
        try {
            filed = recording.get();
        } catch (...) {
            if (preparing) preparing->prepared.wait();
            remember_progress(current.first_uid);
            throw;
        }
        if (on_batch_committed) on_batch_committed();
        if (fetch_error) {
            // What is read or fetched but not committed waits for the next pass.
            if (preparing) preparing->prepared.wait();
            remember_progress(preparing ? preparing->first_uid : pending_batch ? pending_batch->first_uid() : unfetched_uid);
            try {
                file_messages(filed);
            } catch (...) {
                // The connection may be gone: the next pass finds them recorded and files them.
            }
            std::rethrow_exception(fetch_error);
        }
        file_messages(filed);
    }
    store_.set_mailbox_state(mailbox, {uidvalidity, plan.max_uid});
    return stats;
}

}  // namespace ppo::workflow
