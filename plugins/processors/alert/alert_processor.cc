#include "alert_processor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "cvagent/text.h"
#include "snapshot_file.h"

namespace cvagent::processors::alert {

namespace {

// A window keeps at most this many slots (plus the one being filled): a change rule's reference
// value is at most window/256 older than exactly one window ago; a z-score's window edge moves in
// steps of window/256.
constexpr std::int64_t kSlotsPerWindow = 256;
constexpr char kTagSep = '\x1f';
constexpr std::size_t kMaxCachedTagSets = 1'000'000;
constexpr char kValueSep = '\x1e';

Kind kindOf(const std::string& kind) {
  if (kind == "change") return Kind::kChange;
  if (kind == "threshold") return Kind::kThreshold;
  if (kind == "zscore") return Kind::kZscore;
  if (kind == "absence") return Kind::kAbsence;
  if (kind == "forecast_miss") return Kind::kForecastMiss;
  throw std::invalid_argument("unknown kind `" + kind +
                              "` (change, threshold, zscore, absence or forecast_miss)");
}

// Numeric fields of the metrics this repository produces, so a rule on a field they never carry
// is refused when the configuration is read rather than silently never firing.
const std::map<std::string, std::set<std::string>>& knownFields() {
  static const std::map<std::string, std::set<std::string>> fields = {
      {"ticker",
       {"last", "bid", "ask", "bid_qty", "ask_qty", "volume_24h", "vwap", "low", "high", "change",
        "change_pct"}},
      {"trade", {"price", "volume"}},
      {"candle", {"open", "high", "low", "close", "volume", "vwap", "trades"}},
      {"book", {"best_bid", "best_bid_qty", "best_ask", "best_ask_qty", "spread", "mid"}},
  };
  return fields;
}

std::string defaultMessage(const RuleOptions& r, Kind kind) {
  switch (kind) {
    case Kind::kChange:
      return "{pair} {field} moved {change}% in {window} to {last} (threshold {threshold}%)";
    case Kind::kThreshold:
      return r.above ? "{pair} {field} at {last}, above {threshold}"
                     : "{pair} {field} at {last}, below {threshold}";
    case Kind::kZscore:
      return "{pair} {field} at {last}, {zscore} standard deviations from its {window} mean";
    case Kind::kAbsence:
      return "no {metric} for {pair} in {window}";
    case Kind::kForecastMiss:
      return "{pair} actual {last} outside the forecast interval [{low}, {high}] ({change}% "
             "from the forecast)";
  }
  return {};
}

const char* typeOf(Kind kind, bool up) {
  switch (kind) {
    case Kind::kChange:
      return up ? "PRICE_UP" : "PRICE_DOWN";
    case Kind::kThreshold:
      return "THRESHOLD";
    case Kind::kZscore:
      return "ZSCORE";
    case Kind::kAbsence:
      return "ABSENCE";
    case Kind::kForecastMiss:
      return "FORECAST_MISS";
  }
  return "";
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

void appendNumber(double value, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{}", value);
}

}  // namespace

void RuleOptions::describe(Schema<RuleOptions>& s) {
  s.option("id", &RuleOptions::id,
           "Name of the rule, unique in the instance: the alert's `rule` tag and the key of its "
           "saved state.")
      .required()
      .example("btc_drop_5m");
  s.option("kind", &RuleOptions::kind,
           "change: percentage change of `field` over `window`; threshold: `field` crossing "
           "`above` or `below`; zscore: `field` more than `threshold` standard deviations from its "
           "mean over `window`; absence: no matching metric for `window` (checked on ticks, wall "
           "clock); forecast_miss: `field` (the actual) outside [`lower_field`, `upper_field`].")
      .required()
      .oneOf({"change", "threshold", "zscore", "absence", "forecast_miss"});
  s.option("metric", &RuleOptions::metric, "Name of the metrics the rule watches.")
      .required()
      .example("ticker");
  s.option("tags", &RuleOptions::tags,
           "Tag globs a metric must match (`*` any run, `?` one character); a missing tag does "
           "not match. Each distinct tag set of a matching metric is its own series.")
      .example("{pair: \"BTC/*\"}");
  s.option("by", &RuleOptions::by,
           "Tags that tell series apart (e.g. [exchange, pair] so a trade's `side` does not split "
           "a pair in two). Empty: every tag of the metric.")
      .example("[exchange, pair]");
  s.option("field", &RuleOptions::field,
           "The numeric field watched. Required except for absence (where it only fills `last`) "
           "and forecast_miss (default actual_price).");
  s.option("window", &RuleOptions::window,
           "change, zscore: the event-time window; absence: the silence that fires.");
  s.option("threshold_pct", &RuleOptions::threshold_pct,
           "change: the percentage change (positive) that fires.");
  s.option("direction", &RuleOptions::direction, "change: which moves fire.")
      .oneOf({"up", "down", "both"});
  s.option("above", &RuleOptions::above, "threshold: fire when the field goes above this level.");
  s.option("below", &RuleOptions::below, "threshold: fire when the field goes below this level.");
  s.option("threshold", &RuleOptions::threshold,
           "zscore: how many standard deviations from the window's mean fire.");
  s.option("min_samples", &RuleOptions::min_samples,
           "zscore: samples the window must hold before a z-score is computed.")
      .min(2);
  s.option("lower_field", &RuleOptions::lower_field,
           "forecast_miss: the field holding the interval's lower bound.");
  s.option("upper_field", &RuleOptions::upper_field,
           "forecast_miss: the field holding the interval's upper bound.");
  s.option("predicted_field", &RuleOptions::predicted_field,
           "forecast_miss: the field holding the point forecast (for `change`, the miss in %).");
  s.option("cooldown", &RuleOptions::cooldown,
           "Per series: no new alert until this much event time has passed since the last one.")
      .min(0);
  s.option("hysteresis_pct", &RuleOptions::hysteresis_pct,
           "A firing alert clears (and the rule re-arms) only once the condition is this many "
           "percent of its threshold inside it (forecast_miss: of the interval's width).")
      .min(0)
      .max(100);
  s.option("severity", &RuleOptions::severity, "The alert's `severity` tag.")
      .oneOf({"info", "warning", "critical"});
  s.option("message", &RuleOptions::message,
           "Template of the alert's message: {rule}, {kind}, {severity}, {type}, {metric}, "
           "{field}, {window}, {last}, {change}, {threshold}, {zscore}, {low}, {high}, any tag "
           "({pair}, {exchange}...) or field of the metric. Empty: a default per kind.");
  s.check([](const RuleOptions& r, const SourceMark&, Diagnostics&) {
    // A missing or unknown id or kind is already reported by the option itself.
    if (!r.id.empty() && !r.kind.empty()) validate(r);
  });
}

void AlertOptions::describe(Schema<AlertOptions>& s) {
  s.option("rules", &AlertOptions::rules, "The alert rules, evaluated in order on every metric.")
      .required();
  s.option("snapshot_interval", &AlertOptions::snapshot_interval,
           "How often (wall clock) changed firing state is written to the state directory; it is "
           "also written on shutdown and reload.")
      .min(0.001);
  s.option("max_series", &AlertOptions::max_series,
           "Per rule: series tracked at most; metrics of further series are counted and ignored.")
      .min(1);
  s.check([](const AlertOptions& o, const SourceMark&, Diagnostics& d) {
    // A rule that failed to bind leaves `rules` empty: its own error says why.
    if (o.rules.empty() && !d.empty()) return;
    validate(o);
  });
}

void validate(const RuleOptions& r) {
  const std::string who = "alert rule `" + r.id + "`: ";
  const auto fail = [&who](const std::string& what) { throw std::invalid_argument(who + what); };
  if (r.id.empty()) throw std::invalid_argument("alert rule: `id` must not be empty");
  if (r.metric.empty()) fail("`metric` must not be empty");
  Kind kind;
  try {
    kind = kindOf(r.kind);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  const bool windowed = kind == Kind::kChange || kind == Kind::kZscore || kind == Kind::kAbsence;
  if (windowed && r.window.count() <= 0)
    fail("`window` must be set and more than 0 for kind " + r.kind);
  if (!windowed && r.window.count() != 0) fail("`window` does not apply to kind " + r.kind);
  if ((kind == Kind::kChange || kind == Kind::kThreshold || kind == Kind::kZscore) &&
      r.field.empty()) {
    fail("`field` is required for kind " + r.kind);
  }
  if (kind == Kind::kChange) {
    if (!r.threshold_pct) fail("`threshold_pct` is required for kind change");
    if (!(*r.threshold_pct > 0) || !std::isfinite(*r.threshold_pct)) {
      fail("`threshold_pct` must be more than 0");
    }
  } else if (r.threshold_pct) {
    fail("`threshold_pct` applies to kind change only");
  }
  if (kind != Kind::kChange && r.direction != "both")
    fail("`direction` applies to kind change only");
  if (kind == Kind::kThreshold) {
    if (r.above.has_value() == r.below.has_value()) {
      fail("kind threshold needs exactly one of `above` and `below`");
    }
    if (!std::isfinite(r.above.value_or(r.below.value_or(0)))) fail("the level must be finite");
  } else if (r.above || r.below) {
    fail("`above` and `below` apply to kind threshold only");
  }
  if (kind == Kind::kZscore) {
    if (!r.threshold) fail("`threshold` (standard deviations) is required for kind zscore");
    if (!(*r.threshold > 0) || !std::isfinite(*r.threshold))
      fail("`threshold` must be more than 0");
    if (r.min_samples < 2) fail("`min_samples` must be at least 2");
  } else if (r.threshold) {
    fail("`threshold` applies to kind zscore only (change: threshold_pct; threshold: above/below)");
  }
  if (kind == Kind::kForecastMiss && (r.lower_field.empty() || r.upper_field.empty())) {
    fail("`lower_field` and `upper_field` must not be empty");
  }
  if (r.cooldown.count() < 0) fail("`cooldown` must not be negative");
  if (!(r.hysteresis_pct >= 0 && r.hysteresis_pct < 100))
    fail("`hysteresis_pct` must be in [0, 100)");
  if (r.severity != "info" && r.severity != "warning" && r.severity != "critical") {
    fail("`severity` must be info, warning or critical");
  }
  if (!r.field.empty()) {
    const auto& known = knownFields();
    if (auto it = known.find(r.metric); it != known.end() && !it->second.count(r.field)) {
      std::string list;
      for (const auto& f : it->second) list += (list.empty() ? "" : ", ") + f;
      fail("metric `" + r.metric + "` has no numeric field `" + r.field + "` (it has " + list +
           ")");
    }
  }
  try {
    MessageTemplate check(r.message);
  } catch (const std::invalid_argument& e) {
    fail(std::string("`message`: ") + e.what());
  }
}

void validate(const AlertOptions& options) {
  if (options.rules.empty()) throw std::invalid_argument("alert: `rules` needs at least one rule");
  std::set<std::string> ids;
  for (const auto& rule : options.rules) {
    validate(rule);
    if (!ids.insert(rule.id).second) {
      throw std::invalid_argument("alert: rule id `" + rule.id + "` is used twice");
    }
  }
  if (options.snapshot_interval.count() <= 0) {
    throw std::invalid_argument("alert: `snapshot_interval` must be more than 0");
  }
  if (options.max_series < 1) throw std::invalid_argument("alert: `max_series` must be at least 1");
}

std::string ruleFingerprint(const RuleOptions& r) {
  // What decides when the rule fires; `message` and `severity` only dress the alert, so editing
  // them keeps the state (no re-firing of the active alerts).
  std::string text = fmt::format(
      "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|", r.kind, r.metric, r.field, r.window.count(),
      r.threshold_pct ? fmt::format("{}", *r.threshold_pct) : "-", r.direction,
      r.above ? fmt::format("{}", *r.above) : "-", r.below ? fmt::format("{}", *r.below) : "-",
      r.threshold ? fmt::format("{}", *r.threshold) : "-", r.min_samples, r.lower_field,
      r.upper_field, r.predicted_field, r.cooldown.count(), r.hysteresis_pct);
  for (const auto& [key, glob] : r.tags) text += key + "=" + glob + "|";
  for (const auto& tag : r.by) text += "by=" + tag + "|";
  return text;
}

AlertProcessor::AlertProcessor(const AlertOptions& options, PluginContext& context)
    : snapshot_interval_ns_(options.snapshot_interval.count()),
      max_series_(static_cast<std::size_t>(options.max_series)),
      context_(context),
      alerts_fired_(context.counter("alert_fired_total", "Alerts fired.")),
      alerts_resolved_(
          context.counter("alert_resolved_total", "Alerts cleared (resolved=true emitted).")),
      suppressed_(context.counter("alert_suppressed_total",
                                  "Conditions met within a rule's cooldown: no alert emitted.")),
      late_(context.counter("alert_late_metrics_total",
                            "Metrics older than their series' latest evaluated one: not "
                            "evaluated (an alert is never raised for the past).")),
      invalid_(context.counter("alert_invalid_metrics_total",
                               "Matching metrics without a finite numeric value in the rule's "
                               "field(s): not evaluated.")),
      series_dropped_(context.counter("alert_series_over_limit_total",
                                      "Metrics of series beyond max_series: not evaluated.")) {
  validate(options);
  for (const auto& r : options.rules) {
    auto rule = std::make_unique<Rule>();
    rule->options = r;
    rule->kind = kindOf(r.kind);
    rule->direction = r.direction == "up" ? 1 : r.direction == "down" ? -1 : 0;
    if (rule->kind == Kind::kForecastMiss && rule->options.field.empty()) {
      rule->options.field = "actual_price";
    }
    rule->fingerprint = ruleFingerprint(rule->options);
    rule->window_ns = r.window.count();
    rule->window_text = formatDuration(r.window);
    rule->slot_ns = std::max<std::int64_t>(1, rule->window_ns / kSlotsPerWindow);
    rule->cooldown_ns = r.cooldown.count();
    rule->hysteresis = r.hysteresis_pct / 100.0;
    rule->message = MessageTemplate(r.message.empty() ? defaultMessage(r, rule->kind) : r.message);
    if (std::find(metric_names_.begin(), metric_names_.end(), r.metric) == metric_names_.end()) {
      metric_names_.push_back(r.metric);
    }
    rules_.push_back(std::move(rule));
  }
  snapshot_path_ = context_.stateDir() + "/alert-state";
  last_snapshot_wall_ = context_.clock().nowNanos();
  loadSnapshot();
}

AlertProcessor::~AlertProcessor() = default;

AlertProcessor::Series* AlertProcessor::seriesFor(Rule& rule, const std::string& key,
                                                  const Metric* metric) {
  if (auto it = rule.series_index.find(key); it != rule.series_index.end()) return it->second;
  if (rule.series.size() >= max_series_) {
    if (!rule.full_logged) {
      rule.full_logged = true;
      context_.logger().warn(
          "rule {}: {} series tracked, the max_series limit; metrics of new series are ignored "
          "(narrow the rule's tags or raise max_series)",
          rule.options.id, rule.series.size());
    }
    return nullptr;
  }
  Series& series = rule.series.emplace_back();
  series.key = key;
  // The key is name, then key/value pairs: recover the tags from it (also for snapshot entries).
  std::size_t pos = key.find(kTagSep);
  while (pos != std::string::npos) {
    const std::size_t value_at = key.find(kValueSep, pos + 1);
    const std::size_t next = key.find(kTagSep, pos + 1);
    if (value_at == std::string::npos || (next != std::string::npos && value_at > next)) break;
    series.tags.push_back(
        {key.substr(pos + 1, value_at - pos - 1),
         key.substr(value_at + 1,
                    next == std::string::npos ? std::string::npos : next - value_at - 1)});
    pos = next;
  }
  for (const char* name : {"pair", "symbol"}) {
    for (const auto& tag : series.tags) {
      if (series.subject.empty() && tag.key == name) series.subject = tag.value;
    }
  }
  // No pair and no symbol: the metric's name keeps alert_data's NOT NULL pair filled.
  if (series.subject.empty()) series.subject = metric ? metric->name() : rule.options.metric;
  rule.series_index.emplace(key, &series);
  return &series;
}

const std::vector<AlertProcessor::Binding>& AlertProcessor::bindingsFor(const Metric& metric) {
  key_buffer_.clear();
  key_buffer_ += metric.name();
  for (const auto& tag : metric.tags()) {
    key_buffer_ += kTagSep;
    key_buffer_ += tag.key;
    key_buffer_ += kValueSep;
    key_buffer_ += tag.value;
  }
  if (auto it = bindings_.find(std::string_view(key_buffer_)); it != bindings_.end()) {
    return it->second;
  }
  std::vector<Binding> bindings;
  bool complete = true;
  for (auto& rule : rules_) {
    if (rule->options.metric != metric.name()) continue;
    bool match = true;
    for (const auto& [key, glob] : rule->options.tags) {
      const std::string* value = metric.tag(key);
      if (!value || !globMatch(glob, *value)) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    const std::string* key = &key_buffer_;
    if (!rule->options.by.empty()) {
      series_key_.clear();
      series_key_ += metric.name();
      for (const auto& tag : metric.tags()) {
        if (std::find(rule->options.by.begin(), rule->options.by.end(), tag.key) ==
            rule->options.by.end()) {
          continue;
        }
        series_key_ += kTagSep;
        series_key_ += tag.key;
        series_key_ += kValueSep;
        series_key_ += tag.value;
      }
      key = &series_key_;
    }
    if (Series* series = seriesFor(*rule, *key, &metric)) {
      bindings.push_back({rule.get(), series});
    } else {
      series_dropped_.inc();
      complete = false;
    }
  }
  // Tag sets that match no rule are cached too; a tag of unbounded cardinality must not grow the
  // cache without limit (bindings only point into the rules' series, which stay).
  if (bindings_.size() >= kMaxCachedTagSets) bindings_.clear();
  if (!complete) {
    // Not cached: the next metric of this series is counted again by the rule that is full.
    uncached_bindings_ = std::move(bindings);
    return uncached_bindings_;
  }
  return bindings_.emplace(key_buffer_, std::move(bindings)).first->second;
}

void AlertProcessor::process(Metric&& metric, Emitter& out) {
  bool watched = false;
  for (const auto& name : metric_names_) {
    if (name == metric.name()) {
      watched = true;
      break;
    }
  }
  if (watched) {
    FieldCache cache;
    for (const Binding& b : bindingsFor(metric)) evaluate(*b.rule, *b.series, metric, cache, out);
  }
  out.emit(std::move(metric));
}

void AlertProcessor::evictSlots(const Rule& rule, Series& s, std::int64_t boundary) {
  // A slot leaves the window once its start is at or before time - window.
  bool evicted = false;
  while (!s.slots.empty() && s.slots.front().index * rule.slot_ns <= boundary) {
    s.slots.pop_front();
    evicted = true;
  }
  if (!evicted) return;
  // Recomputed rather than subtracted, so rounding never accumulates.
  s.total_count = s.total_sum = s.total_sumsq = 0;
  for (const Slot& slot : s.slots) {
    s.total_count += slot.count;
    s.total_sum += slot.sum;
    s.total_sumsq += slot.sumsq;
  }
}

void AlertProcessor::addSample(const Rule& rule, Series& s, std::int64_t time, double value) {
  // Most samples fall in the newest slot: checked without a division.
  const bool same_slot = !s.slots.empty() && time >= s.slots.back().index * rule.slot_ns &&
                         time - s.slots.back().index * rule.slot_ns < rule.slot_ns;
  if (!same_slot) {
    const std::int64_t index = floorDiv(time, rule.slot_ns);
    if (s.slots.empty() && s.total_count == 0) s.shift = value;
    Slot slot;
    slot.index = index;
    s.slots.push_back(slot);
  }
  Slot& slot = s.slots.back();
  const double d = value - s.shift;
  slot.last_time = time;
  slot.last_value = value;
  slot.count += 1;
  slot.sum += d;
  slot.sumsq += d * d;
  s.total_count += 1;
  s.total_sum += d;
  s.total_sumsq += d * d;
}

// One branch per rule kind, in one place.
// NOLINTNEXTLINE(readability-function-cognitive-complexity)
void AlertProcessor::evaluate(Rule& rule, Series& s, const Metric& metric, FieldCache& cache,
                              Emitter& out) {
  const RuleOptions& o = rule.options;
  const std::int64_t time = metric.time();
  if (rule.kind == Kind::kAbsence) {
    if (cache.wall == 0) cache.wall = context_.clock().nowNanos();
    s.last_seen_wall = cache.wall;
    dirty_ = true;
    double value = 0;
    if (!o.field.empty() && metric.numberField(o.field, value) && std::isfinite(value)) {
      s.last_value = value;
      s.has_value = true;
    }
    if (s.active) {
      Outcome outcome;
      outcome.last = s.last_value;
      outcome.threshold = static_cast<double>(rule.window_ns) / 1e9;
      decide(rule, s, false, true, outcome, std::max(time, s.latest), &metric, out);
    }
    s.latest = std::max(s.latest, time);
    return;
  }
  // Rules on the same field share one lookup.
  if (cache.name != &o.field && (!cache.name || *cache.name != o.field)) {
    cache.name = &o.field;
    cache.found = metric.numberField(o.field, cache.value);
  }
  const double value = cache.value;
  if (!cache.found) {
    // A forecast before its horizon has no actual yet: not an error, nothing to check.
    if (rule.kind != Kind::kForecastMiss) invalid_.inc();
    return;
  }
  if (!std::isfinite(value)) {
    invalid_.inc();
    return;
  }
  if (s.latest != kNoTime && time < s.latest) {
    late_.inc();
    return;
  }
  s.latest = time;
  s.last_value = value;
  s.has_value = true;

  Outcome outcome;
  outcome.last = value;
  bool firing = false;
  bool cleared = false;
  const double keep = 1.0 - rule.hysteresis;
  switch (rule.kind) {
    case Kind::kChange: {
      const std::int64_t boundary = time - rule.window_ns;
      // Keep the newest slot at or before the boundary: its last sample is the reference.
      while (s.slots.size() >= 2 && s.slots[1].last_time <= boundary) s.slots.pop_front();
      const bool have_reference = !s.slots.empty() && s.slots.front().last_time <= boundary &&
                                  s.slots.front().last_value != 0;
      const double reference = have_reference ? s.slots.front().last_value : 0;
      addSample(rule, s, time, value);
      if (!have_reference) return;  // warming up: less than one window of history
      const double pct = (value - reference) / std::fabs(reference) * 100.0;
      const double t = *o.threshold_pct;
      outcome.change = pct;
      outcome.threshold = t;
      outcome.up = pct >= 0;
      if (rule.direction > 0) {
        firing = pct >= t;
        cleared = pct < t * keep;
      } else if (rule.direction < 0) {
        firing = pct <= -t;
        cleared = pct > -t * keep;
        outcome.up = false;
      } else {
        firing = std::fabs(pct) >= t;
        cleared = std::fabs(pct) < t * keep;
      }
      if (s.active) outcome.up = s.fired_up;
      break;
    }
    case Kind::kThreshold: {
      const double level = o.above ? *o.above : *o.below;
      const double margin = std::fabs(level) * rule.hysteresis;
      outcome.threshold = level;
      outcome.change = level != 0 ? (value - level) / std::fabs(level) * 100.0 : 0.0;
      if (o.above) {
        firing = value > level;
        cleared = value <= level - margin;
      } else {
        firing = value < level;
        cleared = value >= level + margin;
      }
      break;
    }
    case Kind::kZscore: {
      evictSlots(rule, s, time - rule.window_ns);
      const double n = s.total_count;
      bool have = false;
      double z = 0, mean = 0;
      if (n >= static_cast<double>(o.min_samples)) {
        const double mean_d = s.total_sum / n;
        const double var = std::max(0.0, s.total_sumsq / n - mean_d * mean_d) * n / (n - 1);
        const double sd = std::sqrt(var);
        mean = s.shift + mean_d;
        if (sd > 0 && std::isfinite(sd)) {
          z = (value - mean) / sd;
          have = true;
        }
      }
      addSample(rule, s, time, value);  // after scoring: a spike never dampens its own z-score
      if (!have) return;
      const double t = *o.threshold;
      outcome.threshold = t;
      outcome.extra = z;
      outcome.change = mean != 0 ? (value - mean) / std::fabs(mean) * 100.0 : 0.0;
      outcome.up = z >= 0;
      firing = std::fabs(z) >= t;
      cleared = std::fabs(z) < t * keep;
      break;
    }
    case Kind::kForecastMiss: {
      double low = 0, high = 0;
      if (!metric.numberField(o.lower_field, low) || !metric.numberField(o.upper_field, high) ||
          !std::isfinite(low) || !std::isfinite(high) || low > high) {
        invalid_.inc();
        return;
      }
      double predicted = 0;
      if (!metric.numberField(o.predicted_field, predicted) || !std::isfinite(predicted)) {
        predicted = (low + high) / 2;
      }
      const double inset = (high - low) * rule.hysteresis;
      outcome.change = predicted != 0 ? (value - predicted) / std::fabs(predicted) * 100.0 : 0.0;
      outcome.threshold = value > high                 ? high
                          : value < low                ? low
                          : value - low < high - value ? low
                                                       : high;
      outcome.up = value >= predicted;
      firing = value < low || value > high;
      cleared = value >= low + inset && value <= high - inset;
      break;
    }
    case Kind::kAbsence:
      break;
  }
  decide(rule, s, firing, cleared, outcome, time, &metric, out);
}

void AlertProcessor::decide(Rule& rule, Series& s, bool firing, bool cleared,
                            const Outcome& outcome, std::int64_t time, const Metric* source,
                            Emitter& out) {
  if (s.active) {
    if (!cleared) return;
    s.active = false;
    dirty_ = true;
    Outcome resolved = outcome;
    resolved.up = s.fired_up;
    emitAlert(rule, s, resolved, true, time, source, out);
    alerts_resolved_.inc();
    return;
  }
  if (!firing) return;
  if (s.last_fired != kNoTime && time - s.last_fired < rule.cooldown_ns) {
    suppressed_.inc();
    return;
  }
  s.active = true;
  s.fired_up = outcome.up;
  s.last_fired = time;
  dirty_ = true;
  emitAlert(rule, s, outcome, false, time, source, out);
  alerts_fired_.inc();
}

void AlertProcessor::emitAlert(const Rule& rule, const Series& s, const Outcome& outcome,
                               bool resolved, std::int64_t time, const Metric* source,
                               Emitter& out) {
  const RuleOptions& o = rule.options;
  const char* type = typeOf(rule.kind, outcome.up);
  std::string message = rule.message.render([&](std::string_view name, std::string& text) {
    if (name == "rule") {
      text += o.id;
    } else if (name == "kind") {
      text += o.kind;
    } else if (name == "severity") {
      text += o.severity;
    } else if (name == "type") {
      text += type;
    } else if (name == "metric") {
      text += o.metric;
    } else if (name == "field") {
      text += o.field;
    } else if (name == "window") {
      text += rule.window_text;
    } else if (name == "last") {
      appendNumber(outcome.last, text);
    } else if (name == "change") {
      fmt::format_to(std::back_inserter(text), "{:.2f}", outcome.change);
    } else if (name == "threshold") {
      appendNumber(outcome.threshold, text);
    } else if (name == "zscore") {
      fmt::format_to(std::back_inserter(text), "{:.2f}", outcome.extra);
    } else if ((name == "low" || name == "high") && source) {
      double v = 0;
      if (!source->numberField(name == "low" ? o.lower_field : o.upper_field, v)) return false;
      appendNumber(v, text);
    } else if (name == "pair" && !s.subject.empty()) {
      text += s.subject;
    } else {
      if (source) {
        if (const std::string* tag = source->tag(name)) {
          text += *tag;
          return true;
        }
      }
      for (const auto& tag : s.tags) {
        if (tag.key == name) {
          text += tag.value;
          return true;
        }
      }
      if (!source) return false;
      const FieldValue* field = source->field(name);
      if (!field) return false;
      if (const std::string* str = std::get_if<std::string>(field)) {
        text += *str;
      } else {
        double v = 0;
        source->numberField(name, v);
        appendNumber(v, text);
      }
    }
    return true;
  });
  if (resolved) message = "resolved: " + message;

  Metric alert("alert", time);
  alert.reserveTags(3);
  alert.setTag("pair", s.subject);
  alert.setTag("rule", o.id);
  alert.setTag("severity", o.severity);
  alert.reserveFields(8);
  alert.setField("last", outcome.last);
  alert.setField("change", outcome.change);
  alert.setField("threshold", outcome.threshold);
  alert.setField("type", std::string(type));
  alert.setField("message", std::move(message));
  alert.setField("resolved", resolved);
  if (rule.kind == Kind::kZscore) alert.setField("zscore", outcome.extra);
  if (rule.kind == Kind::kAbsence) alert.setField("silence_s", outcome.extra);
  out.emit(std::move(alert));
}

void AlertProcessor::tick(std::int64_t now_ns, Emitter& out) {
  for (auto& rule : rules_) {
    if (rule->kind != Kind::kAbsence) continue;
    for (Series& s : rule->series) {
      if (s.active || now_ns - s.last_seen_wall < rule->window_ns) continue;
      Outcome outcome;
      outcome.last = s.last_value;
      outcome.threshold = static_cast<double>(rule->window_ns) / 1e9;
      outcome.extra = static_cast<double>(now_ns - s.last_seen_wall) / 1e9;
      outcome.change = 0;
      // Absence is judged on the wall clock, so the alert carries the wall time it was noticed.
      decide(*rule, s, true, false, outcome, now_ns, nullptr, out);
    }
  }
  if (dirty_ && now_ns - last_snapshot_wall_ >= snapshot_interval_ns_) {
    last_snapshot_wall_ = now_ns;
    saveSnapshot();
  }
}

void AlertProcessor::flush(Emitter& out) {
  (void)out;
  saveSnapshot();
}

bool AlertProcessor::saveSnapshot() {
  std::vector<SnapshotRule> rules;
  for (const auto& rule : rules_) {
    SnapshotRule& r = rules.emplace_back();
    r.id = rule->options.id;
    r.fingerprint = rule->fingerprint;
    for (const Series& s : rule->series) {
      // Only what keeps a restart from re-firing (or forgetting) alerts; windows refill.
      if (!s.active && s.last_fired == kNoTime && rule->kind != Kind::kAbsence) continue;
      r.series.push_back({s.key, s.active, s.fired_up, s.last_fired, s.latest, s.last_seen_wall,
                          s.last_value, s.has_value});
    }
  }
  std::string error;
  if (!writeSnapshot(snapshot_path_, rules, error)) {
    log_limit_.error(context_.logger(), "cannot save alert state: {}", error);
    return false;
  }
  dirty_ = false;
  return true;
}

void AlertProcessor::loadSnapshot() {
  std::vector<SnapshotRule> saved;
  std::string error;
  if (!readSnapshot(snapshot_path_, saved, error)) {
    context_.logger().warn("alert state {} not restored: {}; rules start without saved state",
                           snapshot_path_, error);
    return;
  }
  std::size_t restored = 0, changed = 0;
  for (const SnapshotRule& r : saved) {
    auto it = std::find_if(rules_.begin(), rules_.end(),
                           [&r](const auto& rule) { return rule->options.id == r.id; });
    if (it == rules_.end()) continue;
    Rule& rule = **it;
    if (rule.fingerprint != r.fingerprint) {
      ++changed;  // a changed rule starts afresh: its old state may not mean the same thing
      continue;
    }
    for (const SnapshotSeries& saved_series : r.series) {
      Series* s = seriesFor(rule, saved_series.key, nullptr);
      if (!s) break;
      s->active = saved_series.active;
      s->fired_up = saved_series.fired_up;
      s->last_fired = saved_series.last_fired;
      s->latest = saved_series.latest;
      s->last_seen_wall = saved_series.last_seen_wall;
      s->last_value = saved_series.last_value;
      s->has_value = saved_series.has_value;
      ++restored;
    }
  }
  if (!saved.empty()) {
    context_.logger().info("alert state restored: {} series; {} changed rules start afresh",
                           restored, changed);
  }
}

}  // namespace cvagent::processors::alert
