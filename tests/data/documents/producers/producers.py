#!/usr/bin/python3
"""The producer corpus: one table of cases, each a letterhead (or a non-PPO
document) written for one producer, with the outcome it was written to have.

Run by make_producers.sh (which then runs the producers themselves). Writes:
  src/<name>.html|.ms|.svg|.pango|.tex   sources for Chromium, wkhtmltopdf,
                                         groff, rsvg-convert, pango-view, pdfTeX
  <name>.docx, <name>.odt                python-docx and odfpy write these directly
  expected.json                          the golden outcome of every document

The lycées are those of tests/data/annuaire-hdf-sample.csv (the directory the
integration tests import), with their real street addresses; every UAI written
in a document is one of the sample's, with its right check letter.

The expected values are how each document was WRITTEN (which lycée it is the
letterhead of, whether it is a PPO), never what the intake currently answers.
"""
import datetime
import html
import json
import os
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")

ACADEMIE = {
    "lille": ["ACADÉMIE DE LILLE", "Région académique", "Hauts-de-France", "Liberté Égalité Fraternité"],
    "amiens": ["ACADÉMIE D'AMIENS", "Région académique", "Hauts-de-France", "Liberté Égalité Fraternité"],
}

# --------------------------------------------------------------------------
# Bodies, as a real document of each kind reads. A block is (kind, text):
# title, subtitle, h (heading), p, li, sign.

PPO = [
    ("title", "Programme pluriannuel d'orientation 2021-2022"),
    ("subtitle", "Présenté au conseil d'administration du 18 novembre 2021"),
    ("h", "1. Diagnostic de l'établissement"),
    ("p", "L'établissement accueille un peu plus de mille élèves, de la seconde à la terminale. "
          "Le diagnostic partagé avec l'équipe pédagogique, la psychologue de l'Éducation nationale "
          "et les représentants des parents fait apparaître un besoin d'accompagnement renforcé des "
          "élèves de seconde dans le choix de leurs enseignements de spécialité, ainsi qu'une poursuite "
          "d'études dans l'enseignement supérieur encore inférieure à la moyenne académique pour les élèves boursiers."),
    ("h", "2. Objectifs du programme"),
    ("li", "Permettre à chaque élève de construire progressivement son projet d'orientation, de la seconde à la terminale."),
    ("li", "Mieux faire connaître les formations de l'enseignement supérieur et les métiers du territoire."),
    ("li", "Lutter contre l'autocensure et les déterminismes sociaux et de genre dans les choix d'orientation."),
    ("h", "3. Actions prévues"),
    ("p", "En seconde : cinquante-quatre heures annuelles d'accompagnement au choix de l'orientation, dont deux "
          "demi-journées de découverte des métiers et un entretien personnalisé avec le professeur principal au "
          "deuxième trimestre."),
    ("p", "En première : une semaine de l'orientation en janvier, des rencontres avec d'anciens élèves et des "
          "ateliers sur les attendus des formations post-baccalauréat."),
    ("p", "En terminale : un accompagnement à la formulation des vœux sur Parcoursup, des immersions dans les "
          "universités et les écoles partenaires, une permanence hebdomadaire de la psychologue de l'Éducation nationale."),
    ("h", "4. Pilotage et évaluation"),
    ("p", "Le programme est suivi par le conseil pédagogique ; un bilan annuel en est présenté au conseil "
          "d'administration. Indicateurs retenus : part des vœux confirmés, taux de poursuite d'études, "
          "participation des élèves et des familles aux actions proposées."),
    ("sign", "Le proviseur"),
]

CONVOCATION = [
    ("title", "Convocation au conseil d'administration"),
    ("p", "Madame, Monsieur,"),
    ("p", "J'ai l'honneur de vous convier à la séance ordinaire du conseil d'administration qui se tiendra "
          "le jeudi 18 novembre 2021 à 17 h 30, en salle du conseil."),
    ("h", "Ordre du jour"),
    ("li", "Adoption du procès-verbal de la séance précédente"),
    ("li", "Budget : décision budgétaire modificative n° 2"),
    ("li", "Vote du PPO"),
    ("li", "Voyages et sorties scolaires du deuxième trimestre"),
    ("li", "Questions diverses"),
    ("p", "Les documents préparatoires sont à votre disposition au secrétariat de direction. En cas "
          "d'empêchement, je vous remercie de prévenir votre suppléant."),
    ("sign", "Le proviseur, président du conseil d'administration"),
]

LETTRE = [
    ("p", "à Madame la déléguée régionale académique à l'information et à l'orientation"),
    ("p", "Objet : calendrier de notre conseil d'administration"),
    ("p", "Madame la déléguée régionale,"),
    ("p", "Le conseil d'administration de notre lycée, initialement prévu le 18 novembre, se réunira le "
          "2 décembre 2021. Nous vous enverrons notre programme pluriannuel d'orientation prochainement, "
          "dès son adoption par le conseil."),
    ("p", "Je vous prie d'agréer, Madame la déléguée régionale, l'expression de ma considération distinguée."),
    ("sign", "Le proviseur"),
]

CRCA = [
    ("title", "Compte rendu du conseil d'administration du 18 novembre 2021"),
    ("p", "Présents : vingt-deux membres sur trente. Le quorum étant atteint, la séance est ouverte à 17 h 35 "
          "en salle du conseil."),
    ("h", "1. Procès-verbal de la séance précédente"),
    ("p", "Le procès-verbal de la séance du 30 septembre est adopté sans observation."),
    ("h", "2. Décision budgétaire modificative"),
    ("p", "La décision budgétaire modificative n° 2 est adoptée : vingt voix pour, deux abstentions."),
    ("h", "3. Programme pluriannuel d'orientation"),
    ("p", "Le proviseur adjoint présente le PPO 2021-2022, élaboré avec les professeurs principaux et la "
          "psychologue de l'Éducation nationale : accompagnement au choix de l'orientation en seconde, semaine "
          "de l'orientation en première, préparation de Parcoursup en terminale. Le PPO est adopté à l'unanimité."),
    ("h", "4. Questions diverses"),
    ("p", "Les représentants des élèves demandent la réouverture de la salle de travail le mercredi après-midi ; "
          "la direction étudiera la demande avec la vie scolaire."),
    ("p", "La séance est levée à 19 h 10."),
    ("sign", "La secrétaire de séance"),
]

