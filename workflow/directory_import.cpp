#include "workflow/directory_import.h"

#include "parsers/csv.h"
#include "parsers/error.h"
#include "parsers/uai.h"

#include <algorithm>
#include <set>

namespace ppo::workflow {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

class Columns {
public:
    Columns(const std::vector<std::string>& header) {
        for (std::size_t i = 0; i < header.size(); ++i) index_[lower(trim(header[i]))] = i;
    }
    std::size_t require(const std::string& name) const {
        auto it = index_.find(lower(name));
        if (it == index_.end()) throw corrupt_error("the file has no column '" + name + "' (is it the annuaire export?)");
        return it->second;
    }
    long optional(const std::string& name) const {
        auto it = index_.find(lower(name));
        return it == index_.end() ? -1 : static_cast<long>(it->second);
    }

private:
    std::map<std::string, std::size_t> index_;
};

std::string field(const parsers::CsvRecord& r, long i) {
    return i >= 0 && static_cast<std::size_t>(i) < r.fields.size() ? trim(r.fields[static_cast<std::size_t>(i)]) : "";
}

bool plausible_mail(const std::string& a) {
    auto at = a.find('@');
    return at != std::string::npos && at > 0 && a.find('.', at) != std::string::npos && a.find(' ') == std::string::npos;
}

}  // namespace

AnnuaireImport read_annuaire(std::string_view csv_text, const std::vector<std::string>& academies) {
    auto table = parsers::parse_csv(csv_text);
    Columns cols(table.header);
    const auto c_uai = cols.require("Identifiant_de_l_etablissement");
    const auto c_name = cols.require("Nom_etablissement");
    const auto c_type = cols.require("Type_etablissement");
    const auto c_acad = cols.require("Code_academie");
    const auto c_vg = cols.require("Voie_generale");
    const auto c_vt = cols.require("Voie_technologique");
    const long c_statut = cols.optional("Statut_public_prive");
    const long c_commune = cols.optional("Nom_commune");
    const long c_dep = cols.optional("Code_departement");
    const long c_mail = cols.optional("Mail");
    const long c_etat = cols.optional("etat");
    const long c_nature = cols.optional("code_nature");
    const long c_bassin = cols.optional("code_bassin_formation");
    const long c_bassin_label = cols.optional("libelle_bassin_formation");

    AnnuaireImport out;
    for (const auto& p : table.problems) out.errors.push_back(p);
    std::set<std::string> seen_uai;
    std::map<std::string, std::string> bassins;
    for (const auto& rec : table.records) {
        ++out.rows;
        const std::string where = "line " + std::to_string(rec.line);
        std::string type = field(rec, static_cast<long>(c_type));
        if (lower(type) != "lycée" && lower(type) != "lycee") {
            ++out.skipped["not a lycée (" + (type.empty() ? std::string("no type") : type) + ")"];
            continue;
        }
        if (field(rec, static_cast<long>(c_vg)) != "1" && field(rec, static_cast<long>(c_vt)) != "1") {
            ++out.skipped["lycée without voie générale or technologique (LP)"];
            continue;
        }
        std::string acad = field(rec, static_cast<long>(c_acad));
        if (acad.size() == 1) acad = "0" + acad;
        if (std::find(academies.begin(), academies.end(), acad) == academies.end()) {
            ++out.skipped["other académie"];
            continue;
        }
        std::string etat = lower(field(rec, c_etat));
        if (!etat.empty() && etat != "ouvert") {
            ++out.skipped["not open (" + field(rec, c_etat) + ")"];
            continue;
        }
        std::string raw_uai = field(rec, static_cast<long>(c_uai));
        auto uai = parsers::normalize_uai(raw_uai);
        if (!uai) {
            if (raw_uai.size() == 8 && std::all_of(raw_uai.begin(), raw_uai.begin() + 7, ::isdigit))
                out.errors.push_back(where + ": UAI " + raw_uai + " has a wrong check letter (expected " +
                                     raw_uai.substr(0, 7) + parsers::uai_check_letter(raw_uai) + ")");
            else
                out.errors.push_back(where + ": '" + raw_uai + "' is not a UAI (7 digits and a letter)");
            continue;
        }
        if (!seen_uai.insert(*uai).second) {
            out.errors.push_back(where + ": UAI " + *uai + " appears twice; the first row is kept");
            continue;
        }
        DirectoryRow row;
        row.lycee.uai = *uai;
        row.lycee.name = field(rec, static_cast<long>(c_name));
        row.lycee.commune = field(rec, c_commune);
        row.lycee.departement = field(rec, c_dep);
        if (row.lycee.departement.empty()) row.lycee.departement = uai->substr(0, 3);
        row.lycee.academie = acad;
        row.lycee.bassin_code = field(rec, c_bassin);
        row.lycee.bassin_label = field(rec, c_bassin_label);
        row.lycee.mail = lower(field(rec, c_mail));
        row.lycee.statut = field(rec, c_statut);
        row.nature = field(rec, c_nature);
        if (!row.lycee.mail.empty() && !plausible_mail(row.lycee.mail)) {
            out.errors.push_back(where + ": UAI " + *uai + ": Mail '" + row.lycee.mail + "' is not a mail address (kept without it)");
            row.lycee.mail.clear();
        }
        if (!row.lycee.bassin_code.empty()) bassins.emplace(row.lycee.bassin_code, row.lycee.bassin_label);
        out.lycees.push_back(std::move(row));
    }
    for (const auto& [code, label] : bassins) out.bassins.push_back({code, label, "", ""});
    return out;
}

RoutingImport read_routing(std::string_view csv_text) {
    auto table = parsers::parse_csv(csv_text);
    Columns cols(table.header);
    const auto c_code = cols.require("code_bassin_formation");
    const long c_label = cols.optional("libelle_bassin_formation");
    const long c_name = cols.optional("ien_io_nom");
    const auto c_mail = cols.require("ien_io_mail");
    RoutingImport out;
    for (const auto& p : table.problems) out.errors.push_back(p);
    for (const auto& rec : table.records) {
        const std::string where = "line " + std::to_string(rec.line);
        Bassin b{field(rec, static_cast<long>(c_code)), field(rec, c_label), field(rec, c_name),
                 lower(field(rec, static_cast<long>(c_mail)))};
        if (b.code.empty()) {
            out.errors.push_back(where + ": no code_bassin_formation");
            continue;
        }
        if (!b.ien_io_mail.empty() && !plausible_mail(b.ien_io_mail)) {
            out.errors.push_back(where + ": bassin " + b.code + ": '" + b.ien_io_mail + "' is not a mail address");
            b.ien_io_mail.clear();
        }
        out.bassins.push_back(std::move(b));
    }
    return out;
}

}  // namespace ppo::workflow
