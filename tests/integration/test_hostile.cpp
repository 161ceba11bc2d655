// Hostile input end to end: malformed, oversized and malicious messages go
// through the real binary, real Dovecot and the SMTP capture. Every message must
// end up handled — a submission with sane file names, or quarantined/triaged
// with a reason — the daemon exits 0, the inbox ends empty, and no file is
// written outside <dir>/archive.
//
// Small messages are committed in tests/data/hostile/*.eml, with their expected
// outcome in tests/data/hostile/expected.tsv; big ones (1 MB header line,
// 10,000 parts, 1,000 nesting levels, ZIP bomb, oversized) are generated here.
#include "bench/harness.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace ppo::testbench;
using namespace Poco::Data::Keywords;

namespace {

namespace fs = std::filesystem;

const std::string kBefore = "2022-03-01T10:30:00+01:00";
const std::string kHostileDir = std::string(PPO_TEST_DATA_DIR) + "/hostile";

struct Expected {
    std::string outcome;
    std::string reason;                 // substring of messages.reason ("" = not checked)
    std::string files = "*";            // archived names joined with '|' ("*" = not checked)
};

// file <TAB> outcome <TAB> reason substring <TAB> archived file names
std::map<std::string, Expected> read_expected() {
    std::map<std::string, Expected> out;
    std::istringstream in(read_file(kHostileDir + "/expected.tsv"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> cols;
        std::size_t start = 0;
        for (;;) {
            auto tab = line.find('\t', start);
            cols.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
            if (tab == std::string::npos) break;
            start = tab + 1;
        }
        if (cols.size() < 2) throw std::runtime_error("expected.tsv: bad line: " + line);
        Expected e;
        e.outcome = cols[1];
        if (cols.size() > 2) e.reason = cols[2];
        if (cols.size() > 3) e.files = cols[3];
        out[cols[0]] = e;
    }
    return out;
}

struct Row {
    std::int64_t id = 0;
    std::string outcome, reason, folder;
    std::vector<std::string> names, paths, kinds;
};

// messages and files straight from the database (SQLite or PostgreSQL), by IMAP UID.
std::map<std::uint32_t, Row> database_rows(const std::string& dir) {
    Poco::Data::Session s = database_session(dir);
    std::vector<Poco::Int64> ids, uids;
    std::vector<std::string> outcomes, reasons, folders;
    s << "SELECT id, uid, outcome, reason, folder FROM messages ORDER BY id", into(ids), into(uids), into(outcomes),
        into(reasons), into(folders), now;
    std::map<std::uint32_t, Row> rows;
    std::map<Poco::Int64, std::uint32_t> uid_of;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        Row& r = rows[static_cast<std::uint32_t>(uids[i])];
        r.id = ids[i];
        r.outcome = outcomes[i];
        r.reason = reasons[i];
        r.folder = folders[i];
        uid_of[ids[i]] = static_cast<std::uint32_t>(uids[i]);
    }
    std::vector<Poco::Int64> refs;
    std::vector<std::string> names, paths, kinds;
    s << "SELECT message_ref, name, path, kind FROM files ORDER BY id", into(refs), into(names), into(paths), into(kinds),
        now;
    for (std::size_t i = 0; i < refs.size(); ++i) {
        Row& r = rows[uid_of[refs[i]]];
        r.names.push_back(names[i]);
        r.paths.push_back(paths[i]);
        r.kinds.push_back(kinds[i]);
    }
    return rows;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "|") + s;
    return out;
}

bool sane_file_name(const std::string& n) {
    if (n.empty() || n.size() > 180 || n.front() == '.') return false;
    for (unsigned char c : n)
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) return false;
    return true;
}

// Every regular file under `dir` is in archive/ or is the database or the config.
std::vector<std::string> files_outside_archive(const std::string& dir) {
    std::vector<std::string> bad;
    const fs::path root = fs::weakly_canonical(dir);
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_symlink()) {
            bad.push_back(it->path().string() + " (symlink)");
            continue;
        }
        if (!it->is_regular_file()) continue;
        const auto rel = fs::relative(it->path(), root).string();
        const auto name = it->path().filename().string();
        if (rel.rfind("archive/", 0) == 0) continue;
        if (rel == "ppo-intake.conf" || name.rfind("ppo.db", 0) == 0) continue;
        bad.push_back(rel);
    }
    return bad;
}