BODIES = {"ppo": PPO, "convocation": CONVOCATION, "lettre": LETTRE, "crca": CRCA}
LOOKS = {"ppo": "yes", "convocation": "no", "lettre": "no", "crca": "no"}

# --------------------------------------------------------------------------
# The cases. lines: the lycée's block as printed. academie: the académie block
# ("lille"/"amiens"), printed above the lycée's or, with beside=True, in a
# column next to it. uai: the lycée the document is the letterhead of and that
# it identifies (None when the document cannot identify one). lycee: the
# expected `lycee` check when the submission is credited.

CASES = []


def case(name, producer, kind, lines, uai, why, academie=None, beside=False, lycee="same", tex="t1", header=False):
    CASES.append(dict(name=name, producer=producer, kind=kind, lines=lines, uai=uai, why=why, academie=academie,
                      beside=beside, lycee=lycee if uai else None, tex=tex, header=header))


# Chromium (print to PDF)
case("chromium-ppo-ribot-armentieres", "chromium", "ppo",
     ["Lycée Alexandre Ribot", "153 avenue Léonard de Vinci", "59280 ARMENTIÈRES", "Tél. 03 29 29 41 45"], "0597091M",
     "plain letterhead under the académie block; a street named after a famous name", academie="lille")
case("chromium-ppo-branly-saint-omer-street", "chromium", "ppo",
     ["Lycée général et technologique Édouard Branly", "162 rue Anatole France", "62500 SAINT-OMER"], "0620444W",
     "street named after another lycée of the same town (Anatole France, 0623052F, Saint-Omer)")
case("chromium-ppo-wallon-lens-beside", "chromium", "ppo",
     ["Lycée Henri Wallon", "137 rue Édouard Branly", "62300 LENS"], "0624400W",
     "académie block beside the lycée's (CSS flex): a line-by-line reader merges the two columns",
     academie="lille", beside=True)
case("chromium-ppo-jdlf-noyon-uai", "chromium", "ppo",
     ["Lycée Jean de La Fontaine", "60400 NOYON", "UAI 0609572D"], "0609572D",
     "two Jean de La Fontaine in Noyon (0604736X, 0609572D): the UAI settles it, and the check is not 'several'")
case("chromium-convocation-camus-saint-omer", "chromium", "convocation",
     ["Lycée Albert Camus", "160 boulevard Cassini", "62500 SAINT-OMER"], "0623459Y",
     "not a PPO: a convocation to the board whose agenda lists 'Vote du PPO'", academie="lille")

# wkhtmltopdf
case("wkhtmltopdf-ppo-voltaire-saint-omer-street", "wkhtmltopdf", "ppo",
     ["Lycée Voltaire", "160 place Hélène Boucher", "62500 SAINT-OMER"], "0624777F",
     "street named after another lycée of the same town (Hélène Boucher, 0629115W, Saint-Omer)")
case("wkhtmltopdf-ppo-stael-montreuil-address", "wkhtmltopdf", "ppo",
     ["Lycée Madame de Staël", "217 rue Gambetta", "62170 MONTREUIL"], "0628566Z",
     "two Madame de Staël in Montreuil (0621218M, 0628566Z): the street address settles it")
case("wkhtmltopdf-ppo-jaures-peronne-beside", "wkhtmltopdf", "ppo",
     ["Lycée Jean Jaurès", "233 rue Olympe de Gouges", "80200 PÉRONNE"], "0806670R",
     "académie block beside the lycée's (HTML table); street named after a famous name (Olympe de Gouges)",
     academie="amiens", beside=True)
case("wkhtmltopdf-ppo-mariette-cambrai-neither", "wkhtmltopdf", "ppo",
     ["Lycée Mariette", "59400 CAMBRAI"], None,
     "two Mariette in Cambrai (0595367N, 0591023S), neither UAI nor street: the name alone is not evidence")
case("wkhtmltopdf-lettre-cassini-calais", "wkhtmltopdf", "lettre",
     ["Lycée Cassini", "28 place Victor Hugo", "62100 CALAIS"], "0620376X",
     "not a PPO: a letter saying the PPO will be sent later")

# groff -ms -> PostScript -> ps2pdf (Ghostscript)
case("groff-ppo-eiffel-lievin-street", "groff", "ppo",
     ["Lycée Gustave Eiffel", "187 place Anatole France", "62800 LIÉVIN"], "0620655A",
     "street named after another lycée of the same town (Anatole France, 0621547V, Liévin)")
case("groff-ppo-mariette-cambrai-uai-lower", "groff", "ppo",
     ["Lycée Mariette", "59400 Cambrai", "RNE : 0595367n"], "0595367N",
     "two Mariette in Cambrai: the UAI, written with a lower-case letter, settles it")
case("groff-ppo-rostand-cambrai-beside", "groff", "ppo",
     ["Lycée Jean Rostand", "115 boulevard Henri Wallon", "59400 CAMBRAI"], "0592587S",
     "académie block beside the lycée's (tbl); street named after another lycée's name (Henri Wallon)",
     academie="lille", beside=True)
case("groff-crca-duez-clermont", "groff", "crca",
     ["Lycée Paul Duez", "232 rue Jean Moulin", "60600 CLERMONT"], "0604274V",
     "not a PPO: minutes of the board that discuss and adopt the PPO; street named after another lycée of "
     "the town (Jean Moulin, 0605239U, Clermont)")

