#include "cvagent/text.h"

#include <simdjson.h>

namespace cvagent {

bool isValidUtf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

}  // namespace cvagent
