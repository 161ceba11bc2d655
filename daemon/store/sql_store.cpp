#include "daemon/store/sql_store.h"
#include "parsers/text/strings.h"

#include "parsers/text/error.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

namespace ppo::daemon {

using workflow::FileRecord;
using workflow::MessageRecord;
using workflow::OutboxMail;

namespace {

SqlParam text_or_null(const std::string& s) { return s.empty() ? SqlParam{SqlNull{}} : SqlParam{s}; }
SqlParam id_or_null(std::int64_t id) { return id == 0 ? SqlParam{SqlNull{}} : SqlParam{id}; }

// outbox.recipients: a JSON array of addresses (schema 004). Rows written
// before 004 that the migration could not convert are comma-joined lists.
std::string recipients_json(const std::vector<std::string>& r) {
    Poco::JSON::Array array;
    for (const auto& a : r) array.add(a);
    std::ostringstream out;
    array.stringify(out);
    return out.str();
}

std::vector<std::string> parse_recipients(const std::string& s) {
    std::vector<std::string> out;
    if (!s.empty() && s.front() == '[') {
        try {
            auto array = Poco::JSON::Parser().parse(s).extract<Poco::JSON::Array::Ptr>();
            for (std::size_t i = 0; i < array->size(); ++i) out.push_back(array->getElement<std::string>(static_cast<unsigned>(i)));
            return out;
        } catch (const Poco::Exception&) {
            out.clear();  // not JSON after all: a legacy list
        }
    }
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) if (!item.empty()) out.push_back(item);
    return out;
}

std::string lower_ascii(std::string_view s) { return text::lower(s); }

const char* kMessageColumns =
    "id, campaign_id, mailbox, uidvalidity, uid, message_id, received_at, from_addr, subject, outcome, reason, "
    "uai, identified_by, evidence, late, folder, moved, content_sha256, duplicate_of, links";

MessageRecord to_message(const SqlRow& r) {
    MessageRecord m;
    m.id = r.i64(0);
    m.campaign_id = r.i64(1);
    m.mailbox = r.str(2);
    m.uidvalidity = static_cast<std::uint32_t>(r.i64(3));
    m.uid = static_cast<std::uint32_t>(r.i64(4));
    m.message_id = r.str(5);
    m.received_at = r.i64(6);
    m.from = r.str(7);
    m.subject = r.str(8);
    m.outcome = r.str(9);
    m.reason = r.str(10);
    m.uai = r.str(11);
    m.identified_by = r.str(12);
    m.evidence = r.str(13);
    m.late = r.i64(14) != 0;
    m.folder = r.str(15);
    m.moved = r.i64(16) != 0;
    m.content_sha256 = r.str(17);
    m.duplicate_of = r.is_null(18) ? 0 : r.i64(18);
    m.links = r.str(19);
    return m;
}

std::vector<MessageRecord> to_messages(const std::vector<SqlRow>& rows) {
    std::vector<MessageRecord> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(to_message(r));
    return out;
}

const char* kOutboxColumns =
    "id, campaign_id, kind, message_ref, uai, dedupe_key, envelope_from, recipients, data, state, attempts, "
    "next_attempt_at, last_error, created_at, sent_at";
// The same columns with only the head of `data` (its first 4 KiB: enough for
// the Subject): for listings, where a forward's body would carry the PPO.
const char* kOutboxHeadColumns =
    "id, campaign_id, kind, message_ref, uai, dedupe_key, envelope_from, recipients, substr(data, 1, 4096), state, "
    "attempts, next_attempt_at, last_error, created_at, sent_at";

OutboxMail to_outbox(const SqlRow& r) {
    OutboxMail o;
    o.id = r.i64(0);
    o.campaign_id = r.i64(1);
    o.kind = r.str(2);
    o.message_ref = r.i64(3);
    o.uai = r.str(4);
    o.dedupe_key = r.str(5);
    o.envelope_from = r.str(6);
    o.recipients = parse_recipients(r.str(7));
    o.data = r.str(8);
    o.state = r.str(9);
    o.attempts = static_cast<int>(r.i64(10));
    o.next_attempt_at = r.i64(11);
    o.last_error = r.str(12);
    o.created_at = r.i64(13);
    o.sent_at = r.i64(14);
    return o;
}

std::vector<OutboxMail> to_outboxes(const std::vector<SqlRow>& rows) {
    std::vector<OutboxMail> out;
    for (const auto& r : rows) out.push_back(to_outbox(r));
    return out;
}

// Every column of a file but its text, which status, mails and listings never need.
const char* kFileColumns =
    "id, message_ref, name, path, size, sha256, kind, container, text_error, looks_like_ppo, school_years, named_uais, "
    "check_detail";
const char* kFileColumnsOfF =
    "f.id, f.message_ref, f.name, f.path, f.size, f.sha256, f.kind, f.container, f.text_error, f.looks_like_ppo, "
    "f.school_years, f.named_uais, f.check_detail";

FileRecord to_file(const SqlRow& r) {
    FileRecord f{r.i64(0), r.i64(1), r.str(2), r.str(3), r.i64(4), r.str(5), r.str(6)};
    f.container = r.str(7);
    f.text_error = r.str(8);
    f.looks_like_ppo = r.str(9);
    f.school_years = r.str(10);
    f.named_uais = r.str(11);
    f.check_detail = r.str(12);
    return f;
}

std::string placeholders(std::size_t first, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += (i ? ", $" : "$") + std::to_string(first + i);
    return s;
}

// Calls fn(list, params) for each run of at most 500 of `values`, `list`
// being "$1, $2, ..." for an IN (...): far below SQLite's 999 parameters.
template <class Fn>
void in_chunks(const std::vector<SqlParam>& values, Fn&& fn) {
    for (std::size_t i = 0; i < values.size(); i += 500) {
        const std::size_t n = std::min<std::size_t>(500, values.size() - i);
        fn(placeholders(1, n),
           std::vector<SqlParam>(values.begin() + static_cast<long>(i), values.begin() + static_cast<long>(i + n)));
    }
}

}  // namespace

