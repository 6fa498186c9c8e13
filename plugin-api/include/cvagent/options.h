#pragma once
// Options declared once. A plugin binds a plain struct (members hold the defaults) to a typed
// schema:
//
//   struct FileOutputOptions {
//     std::string path = "metrics.jsonl";
//     std::string format = "json";
//     static void describe(cvagent::Schema<FileOutputOptions>& s) {
//       s.option("path", &FileOutputOptions::path, "File to append metrics to.").required();
//       s.option("format", &FileOutputOptions::format, "json or influx.").oneOf({"json",
//       "influx"});
//     }
//   };
//
// A choice among fixed words is better bound to an enum (see NamedEnum below): the schema then
// lists the words itself, and the plugin compares enum values, not strings.
//
// From that one declaration the core binds YAML to the struct, rejects unknown keys with
// file:line:column and a did-you-mean, checks constraints, prints `cvagent plugins describe`,
// writes `cvagent config sample` and generates the options table of the plugin's README.

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cvagent/config_node.h"
#include "cvagent/time_util.h"

namespace cvagent {

// A size in bytes, written as 1048576, 512KiB, 64MiB, 1GiB, 10MB...
struct ByteSize {
  std::uint64_t bytes = 0;
  friend bool operator==(const ByteSize&, const ByteSize&) = default;
};

// A value that must never be printed: passwords, tokens, connection strings with credentials.
// Written directly, as ${ENV_VAR}, or read from a file with `file:/run/secrets/name`.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  // Reads a secret mounted as a file (Docker/Kubernetes secrets); trailing newlines are not part
  // of it. Throws std::invalid_argument naming the file when it cannot be read. The one reader of
  // secret files: `file:/path` values and plugin options such as `connection_file` both use it.
  static Secret fromFile(const std::string& path);
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

// --- scalar parsing helpers (implemented in the SDK library) ---------------------------------
namespace detail {
bool parseBool(std::string_view text, bool& out);
bool parseInt(std::string_view text, std::int64_t& out);
bool parseDouble(std::string_view text, double& out);
// "1h30m", "500ms", "10s", "2d", "0" -> nanoseconds; false on anything else.
bool parseDuration(std::string_view text, std::chrono::nanoseconds& out);
bool parseByteSize(std::string_view text, std::uint64_t& out);
std::string formatByteSize(std::uint64_t bytes);
std::string yamlQuote(std::string_view text);  // a YAML flow scalar, quoted only where needed
// A min()/max() bound as people compare it with what they typed: 1000000, not 1e+06.
std::string formatBound(double v);
}  // namespace detail

// Closest candidate within an edit distance that makes sense for `word`, or "" (the core's
// "did you mean" for keys; plugins use it for values they validate themselves).
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);
namespace detail {
using cvagent::didYouMean;
}  // namespace detail

struct OptionSpec;
using BindFn = std::function<void(void* target, const ConfigNode& node, const OptionSpec& self,
                                  Diagnostics& diags)>;

// What a schema knows of one option: enough to bind it, document it and sample it.
struct OptionSpec {
  std::string name;
  std::string description;
  std::string type_name;     // "string", "integer", "duration", "list of string", "object"...
  std::string default_text;  // YAML flow form of the default; "" when it has none
  std::string example;       // shown in samples for required options without a default
  bool required = false;
  bool secret = false;
  std::vector<std::string> one_of;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<OptionSpec> children;  // for objects and lists of objects
  BindFn bind;
};

// A type-erased schema: what a plugin descriptor carries across the shared-library boundary.
class OptionSchema {
 public:
  using Check =
      std::function<void(const void* target, const SourceMark& where, Diagnostics& diags)>;

  const std::vector<OptionSpec>& options() const { return options_; }
  const OptionSpec* find(std::string_view name) const;
  std::vector<std::string> names() const;

  // A default-constructed options struct.
  std::shared_ptr<void> makeDefault() const { return make_default_(); }