# cairo: rsvg-convert (SVG, positioned text)
case("rsvg-ppo-baudelaire-armentieres-street", "rsvg", "ppo",
     ["Lycée polyvalent Baudelaire", "171 place Alexandre Ribot", "59280 ARMENTIÈRES"], "0591524L",
     "street named after another lycée of the same town (Alexandre Ribot, 0597091M, Armentières)")
case("rsvg-ppo-saint-remi-lens-uai-dot", "rsvg", "ppo",
     ["Lycée privé Saint-Rémi", "62300 LENS", "UAI : 0626362.d"], "0626362D",
     "two Saint-Rémi in Lens (0623767H, 0626362D): the UAI, written '0626362.d', settles it")
case("rsvg-ppo-condorcet-chantilly-beside", "rsvg", "ppo",
     ["Lycée Condorcet", "53 place Albert Camus", "60500 CHANTILLY"], "0603709F",
     "académie block beside the lycée's (absolute positions) and a street named after another lycée of the "
     "town (Albert Camus, 0604766E, Chantilly)", academie="amiens", beside=True)
case("rsvg-convocation-providence-calais", "rsvg", "convocation",
     ["Lycée privé Providence", "147 rue Gambetta", "62100 CALAIS"], "0620237W",
     "not a PPO: a convocation to the board whose agenda lists 'Vote du PPO'")

# cairo: pango-view
case("pango-ppo-sainte-marie-boulogne-street", "pango", "ppo",
     ["Lycée privé Sainte-Marie", "203 avenue Jean Rostand", "62200 BOULOGNE-SUR-MER"], "0629995C",
     "street named after another lycée of the same town (Jean Rostand, 0627412V, Boulogne-sur-Mer)")
case("pango-ppo-stael-montreuil-uai-spaces", "pango", "ppo",
     ["Lycée Madame de Staël", "62170 MONTREUIL", "UAI : 0 621 218 M"], "0621218M",
     "two Madame de Staël in Montreuil: the UAI, written with spaces, settles it")
case("pango-ppo-la-salle-boulogne", "pango", "ppo",
     ["Lycée privé La Salle", "51 rue Fénelon", "62200 BOULOGNE-SUR-MER"], "0621336R",
     "plain letterhead of a lycée whose name ends in a common word ('salle')", academie="lille")
case("pango-lettre-rostand-boulogne", "pango", "lettre",
     ["Lycée polyvalent Jean Rostand", "72 rue Jean Rostand", "62200 BOULOGNE-SUR-MER"], "0627412V",
     "not a PPO: a letter saying the PPO will be sent later")

# pdfTeX (pdflatex). tex="ot1": no fontenc, accents built by TeX from a base
# letter and a separate accent glyph (\'E), which poppler gives as a combining
# mark (E + U+0301); tex="t1": T1/utf8 with Latin Modern, precomposed glyphs.
case("pdftex-ppo-gouges-chateau-thierry-ot1", "pdftex", "ppo",
     ["LYCÉE POLYVALENT OLYMPE DE GOUGES", "166 RUE PAUL LANGEVIN", "02400 CHÂTEAU-THIERRY"], "0020147Z",
     "accented capitals built by pdfTeX from accent + letter (OT1): combining marks in the text layer",
     academie="amiens", tex="ot1")
case("pdftex-ppo-saint-remi-chateau-thierry-t1", "pdftex", "ppo",
     ["LYCÉE PRIVÉ SAINT-RÉMI", "163 boulevard Pierre Mendès France", "02400 CHÂTEAU-THIERRY"], "0025051E",
     "accented capitals (T1, Latin Modern); a street named after a famous name (Pierre Mendès France)", tex="t1")
case("pdftex-ppo-branly-montdidier-beside-ot1", "pdftex", "ppo",
     ["LYCÉE ÉDOUARD BRANLY", "9 place Jean Rostand", "80500 MONTDIDIER"], "0804026S",
     "académie block beside the lycée's (two minipages), accented capitals from accent + letter (OT1)",
     academie="amiens", beside=True, tex="ot1")
case("pdftex-ppo-jdlf-noyon-address-t1", "pdftex", "ppo",
     ["Lycée Jean de La Fontaine", "184 avenue Fénelon", "60400 NOYON"], "0604736X",
     "two Jean de La Fontaine in Noyon: the street address (184 avenue Fénelon) settles it; the street is a "
     "famous name (Fénelon) too", tex="t1")
case("pdftex-crca-saint-jude-chateau-thierry-ot1", "pdftex", "crca",
     ["LYCÉE PRIVÉ SAINT-JUDE", "3 rue Henri Matisse", "02400 CHÂTEAU-THIERRY"], "0026600N",
     "not a PPO: minutes of the board adopting the PPO; accented capitals from accent + letter (OT1)", tex="ot1")

# python-docx
case("docx-ppo-simone-veil-saint-omer-street", "python-docx", "ppo",
     ["Lycée Simone Veil", "196 boulevard André Malraux", "62500 SAINT-OMER"], "0627923A",
     "letterhead in the page header; street named after another lycée of the same town (André Malraux, "
     "0625913R, Saint-Omer)", header=True)
case("docx-ppo-jdlf-noyon-neither", "python-docx", "ppo",
     ["Lycée Jean de La Fontaine", "60400 NOYON"], None,
     "two Jean de La Fontaine in Noyon, neither UAI nor street: the name alone is not evidence")
case("docx-ppo-gouges-boulogne-beside", "python-docx", "ppo",
     ["Lycée Olympe de Gouges", "175 boulevard Charles de Gaulle", "62200 BOULOGNE-SUR-MER"], "0626044H",
     "académie block beside the lycée's (a two-cell table)", academie="lille", beside=True)