workflow::CampaignInfo SqlStore::ensure_campaign(const std::string& name, const std::string& deadline,
                                                 const std::string& academies_csv, std::int64_t now) {
    auto rows = db_.query("SELECT id, name, deadline FROM campaigns WHERE name = $1", {name});
    if (rows.empty()) {
        db_.exec("INSERT INTO campaigns (name, deadline, academies, created_at) VALUES ($1, $2, $3, $4) "
                 "ON CONFLICT (name) DO NOTHING",
                 {name, deadline, academies_csv, now});
        rows = db_.query("SELECT id, name, deadline FROM campaigns WHERE name = $1", {name});
    } else if (rows.front().str(2) != deadline) {
        // The deadline may be moved by the DRAIO: the configuration is the truth.
        db_.exec("UPDATE campaigns SET deadline = $1, academies = $2 WHERE name = $3", {deadline, academies_csv, name});
    }
    return {rows.front().i64(0), rows.front().str(1), deadline};
}

workflow::Directory SqlStore::load_directory(const std::vector<std::string>& academies) {
    std::vector<SqlParam> params(academies.begin(), academies.end());
    auto rows = db_.query("SELECT uai, name, commune, departement, academie, bassin_code, bassin_label, mail, statut, "
                          "is_open, adresse, code_postal FROM lycees WHERE is_open = 1 AND academie IN (" +
                              placeholders(1, academies.size()) + ") ORDER BY uai",
                          params);
    std::vector<workflow::Lycee> lycees;
    for (const auto& r : rows) {
        lycees.push_back({r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.str(6), r.str(7), r.str(8),
                          r.i64(9) != 0, r.str(10), r.str(11)});
    }
    std::vector<workflow::Bassin> bassins;
    for (const auto& r : db_.query("SELECT code, label, ien_io_name, ien_io_mail FROM bassins ORDER BY code"))
        bassins.push_back({r.str(0), r.str(1), r.str(2), r.str(3)});
    return workflow::Directory(std::move(lycees), std::move(bassins));
}

