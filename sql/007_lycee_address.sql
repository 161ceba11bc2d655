-- The lycée's street address from the annuaire (Adresse_1, Code_postal): when
-- two lycées of one town share a name, the address on a letterhead settles it
-- (workflow/intake/identification.h). Filled by the next directory import.
ALTER TABLE lycees ADD COLUMN adresse TEXT NOT NULL DEFAULT '';
ALTER TABLE lycees ADD COLUMN code_postal TEXT NOT NULL DEFAULT '';