case("docx-ppo-jdlf-boulogne-uai-spaces", "python-docx", "ppo",
     ["Lycée Jean de La Fontaine", "62200 BOULOGNE-SUR-MER", "UAI 0 628 215 T"], "0628215T",
     "two Jean de La Fontaine in Boulogne-sur-Mer (0628215T, 0629417Z): the UAI, written with spaces, settles it")
case("docx-convocation-jean-moulin-clermont", "python-docx", "convocation",
     ["Lycée Jean Moulin", "229 avenue Paul Langevin", "60600 CLERMONT"], "0605239U",
     "not a PPO: a convocation to the board whose agenda lists 'Vote du PPO'", header=True)

# odfpy
case("odt-ppo-rostand-compiegne-street", "odfpy", "ppo",
     ["Lycée polyvalent Jean Rostand", "229 place Marguerite Yourcenar", "60200 COMPIÈGNE"], "0601244B",
     "street named after another lycée of the same town (Marguerite Yourcenar, 0608581B, Compiègne)")
case("odt-ppo-marie-curie-noyon", "odfpy", "ppo",
     ["Lycée Marie Curie", "141 boulevard Albert Camus", "60400 NOYON"], "0603225E",
     "plain letterhead in Noyon (where a CIO is at place Marie Curie); street named after a famous name",
     academie="amiens")
case("odt-ppo-saint-joseph-noyon", "odfpy", "ppo",
     ["Lycée privé Saint-Joseph", "226 place Paul Langevin", "60400 NOYON"], "0605663E",
     "plain letterhead of a private lycée of Noyon")
case("odt-ppo-saint-remi-lens-address-beside", "odfpy", "ppo",
     ["Lycée privé Saint-Rémi", "20 avenue Gustave Eiffel", "62300 LENS"], "0623767H",
     "two Saint-Rémi in Lens: the street address settles it; académie block beside it (a two-cell table)",
     academie="lille", beside=True)
case("odt-ppo-stael-montreuil-neither", "odfpy", "ppo",
     ["Lycée Madame de Staël", "62170 MONTREUIL"], None,
     "two Madame de Staël in Montreuil (0621218M, 0628566Z), neither UAI nor street: the name alone is not evidence")
case("odt-crca-anatole-france-saint-omer", "odfpy", "crca",
     ["Lycée Anatole France", "157 rue Anatole France", "62500 SAINT-OMER"], "0623052F",
     "not a PPO: minutes of the board adopting the PPO")

# The lycée's usual short name (not the directory's), on a street named after
# another lycée of the town: the street must not win; the directory's street
# address (adresse_1 + code postal) identifies the lycée.
case("chromium-ppo-branly-short-saint-omer", "chromium", "ppo",
     ["Lycée Branly", "162 rue Anatole France", "62500 SAINT-OMER"], "0620444W",
     "short name ('Lycée Branly') on a street named after another lycée of the town (Anatole France, "
     "0623052F): credited to Branly by its street address, never to Anatole France")
case("wkhtmltopdf-ppo-eiffel-short-lievin", "wkhtmltopdf", "ppo",
     ["Lycée G. Eiffel", "187 place Anatole France", "62800 LIÉVIN"], "0620655A",
     "short name ('Lycée G. Eiffel') on a street named after another lycée of the town (Anatole France, "
     "0621547V): the street address settles it, never Anatole France")
case("groff-ppo-rostand-hyphen-compiegne", "groff", "ppo",
     ["Lycée Jean-Rostand", "229 place Marguerite Yourcenar", "60200 COMPIÈGNE"], "0601244B",
     "name written with a hyphen ('Jean-Rostand') on a street named after another lycée of the town "
     "(Marguerite Yourcenar, 0608581B)")
case("pango-ppo-duez-short-clermont", "pango", "ppo",
     ["Lycée P. Duez", "232 rue Jean Moulin", "60600 CLERMONT"], "0604274V",
     "short name ('Lycée P. Duez') on a street named after another lycée of the town (Jean Moulin, 0605239U)")
case("odt-ppo-simone-veil-hyphen-saint-omer", "odfpy", "ppo",
     ["Lycée Simone-Veil", "196 boulevard André Malraux", "62500 SAINT-OMER"], "0627923A",
     "name written with a hyphen ('Simone-Veil') on a street named after another lycée of the town "
     "(André Malraux, 0625913R)")
case("docx-ppo-saint-exupery-short-armentieres", "python-docx", "ppo",
     ["Lycée Saint-Exupéry", "41 rue Léonard de Vinci", "59280 ARMENTIÈRES"], "0591142W",
     "short name ('Lycée Saint-Exupéry' for Antoine de Saint-Exupéry) on a street named after a famous name",
     header=True)

# The lycée's name wrapped over two lines of its narrow block, printed beside
# the académie block: a reader that goes line by line across the page cuts
# the name in two ("Région académique Yourcenar").
case("chromium-ppo-coubertin-maubeuge-beside-wrapped", "chromium", "ppo",
     ["Lycée général et technologique Pierre de", "Coubertin", "131 rue Émile Zola", "59600 MAUBEUGE"], "0598441E",
     "académie block beside the lycée's, whose name wraps ('Pierre de' / 'Coubertin')",
     academie="lille", beside=True)
case("wkhtmltopdf-ppo-yourcenar-armentieres-beside-wrapped", "wkhtmltopdf", "ppo",
     ["Lycée polyvalent Marguerite", "Yourcenar", "52 place Gustave Eiffel", "59280 ARMENTIÈRES"], "0595201H",
     "académie block beside the lycée's, whose name wraps ('Marguerite' / 'Yourcenar'); the street is a famous "
     "name (Gustave Eiffel)", academie="lille", beside=True)