std::optional<workflow::MailboxState> SqlStore::mailbox_state(const std::string& mailbox) {
    auto rows = db_.query("SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = $1", {mailbox});
    if (rows.empty()) return std::nullopt;
    return workflow::MailboxState{static_cast<std::uint32_t>(rows[0].i64(0)), static_cast<std::uint32_t>(rows[0].i64(1))};
}

void SqlStore::set_mailbox_state(const std::string& mailbox, const workflow::MailboxState& state) {
    db_.exec("INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid) VALUES ($1, $2, $3) "
             "ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
             {mailbox, std::int64_t{state.uidvalidity}, std::int64_t{state.last_uid}});
}

std::vector<MessageRecord> SqlStore::messages_after_uid(const std::string& mailbox, std::uint32_t uidvalidity,
                                                        std::uint32_t after_uid) {
    return to_messages(db_.query(std::string("SELECT ") + kMessageColumns +
                                     " FROM messages WHERE mailbox = $1 AND uidvalidity = $2 AND uid > $3",
                                 {mailbox, std::int64_t{uidvalidity}, std::int64_t{after_uid}}));
}

std::vector<MessageRecord> SqlStore::messages_with_content(const std::vector<std::string>& digests) {
    std::vector<SqlParam> wanted;
    for (const auto& d : digests)
        if (!d.empty()) wanted.emplace_back(d);
    std::vector<MessageRecord> out;
    in_chunks(wanted, [&](const std::string& list, const std::vector<SqlParam>& params) {
        for (auto& m : to_messages(db_.query(std::string("SELECT ") + kMessageColumns +
                                                 " FROM messages WHERE content_sha256 IN (" + list + ") ORDER BY id",
                                             params)))
            out.push_back(std::move(m));
    });
    return out;
}

void SqlStore::relocate_message(std::int64_t id, std::uint32_t uidvalidity, std::uint32_t uid) {
    db_.exec("UPDATE messages SET uidvalidity = $1, uid = $2 WHERE id = $3",
             {std::int64_t{uidvalidity}, std::int64_t{uid}, id});
}

std::vector<std::pair<std::string, std::string>> SqlStore::lycees_of_sent_mails(
    const std::vector<std::string>& message_ids) {
    std::vector<SqlParam> wanted;
    for (const auto& id : message_ids)
        if (!id.empty()) wanted.emplace_back(id);
    std::vector<std::pair<std::string, std::string>> out;
    in_chunks(wanted, [&](const std::string& list, const std::vector<SqlParam>& params) {
        for (const auto& r : db_.query("SELECT message_id, uai FROM outbox WHERE uai IS NOT NULL AND message_id IN (" +
                                           list + ") ORDER BY id",
                                       params))
            out.emplace_back(r.str(0), r.str(1));
    });
    return out;
}

