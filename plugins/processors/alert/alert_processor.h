#pragma once
// processors.alert: rules over the metric stream, in event time, that emit `alert` metrics (the
// data contract's rawalert / alert_data) when a condition fires and again, with resolved=true, when
// it clears. Kinds: change over a window, threshold crossing, z-score against a rolling window,
// absence of a series (checked on ticks), and forecast misses (actual outside a prediction
// interval). Firing state is snapshotted in the instance's state directory so a restart or a reload
// does not re-fire the alerts already active.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "cvagent/processor.h"
#include "message_template.h"

namespace cvagent::processors::alert {

struct RuleOptions {
  std::string id;
  std::string kind;
  std::string metric;
  std::map<std::string, std::string> tags;
  std::vector<std::string> by;
  std::string field;
  std::chrono::nanoseconds window{0};
  std::optional<double> threshold_pct;
  std::string direction = "both";
  std::optional<double> above;
  std::optional<double> below;
  std::optional<double> threshold;
  std::int64_t min_samples = 20;
  std::string lower_field = "ci_low";
  std::string upper_field = "ci_high";
  std::string predicted_field = "predicted_price";
  std::chrono::nanoseconds cooldown{std::chrono::minutes(5)};
  double hysteresis_pct = 0;
  std::string severity = "warning";
  std::string message;

  static void describe(Schema<RuleOptions>& s);
};

struct AlertOptions {
  std::vector<RuleOptions> rules;
  std::chrono::nanoseconds snapshot_interval{std::chrono::seconds(10)};
  std::int64_t max_series = 100'000;

  static void describe(Schema<AlertOptions>& s);
};

// Throws std::invalid_argument naming the rule and the option at fault.
void validate(const RuleOptions& rule);
void validate(const AlertOptions& options);

// Canonical text of the options that decide when a rule fires: equal text, same rule (its state
// carries over a reload).
std::string ruleFingerprint(const RuleOptions& rule);

enum class Kind { kChange, kThreshold, kZscore, kAbsence, kForecastMiss };

class AlertProcessor final : public Processor {
 public:
  AlertProcessor(const AlertOptions& options, PluginContext& context);
  ~AlertProcessor() override;

  void process(Metric&& metric, Emitter& out) override;
  void tick(std::int64_t now_ns, Emitter& out) override;
  void flush(Emitter& out) override;

  // Writes the firing state now (also done on flush and every snapshot_interval on ticks).
  bool saveSnapshot();

 private:
  static constexpr std::int64_t kNoTime = INT64_MIN;

  // One slot of a window: the samples of window/kSlotsPerWindow of event time, aggregated, so a
  // window's memory is bounded whatever the feed's rate.
  struct Slot {
    std::int64_t index = 0;  // floor(time / slot_ns)
    std::int64_t last_time = 0;
    double last_value = 0;
    double count = 0;
    double sum = 0;    // of (value - shift)
    double sumsq = 0;  // of (value - shift)^2
  };
  struct Series {
    std::string key;      // metric name and tags, canonical
    std::string subject;  // the alert's pair tag: the pair, else the symbol
    std::vector<Tag> tags;
    std::int64_t latest = kNoTime;      // latest event time evaluated
    std::int64_t last_fired = kNoTime;  // time of the last alert fired (cooldown)
    std::int64_t last_seen_wall = 0;    // absence: wall time of the latest matching metric
    double last_value = 0;
    bool has_value = false;
    bool active = false;   // fired and not yet cleared
    bool fired_up = true;  // change: the direction that fired (PRICE_UP / PRICE_DOWN)
    std::deque<Slot> slots;
    double shift = 0;
    double total_count = 0, total_sum = 0, total_sumsq = 0;
  };
  struct Rule {
    RuleOptions options;
    Kind kind;
    int direction = 0;  // change: +1 up, -1 down, 0 both
    std::string fingerprint;
    std::string window_text;
    std::int64_t window_ns = 0;
    std::int64_t slot_ns = 1;
    std::int64_t cooldown_ns = 0;
    double hysteresis = 0;  // fraction
    MessageTemplate message;
    std::deque<Series> series;  // deque: bindings point into it
    std::unordered_map<std::string, Series*> series_index;
    bool full_logged = false;
  };
  struct Binding {
    Rule* rule;
    Series* series;
  };
  struct Outcome {
    double last = 0, change = 0, threshold = 0;
    bool up = true;
    double extra = 0;  // zscore: z; absence: seconds of silence
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };

  struct FieldCache {
    const std::string* name = nullptr;
    double value = 0;
    bool found = false;
    std::int64_t wall = 0;  // arrival time for absence rules, read once per metric
  };

  const std::vector<Binding>& bindingsFor(const Metric& metric);
  Series* seriesFor(Rule& rule, const std::string& key, const Metric* metric);
  void evaluate(Rule& rule, Series& series, const Metric& metric, FieldCache& cache, Emitter& out);
  void emitAlert(const Rule& rule, const Series& series, const Outcome& outcome, bool resolved,
                 std::int64_t time, const Metric* source, Emitter& out);
  void decide(Rule& rule, Series& series, bool firing, bool cleared, const Outcome& outcome,
              std::int64_t time, const Metric* source, Emitter& out);
  void addSample(const Rule& rule, Series& series, std::int64_t time, double value);
  void evictSlots(const Rule& rule, Series& series, std::int64_t boundary);
  void loadSnapshot();

  std::vector<std::unique_ptr<Rule>> rules_;
  std::vector<std::string> metric_names_;  // distinct `metric` of the rules
  std::unordered_map<std::string, std::vector<Binding>, KeyHash, KeyEq> bindings_;
  std::string key_buffer_;
  std::string series_key_;
  std::vector<Binding> uncached_bindings_;
  std::int64_t snapshot_interval_ns_;
  std::size_t max_series_;
  std::string snapshot_path_;
  std::int64_t last_snapshot_wall_ = 0;
  bool dirty_ = false;

  PluginContext& context_;
  Counter& alerts_fired_;
  Counter& alerts_resolved_;
  Counter& suppressed_;
  Counter& late_;
  Counter& invalid_;
  Counter& series_dropped_;
  LogRateLimiter log_limit_;
};

}  // namespace cvagent::processors::alert