  // Binds the keys of `map` into `target`. `context` names the owner in messages
  // ("outputs.file"). Keys listed in `also_known` belong to someone else (the core) and are
  // skipped; they also take part in did-you-mean suggestions.
  void bind(void* target, const ConfigNode& map, std::string_view context, Diagnostics& diags,
            const std::vector<std::string>& also_known = {}) const;

  // Internal: used by Schema<T>.
  std::vector<OptionSpec> options_;
  std::vector<Check> checks_;
  std::function<std::shared_ptr<void>()> make_default_;
};

template <typename T>
class Schema;

// --- OptionTraits: how each member type is parsed, named and rendered ---------------------------
template <typename T, typename = void>
struct OptionTraits;

template <typename T, typename = void>
struct HasDescribe : std::false_type {};
template <typename T>
struct HasDescribe<T, std::void_t<decltype(T::describe(std::declval<Schema<T>&>()))>>
    : std::true_type {};

template <typename T>
const OptionSchema& schemaOf();

namespace detail {
void typeError(const ConfigNode& node, const OptionSpec& self, std::string_view expected,
               Diagnostics& diags);
void checkConstraints(const ConfigNode& node, const OptionSpec& self, std::optional<double> number,
                      const std::vector<std::string>& strings, Diagnostics& diags);
inline bool expectScalar(const ConfigNode& node, const OptionSpec& self, std::string_view expected,
                         Diagnostics& diags) {
  if (node.isScalar()) return true;
  typeError(node, self, expected, diags);
  return false;
}
}  // namespace detail

template <>
struct OptionTraits<bool> {
  static std::string typeName() { return "boolean"; }
  static bool parse(const ConfigNode& n, bool& out, const OptionSpec& s, Diagnostics& d) {
    if (!detail::expectScalar(n, s, "true or false", d)) return false;
    if (detail::parseBool(n.text(), out)) return true;
    detail::typeError(n, s, "true or false", d);
    return false;
  }
  static std::string render(bool v) { return v ? "true" : "false"; }
  static std::optional<double> number(bool) { return std::nullopt; }
};

template <typename T>
struct OptionTraits<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static std::string typeName() { return "integer"; }
  static bool parse(const ConfigNode& n, T& out, const OptionSpec& s, Diagnostics& d) {
    std::int64_t v = 0;
    if (!detail::expectScalar(n, s, "an integer", d)) return false;
    if (!detail::parseInt(n.text(), v) || (std::is_unsigned_v<T> && v < 0) ||
        v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        (v > 0 && static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max())) {
      detail::typeError(n, s, std::is_unsigned_v<T> ? "a non-negative integer" : "an integer", d);
      return false;
    }
    out = static_cast<T>(v);
    return true;
  }
  static std::string render(T v) { return std::to_string(v); }
  static std::optional<double> number(T v) { return static_cast<double>(v); }
};

template <>
struct OptionTraits<double> {
  static std::string typeName() { return "number"; }
  static bool parse(const ConfigNode& n, double& out, const OptionSpec& s, Diagnostics& d) {
    if (!detail::expectScalar(n, s, "a number", d)) return false;
    if (detail::parseDouble(n.text(), out)) return true;
    detail::typeError(n, s, "a number", d);
    return false;
  }
  static std::string render(double v);
  static std::optional<double> number(double v) { return v; }
};

template <>
struct OptionTraits<std::string> {
  static std::string typeName() { return "string"; }
  static bool parse(const ConfigNode& n, std::string& out, const OptionSpec& s, Diagnostics& d) {
    if (!detail::expectScalar(n, s, "a string", d)) return false;
    out = n.text();
    return true;
  }
  static std::string render(const std::string& v) { return detail::yamlQuote(v); }
  static std::optional<double> number(const std::string&) { return std::nullopt; }
};

template <>
struct OptionTraits<Secret> {
  static std::string typeName() { return "secret"; }
  static bool parse(const ConfigNode& n, Secret& out, const OptionSpec& s, Diagnostics& d);
  static std::string render(const Secret& v) { return v.empty() ? "\"\"" : "\"<secret>\""; }
  static std::optional<double> number(const Secret&) { return std::nullopt; }
};