case("rsvg-ppo-mendes-france-calais-beside-wrapped", "rsvg", "ppo",
     ["Lycée Pierre", "Mendès France", "78 avenue Marie Curie", "62100 CALAIS"], "0621402M",
     "académie block beside the lycée's, whose name wraps ('Pierre' / 'Mendès France')",
     academie="lille", beside=True)
case("pdftex-ppo-saint-exupery-armentieres-beside-wrapped-ot1", "pdftex", "ppo",
     ["LYCÉE ANTOINE DE", "SAINT-EXUPÉRY", "41 rue Léonard de Vinci", "59280 ARMENTIÈRES"], "0591142W",
     "académie block beside the lycée's, whose name wraps ('ANTOINE DE' / 'SAINT-EXUPÉRY'), accented capitals "
     "from accent + letter (OT1)", academie="lille", beside=True, tex="ot1")

# A PPO common to two lycées (a cité scolaire): it names both, so it credits
# neither by itself; sent by one of them, its check is "several".
case("chromium-ppo-racine-zola-beauvais-two", "chromium", "ppo",
     ["Cité scolaire de Beauvais", "Lycée Jean Racine — 131 avenue Albert Camus — 60000 BEAUVAIS",
      "Lycée Émile Zola — 84 avenue Voltaire — 60000 BEAUVAIS"], None,
     "a PPO common to two lycées of Beauvais (0608916R, 0603124V): it names both, so it credits neither")

# What in each identifiable document settles the lycée: "name" (its name as a
# lycée's, with its town), "uai", or "street address" (the directory's
# adresse_1 + code postal: two lycées of the name in the town, or a short name
# that is not the directory's).
SETTLED_BY = {
    "chromium-ppo-jdlf-noyon-uai": "uai",
    "groff-ppo-mariette-cambrai-uai-lower": "uai",
    "rsvg-ppo-saint-remi-lens-uai-dot": "uai",
    "pango-ppo-stael-montreuil-uai-spaces": "uai",
    "docx-ppo-jdlf-boulogne-uai-spaces": "uai",
    "wkhtmltopdf-ppo-stael-montreuil-address": "street address",
    "pdftex-ppo-jdlf-noyon-address-t1": "street address",
    "odt-ppo-saint-remi-lens-address-beside": "street address",
    "chromium-ppo-branly-short-saint-omer": "street address",
    "wkhtmltopdf-ppo-eiffel-short-lievin": "street address",
    "pango-ppo-duez-short-clermont": "street address",
    "docx-ppo-saint-exupery-short-armentieres": "street address",
}

# Scans: a page of a generated PDF rendered to PNG (pdftoppm), then img2pdf.
SCANS = [
    ("scan-ppo-ribot-armentieres", "chromium-ppo-ribot-armentieres"),
    ("scan-ppo-branly-montdidier-beside", "pdftex-ppo-branly-montdidier-beside-ot1"),
    ("scan-ppo-eiffel-lievin", "groff-ppo-eiffel-lievin-street"),
]

# Some documents sent a second time, from a lycée's own address (the
# directory's Mail): credited by the sender, the document is only a check.
# "same": the document is that lycée's (its UAI or street address settles a
# name shared in the town: never "several"); "other": the document is another
# lycée's (a street or a UAI naming the sender's lycée must not make it "same").
FROM_LYCEE = [
    ("chromium-ppo-jdlf-noyon-uai", "0609572D", "same", "its own UAI, a name shared with 0604736X in Noyon"),
    ("groff-ppo-mariette-cambrai-uai-lower", "0595367N", "same", "its own UAI, a name shared with 0591023S in Cambrai"),
    ("rsvg-ppo-saint-remi-lens-uai-dot", "0626362D", "same", "its own UAI, a name shared with 0623767H in Lens"),
    ("pango-ppo-stael-montreuil-uai-spaces", "0621218M", "same", "its own UAI, a name shared with 0628566Z in Montreuil"),
    ("docx-ppo-jdlf-boulogne-uai-spaces", "0628215T", "same",
     "its own UAI, a name shared with 0629417Z in Boulogne-sur-Mer"),
    ("pdftex-ppo-jdlf-noyon-address-t1", "0604736X", "same", "its own street address, a name shared with 0609572D"),
    ("chromium-ppo-branly-saint-omer-street", "0623052F", "other",
     "Anatole France sends Branly's PPO, whose street is rue Anatole France"),
    ("chromium-ppo-jdlf-noyon-uai", "0604736X", "other", "the other Jean de La Fontaine of Noyon (UAI 0609572D)"),
    ("odt-ppo-saint-remi-lens-address-beside", "0626362D", "other",
     "the other Saint-Rémi of Lens (street address of 0623767H)"),
    ("chromium-ppo-racine-zola-beauvais-two", "0608916R", "several", "a PPO common to Jean Racine and Émile Zola"),
    ("scan-ppo-ribot-armentieres", "0597091M", "none", "a scan: no text, it names no lycée"),
]

EXT = {"chromium": "html", "wkhtmltopdf": "html", "groff": "ms", "rsvg": "svg", "pango": "pango",
       "pdftex": "tex", "python-docx": "docx", "odfpy": "odt"}


# --------------------------------------------------------------------------
# Writers, one per producer.

def blocks(c):
    return BODIES[c["kind"]]


