// Real mail shapes end to end: messages written byte for byte the way Outlook,
// Exchange, Thunderbird, Apple Mail, iPhone, Gmail, Zimbra, copiers and
// scripts write them (tests/data/shapes/*.eml, made by make_shapes.py) go
// through the real binary, a real Dovecot (IMAP APPEND) and the SMTP capture.
// Each one's expected outcome is in tests/data/shapes/expected.json:
//   "file.eml": {"outcome", "uai", "identified_by", "files": [archived names],
//                "acknowledged", "client", optional "reason" (substring),
//                "group" (replayed together), "copies" + "second_copy"}.
// A file holding {{REMINDER_MESSAGE_ID:<UAI>}} is a reply to a reminder: the
// test first runs `tick` at J-21 and puts the Message-ID of the reminder sent
// to that lycée in its place.
//
// Each group is replayed in a harness of its own (one failing shape does not
// hide the others), then the whole corpus once more in a single poll: the
// inbox must end empty and a plain submission delivered afterwards must still
// be taken and acknowledged.
#include "bench/harness.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <thread>

using namespace ppo::testbench;
using namespace Poco::Data::Keywords;

namespace {

namespace fs = std::filesystem;

const std::string kShapesDir = std::string(PPO_TEST_DATA_DIR) + "/shapes";
const std::string kReminderInstant = "2022-03-04T09:00:00+01:00";  // J-21 09:00, Europe/Paris
const std::string kPoll = "2022-03-04T10:30:00+01:00";
const std::string kPlaceholder = "{{REMINDER_MESSAGE_ID:";

struct Outcome {
    std::string outcome, uai, identified_by, reason;
    std::vector<std::string> files;
    bool acknowledged = false;
};

struct Shape {
    std::string file, client, group;
    Outcome expected;
    int copies = 1;
    Outcome second;  // copies == 2: the second copy
};

std::vector<std::string> strings(const Poco::JSON::Array::Ptr& a) {
    std::vector<std::string> out;
    if (a)
        for (unsigned i = 0; i < a->size(); ++i) out.push_back(a->getElement<std::string>(i));
    return out;
}

Outcome outcome_of(const Poco::JSON::Object::Ptr& o) {
    Outcome e;
    e.outcome = o->getValue<std::string>("outcome");
    e.uai = o->optValue<std::string>("uai", "");
    e.identified_by = o->optValue<std::string>("identified_by", "");
    e.reason = o->optValue<std::string>("reason", "");
    e.files = strings(o->getArray("files"));
    e.acknowledged = o->optValue<bool>("acknowledged", false);
    return e;
}

std::map<std::string, Shape> read_shapes() {
    auto root = Poco::JSON::Parser().parse(read_file(kShapesDir + "/expected.json")).extract<Poco::JSON::Object::Ptr>();
    std::map<std::string, Shape> out;
    for (const auto& name : root->getNames()) {
        auto o = root->getObject(name);
        Shape s;
        s.file = name;
        s.client = o->optValue<std::string>("client", "");
        s.group = o->optValue<std::string>("group", name);
        s.expected = outcome_of(o);
        s.copies = o->optValue<int>("copies", 1);
        if (auto second = o->getObject("second_copy")) s.second = outcome_of(second);
        out[name] = s;
    }
    return out;
}

std::map<std::string, std::vector<std::string>> groups_of(const std::map<std::string, Shape>& shapes) {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [name, s] : shapes) out[s.group].push_back(name);
    return out;
}

struct Row {
    std::int64_t id = 0;
    std::string outcome, reason, uai, identified_by, folder, duplicate_of;
    std::vector<std::string> files;
    std::vector<std::string> ack_states;   // one per "ack" outbox row naming this message
};

struct Database {
    std::map<std::uint32_t, Row> by_uid;
    bool has_duplicate_of = false;
    std::size_t acks = 0;
};