template <>
struct OptionTraits<ByteSize> {
  static std::string typeName() { return "size"; }
  static bool parse(const ConfigNode& n, ByteSize& out, const OptionSpec& s, Diagnostics& d) {
    if (!detail::expectScalar(n, s, "a size such as 1048576, 512KiB or 64MiB", d)) return false;
    if (detail::parseByteSize(n.text(), out.bytes)) return true;
    detail::typeError(n, s, "a size such as 1048576, 512KiB or 64MiB", d);
    return false;
  }
  static std::string render(const ByteSize& v) { return detail::formatByteSize(v.bytes); }
  static std::optional<double> number(const ByteSize& v) { return static_cast<double>(v.bytes); }
};

template <typename Rep, typename Period>
struct OptionTraits<std::chrono::duration<Rep, Period>> {
  using D = std::chrono::duration<Rep, Period>;
  static std::string typeName() { return "duration"; }
  static bool parse(const ConfigNode& n, D& out, const OptionSpec& s, Diagnostics& d) {
    std::chrono::nanoseconds ns{};
    if (!detail::expectScalar(n, s, "a duration such as 500ms, 10s, 5m or 1h", d)) return false;
    if (!detail::parseDuration(n.text(), ns)) {
      detail::typeError(n, s, "a duration such as 500ms, 10s, 5m or 1h", d);
      return false;
    }
    out = std::chrono::duration_cast<D>(ns);
    return true;
  }
  static std::string render(const D& v) {
    return formatDuration(std::chrono::duration_cast<std::chrono::nanoseconds>(v));
  }
  // Durations compare in seconds against min/max.
  static std::optional<double> number(const D& v) {
    return std::chrono::duration<double>(v).count();
  }
};

template <typename T>
struct OptionTraits<std::optional<T>> {
  static std::string typeName() { return OptionTraits<T>::typeName(); }
  static bool parse(const ConfigNode& n, std::optional<T>& out, const OptionSpec& s,
                    Diagnostics& d) {
    if (n.isNull()) {
      out.reset();
      return true;
    }
    T v{};
    if (!OptionTraits<T>::parse(n, v, s, d)) return false;
    out = std::move(v);
    return true;
  }
  static std::string render(const std::optional<T>& v) {
    return v ? OptionTraits<T>::render(*v) : std::string();
  }
  static std::optional<double> number(const std::optional<T>& v) {
    return v ? OptionTraits<T>::number(*v) : std::nullopt;
  }
};

template <typename T>
struct OptionTraits<std::vector<T>> {
  static std::string typeName() {
    if constexpr (HasDescribe<T>::value) {
      return "list of object";
    } else {
      return "list of " + OptionTraits<T>::typeName();
    }
  }
  static bool parse(const ConfigNode& n, std::vector<T>& out, const OptionSpec& s, Diagnostics& d) {
    if (n.isNull()) {
      out.clear();
      return true;
    }
    if (!n.isSequence()) {
      // A single scalar where a list of scalars is expected is taken as a list of one.
      if (n.isScalar() && !HasDescribe<T>::value) {
        T v{};
        if (!OptionTraits<T>::parse(n, v, s, d)) return false;
        out.assign(1, std::move(v));
        return true;
      }
      detail::typeError(n, s, "a list", d);
      return false;
    }
    std::vector<T> result;
    bool ok = true;
    for (const auto& item : n.items()) {
      T v{};
      ok = OptionTraits<T>::parse(item, v, s, d) && ok;
      result.push_back(std::move(v));
    }
    if (ok) out = std::move(result);
    return ok;
  }
  static std::string render(const std::vector<T>& v) {
    if constexpr (HasDescribe<T>::value) {
      return v.empty() ? "[]" : std::string();
    } else {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ", ";
        out += OptionTraits<T>::render(v[i]);
      }
      return out + "]";
    }
  }
  static std::optional<double> number(const std::vector<T>&) { return std::nullopt; }
};

