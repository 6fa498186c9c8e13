#pragma once
// Text checks and escapes plugins and the core share. The other escapers live with their format:
// JSON strings and Influx line protocol in cvagent/codec.h.

#include <string>
#include <string_view>

namespace cvagent {

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF (simdjson's validator).
bool isValidUtf8(std::string_view text);

// Shell-style glob: `*` any run of characters, `?` one character (tag and name filters).
bool globMatch(std::string_view pattern, std::string_view text);

// Tab-separated text (PostgreSQL COPY text format, line-oriented state files): backslash, tab,
// newline and carriage return as \\, \t, \n, \r, so a value never splits a field or a line.
void appendTsvEscaped(std::string_view text, std::string& out);
// The reverse; false on a dangling or unknown escape.
bool unescapeTsv(std::string_view text, std::string& out);

}  // namespace cvagent