std::string pdf_part(const std::string& boundary, const std::string& name, const std::string& tag) {
    // A base64 PDF part, written by hand so that the generators control every byte.
    TestMail m;
    m.files = {{name, "application/pdf", sample_pdf(tag), ""}};
    std::string whole = build_test_mail(m);
    // Take the PDF part out of a builder message: from its Content-Type to the next delimiter.
    auto at = whole.find("Content-Type: application/pdf");
    auto end = whole.find("\r\n--", at);
    return "--" + boundary + "\r\n" + whole.substr(at, end - at) + "\r\n";
}

std::string headers(const std::string& id, const std::string& subject = "PPO",
                    const std::string& from = "ce.0596082r@ac-lille.fr") {
    return "From: " + from + "\r\nTo: ppo@region-academique-hauts-de-france.fr\r\nSubject: " + subject +
           "\r\nDate: Tue, 01 Mar 2022 10:00:00 +0100\r\nMessage-ID: <" + id + "@hostile.example>\r\nMIME-Version: 1.0\r\n";
}

// A 1 MB header line (one unfolded X- header) before an ordinary PPO.
std::string huge_header_line() {
    return headers("huge-header") + "X-Filler: " + std::string(1024 * 1024, 'a') +
           "\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" + pdf_part("b", "PPO.pdf", "huge-header") +
           "--b--\r\n";
}

// A 1 MB Subject made of encoded words.
std::string huge_encoded_subject() {
    std::string subject;
    while (subject.size() < 1024 * 1024) subject += "=?UTF-8?B?w6l0w6k=?= ";
    return headers("huge-subject", subject) + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
           pdf_part("b", "PPO.pdf", "huge-subject") + "--b--\r\n";
}

// 10,000 text parts (plus the PDF): more than the default max_parts.
std::string ten_thousand_parts() {
    std::string raw = headers("ten-thousand-parts") + "Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n";
    raw += pdf_part("p", "PPO.pdf", "parts");
    for (int i = 0; i < 10000; ++i) raw += "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n";
    return raw + "--p--\r\n";
}

// 1,000 levels of multipart/mixed, the PDF at the bottom.
std::string deep_multipart() {
    // Boundaries "d<N>_": none is a prefix of another.
    auto b = [](int i) { return "d" + std::to_string(i) + "_"; };
    std::string raw = headers("deep-multipart") + "Content-Type: multipart/mixed; boundary=\"" + b(0) + "\"\r\n\r\n";
    const int levels = 1000;
    for (int i = 1; i < levels; ++i)
        raw += "--" + b(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"" + b(i) + "\"\r\n\r\n";
    raw += pdf_part(b(levels - 1), "PPO.pdf", "deep");
    for (int i = levels; i-- > 0;) raw += "--" + b(i) + "--\r\n";
    return raw;
}

// 1,000 levels of message/rfc822 (forwards of forwards).
std::string deep_rfc822() {
    std::string raw;
    const int levels = 1000;
    for (int i = 0; i < levels; ++i)
        raw += (i == 0 ? headers("deep-rfc822") : "From: x@example.org\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n") +
               "Content-Type: message/rfc822\r\n\r\n";
    raw += "From: x@example.org\r\nSubject: inner\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
           pdf_part("b", "PPO.pdf", "deep-822") + "--b--\r\n";
    return raw;
}

std::string base64_lines(const std::string& in) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t line = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        unsigned n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
        out += t[(n >> 18) & 63];
        out += t[(n >> 12) & 63];
        out += i + 1 < in.size() ? t[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? t[n & 63] : '=';
        if ((line += 4) >= 76) {
            out += "\r\n";
            line = 0;
        }
    }
    return out + "\r\n";
}