Database read_database(const std::string& dir) {
    Poco::Data::Session s = database_session(dir);
    Database db;
    {
        std::vector<std::string> columns;
        if (postgres_wanted())
            s << "SELECT column_name FROM information_schema.columns WHERE table_name = 'messages'", into(columns), now;
        else
            s << "SELECT name FROM pragma_table_info('messages')", into(columns), now;
        db.has_duplicate_of = std::find(columns.begin(), columns.end(), "duplicate_of") != columns.end();
    }
    std::vector<Poco::Int64> ids, uids;
    std::vector<std::string> outcomes, reasons, uais, bys, folders, dups;
    const std::string dup = db.has_duplicate_of ? "COALESCE(CAST(duplicate_of AS TEXT), '')" : "''";
    s << "SELECT id, uid, outcome, reason, COALESCE(uai, ''), identified_by, folder, " + dup + " FROM messages ORDER BY id",
        into(ids), into(uids), into(outcomes), into(reasons), into(uais), into(bys), into(folders), into(dups), now;
    std::map<Poco::Int64, std::uint32_t> uid_of;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        Row& r = db.by_uid[static_cast<std::uint32_t>(uids[i])];
        r.id = ids[i];
        r.outcome = outcomes[i];
        r.reason = reasons[i];
        r.uai = uais[i];
        r.identified_by = bys[i];
        r.folder = folders[i];
        r.duplicate_of = dups[i];
        uid_of[ids[i]] = static_cast<std::uint32_t>(uids[i]);
    }
    std::vector<Poco::Int64> refs;
    std::vector<std::string> names;
    s << "SELECT message_ref, name FROM files ORDER BY id", into(refs), into(names), now;
    for (std::size_t i = 0; i < refs.size(); ++i)
        if (uid_of.count(refs[i])) db.by_uid[uid_of[refs[i]]].files.push_back(names[i]);
    std::vector<Poco::Int64> ack_refs;
    std::vector<std::string> states;
    s << "SELECT message_ref, state FROM outbox WHERE kind = 'ack' AND message_ref IS NOT NULL ORDER BY id",
        into(ack_refs), into(states), now;
    db.acks = ack_refs.size();
    for (std::size_t i = 0; i < ack_refs.size(); ++i)
        if (uid_of.count(ack_refs[i])) db.by_uid[uid_of[ack_refs[i]]].ack_states.push_back(states[i]);
    return db;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " | ") + s;
    return "[" + out + "]";
}

std::string folder_for(const std::string& outcome) {
    if (outcome == "submission") return "processed";
    if (outcome == "ignored") return "ignored";
    return "triage";
}

// The capture writes each mail as it arrives; wait until the count is stable.
std::vector<CapturedMail> settled(Harness& h) {
    std::size_t n = h.smtp().messages().size();
    for (int i = 0; i < 20; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        auto m = h.smtp().messages().size();
        if (m == n && i >= 2) break;
        n = m;
    }
    return h.smtp().messages();
}

// `tick` at J-21 when some message replies to a reminder; the Message-ID of
// each lycée's reminder, by UAI.
std::map<std::string, std::string> reminder_ids(Harness& h) {
    auto r = h.ppo({"tick"}, kReminderInstant);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    h.smtp().wait_for(100, std::chrono::seconds(60));
    std::map<std::string, std::string> out;
    for (const auto& m : settled(h))
        if (!header_of(m.data, "X-PPO-Reminder").empty())
            out[header_of(m.data, "X-PPO-UAI")] = header_of(m.data, "Message-ID");
    return out;
}

std::string with_reminder_ids(std::string raw, const std::map<std::string, std::string>& ids) {
    for (std::size_t at; (at = raw.find(kPlaceholder)) != std::string::npos;) {
        const auto end = raw.find("}}", at);
        const auto uai = raw.substr(at + kPlaceholder.size(), end - at - kPlaceholder.size());
        auto it = ids.find(uai);
        if (it == ids.end()) throw std::runtime_error("no reminder was sent to UAI " + uai);
        raw.replace(at, end + 2 - at, it->second);
    }
    return raw;
}

struct Delivered {
    std::string file;
    int copy = 1;   // 1 or 2
};

