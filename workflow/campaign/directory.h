// The campaign's view of the school directory: the expected lycées and the
// bassins with their IEN-IO. Loaded from the database; immutable once built.
// Lookups are by UAI (upper-case) and by directory mail address (lower-case).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ppo::workflow {

struct Lycee {
    std::string uai;            // upper-case, valid check letter
    std::string name;           // "Lycée général et technologique Camille Claudel"
    std::string commune;        // "Douai"
    std::string departement;    // "059"
    std::string academie;       // "09" | "20"
    std::string bassin_code;    // "095912", may be empty
    std::string bassin_label;   // "BASSIN DOUAI"
    std::string mail;           // directory Mail column, lower-case, may be empty
    std::string statut;         // "Public" | "Privé"
    bool open = true;
    std::string adresse{};      // annuaire Adresse_1, "162 rue Anatole France", may be empty
    std::string code_postal{};  // annuaire Code_postal, "62500", may be empty
};

struct Bassin {
    std::string code;
    std::string label;
    std::string ien_io_name;    // may be empty
    std::string ien_io_mail;    // may be empty: no IEN-IO for this bassin
};

class Directory {
public:
    Directory() = default;
    Directory(std::vector<Lycee> lycees, std::vector<Bassin> bassins);

    const std::vector<Lycee>& lycees() const { return lycees_; }
    const Lycee* by_uai(const std::string& uai) const;          // case-insensitive
    const Lycee* by_mail(const std::string& address) const;     // case-insensitive
    const Bassin* bassin(const std::string& code) const;
    // Lycées whose directory mail has this domain (lower-case), e.g. "orange.fr".
    std::vector<const Lycee*> by_mail_domain(const std::string& domain) const;
    bool has_mail_domain(const std::string& domain) const;

private:
    std::vector<Lycee> lycees_;
    std::vector<Bassin> bassins_;
    std::map<std::string, std::size_t> by_uai_;
    std::map<std::string, std::size_t> by_mail_;
    std::map<std::string, std::size_t> bassin_by_code_;
    std::multimap<std::string, std::size_t> by_domain_;
};

}  // namespace ppo::workflow
