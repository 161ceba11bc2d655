#include "workflow/campaign/directory_import.h"
#include "parsers/text/strings.h"

#include "parsers/mime/address.h"
#include "parsers/text/csv.h"
#include "parsers/text/error.h"
#include "parsers/text/text_encoding.h"
#include "parsers/text/uai.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace ppo::workflow {

namespace {

using text::lower;
using text::trim;

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c < 0x20 || c == 0x7f;
    });
}

struct Column {
    long index = -1;
    std::string name;  // as the file spells it
};

class Columns {
public:
    explicit Columns(const std::vector<std::string>& header) : size_(header.size()) {
        for (std::size_t i = 0; i < header.size(); ++i) {
            std::string name(trim(header[i]));
            index_.emplace(lower(name), Column{static_cast<long>(i), name});
        }
    }
    Column require(const std::string& name, const char* what) const {
        auto it = index_.find(lower(name));
        if (it == index_.end()) throw corrupt_error("line 1: the file has no column '" + name + "' (is it the " + what + "?)");
        return it->second;
    }
    Column optional(const std::string& name) const {
        auto it = index_.find(lower(name));
        return it == index_.end() ? Column{-1, name} : it->second;
    }
    std::size_t size() const { return size_; }

private:
    std::map<std::string, Column> index_;
    std::size_t size_;
};

std::string field(const parsers::CsvRecord& r, const Column& c) {
    return c.index >= 0 && static_cast<std::size_t>(c.index) < r.fields.size() ? std::string(trim(r.fields[static_cast<std::size_t>(c.index)]))
                                                                                 : "";
}

// The file's bytes as a table, or the reason the whole file is refused.
parsers::CsvTable read_table(std::string_view bytes, std::string& encoding, bool& converted) {
    auto decoded = parsers::decode_text_file(bytes);
    encoding = decoded.encoding;
    converted = decoded.converted;
    auto table = parsers::parse_csv(decoded.text);
    if (table.header.empty()) throw corrupt_error("the file is empty (no header line)");
    if (!table.problems.empty()) throw corrupt_error(table.problems.front() + ": the file is truncated or its quotes are unbalanced");
    if (!table.records.empty()) {
        const auto& last = table.records.back();
        if (last.fields.size() < table.header.size())
            throw corrupt_error("line " + std::to_string(last.line) + ": the last row has " + std::to_string(last.fields.size()) +
                                " of the header's " + std::to_string(table.header.size()) + " columns" +
                                (table.ends_with_line_break ? "" : " and no final line break") +
                                ": the file is truncated");
    }
    return table;
}

// The row has as many fields as the header, else a problem for the whole row.
bool check_shape(const parsers::CsvRecord& rec, std::size_t columns, std::vector<RowProblem>& problems) {
    if (rec.fields.size() == columns) return true;
    problems.push_back({rec.line, "", "the row has " + std::to_string(rec.fields.size()) + " columns where the header has " +
                                          std::to_string(columns) + " (a ';' or a quote out of place?)", ""});
    return false;
}

void check_text(const parsers::CsvRecord& rec, const Column& c, const std::string& key, std::vector<RowProblem>& problems) {
    const std::string v = field(rec, c);
    if (has_control(v)) problems.push_back({rec.line, c.name, "'" + printable(v) + "' holds a control character", key});
}

void check_mail(const parsers::CsvRecord& rec, const Column& c, const std::string& key, std::vector<RowProblem>& problems) {
    const std::string v = field(rec, c);
    if (v.empty()) return;
    if (auto why = parsers::address_problem(v))
        problems.push_back({rec.line, c.name, "'" + printable(v) + "' is not a mail address: " + *why, key});
}

void check_bassin(const parsers::CsvRecord& rec, const Column& c, bool required, const std::string& key,
                  std::vector<RowProblem>& problems) {
    const std::string v = field(rec, c);
    if (v.empty() && !required) return;
    if (!is_valid_bassin_code(v))
        problems.push_back({rec.line, c.name,
                            v.empty() ? std::string("no bassin code")
                                      : "'" + printable(v) + "' is not a bassin code (1 to 16 letters and digits)",
                            key});
}