// Appends the shapes' files (each `copies` times), returns UID -> what it is.
std::map<std::uint32_t, Delivered> deliver(Harness& h, const std::map<std::string, Shape>& shapes,
                                           const std::vector<std::string>& files) {
    bool needs_reminder = false;
    std::map<std::string, std::string> raw;
    for (const auto& f : files) {
        raw[f] = read_file(kShapesDir + "/" + f);
        if (raw[f].empty()) throw std::runtime_error("cannot read " + f);
        needs_reminder = needs_reminder || raw[f].find(kPlaceholder) != std::string::npos;
    }
    std::map<std::string, std::string> ids;
    if (needs_reminder) ids = reminder_ids(h);
    std::map<std::uint32_t, Delivered> out;
    for (const auto& f : files) {
        const auto bytes = with_reminder_ids(raw[f], ids);
        for (int c = 1; c <= shapes.at(f).copies; ++c) out[h.imap().append(bytes)] = {f, c};
    }
    return out;
}

void check_row(const Database& db, std::uint32_t uid, const Outcome& e, const std::set<std::string>& acked_ids) {
    auto it = db.by_uid.find(uid);
    ASSERT_NE(it, db.by_uid.end()) << "no messages row for UID " << uid;
    const Row& row = it->second;
    EXPECT_EQ(row.outcome, e.outcome) << "reason: " << row.reason;
    EXPECT_EQ(row.uai, e.uai) << "evidence/reason: " << row.reason;
    EXPECT_EQ(row.identified_by, e.identified_by) << "reason: " << row.reason;
    if (!e.reason.empty()) {
        EXPECT_NE(row.reason.find(e.reason), std::string::npos) << row.reason;
    }
    EXPECT_EQ(joined(row.files), joined(e.files));
    if (e.outcome != "duplicate") {
        EXPECT_EQ(row.folder, folder_for(e.outcome));
    }
    if (e.acknowledged) {
        ASSERT_EQ(row.ack_states.size(), 1u) << "one acknowledgement expected for submission " << row.id;
        EXPECT_EQ(row.ack_states[0], "sent");
        EXPECT_TRUE(acked_ids.count(std::to_string(row.id))) << "no acknowledgement of submission " << row.id
                                                             << " reached the SMTP capture";
    } else {
        EXPECT_TRUE(row.ack_states.empty()) << "acknowledged, but should not be";
    }
}

// Every expectation of the shapes delivered, from the database and the capture.
void check(Harness& h, const std::map<std::string, Shape>& shapes, const std::map<std::uint32_t, Delivered>& uids) {
    const auto db = read_database(h.dir());
    std::set<std::string> acked_ids;   // X-PPO-Submission of every captured acknowledgement
    for (const auto& m : settled(h))
        if (header_of(m.data, "Auto-Submitted") == "auto-replied") acked_ids.insert(header_of(m.data, "X-PPO-Submission"));
    std::map<std::string, std::uint32_t> first_uid;
    for (const auto& [uid, d] : uids)
        if (d.copy == 1) first_uid[d.file] = uid;
    for (const auto& [uid, d] : uids) {
        const Shape& s = shapes.at(d.file);
        SCOPED_TRACE(d.file + (d.copy == 2 ? " (second copy)" : "") + " — " + s.client);
        check_row(db, uid, d.copy == 1 ? s.expected : s.second, acked_ids);
        if (d.copy == 2 && s.second.outcome == "duplicate") {
            if (!db.has_duplicate_of) {
                ADD_FAILURE() << "messages.duplicate_of does not exist";
            } else if (db.by_uid.count(uid) && db.by_uid.count(first_uid[d.file])) {
                EXPECT_EQ(db.by_uid.at(uid).duplicate_of, std::to_string(db.by_uid.at(first_uid[d.file]).id));
            }
            std::size_t acks = 0;
            for (auto u : {first_uid[d.file], uid})
                if (db.by_uid.count(u)) acks += db.by_uid.at(u).ack_states.size();
            EXPECT_EQ(acks, 1u) << "exactly one acknowledgement across both copies";
        }
    }
}

