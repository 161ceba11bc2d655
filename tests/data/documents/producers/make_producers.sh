#!/bin/sh
# Regenerates the producer corpus (tests/data/documents/producers/) with the
# Debian 12 tools themselves. Run by hand at test-data time; CI never runs it:
# the generated documents are committed with this script and their sources.
#
# Needs (apt-get install -y --no-install-recommends):
#   chromium wkhtmltopdf groff ghostscript librsvg2-bin pango1.0-tools
#   texlive-latex-base texlive-fonts-recommended lmodern poppler-utils img2pdf
#   python3-docx python3-odf fonts-dejavu-core
#
# producers.py holds the cases (letterhead, kind of document, expected outcome)
# and writes the sources into src/, the .docx/.odt and expected.json; this
# script then runs each producer on its sources.
set -eu
cd "$(dirname "$0")"
here=$(pwd)
# Fixed dates where the producers honour them (pdfTeX, img2pdf, ...), so that
# a run without changes to the sources rewrites fewer bytes.
export SOURCE_DATE_EPOCH=1637193600 FORCE_SOURCE_DATE=1   # 2021-11-18
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

for tool in chromium wkhtmltopdf groff ps2pdf rsvg-convert pango-view pdflatex pdftoppm img2pdf; do
    command -v "$tool" >/dev/null 2>&1 || { echo "make_producers.sh: $tool is missing (see the header)" >&2; exit 1; }
done

rm -f ./*.pdf ./*.docx ./*.odt src/*
/usr/bin/python3 producers.py

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Chromium's print to PDF: a fresh profile, no network, no header/footer.
for f in src/chromium-*.html; do
    n=$(basename "$f" .html)
    chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --no-first-run --disable-sync --user-data-dir="$work/chromium-profile" \
        --no-pdf-header-footer --print-to-pdf="$here/$n.pdf" "file://$here/$f" >/dev/null 2>&1
    test -s "$n.pdf"
done

# wkhtmltopdf (Qt WebKit)
for f in src/wkhtmltopdf-*.html; do
    n=$(basename "$f" .html)
    wkhtmltopdf --quiet --encoding utf-8 --page-size A4 "$f" "$n.pdf"
done

# groff (ms macros, tbl, preconv for UTF-8) -> PostScript -> Ghostscript's ps2pdf
for f in src/groff-*.ms; do
    n=$(basename "$f" .ms)
    groff -k -t -ms -Tps "$f" > "$work/$n.ps"
    ps2pdf "$work/$n.ps" "$n.pdf"
done

# cairo via librsvg: one SVG per page
for n in $(ls src/rsvg-*.svg | sed 's/\.p[0-9]*\.svg$//' | sort -u); do
    rsvg-convert -f pdf -o "$(basename "$n").pdf" $(ls "$n".p*.svg | sort -V)
done

# cairo via pango-view (Pango markup)
for f in src/pango-*.pango; do
    n=$(basename "$f" .pango)
    pango-view -q --markup --font="DejaVu Sans 10" --width=480 --wrap=word --margin=50 --output="$n.pdf" "$f"
done

# pdfTeX
for f in src/pdftex-*.tex; do
    n=$(basename "$f" .tex)
    pdflatex -interaction=nonstopmode -halt-on-error -output-directory="$work" "$f" >/dev/null
    cp "$work/$n.pdf" "$n.pdf"
done

# Scans: page 1 of a generated PDF rendered to a grey PNG, wrapped by img2pdf (no text layer).
while read -r scan of; do
    pdftoppm -r 100 -gray -png -f 1 -l 1 -singlefile "$of.pdf" "$work/$scan"
    img2pdf --creationdate 2021-11-18T09:00:00 --moddate 2021-11-18T09:00:00 "$work/$scan.png" -o "$scan.pdf"
done < src/scans.txt

ls -1 ./*.pdf ./*.docx ./*.odt | wc -l