// The UAI of a row, normalised, or a problem.
std::optional<std::string> check_uai(const parsers::CsvRecord& rec, const Column& c, std::vector<RowProblem>& problems) {
    const std::string raw = field(rec, c);
    auto uai = parsers::normalize_uai(raw);
    if (uai) return uai;
    if (raw.size() == 8 && std::all_of(raw.begin(), raw.begin() + 7, [](char ch) { return ch >= '0' && ch <= '9'; }))
        problems.push_back({rec.line, c.name,
                            "UAI " + printable(raw) + " has a wrong check letter (expected " + raw.substr(0, 7) +
                                parsers::uai_check_letter(raw) + ")",
                            ""});
    else
        problems.push_back({rec.line, c.name, "'" + printable(raw) + "' is not a UAI (7 digits and a letter)", ""});
    return std::nullopt;
}

}  // namespace

std::string printable(std::string_view value) {
    std::string out;
    for (unsigned char c : value.substr(0, 80)) {
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (value.size() > 80) out += "...";
    return out;
}

std::string to_string(const RowProblem& p) {
    std::string s = "line " + std::to_string(p.line);
    if (!p.column.empty()) s += ", column " + p.column;
    if (!p.key.empty()) s += " (" + p.key + ")";
    return s + ": " + p.message;
}

bool is_valid_bassin_code(std::string_view code) {
    return !code.empty() && code.size() <= 16 && std::all_of(code.begin(), code.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    });
}

AnnuaireImport read_annuaire(std::string_view file_bytes, const std::vector<std::string>& academies) {
    AnnuaireImport out;
    const auto table = read_table(file_bytes, out.encoding, out.converted);
    Columns cols(table.header);
    const char* what = "annuaire export";
    const auto c_uai = cols.require("Identifiant_de_l_etablissement", what);
    const auto c_name = cols.require("Nom_etablissement", what);
    const auto c_type = cols.require("Type_etablissement", what);
    const auto c_acad = cols.require("Code_academie", what);
    const auto c_vg = cols.require("Voie_generale", what);
    const auto c_vt = cols.require("Voie_technologique", what);
    const auto c_statut = cols.optional("Statut_public_prive");
    const auto c_commune = cols.optional("Nom_commune");
    const auto c_dep = cols.optional("Code_departement");
    const auto c_mail = cols.optional("Mail");
    const auto c_etat = cols.optional("etat");
    const auto c_nature = cols.optional("code_nature");
    const auto c_bassin = cols.optional("code_bassin_formation");
    const auto c_bassin_label = cols.optional("libelle_bassin_formation");
    const auto c_adresse = cols.optional("Adresse_1");
    const auto c_code_postal = cols.optional("Code_postal");

    std::map<std::string, int> first_line_of_uai;
    std::map<std::string, std::string> bassins;
    for (const auto& rec : table.records) {
        ++out.rows;
        std::vector<RowProblem> problems;
        // A row with its columns shifted cannot be filtered either: judge it whatever it is.
        const bool shaped = check_shape(rec, cols.size(), problems);

        std::string skip_reason;
        const std::string type = field(rec, c_type);
        std::string acad = field(rec, c_acad);
        if (acad.size() == 1) acad = "0" + acad;
        const std::string etat = lower(field(rec, c_etat));
        if (lower(type) != "lycée" && lower(type) != "lycee")
            skip_reason = "not a lycée (" + (type.empty() ? std::string("no type") : printable(type)) + ")";
        else if (field(rec, c_vg) != "1" && field(rec, c_vt) != "1")
            skip_reason = "lycée without voie générale or technologique (LP)";
        else if (std::find(academies.begin(), academies.end(), acad) == academies.end())
            skip_reason = "other académie";
        else if (!etat.empty() && etat != "ouvert")
            skip_reason = "not open (" + printable(field(rec, c_etat)) + ")";
        if (shaped && !skip_reason.empty()) ++out.skipped[skip_reason];

        auto uai = check_uai(rec, c_uai, problems);
        const std::string key = uai ? "UAI " + *uai : "";
        for (auto& p : problems) p.key = key;
        check_mail(rec, c_mail, key, problems);
        check_bassin(rec, c_bassin, false, key, problems);
        for (const auto* c : {&c_name, &c_commune, &c_dep, &c_statut, &c_nature, &c_bassin_label, &c_acad})
            check_text(rec, *c, key, problems);
        if (shaped && !skip_reason.empty()) {
            for (auto& p : problems) out.ignored.push_back(std::move(p));
            continue;
        }
        if (uai) {
            auto [it, first] = first_line_of_uai.emplace(*uai, rec.line);
            if (!first)
                problems.push_back({rec.line, c_uai.name,
                                    "UAI " + *uai + " appears twice (first at line " + std::to_string(it->second) + ")", key});
        }
        if (!problems.empty()) {
            ++out.invalid_rows;
            if (uai) out.invalid_uais.push_back(*uai);
            for (auto& p : problems) out.invalid.push_back(std::move(p));
            continue;
        }
        DirectoryRow row;
        row.lycee.uai = *uai;
        row.lycee.name = field(rec, c_name);
        row.lycee.commune = field(rec, c_commune);
        row.lycee.departement = field(rec, c_dep);
        if (row.lycee.departement.empty()) row.lycee.departement = uai->substr(0, 3);
        row.lycee.academie = acad;
        row.lycee.bassin_code = field(rec, c_bassin);
        row.lycee.bassin_label = field(rec, c_bassin_label);
        row.lycee.mail = lower(field(rec, c_mail));
        row.lycee.statut = field(rec, c_statut);
        row.lycee.adresse = field(rec, c_adresse);
        row.lycee.code_postal = field(rec, c_code_postal);
        row.nature = field(rec, c_nature);
        if (!row.lycee.bassin_code.empty()) bassins.emplace(row.lycee.bassin_code, row.lycee.bassin_label);
        out.lycees.push_back(std::move(row));
    }
    for (const auto& [code, label] : bassins) out.bassins.push_back({code, label, "", ""});
    return out;
}