std::optional<MessageRecord> SqlStore::message(std::int64_t id) {
    auto rows = db_.query(std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = $1", {id});
    if (rows.empty()) return std::nullopt;
    return to_message(rows.front());
}

std::vector<std::int64_t> SqlStore::reserve_message_ids(std::size_t n) {
    std::vector<std::int64_t> ids;
    if (n == 0) return ids;
    if (db_.backend() == "postgresql") {
        for (const auto& row : db_.query("SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $1)",
                                         {static_cast<std::int64_t>(n)}))
            ids.push_back(row.i64(0));
        return ids;
    }
    // SQLite: AUTOINCREMENT keeps the highest id ever given in sqlite_sequence
    // and never goes below it; moving it up reserves the ids in between.
    db_.begin();
    try {
        auto seq = db_.query("SELECT seq FROM sqlite_sequence WHERE name = 'messages'");
        std::int64_t base = seq.empty() ? 0 : seq.front().i64(0);
        base = std::max(base, db_.query("SELECT COALESCE(MAX(id), 0) FROM messages").front().i64(0));
        const std::int64_t top = base + static_cast<std::int64_t>(n);
        if (seq.empty()) db_.exec("INSERT INTO sqlite_sequence (name, seq) VALUES ('messages', $1)", {top});
        else db_.exec("UPDATE sqlite_sequence SET seq = $1 WHERE name = 'messages'", {top});
        db_.commit();
        for (std::int64_t id = base + 1; id <= top; ++id) ids.push_back(id);
    } catch (...) {
        db_.rollback();
        throw;
    }
    return ids;
}

std::int64_t SqlStore::insert_message(const MessageRecord& m) {
    if (m.id != 0) {
        db_.exec("INSERT INTO messages (id, campaign_id, mailbox, uidvalidity, uid, message_id, received_at, from_addr, "
                 "subject, outcome, reason, uai, identified_by, evidence, late, folder, moved, created_at, "
                 "content_sha256, duplicate_of, links) VALUES "
                 "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                 {m.id, m.campaign_id, m.mailbox, std::int64_t{m.uidvalidity}, std::int64_t{m.uid},
                  text_or_null(m.message_id), m.received_at, m.from, m.subject, m.outcome, m.reason, text_or_null(m.uai),
                  m.identified_by, m.evidence, std::int64_t{m.late ? 1 : 0}, m.folder, std::int64_t{m.moved ? 1 : 0},
                  m.received_at, text_or_null(m.content_sha256), id_or_null(m.duplicate_of), text_or_null(m.links)});
        return m.id;
    }
    return db_.insert(
        "INSERT INTO messages (campaign_id, mailbox, uidvalidity, uid, message_id, received_at, from_addr, subject, "
        "outcome, reason, uai, identified_by, evidence, late, folder, moved, created_at, content_sha256, duplicate_of, "
        "links) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
        {m.campaign_id, m.mailbox, std::int64_t{m.uidvalidity}, std::int64_t{m.uid}, text_or_null(m.message_id),
         m.received_at, m.from, m.subject, m.outcome, m.reason, text_or_null(m.uai), m.identified_by, m.evidence,
         std::int64_t{m.late ? 1 : 0}, m.folder, std::int64_t{m.moved ? 1 : 0}, m.received_at,
         text_or_null(m.content_sha256), id_or_null(m.duplicate_of), text_or_null(m.links)});
}

void SqlStore::update_message(const MessageRecord& m) {
    db_.exec("UPDATE messages SET outcome = $1, reason = $2, uai = $3, identified_by = $4, evidence = $5, late = $6, "
             "folder = $7, moved = $8 WHERE id = $9",
             {m.outcome, m.reason, text_or_null(m.uai), m.identified_by, m.evidence, std::int64_t{m.late ? 1 : 0},
              m.folder, std::int64_t{m.moved ? 1 : 0}, m.id});
}

void SqlStore::mark_moved(const std::vector<std::int64_t>& ids) {
    in_chunks(std::vector<SqlParam>(ids.begin(), ids.end()), [&](const std::string& list, const std::vector<SqlParam>& params) {
        db_.exec("UPDATE messages SET moved = 1 WHERE id IN (" + list + ")", params);
    });
}

std::vector<MessageRecord> SqlStore::unmoved_messages(const std::string& mailbox) {
    return to_messages(db_.query(std::string("SELECT ") + kMessageColumns +
                                     " FROM messages WHERE mailbox = $1 AND moved = 0 ORDER BY id",
                                 {mailbox}));
}

std::vector<MessageRecord> SqlStore::messages_with_outcome(std::int64_t campaign_id, const std::string& outcome) {
    return to_messages(db_.query(std::string("SELECT ") + kMessageColumns +
                                     " FROM messages WHERE campaign_id = $1 AND outcome = $2 ORDER BY received_at, id",
                                 {campaign_id, outcome}));
}

std::vector<MessageRecord> SqlStore::submissions_of(std::int64_t campaign_id, const std::string& uai) {
    return to_messages(db_.query(std::string("SELECT ") + kMessageColumns +
                                     " FROM messages WHERE campaign_id = $1 AND uai = $2 AND outcome = 'submission' "
                                     "ORDER BY received_at, id",
                                 {campaign_id, uai}));
}

