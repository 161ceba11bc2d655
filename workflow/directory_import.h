// Reads the official "Annuaire de l'éducation" export (and the bassin -> IEN-IO
// routing table) into the lycées expected in a campaign. Columns are found by
// name, whatever their case; a BOM, quoted fields and CRLF are accepted. Pure:
// the caller writes the result to the store.
//
// An expected lycée (LGT) is a row with Type_etablissement "Lycée", Voie_generale
// or Voie_technologique = 1, etat OUVERT (or empty), of one of the configured
// académies, with a UAI whose check letter is right.
#pragma once

#include "workflow/directory.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ppo::workflow {

struct DirectoryRow {
    Lycee lycee;
    std::string nature;                       // code_nature, e.g. "300"
};

struct AnnuaireImport {
    std::vector<DirectoryRow> lycees;         // the LGTs kept, in file order
    std::vector<Bassin> bassins;              // code + label of every bassin of a kept lycée
    std::map<std::string, int> skipped;       // reason -> count
    std::vector<std::string> errors;          // "line 12: UAI 0590072X has a wrong check letter (expected 0590072H)"
    int rows = 0;                             // data rows read
};

// Throws ppo::Error(corrupt) when a required column is missing, naming it.
AnnuaireImport read_annuaire(std::string_view csv_text, const std::vector<std::string>& academies);

struct RoutingImport {
    std::vector<Bassin> bassins;              // with IEN-IO name and mail
    std::vector<std::string> errors;          // "line 4: 'ien-io.douai' is not a mail address"
};

// Columns: code_bassin_formation; libelle_bassin_formation; ien_io_nom; ien_io_mail.
RoutingImport read_routing(std::string_view csv_text);

}  // namespace ppo::workflow
