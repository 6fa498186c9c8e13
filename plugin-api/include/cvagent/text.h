#pragma once
// Text checks plugins and the core share.

#include <string_view>

namespace cvagent {

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF (simdjson's validator).
bool isValidUtf8(std::string_view text);

// Shell-style glob: `*` any run of characters, `?` one character (tag and name filters).
bool globMatch(std::string_view pattern, std::string_view text);

}  // namespace cvagent