def write_html(c, path, flex):
    e = html.escape
    lyc = "<br>".join(e(l) for l in c["lines"])
    aca = "<br>".join(e(l) for l in ACADEMIE[c["academie"]]) if c["academie"] else ""
    if c["beside"] and flex:
        head = ('<div style="display:flex;justify-content:space-between;align-items:flex-start">'
                f'<div class="aca">{aca}</div><div class="lyc" style="text-align:right">{lyc}</div></div>')
    elif c["beside"]:
        head = ('<table style="width:100%;border-collapse:collapse"><tr>'
                f'<td class="aca" style="vertical-align:top;width:50%">{aca}</td>'
                f'<td class="lyc" style="vertical-align:top;text-align:right">{lyc}</td></tr></table>')
    else:
        head = (f'<div class="aca">{aca}</div>' if aca else "") + f'<div class="lyc">{lyc}</div>'
    out = []
    in_list = False
    for kind, text in blocks(c):
        if kind != "li" and in_list:
            out.append("</ul>")
            in_list = False
        if kind == "title":
            out.append(f"<h1>{e(text)}</h1>")
        elif kind == "subtitle":
            out.append(f'<p class="sub">{e(text)}</p>')
        elif kind == "h":
            out.append(f"<h2>{e(text)}</h2>")
        elif kind == "li":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{e(text)}</li>")
        elif kind == "sign":
            out.append(f'<p class="sign">{e(text)}</p>')
        else:
            out.append(f"<p>{e(text)}</p>")
    if in_list:
        out.append("</ul>")
    title = next((t for k, t in blocks(c) if k == "title"), "Courrier")
    doc = f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
@page {{ size: A4; margin: 18mm 20mm; }}
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.35; }}
.aca {{ font-size: 9pt; font-weight: bold; margin-bottom: 4mm; }}
.lyc {{ font-size: 10pt; }}
h1 {{ font-size: 18pt; text-align: center; margin: 14mm 0 2mm 0; }}
p.sub {{ text-align: center; font-style: italic; margin-bottom: 8mm; }}
h2 {{ font-size: 12.5pt; margin-top: 6mm; }}
p.sign {{ text-align: right; margin-top: 10mm; }}
</style></head>
<body>
{head}
{chr(10).join(out)}
</body></html>
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc)


def groff_escape(s):
    s = s.replace("\\", "\\e")
    if s[:1] in (".", "'"):
        s = "\\&" + s
    return s


def write_groff(c, path):
    g = [".\\\" groff -k -t -ms -Tps | ps2pdf", ".nr PS 10", ".nr VS 13", ".nr PO 1i", ".nr LL 6.2i", ".LP"]
    aca = ACADEMIE[c["academie"]] if c["academie"] else []
    if c["beside"]:
        g += [".TS", "lw(2.9i) rw(2.9i).", "T{"]
        g += [groff_escape(l) + "\n.br" for l in aca]
        g += ["T}\tT{"]
        g += [groff_escape(l) + "\n.br" for l in c["lines"]]
        g += ["T}", ".TE"]
    else:
        for l in aca:
            g += ["\\fB" + groff_escape(l) + "\\fP", ".br"]
        if aca:
            g += [".sp 0.5"]
        for l in c["lines"]:
            g += [groff_escape(l), ".br"]
    for kind, text in blocks(c):
        if kind == "title":
            g += [".sp 2", ".ce 1", ".ps 16", "\\fB" + groff_escape(text) + "\\fP", ".ps 10", ".sp 0.5"]
        elif kind == "subtitle":
            g += [".ce 1", "\\fI" + groff_escape(text) + "\\fP", ".sp 1"]
        elif kind == "h":
            g += [".SH", groff_escape(text)]
        elif kind == "li":
            g += [".IP \\(bu 2", groff_escape(text)]
        elif kind == "sign":
            g += [".sp 2", ".rj 1", groff_escape(text)]
        else:
            g += [".PP", groff_escape(text)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(g) + "\n")


def write_svg(c, path_base):
    """One SVG per page (rsvg-convert makes one PDF page of each)."""
    e = html.escape
    W, H, M = 595, 842, 56
    pages = [[]]
    y = M + 10

    def put(x, text, size=10, weight="normal", anchor="start", style="normal", dy=None):
        nonlocal y
        step = dy if dy is not None else size * 1.35
        if y + step > H - M:
            pages.append([])
            y = M + 10
        y += step
        pages[-1].append(f'<text x="{x}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" '
                         f'font-style="{style}" text-anchor="{anchor}">{e(text)}</text>')

    aca = ACADEMIE[c["academie"]] if c["academie"] else []
    if c["beside"]:
        y0 = y
        for i, l in enumerate(aca):
            pages[-1].append(f'<text x="{M}" y="{y0 + 12 * (i + 1):.1f}" font-size="9" font-weight="bold">{e(l)}</text>')
        for i, l in enumerate(c["lines"]):
            pages[-1].append(f'<text x="{W - M}" y="{y0 + 12 * (i + 1):.1f}" font-size="10" text-anchor="end">{e(l)}</text>')
        y = y0 + 12 * max(len(aca), len(c["lines"]))
    else:
        for l in aca:
            put(M, l, 9, "bold")
        if aca:
            y += 6
        for l in c["lines"]:
            put(M, l, 10)
    for kind, text in blocks(c):
        if kind == "title":
            y += 30
            put(W / 2, text, 17, "bold", "middle")
        elif kind == "subtitle":
            put(W / 2, text, 10, style="italic", anchor="middle")
            y += 14
        elif kind == "h":
            y += 8
            put(M, text, 12, "bold")
        elif kind == "sign":
            y += 20
            put(W - M, text, 10, anchor="end")
        else:
            bullet = kind == "li"
            for i, line in enumerate(textwrap.wrap(text, 92 if not bullet else 88)):
                put(M + (12 if bullet else 0), ("• " if bullet and i == 0 else "") + line, 10)
            y += 4
    for n, items in enumerate(pages, 1):
        with open(f"{path_base}.p{n}.svg", "w", encoding="utf-8") as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
                    f'width="{W}pt" height="{H}pt" viewBox="0 0 {W} {H}" font-family="DejaVu Sans">\n'
                    f'<rect width="{W}" height="{H}" fill="white"/>\n' + "\n".join(items) + "\n</svg>\n")


