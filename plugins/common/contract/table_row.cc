#include "contract/table_row.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <optional>
#include <variant>

#include "cvagent/text.h"

namespace cvagent::contract {

bool isStorableText(std::string_view text) {
  return text.find('\0') == std::string_view::npos && isValidUtf8(text);
}

namespace {

// Reads a metric member by member into a RowSink; the first problem is kept in `error`.
class Filler {
 public:
  Filler(const Metric& metric, RowSink& row, std::string& error)
      : m_(metric), row_(row), error_(error) {}

  bool ok() const { return ok_; }

  void member(const Member& c) {
    switch (c.from) {
      case From::kTime:
        row_.time(m_.time());
        return;
      case From::kTag:
        tag(c);
        return;
      case From::kField:
        break;
    }
    switch (c.type) {
      case ColumnType::kDouble:
        number(c);
        return;
      case ColumnType::kInt:
        integer(c);
        return;
      case ColumnType::kTime:
        if (auto v = integerField(c.key)) {
          row_.time(*v);
        } else {
          row_.null(ColumnType::kTime);
        }
        return;
      case ColumnType::kBool: {
        const FieldValue* v = m_.field(c.key);
        const bool* b = v ? std::get_if<bool>(v) : nullptr;
        if (b || c.need == Need::kDefault) {
          row_.boolean(b ? *b : c.number_default != 0);
        } else {
          absent(c, "a boolean");
        }
        return;
      }
      case ColumnType::kText:
      case ColumnType::kIntText:
      case ColumnType::kTextArray:
        string(c);
        return;
    }
  }

 private:
  void tag(const Member& c) {
    const std::string* v = m_.tag(c.key);
    if (!v || (v->empty() && c.need == Need::kRequired)) {
      if (c.need == Need::kDefault) {
        text("tag", c.key, c.text_default);
      } else if (c.need == Need::kRequired) {
        fail(fmt::format("missing tag '{}'", c.key));
        row_.null(c.type);
      } else {
        row_.null(c.type);
      }
      return;
    }
    if (c.rule == Rule::kSideLetter && (*v == "buy" || *v == "sell")) {
      row_.text(*v == "buy" ? "b" : "s");  // anything else is for the CHECK constraint to refuse
      return;
    }
    text("tag", c.key, *v);
  }

  void number(const Member& c) {
    double v = 0;
    if (!m_.numberField(c.key, v)) {
      if (c.need == Need::kDefault) {
        row_.number(c.number_default);
      } else {
        absent(c, "a number");
      }
      return;
    }
    row_.number(c.rule == Rule::kUnitScore ? (v + 1.0) / 2.0 : v);
  }

  std::optional<std::int64_t> integerField(std::string_view key) const {
    const FieldValue* v = m_.field(key);
    if (!v) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(v)) return *i;
    if (const auto* u = std::get_if<std::uint64_t>(v)) {
      if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(*u);
      }
      return std::nullopt;
    }
    if (const auto* d = std::get_if<double>(v)) {
      if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e18) {
        return static_cast<std::int64_t>(*d);
      }
    }
    return std::nullopt;
  }

  void integer(const Member& c) {
    if (auto v = integerField(c.key)) {
      row_.integer(*v);
    } else if (c.need == Need::kDefault) {
      row_.integer(static_cast<std::int64_t>(c.number_default));
    } else {
      absent(c, "an integer");
    }
  }

  void string(const Member& c) {
    const std::string* v = m_.stringField(c.key);
    switch (c.rule) {
      case Rule::kIdOrUrl:
        if (v && !v->empty()) {
          text("field", c.key, *v);
        } else if (const std::string* url = m_.stringField("url"); url && !url->empty()) {
          text("field", "url", *url);
        } else {
          fail(fmt::format("missing field '{}' (and no 'url' to use instead)", c.key));
          row_.null(c.type);
        }
        return;
      case Rule::kAlertType:
        if (v && !v->empty()) {
          std::string upper = *v;
          for (char& ch : upper)
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          text("field", c.key, upper);
        } else {
          double change = 0;
          m_.numberField("change", change);
          row_.text(change > 0 ? "PRICE_UP" : "PRICE_DOWN");
        }
        return;
      case Rule::kCoinList:
        if (const std::string cleaned = v ? cleanCoinList(*v) : std::string(); !cleaned.empty()) {
          text("field", c.key, cleaned);
        } else {
          row_.null(c.type);
        }
        return;
      default:
        break;
    }
    if (v) {
      text("field", c.key, *v);
    } else if (c.need == Need::kDefault) {
      text("field", c.key, c.text_default);
    } else {
      absent(c, "a string");
    }
  }

  // A field that is missing or of another type: NULL, and an error when it is required.
  void absent(const Member& c, std::string_view type) {
    if (c.need == Need::kRequired) {
      fail(m_.field(c.key) ? fmt::format("field '{}' is not {}", c.key, type)
                           : fmt::format("missing field '{}'", c.key));
    }
    row_.null(c.type);
  }

  // Writes `value` as text after checking PostgreSQL can store it.
  void text(std::string_view what, std::string_view key, std::string_view value) {
    if (!isStorableText(value)) {
      fail(fmt::format("{} '{}' is not valid UTF-8 or contains a NUL byte", what, key));
      row_.null(ColumnType::kText);
      return;
    }
    row_.text(value);
  }

  void fail(std::string message) {
    if (ok_) error_ = std::move(message);
    ok_ = false;
  }

  const Metric& m_;
  RowSink& row_;
  std::string& error_;
  bool ok_ = true;
};

}  // namespace

bool fillRow(const Kind& kind, const Metric& metric, RowSink& row, std::string& error) {
  Filler filler(metric, row, error);
  for (const Member& member : kind.members) filler.member(member);
  return filler.ok();
}

}  // namespace cvagent::contract