template <typename V>
struct OptionTraits<std::map<std::string, V>> {
  static std::string typeName() { return "map of " + OptionTraits<V>::typeName(); }
  static bool parse(const ConfigNode& n, std::map<std::string, V>& out, const OptionSpec& s,
                    Diagnostics& d) {
    if (n.isNull()) {
      out.clear();
      return true;
    }
    if (!n.isMap()) {
      detail::typeError(n, s, "a map", d);
      return false;
    }
    std::map<std::string, V> result;
    bool ok = true;
    for (const auto& e : n.entries()) {
      V v{};
      ok = OptionTraits<V>::parse(e.value, v, s, d) && ok;
      result.emplace(e.key, std::move(v));
    }
    if (ok) out = std::move(result);
    return ok;
  }
  static std::string render(const std::map<std::string, V>& v) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, val] : v) {
      if (!first) out += ", ";
      first = false;
      out += detail::yamlQuote(k) + ": " + OptionTraits<V>::render(val);
    }
    return out + "}";
  }
  static std::optional<double> number(const std::map<std::string, V>&) { return std::nullopt; }
};

// Enum options: a word from a fixed list in YAML, an enum value in the struct. Declare the words
// next to the enum, in its namespace (found by argument-dependent lookup):
//
//   enum class Compression { kNone, kGzip };
//   constexpr cvagent::EnumNames<Compression, 2> optionNames(Compression) {
//     return {{{"none", Compression::kNone}, {"gzip", Compression::kGzip}}};
//   }
//
// The schema then validates against the words (with a did-you-mean), and `describe` and the README
// table list them; `enumName(value)` gives the word back for messages.
template <typename E, std::size_t N>
using EnumNames = std::array<std::pair<std::string_view, E>, N>;

template <typename E>
concept NamedEnum = std::is_enum_v<E> && requires(E e) {
  { optionNames(e).size() } -> std::convertible_to<std::size_t>;
};

template <NamedEnum E>
std::vector<std::string> enumWords() {
  std::vector<std::string> words;
  for (const auto& [word, value] : optionNames(E{})) words.emplace_back(word);
  return words;
}

template <NamedEnum E>
std::string_view enumName(E value) {
  for (const auto& [word, v] : optionNames(E{})) {
    if (v == value) return word;
  }
  return "?";
}

template <typename E>
struct OptionTraits<E, std::enable_if_t<NamedEnum<E>>> {
  static std::string typeName() { return "string"; }
  static bool parse(const ConfigNode& n, E& out, const OptionSpec& s, Diagnostics& d) {
    if (!detail::expectScalar(n, s, "a string", d)) return false;
    for (const auto& [word, value] : optionNames(E{})) {
      if (n.text() == word) {
        out = value;
        return true;
      }
    }
    detail::checkConstraints(n, s, std::nullopt, {n.text()}, d);  // "must be one of ..."
    return false;
  }
  static std::string render(E v) { return detail::yamlQuote(enumName(v)); }
  static std::optional<double> number(E) { return std::nullopt; }
};

// Nested option groups: any struct with a static describe(Schema<T>&).
template <typename T>
struct OptionTraits<T, std::enable_if_t<HasDescribe<T>::value>> {
  static std::string typeName() { return "object"; }
  static bool parse(const ConfigNode& n, T& out, const OptionSpec& s, Diagnostics& d) {
    if (n.isNull()) return true;
    if (!n.isMap()) {
      detail::typeError(n, s, "a map of options", d);
      return false;
    }
    const std::size_t before = d.size();
    schemaOf<T>().bind(&out, n, s.name, d);
    return d.size() == before;
  }
  static std::string render(const T&) { return std::string(); }
  static std::optional<double> number(const T&) { return std::nullopt; }
};

