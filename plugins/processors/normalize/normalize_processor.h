#pragma once
// processors.normalize: one canonical form for every exchange's data. Renames and drops tags and
// fields from a mapping table, turns numbers that arrive as strings into numbers, moves event
// times given in s/ms/us or RFC 3339 into the metric time in UTC nanoseconds, and rewrites pair
// names (Kraken's `XBT/USD`, `XXBTZUSD`, `XBTUSD`, `BTC-USD`...) to one form, `BTC/USD` by default
// or the legacy `XBT/USD`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "cvagent/processor.h"

namespace cvagent::processors::normalize {

struct MappingRule {
  std::string metric;
  std::map<std::string, std::string> rename_tags;
  std::map<std::string, std::string> rename_fields;
  std::vector<std::string> drop_tags;
  std::vector<std::string> drop_fields;

  static void describe(Schema<MappingRule>& s);
};

struct NormalizeOptions {
  std::string pair_tag = "pair";
  std::string pair_style = "v2";
  std::map<std::string, std::string> pair_aliases;
  std::map<std::string, std::string> asset_aliases;
  std::vector<std::string> assets;
  std::vector<std::string> numeric_fields{
      "price",    "volume",       "qty",        "last",       "bid",      "ask",
      "bid_qty",  "ask_qty",      "volume_24h", "vwap",       "low",      "high",
      "open",     "close",        "change",     "change_pct", "best_bid", "best_bid_qty",
      "best_ask", "best_ask_qty", "spread",     "mid"};
  std::vector<std::string> integer_fields{"trade_id", "trades", "checksum", "receive_time"};
  std::string time_field;
  std::string time_unit = "auto";
  bool fix_metric_time = true;
  std::vector<MappingRule> mappings;

  static void describe(Schema<NormalizeOptions>& s);
};

namespace detail {

// Heterogeneous lookup: find by string_view without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// How pair names are understood, independent of the processor (tested on its own).
class PairNormalizer {
 public:
  explicit PairNormalizer(const NormalizeOptions& options);

  struct Result {
    std::string name;  // the canonical name, or the input when unknown
    bool known = false;
  };
  // Cached: the same input costs one hash lookup after the first time.
  const Result& resolve(std::string_view pair);

 private:
  Result compute(std::string_view pair) const;
  std::string canonicalAsset(std::string_view code) const;
  bool isAsset(std::string_view code) const;
  std::string styled(std::string_view base, std::string_view quote) const;

  using Hash = StringHash;
  using Eq = StringEq;
  bool legacy_;
  std::unordered_map<std::string, std::string, Hash, Eq> pair_aliases_;
  std::unordered_map<std::string, std::string, Hash, Eq> asset_aliases_;
  std::unordered_set<std::string, Hash, Eq> assets_;
  std::unordered_map<std::string, Result, Hash, Eq> cache_;
  Result uncached_;
};

// Event time from a field value: RFC 3339 text, or a number (or numeric text) in `unit`
// (s, ms, us, ns; auto: by magnitude). Decimal text is converted exactly. False when unusable.
bool parseEventTime(const FieldValue& value, std::string_view unit, std::int64_t& ns_out);

// Metric times below 1e17 (before 1973-03-03 as nanoseconds) are taken as s, ms or us by
// magnitude and scaled to nanoseconds; others are returned unchanged.
std::int64_t fixMetricTime(std::int64_t time);

}  // namespace detail

class NormalizeProcessor final : public Processor {
 public:
  NormalizeProcessor(const NormalizeOptions& options, PluginContext& context);
  void process(Metric&& metric, Emitter& out) override;

 private:
  void applyMapping(const MappingRule& rule, Metric& metric);
  void convertNumbers(Metric& metric);
  void normalizeTime(Metric& metric);
  void normalizePair(Metric& metric);

  using NameSet = std::unordered_set<std::string, detail::StringHash, detail::StringEq>;

  std::vector<MappingRule> mappings_;
  NameSet numeric_fields_;
  NameSet integer_fields_;
  std::string pair_tag_;
  std::string time_field_;
  std::string time_unit_;
  bool fix_metric_time_;
  detail::PairNormalizer pairs_;

  PluginContext& context_;
  Counter& unknown_pairs_;
  Counter& invalid_numbers_;
  Counter& invalid_times_;
  LogRateLimiter log_limit_;
  std::unordered_set<std::string> reported_unknown_;
};

}  // namespace cvagent::processors::normalize
