#!/bin/sh
# Letterheads for tests/parsers/test_document_text.cpp (the PDF reader's
# columns, accents and title), made with Debian's pdfTeX (texlive-latex-base).
# Run from this folder; the PDFs are committed.
set -eu
cat > columns.tex <<'TEX'
\documentclass[a4paper,11pt]{article}
\usepackage[utf8]{inputenc}
\pagestyle{empty}
\begin{document}
\noindent\begin{minipage}[t]{0.45\textwidth}
ACAD\'EMIE D'AMIENS\\
R\'egion acad\'emique\\
Hauts-de-France
\end{minipage}\hfill
\begin{minipage}[t]{0.45\textwidth}\raggedleft
Lyc\'ee Jean de La Fontaine\\
12 avenue de la R\'epublique\\
02400 CH\^ATEAU-THIERRY
\end{minipage}

\vspace{2cm}
\begin{center}{\Huge Programme pluriannuel d'orientation}\end{center}

\vspace{1cm}
Le lyc\'ee pr\'esente ses actions d'orientation pour les ann\'ees 2026-2027 et 2027-2028 :
d\'ecouverte des m\'etiers, connaissance des formations, accompagnement du choix.
\end{document}
TEX
SOURCE_DATE_EPOCH=1767225600 FORCE_SOURCE_DATE=1 pdflatex -interaction=batchmode columns.tex >/dev/null
rm -f columns.aux columns.log