namespace detail {
template <typename M>
std::vector<std::string> stringsOf(const M& value) {
  if constexpr (std::is_same_v<M, std::string>) {
    return {value};
  } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
    return value;
  } else {
    return {};
  }
}

template <typename M>
std::vector<OptionSpec> childrenOf() {
  if constexpr (HasDescribe<M>::value) {
    return schemaOf<M>().options();
  } else if constexpr (requires { typename M::value_type; }) {
    if constexpr (HasDescribe<typename M::value_type>::value) {
      return schemaOf<typename M::value_type>().options();
    }
  }
  return {};
}
}  // namespace detail

// Chained setters for one option's constraints and documentation.
class OptionBuilder {
 public:
  explicit OptionBuilder(OptionSpec& spec) : spec_(&spec) {}
  OptionBuilder& required() {
    spec_->required = true;
    return *this;
  }
  OptionBuilder& min(double v) {
    spec_->min = v;
    return *this;
  }
  OptionBuilder& max(double v) {
    spec_->max = v;
    return *this;
  }
  OptionBuilder& oneOf(std::vector<std::string> values) {
    spec_->one_of = std::move(values);
    return *this;
  }
  OptionBuilder& example(std::string yaml) {
    spec_->example = std::move(yaml);
    return *this;
  }
  OptionBuilder& secret() {
    spec_->secret = true;
    return *this;
  }

 private:
  OptionSpec* spec_;
};

template <typename T>
class Schema {
 public:
  // `member` may belong to a base of T, so option groups can be shared by inheritance.
  template <typename M, typename C>
  requires std::is_base_of_v<C, T> OptionBuilder option(std::string name, M C::*member,
                                                        std::string description) {
    OptionSpec spec;
    spec.name = std::move(name);
    spec.description = std::move(description);
    spec.type_name = OptionTraits<M>::typeName();
    spec.default_text = OptionTraits<M>::render(defaults_.*member);
    spec.secret = std::is_same_v<M, Secret>;
    spec.children = detail::childrenOf<M>();
    if constexpr (NamedEnum<M>) {
      spec.one_of = enumWords<M>();
    } else if constexpr (requires { typename M::value_type; }) {
      if constexpr (NamedEnum<typename M::value_type>)
        spec.one_of = enumWords<typename M::value_type>();
    }
    spec.bind = [member](void* target, const ConfigNode& node, const OptionSpec& self,
                         Diagnostics& diags) {
      M& slot = static_cast<T*>(target)->*member;
      M value = slot;
      if (!OptionTraits<M>::parse(node, value, self, diags)) return;
      const std::size_t before = diags.size();
      detail::checkConstraints(node, self, OptionTraits<M>::number(value), detail::stringsOf(value),
                               diags);
      if (diags.size() == before) slot = std::move(value);
    };
    schema_.options_.push_back(std::move(spec));
    return OptionBuilder(schema_.options_.back());
  }

  // A rule across several options, run after binding: report with d.push_back({where, "..."}).
  void check(std::function<void(const T&, const SourceMark& where, Diagnostics& d)> rule) {
    schema_.checks_.push_back(
        [rule = std::move(rule)](const void* target, const SourceMark& where, Diagnostics& d) {
          // A rule may also throw std::invalid_argument, so a plugin can run the same validation
          // in its constructor.
          try {
            rule(*static_cast<const T*>(target), where, d);
          } catch (const std::invalid_argument& e) {
            d.push_back({where, e.what()});
          }
        });
  }

  OptionSchema build() {
    schema_.make_default_ = [] { return std::static_pointer_cast<void>(std::make_shared<T>()); };
    return std::move(schema_);
  }

 private:
  T defaults_{};
  OptionSchema schema_;
};

template <typename T>
const OptionSchema& schemaOf() {
  static const OptionSchema schema = [] {
    Schema<T> s;
    T::describe(s);
    return s.build();
  }();
  return schema;
}

// Options struct for plugins that take none.
struct NoOptions {
  static void describe(Schema<NoOptions>&) {}
};

}  // namespace cvagent