RoutingImport read_routing(std::string_view file_bytes) {
    RoutingImport out;
    const auto table = read_table(file_bytes, out.encoding, out.converted);
    Columns cols(table.header);
    const char* what = "routing table (code_bassin_formation;libelle_bassin_formation;ien_io_nom;ien_io_mail)";
    const auto c_code = cols.require("code_bassin_formation", what);
    const auto c_label = cols.optional("libelle_bassin_formation");
    const auto c_name = cols.optional("ien_io_nom");
    const auto c_mail = cols.require("ien_io_mail", what);
    std::map<std::string, int> first_line_of_code;
    for (const auto& rec : table.records) {
        ++out.rows;
        std::vector<RowProblem> problems;
        check_shape(rec, cols.size(), problems);
        const std::string code = field(rec, c_code);
        const std::string key = is_valid_bassin_code(code) ? "bassin " + code : "";
        for (auto& p : problems) p.key = key;
        check_bassin(rec, c_code, true, key, problems);
        check_mail(rec, c_mail, key, problems);
        check_text(rec, c_label, key, problems);
        check_text(rec, c_name, key, problems);
        if (!key.empty()) {
            auto [it, first] = first_line_of_code.emplace(code, rec.line);
            if (!first)
                problems.push_back({rec.line, c_code.name,
                                    "bassin " + code + " appears twice (first at line " + std::to_string(it->second) + ")", key});
        }
        if (!problems.empty()) {
            ++out.invalid_rows;
            for (auto& p : problems) out.invalid.push_back(std::move(p));
            continue;
        }
        out.bassins.push_back({code, field(rec, c_label), field(rec, c_name), lower(field(rec, c_mail))});
    }
    return out;
}

namespace {

void compare(std::vector<std::string>& changes, const char* what, const std::string& before, const std::string& after) {
    if (before != after) changes.push_back(std::string(what) + " '" + before + "' -> '" + after + "'");
}

}  // namespace

