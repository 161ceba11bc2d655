// A reader for the ';'-separated CSV of the official directory exports:
// optional UTF-8 BOM, quoted fields with "" escapes and embedded separators or
// line breaks, CRLF or LF. Pure. Records keep the line number they start on.
// The reader does not judge the shape: records with fewer or more fields than
// the header are kept as they are, for the caller to refuse with their line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ppo::parsers {

struct CsvRecord {
    int line = 0;                      // 1-based line where the record starts
    std::vector<std::string> fields;
};

struct CsvTable {
    std::vector<std::string> header;   // first record
    std::vector<CsvRecord> records;    // the rest; blank lines skipped
    bool had_bom = false;
    bool ends_with_line_break = false; // false when the last record may have been cut
    std::vector<std::string> problems; // e.g. "line 12: unterminated quoted field"
};

CsvTable parse_csv(std::string_view text, char separator = ';');

// Writes one field, quoting it when it holds the separator, a quote or a line break.
std::string csv_field(std::string_view value, char separator = ';');

// A field a spreadsheet shows as text, never as a formula ("CSV injection",
// OWASP): a value starting with '=', '+', '-', '@', a tab or a carriage return
// gets a leading apostrophe, then it is written as csv_field() writes it. For
// every field of an export whose value comes from data (a name, a file name,
// an address); reading it back gives the value with the apostrophe.
std::string csv_text_field(std::string_view value, char separator = ';');
// True when csv_text_field() would add the apostrophe.
bool csv_needs_neutralising(std::string_view value);

}  // namespace ppo::parsers