std::vector<MessageRecord> SqlStore::submissions(std::int64_t campaign_id) {
    // The long text fields left out (see store.h): tens of thousands of rows.
    return to_messages(db_.query("SELECT id, campaign_id, mailbox, uidvalidity, uid, message_id, received_at, from_addr, "
                                 "'', outcome, '', uai, identified_by, '', late, folder, moved, content_sha256, "
                                 "duplicate_of, NULL FROM messages WHERE campaign_id = $1 AND outcome = 'submission' "
                                 "ORDER BY received_at, id",
                                 {campaign_id}));
}

std::int64_t SqlStore::insert_file(const FileRecord& f) {
    return db_.insert("INSERT INTO files (message_ref, name, path, size, sha256, kind, container, text, text_error, "
                      "looks_like_ppo, school_years, named_uais, check_detail) "
                      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                      {f.message_ref, f.name, f.path, f.size, f.sha256, f.kind, text_or_null(f.container),
                       text_or_null(f.text), text_or_null(f.text_error), text_or_null(f.looks_like_ppo),
                       text_or_null(f.school_years), text_or_null(f.named_uais), text_or_null(f.check_detail)});
}

std::vector<FileRecord> SqlStore::files_of(std::int64_t message_ref) {
    // Everything but the text, which status, mails and listings never need.
    std::vector<FileRecord> out;
    for (const auto& r : db_.query(std::string("SELECT ") + kFileColumns + " FROM files WHERE message_ref = $1 ORDER BY id",
                                   {message_ref}))
        out.push_back(to_file(r));
    return out;
}

std::vector<FileRecord> SqlStore::campaign_files(std::int64_t campaign_id, std::int64_t after_file_id) {
    std::vector<FileRecord> out;
    for (const auto& r : db_.query(std::string("SELECT ") + kFileColumnsOfF +
                                       " FROM files f JOIN messages m ON m.id = f.message_ref WHERE m.campaign_id = $1 "
                                       "AND m.outcome IN ('submission', 'unidentified') AND f.id > $2 "
                                       "ORDER BY f.message_ref, f.id",
                                   {campaign_id, after_file_id}))
        out.push_back(to_file(r));
    return out;
}

std::string SqlStore::file_text(std::int64_t file_id) {
    auto rows = db_.query("SELECT text FROM files WHERE id = $1", {file_id});
    return rows.empty() ? std::string() : rows.front().str(0);
}

std::int64_t SqlStore::enqueue(const OutboxMail& m) {
    auto existing = db_.query("SELECT id FROM outbox WHERE dedupe_key = $1", {m.dedupe_key});
    if (!existing.empty()) return existing.front().i64(0);
    std::vector<SqlParam> params{m.campaign_id, m.kind, id_or_null(m.message_ref), text_or_null(m.uai), m.dedupe_key,
                                 m.envelope_from, recipients_json(m.recipients), SqlNull{}, m.state,
                                 std::int64_t{m.attempts}, m.next_attempt_at, m.last_error, m.created_at,
                                 text_or_null(m.message_id)};
    params[7] = m.data;  // the mail itself: one copy here, where a braced list makes two
    // Another process (two `tick`s at the same instant, a `triage assign`
    // beside the daemon) may queue the same mail between the SELECT above and
    // this INSERT: the dedupe key makes it one mail, and "someone else
    // already queued it" is not an error. PostgreSQL waits here for the other
    // transaction, then inserts nothing; the row is then the other one's.
    const std::string insert =
        "INSERT INTO outbox (campaign_id, kind, message_ref, uai, dedupe_key, envelope_from, recipients, data, state, "
        "attempts, next_attempt_at, last_error, created_at, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
        "$11, $12, $13, $14) ON CONFLICT (dedupe_key) DO NOTHING";
    std::int64_t id = 0;
    if (db_.backend() == "postgresql") {
        auto rows = db_.query(insert + " RETURNING id", params);
        if (!rows.empty()) id = rows.front().i64(0);
    } else {
        db_.exec(insert, params);
        if (db_.query("SELECT changes()").front().i64(0) > 0) id = db_.query("SELECT last_insert_rowid()").front().i64(0);
    }
    if (id == 0) {
        existing = db_.query("SELECT id FROM outbox WHERE dedupe_key = $1", {m.dedupe_key});
        if (existing.empty()) throw transient_error("outbox: the mail " + m.dedupe_key + " was neither queued nor found");
        return existing.front().i64(0);
    }
    // One row per distinct address, for the per-recipient count.
    std::set<std::string> addresses;
    for (const auto& a : m.recipients) addresses.insert(lower_ascii(a));
    for (const auto& a : addresses)
        db_.exec("INSERT INTO outbox_recipients (outbox_ref, address, kind, created_at) VALUES ($1, $2, $3, $4)",
                 {id, a, m.kind, m.created_at});
    return id;
}