ImportPlan plan_import(const std::vector<DirectoryRow>& stored, const std::vector<Bassin>& stored_bassins,
                       const AnnuaireImport& annuaire, const RoutingImport& routing,
                       const std::vector<std::string>& academies) {
    ImportPlan plan;
    std::map<std::string, const DirectoryRow*> by_uai;
    for (const auto& s : stored) by_uai[s.lycee.uai] = &s;
    std::set<std::string> in_file;
    for (const auto& row : annuaire.lycees) {
        in_file.insert(row.lycee.uai);
        auto it = by_uai.find(row.lycee.uai);
        if (it == by_uai.end()) {
            plan.added.push_back(row);
            continue;
        }
        const Lycee& a = it->second->lycee;
        const Lycee& b = row.lycee;
        LyceeChange change{row, {}};
        if (!a.open) change.changes.push_back("reopened");
        compare(change.changes, "name", a.name, b.name);
        compare(change.changes, "commune", a.commune, b.commune);
        compare(change.changes, "departement", a.departement, b.departement);
        compare(change.changes, "academie", a.academie, b.academie);
        compare(change.changes, "bassin", a.bassin_code, b.bassin_code);
        compare(change.changes, "bassin label", a.bassin_label, b.bassin_label);
        compare(change.changes, "mail", a.mail, b.mail);
        compare(change.changes, "address", a.adresse + " " + a.code_postal, b.adresse + " " + b.code_postal);
        compare(change.changes, "statut", a.statut, b.statut);
        compare(change.changes, "nature", it->second->nature, row.nature);
        if (change.changes.empty()) ++plan.unchanged;
        else plan.updated.push_back(std::move(change));
    }
    const std::set<std::string> left(annuaire.invalid_uais.begin(), annuaire.invalid_uais.end());
    for (const auto& s : stored) {
        const Lycee& l = s.lycee;
        if (!l.open || std::find(academies.begin(), academies.end(), l.academie) == academies.end()) continue;
        ++plan.open_before;
        if (in_file.count(l.uai)) continue;
        if (left.count(l.uai)) ++plan.left_as_is;
        else plan.closed.push_back(l);
    }

    // Bassins: the annuaire names them, the routing file names them too and gives their IEN-IO.
    std::map<std::string, Bassin> before, after;
    for (const auto& b : stored_bassins) before[b.code] = b;
    auto state = [&](const std::string& code) -> Bassin& {
        auto it = after.find(code);
        if (it != after.end()) return it->second;
        auto old = before.find(code);
        return after[code] = old != before.end() ? old->second : Bassin{code, "", "", ""};
    };
    for (const auto& b : annuaire.bassins) state(b.code).label = b.label;
    for (const auto& b : routing.bassins) {
        Bassin& s = state(b.code);
        if (!b.label.empty()) s.label = b.label;
        s.ien_io_name = b.ien_io_name;
        s.ien_io_mail = b.ien_io_mail;
    }
    for (const auto& [code, b] : after) {
        auto old = before.find(code);
        if (old == before.end()) {
            plan.bassin_writes.push_back(b);
            plan.bassin_changes.push_back(code + ": new, '" + b.label + "', IEN-IO " +
                                          (b.ien_io_mail.empty() ? std::string("none") : b.ien_io_mail));
            continue;
        }
        const Bassin& o = old->second;
        std::vector<std::string> changes;
        compare(changes, "label", o.label, b.label);
        compare(changes, "IEN-IO name", o.ien_io_name, b.ien_io_name);
        compare(changes, "IEN-IO", o.ien_io_mail, b.ien_io_mail);
        if (changes.empty()) continue;
        plan.bassin_writes.push_back(b);
        std::string line = code + ":";
        for (const auto& c : changes) line += " " + c + (&c == &changes.back() ? "" : ",");
        plan.bassin_changes.push_back(line);
    }
    return plan;
}

bool closes_too_many(const ImportPlan& plan, int max_percent) {
    return plan.closed.size() * 100 > plan.open_before * static_cast<std::size_t>(max_percent);
}

}  // namespace ppo::workflow