def write_pango(c, path):
    e = html.escape
    out = []
    aca = ACADEMIE[c["academie"]] if c["academie"] else []
    for l in aca:
        out.append(f"<b><small>{e(l)}</small></b>")
    if aca:
        out.append("")
    out += [e(l) for l in c["lines"]]
    out.append("")
    for kind, text in blocks(c):
        if kind == "title":
            out += ["", f'<span size="xx-large" weight="bold">{e(text)}</span>']
        elif kind == "subtitle":
            out += [f"<i>{e(text)}</i>", ""]
        elif kind == "h":
            out += ["", f'<span size="large" weight="bold">{e(text)}</span>']
        elif kind == "li":
            out.append(f"  • {e(text)}")
        elif kind == "sign":
            out += ["", f"                                        {e(text)}"]
        else:
            out.append(e(text))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


TEX_ACCENT = {"É": "\\'E", "È": "\\`E", "Ê": "\\^E", "Â": "\\^A", "À": "\\`A", "Î": "\\^I", "Ô": "\\^O",
              "Û": "\\^U", "Ç": "\\c{C}"}


def tex_escape(s, ot1):
    for a, b in (("\\", "\\textbackslash{}"), ("&", "\\&"), ("%", "\\%"), ("$", "\\$"), ("#", "\\#"),
                 ("_", "\\_"), ("{", "\\{"), ("}", "\\}")):
        s = s.replace(a, b)
    s = s.replace("n° ", "n\\textsuperscript{o}~")
    if ot1:
        s = "".join(TEX_ACCENT.get(ch, ch) for ch in s)
    return s


