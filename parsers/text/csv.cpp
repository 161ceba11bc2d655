#include "parsers/text/csv.h"

namespace ppo::parsers {

CsvTable parse_csv(std::string_view text, char separator) {
    CsvTable table;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") {
        table.had_bom = true;
        text.remove_prefix(3);
    }
    table.ends_with_line_break = !text.empty() && (text.back() == '\n' || text.back() == '\r');
    std::size_t i = 0;
    int line = 1;
    bool first = true;
    while (i < text.size()) {
        CsvRecord rec;
        rec.line = line;
        std::string field;
        bool in_record = true;
        while (in_record) {
            field.clear();
            if (i < text.size() && text[i] == '"') {
                ++i;
                bool closed = false;
                while (i < text.size()) {
                    char c = text[i];
                    if (c == '"') {
                        if (i + 1 < text.size() && text[i + 1] == '"') {
                            field += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        closed = true;
                        break;
                    }
                    if (c == '\n') ++line;
                    field += c;
                    ++i;
                }
                if (!closed) table.problems.push_back("line " + std::to_string(rec.line) + ": unterminated quoted field");
                // Anything between the closing quote and the separator is kept verbatim.
                while (i < text.size() && text[i] != separator && text[i] != '\n' && text[i] != '\r') field += text[i++];
            } else {
                while (i < text.size() && text[i] != separator && text[i] != '\n' && text[i] != '\r') field += text[i++];
            }
            rec.fields.push_back(field);
            if (i >= text.size()) {
                in_record = false;
            } else if (text[i] == separator) {
                ++i;
            } else {
                if (text[i] == '\r') ++i;
                if (i < text.size() && text[i] == '\n') ++i;
                ++line;
                in_record = false;
            }
        }
        bool blank = rec.fields.size() == 1 && rec.fields[0].empty();
        if (blank) continue;
        if (first) {
            table.header = std::move(rec.fields);
            first = false;
        } else {
            table.records.push_back(std::move(rec));
        }
    }
    return table;
}

std::string csv_field(std::string_view value, char separator) {
    if (value.find_first_of(std::string{separator, '"', '\n', '\r'}) == std::string_view::npos) return std::string(value);
    std::string out = "\"";
    for (char c : value) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

bool csv_needs_neutralising(std::string_view value) {
    return !value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos;
}

std::string csv_text_field(std::string_view value, char separator) {
    if (!csv_needs_neutralising(value)) return csv_field(value, separator);
    std::string safe = "'";
    safe += value;
    return csv_field(safe, separator);
}

}  // namespace ppo::parsers