std::vector<OutboxMail> SqlStore::due_outbox(std::int64_t now, std::size_t limit, workflow::OutboxShard shard) {
    // The ids first, from the index outbox_due alone, then their rows: during a
    // burst thousands of mails may be pending, and sorting them with their text
    // for each 50 sent made the sending cost grow with the square of the backlog.
    std::string ids = "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1";
    std::vector<SqlParam> params = {now};
    if (shard.count > 1) {
        ids += " AND id % $2 = $3";
        params.push_back(static_cast<std::int64_t>(shard.count));
        params.push_back(static_cast<std::int64_t>(shard.index));
    }
    ids += " ORDER BY id LIMIT $" + std::to_string(params.size() + 1);   // numbered in order of appearance
    params.push_back(static_cast<std::int64_t>(limit));
    return to_outboxes(db_.query(std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id IN (" + ids +
                                     ") ORDER BY id",
                                 params));
}

std::vector<OutboxMail> SqlStore::outbox_for_message(std::int64_t message_ref) {
    return to_outboxes(db_.query(std::string("SELECT ") + kOutboxHeadColumns +
                                     " FROM outbox WHERE message_ref = $1 ORDER BY id",
                                 {message_ref}));
}

std::vector<OutboxMail> SqlStore::outbox_of_kind(std::int64_t campaign_id, const std::string& kind) {
    return to_outboxes(db_.query(std::string("SELECT ") + kOutboxColumns +
                                     " FROM outbox WHERE campaign_id = $1 AND kind = $2 ORDER BY id",
                                 {campaign_id, kind}));
}

void SqlStore::mark_sent(std::int64_t outbox_id, std::int64_t now) {
    // The only window in which a crash duplicates a mail is between the SMTP
    // server's "250" and this commit: keep it short. In WAL mode a commit
    // without fsync (synchronous=NORMAL) survives a crash of the process; only
    // a power loss could forget it, and then the mail is sent again, never lost.
    const bool relaxed = db_.backend() == "sqlite" && !db_.in_transaction();
    if (relaxed) db_.exec("PRAGMA synchronous=NORMAL");
    try {
        db_.exec("UPDATE outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1, last_error = '' WHERE id = $2",
                 {now, outbox_id});
    } catch (...) {
        if (relaxed) db_.exec("PRAGMA synchronous=FULL");
        throw;
    }
    if (relaxed) db_.exec("PRAGMA synchronous=FULL");
}

void SqlStore::mark_attempt_failed(std::int64_t outbox_id, const std::string& error, std::int64_t next_attempt_at,
                                   bool permanent) {
    db_.exec("UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $4",
             {std::string(permanent ? "failed" : "pending"), error, next_attempt_at, outbox_id});
}

std::size_t SqlStore::count_outbox_to(const std::string& kind, const std::string& recipient, std::int64_t since) {
    // Exact address (lower-cased on both sides), never a pattern: the index outbox_recipients_rate.
    auto rows = db_.query("SELECT COUNT(*) FROM outbox_recipients WHERE address = $1 AND kind = $2 AND created_at >= $3",
                          {lower_ascii(recipient), kind, since});
    return static_cast<std::size_t>(rows.front().i64(0));
}

std::size_t SqlStore::outbox_pending_count() {
    return static_cast<std::size_t>(db_.query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").front().i64(0));
}

std::vector<workflow::MessageMailState> SqlStore::message_mail_states(std::int64_t campaign_id) {
    std::vector<workflow::MessageMailState> out;
    // From the index outbox_message alone (schema 006), never the mails' text.
    for (const auto& r : db_.query("SELECT message_ref, kind, state FROM outbox WHERE message_ref IS NOT NULL "
                                   "AND kind IN ('ack', 'forward', 'link') AND campaign_id = $1",
                                   {campaign_id}))
        out.push_back({r.i64(0), r.str(1), r.str(2)});
    return out;
}

std::vector<OutboxMail> SqlStore::outbox_list(const std::vector<std::string>& states) {
    std::string sql = std::string("SELECT ") + kOutboxHeadColumns + " FROM outbox";
    std::vector<SqlParam> params(states.begin(), states.end());
    if (!states.empty()) sql += " WHERE state IN (" + placeholders(1, states.size()) + ")";
    return to_outboxes(db_.query(sql + " ORDER BY id", params));
}

std::size_t SqlStore::retry_outbox(std::int64_t id, std::int64_t now) {
    if (id == 0)
        return db_.exec("UPDATE outbox SET state = 'pending', next_attempt_at = $1 WHERE state = 'failed'", {now});
    return db_.exec("UPDATE outbox SET state = 'pending', next_attempt_at = $1 WHERE id = $2 AND state = 'failed'",
                    {now, id});
}

bool SqlStore::reminder_recorded(std::int64_t campaign_id, const std::string& uai, int offset_days) {
    return !db_.query("SELECT 1 FROM reminders WHERE campaign_id = $1 AND uai = $2 AND offset_days = $3",
                      {campaign_id, uai, std::int64_t{offset_days}})
                .empty();
}

void SqlStore::record_reminder(std::int64_t campaign_id, const std::string& uai, int offset_days,
                               std::int64_t outbox_id, std::int64_t now) {
    db_.exec("INSERT INTO reminders (campaign_id, uai, offset_days, outbox_ref, created_at) VALUES ($1, $2, $3, $4, $5) "
             "ON CONFLICT DO NOTHING",
             {campaign_id, uai, std::int64_t{offset_days}, id_or_null(outbox_id), now});
}

std::vector<int> SqlStore::reminders_of(std::int64_t campaign_id, const std::string& uai) {
    std::vector<int> out;
    for (const auto& r : db_.query("SELECT offset_days FROM reminders WHERE campaign_id = $1 AND uai = $2 ORDER BY offset_days",
                                   {campaign_id, uai}))
        out.push_back(static_cast<int>(r.i64(0)));
    return out;
}

std::vector<workflow::ReminderRecord> SqlStore::campaign_reminders(std::int64_t campaign_id) {
    std::vector<workflow::ReminderRecord> out;
    for (const auto& r : db_.query("SELECT uai, offset_days FROM reminders WHERE campaign_id = $1 ORDER BY uai, offset_days",
                                   {campaign_id}))
        out.push_back({r.str(0), static_cast<int>(r.i64(1))});
    return out;
}

bool SqlStore::digest_recorded(std::int64_t campaign_id, const std::string& slot) {
    return !db_.query("SELECT 1 FROM digests WHERE campaign_id = $1 AND slot = $2", {campaign_id, slot}).empty();
}

void SqlStore::record_digest(std::int64_t campaign_id, const std::string& slot, std::int64_t outbox_id, std::int64_t now) {
    db_.exec("INSERT INTO digests (campaign_id, slot, outbox_ref, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
             {campaign_id, slot, id_or_null(outbox_id), now});
}

std::int64_t SqlStore::last_digest_at(std::int64_t campaign_id) {
    auto rows = db_.query("SELECT MAX(created_at) FROM digests WHERE campaign_id = $1", {campaign_id});
    return rows.empty() || rows.front().is_null(0) ? 0 : rows.front().i64(0);
}

std::string SqlStore::upsert_lycee(const LyceeRow& row, std::int64_t now) {
    const auto& l = row.lycee;
    auto rows = db_.query("SELECT name, commune, departement, academie, bassin_code, bassin_label, mail, statut, nature, "
                          "is_open, adresse, code_postal FROM lycees WHERE uai = $1",
                          {l.uai});
    if (rows.empty()) {
        // Two imports at once: the other one's row is as good as this one.
        db_.exec("INSERT INTO lycees (uai, name, commune, departement, academie, bassin_code, bassin_label, mail, statut, "
                 "nature, is_open, updated_at, adresse, code_postal) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13) ON CONFLICT (uai) DO NOTHING",
                 {l.uai, l.name, l.commune, l.departement, l.academie, l.bassin_code, l.bassin_label, l.mail, l.statut,
                  row.nature, now, l.adresse, l.code_postal});
        return "inserted";
    }
    const auto& r = rows.front();
    if (r.str(0) == l.name && r.str(1) == l.commune && r.str(2) == l.departement && r.str(3) == l.academie &&
        r.str(4) == l.bassin_code && r.str(5) == l.bassin_label && r.str(6) == l.mail && r.str(7) == l.statut &&
        r.str(8) == row.nature && r.i64(9) == 1 && r.str(10) == l.adresse && r.str(11) == l.code_postal)
        return "unchanged";
    db_.exec("UPDATE lycees SET name = $1, commune = $2, departement = $3, academie = $4, bassin_code = $5, "
             "bassin_label = $6, mail = $7, statut = $8, nature = $9, is_open = 1, updated_at = $10, adresse = $11, "
             "code_postal = $12 WHERE uai = $13",
             {l.name, l.commune, l.departement, l.academie, l.bassin_code, l.bassin_label, l.mail, l.statut, row.nature,
              now, l.adresse, l.code_postal, l.uai});
    return "updated";
}

void SqlStore::close_lycees(const std::vector<std::string>& uais, std::int64_t now) {
    for (const auto& uai : uais)
        db_.exec("UPDATE lycees SET is_open = 0, updated_at = $1 WHERE uai = $2 AND is_open = 1", {now, uai});
}

std::vector<workflow::DirectoryRow> SqlStore::directory_rows() {
    std::vector<workflow::DirectoryRow> out;
    for (const auto& r : db_.query("SELECT uai, name, commune, departement, academie, bassin_code, bassin_label, mail, "
                                   "statut, is_open, nature, adresse, code_postal FROM lycees ORDER BY uai"))
        out.push_back({{r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.str(6), r.str(7), r.str(8),
                        r.i64(9) != 0, r.str(11), r.str(12)},
                       r.str(10)});
    return out;
}

std::vector<workflow::Bassin> SqlStore::bassins() {
    std::vector<workflow::Bassin> out;
    for (const auto& r : db_.query("SELECT code, label, ien_io_name, ien_io_mail FROM bassins ORDER BY code"))
        out.push_back({r.str(0), r.str(1), r.str(2), r.str(3)});
    return out;
}

void SqlStore::upsert_bassin(const workflow::Bassin& b, bool with_ien_io) {
    if (!with_ien_io) {
        db_.exec("INSERT INTO bassins (code, label) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET label = excluded.label",
                 {b.code, b.label});
        return;
    }
    db_.exec("INSERT INTO bassins (code, label, ien_io_name, ien_io_mail) VALUES ($1, $2, $3, $4) "
             "ON CONFLICT (code) DO UPDATE SET label = excluded.label, ien_io_name = excluded.ien_io_name, "
             "ien_io_mail = excluded.ien_io_mail",
             {b.code, b.label, b.ien_io_name, b.ien_io_mail});
}

}  // namespace ppo::daemon