// A ZIP whose one entry is 64 MiB of zeros (about 64 KB compressed) and whose
// headers then declare 4 GiB - 1 uncompressed. Made with Python's zipfile.
std::string zip_bomb() {
    char tmpl[] = "/tmp/ppo-zipbomb-XXXXXX";
    const std::string tmp = mkdtemp(tmpl);
    const std::string path = tmp + "/bomb.zip";
    const std::string script = R"PY(
import struct, sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("PPO-bombe.bin", "w") as f:
        chunk = b"\0" * (1 << 20)
        for _ in range(64):
            f.write(chunk)
data = bytearray(open(path, "rb").read())
big = struct.pack("<I", 0xFFFFFFFE)
lh = data.find(b"PK\x03\x04")
data[lh + 22:lh + 26] = big
cd = data.find(b"PK\x01\x02")
data[cd + 24:cd + 28] = big
open(path, "wb").write(bytes(data))
)PY";
    auto r = run_command({"/usr/bin/python3", "-c", script, path});
    std::string zip = read_file(path);
    fs::remove_all(tmp);
    if (r.exit_code != 0 || zip.size() < 1000) throw std::runtime_error("python3 zipfile failed: " + r.err);
    return zip;
}

std::string zip_bomb_message(const std::string& zip) {
    return headers("zip-bomb") + "Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n"
           "--z\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nNotre PPO (archive).\r\n"
           "--z\r\nContent-Type: application/zip; name=\"PPO.zip\"\r\nContent-Disposition: attachment; filename=\"PPO.zip\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n" +
           base64_lines(zip) + "--z--\r\n";
}

std::string folder_for(const std::string& outcome) {
    if (outcome == "submission") return "processed";
    if (outcome == "ignored") return "ignored";
    return "triage";
}

}  // namespace

