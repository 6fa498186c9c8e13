#include "message_template.h"

#include <stdexcept>
#include <utility>

namespace cvagent::processors::alert {

MessageTemplate::MessageTemplate(std::string_view text) {
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      const std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) {
        throw std::invalid_argument("unclosed `{` at character " + std::to_string(i + 1));
      }
      const std::string_view name = text.substr(i + 1, close - i - 1);
      if (name.empty() || name.find('{') != std::string_view::npos) {
        throw std::invalid_argument("empty or nested placeholder at character " +
                                    std::to_string(i + 1));
      }
      if (!literal.empty()) parts_.push_back({false, std::exchange(literal, {})});
      parts_.push_back({true, std::string(name)});
      names_.emplace_back(name);
      i = close;
    } else if (c == '}') {
      throw std::invalid_argument("stray `}` at character " + std::to_string(i + 1) +
                                  " (write `}}` for a literal brace)");
    } else {
      literal += c;
    }
  }
  if (!literal.empty()) parts_.push_back({false, std::move(literal)});
}

std::string MessageTemplate::render(const Lookup& lookup) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.placeholder) {
      out += part.text;
    } else if (!lookup(part.text, out)) {
      out += '{';
      out += part.text;
      out += '}';
    }
  }
  return out;
}

}  // namespace cvagent::processors::alert
