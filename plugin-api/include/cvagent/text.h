#pragma once
// Text checks plugins share.

#include <string_view>

namespace cvagent {

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF (simdjson's validator).
bool isValidUtf8(std::string_view text);

// Shell-style glob: * any run, ? one character (namepass/tagpass, series and rule tag filters).
bool globMatch(std::string_view pattern, std::string_view text);

}  // namespace cvagent
