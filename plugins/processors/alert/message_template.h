#pragma once
// A message template: literal text with `{name}` placeholders (`{{` and `}}` for literal braces).
// Parsed once when the rule is built; rendered only when an alert fires.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cvagent::processors::alert {

class MessageTemplate {
 public:
  // Appends the value of placeholder `name` to `out`; false when the name is unknown (the
  // placeholder is then kept as written, so a typo shows in the message).
  using Lookup = std::function<bool(std::string_view name, std::string& out)>;

  MessageTemplate() = default;
  // Throws std::invalid_argument on an unclosed `{` or a stray `}`.
  explicit MessageTemplate(std::string_view text);

  std::string render(const Lookup& lookup) const;
  const std::vector<std::string>& placeholders() const { return names_; }

 private:
  struct Part {
    bool placeholder = false;
    std::string text;
  };
  std::vector<Part> parts_;
  std::vector<std::string> names_;
};

}  // namespace cvagent::processors::alert