TEST(Hostile, CorpusIsHandledWithoutCrashOrEscape) {
    Harness h;
    auto expected = read_expected();
    ASSERT_FALSE(expected.empty());

    std::map<std::uint32_t, std::string> file_of;  // UID -> corpus name
    for (const auto& e : fs::directory_iterator(kHostileDir)) {
        if (e.path().extension() != ".eml") continue;
        const auto name = e.path().filename().string();
        ASSERT_TRUE(expected.count(name)) << name << " has no line in expected.tsv";
        file_of[h.imap().append(read_file(e.path().string()))] = name;
    }
    for (const auto& [name, e] : expected)
        if (name.ends_with(".eml")) {
            EXPECT_TRUE(fs::exists(kHostileDir + "/" + name)) << name << " listed but missing";
        }

    // Generated at test time (too big to commit); expectations in expected.tsv too.
    const std::vector<std::pair<std::string, std::string>> generated = {
        {"generated:huge_header_line", huge_header_line()},
        {"generated:huge_encoded_subject", huge_encoded_subject()},
        {"generated:ten_thousand_parts", ten_thousand_parts()},
        {"generated:deep_multipart", deep_multipart()},
        {"generated:deep_rfc822", deep_rfc822()},
        {"generated:zip_bomb", zip_bomb_message(zip_bomb())},
    };
    for (const auto& [name, raw] : generated) {
        ASSERT_TRUE(expected.count(name)) << name << " has no line in expected.tsv";
        file_of[h.imap().append(raw)] = name;
    }

    const auto start = std::chrono::steady_clock::now();
    auto r = h.ppo({"poll", "--once"}, kBefore);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(elapsed, std::chrono::seconds(90)) << "hostile input made the intake slow";
    EXPECT_EQ(h.imap().count("INBOX"), 0u);

    auto rows = database_rows(h.dir());
    std::size_t submissions = 0, triage = 0, ignored = 0, unidentified = 0;
    for (const auto& [uid, name] : file_of) {
        SCOPED_TRACE(name);
        ASSERT_TRUE(rows.count(uid)) << "no row for " << name;
        const Row& row = rows[uid];
        const Expected& e = expected[name];
        EXPECT_EQ(row.outcome, e.outcome) << "reason: " << row.reason;
        if (!e.reason.empty()) {
            EXPECT_NE(row.reason.find(e.reason), std::string::npos) << row.reason;
        }
        if (row.outcome != "submission") {
            EXPECT_FALSE(row.reason.empty()) << "triaged without a reason";
        }
        EXPECT_EQ(row.folder, folder_for(row.outcome));
        if (e.files != "*") {
            EXPECT_EQ(joined(row.names), e.files);
        }
        for (std::size_t i = 0; i < row.names.size(); ++i) {
            EXPECT_TRUE(sane_file_name(row.names[i])) << row.names[i];
            const auto archive = fs::weakly_canonical(h.dir() + "/archive").string() + "/";
            EXPECT_EQ(fs::weakly_canonical(row.paths[i]).string().rfind(archive, 0), 0u) << row.paths[i];
            EXPECT_EQ(fs::path(row.paths[i]).filename().string(), row.names[i]);
            EXPECT_TRUE(fs::is_regular_file(row.paths[i])) << row.paths[i];
        }
        if (name == "generated:zip_bomb") {
            ASSERT_EQ(row.kinds.size(), 1u);
            EXPECT_EQ(row.kinds[0], "zip");
            EXPECT_LT(fs::file_size(row.paths[0]), 1024u * 1024u) << "the archive must be kept as sent, never expanded";
        }
        if (row.outcome == "submission") ++submissions;
        else if (row.outcome == "ignored") ++ignored;
        else ++triage;
        if (row.outcome == "unidentified") ++unidentified;
    }
    EXPECT_EQ(h.imap().count("PPO.Traites"), submissions);
    EXPECT_EQ(h.imap().count("PPO.A-trier"), triage);
    EXPECT_EQ(h.imap().count("PPO.Ignores"), ignored);

    // The triage queue shows the unidentified ones, each with its reason; the
    // quarantined ones are only in the triage folder.
    auto un = h.status(kBefore)->getArray("unidentified");
    EXPECT_EQ(un->size(), unidentified);
    auto list = h.ppo({"triage", "list", "--json"}, kBefore);
    ASSERT_EQ(list.exit_code, 0) << list.err;
    auto arr = Poco::JSON::Parser().parse(list.out).extract<Poco::JSON::Array::Ptr>();
    EXPECT_EQ(arr->size(), unidentified);
    for (unsigned i = 0; i < arr->size(); ++i) {
        auto o = arr->getObject(i);
        EXPECT_FALSE(o->getValue<std::string>("reason").empty());
        const auto id = o->getValue<std::int64_t>("id");
        bool found = false;
        for (const auto& [uid, row] : rows)
            if (row.id == id) {
                found = true;
                EXPECT_EQ(row.outcome, "unidentified");
            }
        EXPECT_TRUE(found);
    }

    // Nothing outside the archive, no temporary file left behind.
    auto outside = files_outside_archive(h.dir());
    EXPECT_TRUE(outside.empty()) << joined(outside);
    for (const auto& e : fs::recursive_directory_iterator(h.dir() + "/archive"))
        EXPECT_NE(e.path().filename().string().front(), '.') << e.path();   // a temporary file is '.NAME.XXXXXX'
    EXPECT_FALSE(fs::exists(h.dir() + "/etc/passwd"));
    EXPECT_FALSE(fs::exists("/abs/path.pdf"));

    // A second pass finds nothing to do and still exits 0.
    r = h.ppo({"poll", "--once"}, kBefore);
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Hostile, MessageOverMaxMessageSizeIsQuarantinedUnread) {
    Harness::Options o;
    o.extra_config = {{"intake.max_message_size", "200K"}};
    Harness h(o);
    TestMail big;
    big.from = "ce.0596082r@ac-lille.fr";
    big.files = {{"PPO.pdf", "application/pdf", sample_pdf("too-big", 300 * 1024), ""}};
    const auto big_uid = h.deliver(big);
    TestMail small;
    small.from = "ce.0597091m@ac-lille.fr";
    small.files = {{"PPO.pdf", "application/pdf", sample_pdf("small"), ""}};
    const auto small_uid = h.deliver(small);

    auto r = h.ppo({"poll", "--once"}, kBefore);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(h.imap().count("INBOX"), 0u);
    EXPECT_EQ(h.imap().count("PPO.A-trier"), 1u);
    EXPECT_EQ(h.imap().count("PPO.Traites"), 1u);
    auto rows = database_rows(h.dir());
    ASSERT_TRUE(rows.count(big_uid));
    EXPECT_EQ(rows[big_uid].outcome, "quarantined");
    EXPECT_NE(rows[big_uid].reason.find("exceeds max_message_size"), std::string::npos) << rows[big_uid].reason;
    EXPECT_TRUE(rows[big_uid].names.empty());
    ASSERT_TRUE(rows.count(small_uid));
    EXPECT_EQ(rows[small_uid].outcome, "submission");
    // Quarantined is not "unidentified": the triage list does not show it.
    EXPECT_EQ(h.status(kBefore)->getArray("unidentified")->size(), 0u);
    auto outside = files_outside_archive(h.dir());
    EXPECT_TRUE(outside.empty()) << joined(outside);
}