def write_tex(c, path):
    ot1 = c["tex"] == "ot1"
    t = ["% pdflatex (TeX Live 2022): " + ("OT1, accents built from accent + letter" if ot1 else "T1/utf8, Latin Modern"),
         "\\documentclass[11pt,a4paper]{article}", "\\usepackage[utf8]{inputenc}"]
    if not ot1:
        t += ["\\usepackage[T1]{fontenc}", "\\usepackage{lmodern}"]
    t += ["\\usepackage[margin=2cm]{geometry}", "\\pagestyle{empty}", "\\setlength{\\parindent}{0pt}",
          "\\setlength{\\parskip}{0.6em}",
          "\\renewcommand{\\labelitemi}{$\\bullet$}", "\\begin{document}"]
    aca = [tex_escape(l, ot1) for l in (ACADEMIE[c["academie"]] if c["academie"] else [])]
    lyc = [tex_escape(l, ot1) for l in c["lines"]]
    if c["beside"]:
        t += ["\\noindent\\begin{minipage}[t]{0.45\\textwidth}\\small\\bfseries " + "\\\\\n".join(aca) +
              "\\end{minipage}\\hfill", "\\begin{minipage}[t]{0.45\\textwidth}\\raggedleft " + "\\\\\n".join(lyc) +
              "\\end{minipage}"]
    else:
        if aca:
            t += ["{\\small\\bfseries " + "\\\\\n".join(aca) + "}\\par"]
        t += ["{" + "\\\\\n".join(lyc) + "}\\par"]
    in_list = False
    for kind, text in blocks(c):
        if kind != "li" and in_list:
            t.append("\\end{itemize}")
            in_list = False
        x = tex_escape(text, False)
        if kind == "title":
            t += ["\\vspace{1.5cm}", "\\begin{center}{\\LARGE\\bfseries " + x + "}\\end{center}"]
        elif kind == "subtitle":
            t += ["\\begin{center}\\emph{" + x + "}\\end{center}"]
        elif kind == "h":
            t += ["\\section*{" + x + "}"]
        elif kind == "li":
            if not in_list:
                t.append("\\begin{itemize}")
                in_list = True
            t += ["\\item " + x]
        elif kind == "sign":
            t += ["\\vspace{1cm}", "\\begin{flushright}" + x + "\\end{flushright}"]
        else:
            t += [x, ""]
    if in_list:
        t.append("\\end{itemize}")
    t.append("\\end{document}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(t) + "\n")


def write_docx(c, path):
    import docx
    from docx.shared import Pt
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    d = docx.Document()
    d.core_properties.author = "Secrétariat"
    d.core_properties.title = ""
    d.core_properties.created = d.core_properties.modified = datetime.datetime(2021, 11, 18, 9, 0, 0)
    aca = ACADEMIE[c["academie"]] if c["academie"] else []
    target = d.sections[0].header if c["header"] else d
    if c["beside"]:
        table = target.add_table(rows=1, cols=2) if not c["header"] else target.add_table(1, 2, d.sections[0].page_width)
        left, right = table.rows[0].cells
        left.text = "\n".join(aca)
        right.text = "\n".join(c["lines"])
        right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    else:
        first = target.paragraphs[0] if c["header"] else target.add_paragraph()
        for i, l in enumerate(aca):
            r = first.add_run(l)
            r.bold = True
            r.font.size = Pt(9)
            r.add_break()
        for i, l in enumerate(c["lines"]):
            r = first.add_run(l)
            if i + 1 < len(c["lines"]):
                r.add_break()
    for kind, text in blocks(c):
        if kind == "title":
            d.add_heading(text, level=0)
        elif kind == "subtitle":
            p = d.add_paragraph()
            p.add_run(text).italic = True
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "h":
            d.add_heading(text, level=1)
        elif kind == "li":
            d.add_paragraph(text, style="List Bullet")
        elif kind == "sign":
            d.add_paragraph(text).alignment = WD_ALIGN_PARAGRAPH.RIGHT
        else:
            d.add_paragraph(text)
    d.save(path)


def write_odt(c, path):
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties, ParagraphProperties, TableColumnProperties
    from odf.text import P, H, List, ListItem
    from odf.table import Table, TableColumn, TableRow, TableCell
    doc = OpenDocumentText()
    st = doc.styles
    title = Style(name="Title", family="paragraph")
    title.addElement(TextProperties(fontsize="18pt", fontweight="bold"))
    title.addElement(ParagraphProperties(textalign="center", margintop="1cm", marginbottom="0.2cm"))
    st.addElement(title)
    h1 = Style(name="Heading 1", family="paragraph")
    h1.addElement(TextProperties(fontsize="13pt", fontweight="bold"))
    h1.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm"))
    st.addElement(h1)
    aca_style = Style(name="Academie", family="paragraph")
    aca_style.addElement(TextProperties(fontsize="9pt", fontweight="bold"))
    st.addElement(aca_style)
    right = Style(name="Right", family="paragraph")
    right.addElement(ParagraphProperties(textalign="end"))
    st.addElement(right)
    sub = Style(name="Subtitle", family="paragraph")
    sub.addElement(TextProperties(fontstyle="italic"))
    sub.addElement(ParagraphProperties(textalign="center", marginbottom="0.6cm"))
    st.addElement(sub)
    col = Style(name="Col", family="table-column")
    col.addElement(TableColumnProperties(columnwidth="8.5cm"))
    doc.automaticstyles.addElement(col)
    aca = ACADEMIE[c["academie"]] if c["academie"] else []
    if c["beside"]:
        t = Table(name="Entete")
        t.addElement(TableColumn(numbercolumnsrepeated=2, stylename=col))
        row = TableRow()
        left, rightc = TableCell(), TableCell()
        for l in aca:
            left.addElement(P(stylename=aca_style, text=l))
        for l in c["lines"]:
            rightc.addElement(P(stylename=right, text=l))
        row.addElement(left)
        row.addElement(rightc)
        t.addElement(row)
        doc.text.addElement(t)
    else:
        for l in aca:
            doc.text.addElement(P(stylename=aca_style, text=l))
        for l in c["lines"]:
            doc.text.addElement(P(text=l))
    lst = None
    for kind, text in blocks(c):
        if kind != "li":
            lst = None
        if kind == "title":
            doc.text.addElement(H(outlinelevel=1, stylename=title, text=text))
        elif kind == "subtitle":
            doc.text.addElement(P(stylename=sub, text=text))
        elif kind == "h":
            doc.text.addElement(H(outlinelevel=2, stylename=h1, text=text))
        elif kind == "li":
            if lst is None:
                lst = List()
                doc.text.addElement(lst)
            item = ListItem()
            item.addElement(P(text="– " + text))
            lst.addElement(item)
        elif kind == "sign":
            doc.text.addElement(P(stylename=right, text=text))
        else:
            doc.text.addElement(P(text=text))
    doc.save(path)


def main():
    os.makedirs(SRC, exist_ok=True)
    names = set()
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        p = c["producer"]
        if p in ("chromium", "wkhtmltopdf"):
            write_html(c, os.path.join(SRC, c["name"] + ".html"), flex=p == "chromium")
        elif p == "groff":
            write_groff(c, os.path.join(SRC, c["name"] + ".ms"))
        elif p == "rsvg":
            write_svg(c, os.path.join(SRC, c["name"]))
        elif p == "pango":
            write_pango(c, os.path.join(SRC, c["name"] + ".pango"))
        elif p == "pdftex":
            write_tex(c, os.path.join(SRC, c["name"] + ".tex"))
        elif p == "python-docx":
            write_docx(c, os.path.join(HERE, c["name"] + ".docx"))
        elif p == "odfpy":
            write_odt(c, os.path.join(HERE, c["name"] + ".odt"))
        else:
            sys.exit("unknown producer " + p)
    docs = []
    for c in CASES:
        ext = "docx" if c["producer"] == "python-docx" else "odt" if c["producer"] == "odfpy" else "pdf"
        docs.append({"file": f'{c["name"]}.{ext}', "producer": c["producer"], "uai": c["uai"],
                     "looks_like_ppo": LOOKS[c["kind"]], "lycee": c["lycee"],
                     "settled_by": (SETTLED_BY.get(c["name"], "name") if c["uai"] else None), "why": c["why"]})
    by_name = {c["name"]: c for c in CASES}
    for n in SETTLED_BY:
        assert n in by_name and by_name[n]["uai"], n
    for scan, of in SCANS:
        assert of in by_name, of
        docs.append({"file": scan + ".pdf", "producer": "scan", "uai": None, "looks_like_ppo": "unknown",
                     "lycee": None, "settled_by": None,
                     "why": f"image-only PDF (pdftoppm page 1 of {of}.pdf, then img2pdf): no text layer, so "
                            "nothing to read the lycée from or to judge"})
    import csv
    with open(os.path.join(HERE, "..", "..", "annuaire-hdf-sample.csv"), encoding="utf-8") as f:
        mail = {r["Identifiant_de_l_etablissement"]: r["Mail"] for r in csv.DictReader(f, delimiter=";")}
    file_of = {d["file"].rsplit(".", 1)[0]: d["file"] for d in docs}
    from_lycee = [{"file": file_of[n], "from": mail[u], "uai": u, "lycee": chk, "why": why}
                  for n, u, chk, why in FROM_LYCEE]
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"comment": "Golden outcomes of the producer corpus, from how each document was written "
                              "(producers.py), never from what the intake answers. uai: the lycée the document "
                              "identifies by itself (null: it cannot); looks_like_ppo: yes | no | unknown (no "
                              "text); lycee: the expected `lycee` check once credited (null: not credited); "
                              "settled_by: what in the document identifies the lycée (name | uai | street address).",
                   "documents": docs,
                   "from_lycee_comment": "The same documents sent again from a lycée's own address (the "
                                         "directory's Mail): credited by sender to uai, with this `lycee` check.",
                   "from_lycee": from_lycee}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(SRC, "scans.txt"), "w", encoding="utf-8") as f:
        for scan, of in SCANS:
            f.write(f"{scan} {of}\n")


if __name__ == "__main__":
    main()