// A plain PPO from a lycée no shape uses, after the shapes: taken and acknowledged.
void intake_still_flows(Harness& h) {
    TestMail m;
    m.from = "ce.0599821e@ac-lille.fr";
    m.files = {{"PPO Anatole France.pdf", "application/pdf", sample_pdf("after the shapes"), ""}};
    const auto uid = h.deliver(m);
    auto r = h.ppo({"poll", "--once"}, kPoll);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    const auto db = read_database(h.dir());
    ASSERT_TRUE(db.by_uid.count(uid)) << "the submission after the shapes was not taken";
    const Row& row = db.by_uid.at(uid);
    EXPECT_EQ(row.outcome, "submission") << row.reason;
    EXPECT_EQ(row.uai, "0599821E");
    ASSERT_EQ(row.ack_states.size(), 1u);
    EXPECT_EQ(row.ack_states[0], "sent");
}

// Identification over the corpus: precision (lycées credited that are the
// right one) must be 100 %, recall (identifiable messages credited) >= 98 %.
void measure_identification(Harness& h, const std::map<std::string, Shape>& shapes,
                            const std::map<std::uint32_t, Delivered>& uids) {
    const auto db = read_database(h.dir());
    std::size_t identifiable = 0, credited = 0, right = 0;
    for (const auto& [uid, d] : uids) {
        if (d.copy != 1) continue;
        const Outcome& e = shapes.at(d.file).expected;
        if (e.outcome == "submission") ++identifiable;
        auto it = db.by_uid.find(uid);
        if (it == db.by_uid.end() || it->second.outcome != "submission") continue;
        ++credited;
        if (e.outcome == "submission" && it->second.uai == e.uai) ++right;
    }
    const double precision = credited ? 100.0 * static_cast<double>(right) / static_cast<double>(credited) : 100.0;
    const double recall = identifiable ? 100.0 * static_cast<double>(right) / static_cast<double>(identifiable) : 100.0;
    std::cout << "identification over " << uids.size() << " messages: " << identifiable << " identifiable, " << credited
              << " credited, " << right << " to the right lycée; precision " << precision << " %, recall " << recall
              << " %\n";
    EXPECT_EQ(right, credited) << "a message was credited to the wrong lycée";
    EXPECT_GE(recall, 98.0);
}

void replay(const std::vector<std::string>& files, bool measure = false) {
    const auto shapes = read_shapes();
    Harness h;
    const auto uids = deliver(h, shapes, files);
    auto r = h.ppo({"poll", "--once"}, kPoll);
    EXPECT_EQ(r.exit_code, 0) << tail(r.err);
    EXPECT_EQ(h.imap().count("INBOX"), 0u) << "messages left in the inbox after one poll";
    check(h, shapes, uids);
    if (measure) measure_identification(h, shapes, uids);
    intake_still_flows(h);
}

class MailShape : public ::testing::TestWithParam<std::string> {};

std::vector<std::string> group_names() {
    std::vector<std::string> out;
    for (const auto& [g, files] : groups_of(read_shapes())) out.push_back(g);
    return out;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string n = info.param;
    if (n.ends_with(".eml")) n.resize(n.size() - 4);
    for (char& c : n)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return n;
}

}  // namespace

TEST(MailShapes, EveryFileHasAnExpectation) {
    const auto shapes = read_shapes();
    ASSERT_FALSE(shapes.empty());
    std::set<std::string> on_disk;
    for (const auto& e : fs::directory_iterator(kShapesDir))
        if (e.path().extension() == ".eml") on_disk.insert(e.path().filename().string());
    for (const auto& f : on_disk) EXPECT_TRUE(shapes.count(f)) << f << " has no entry in expected.json";
    for (const auto& [f, s] : shapes) {
        EXPECT_TRUE(on_disk.count(f)) << f << " is in expected.json but not on disk";
        EXPECT_FALSE(s.client.empty()) << f << ": say which client it imitates";
        EXPECT_TRUE(s.copies == 1 || (s.copies == 2 && !s.second.outcome.empty())) << f;
    }
}

TEST_P(MailShape, ReplaysToItsExpectedOutcome) {
    replay(groups_of(read_shapes()).at(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, MailShape, ::testing::ValuesIn(group_names()), test_name);

// All the shapes in one mailbox, one poll: nothing blocks the intake.
TEST(MailShapes, WholeCorpusInOnePollLeavesNothingBehind) {
    std::vector<std::string> files;
    for (const auto& [name, s] : read_shapes()) files.push_back(name);
    replay(files, true);
}
