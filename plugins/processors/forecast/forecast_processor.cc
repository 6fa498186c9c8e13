#include "forecast_processor.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "cvagent/text.h"

namespace cvagent::processors::forecast {

namespace {

// A horizon this many steps ahead keeps that many forecasts in flight per model and series.
constexpr std::int64_t kMaxHorizonSteps = 10'000;

// Numeric fields of the data contract's metrics (architecture §7), so a series naming a field its
// metric never has is a configuration error rather than a forecaster that silently never runs.
// Metrics outside this table (a third-party input's) are taken on trust.
struct KnownMetric {
  std::string_view name;
  std::vector<std::string> fields;
};
const std::vector<KnownMetric>& knownMetrics() {
  static const std::vector<KnownMetric> known = {
      {"ticker",
       {"last", "bid", "ask", "volume_24h", "bid_qty", "ask_qty", "vwap", "low", "high", "change",
        "change_pct"}},
      {"trade", {"price", "volume"}},
      {"candle", {"open", "high", "low", "close", "volume", "vwap", "trades"}},
      {"book", {"best_bid", "best_bid_qty", "best_ask", "best_ask_qty", "spread", "mid"}},
      {"sentiment", {"score", "confidence", "articles"}},
  };
  return known;
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

std::string modelList() {
  std::string out;
  for (auto name : kModelNames) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

}  // namespace

void SeriesOptions::describe(Schema<SeriesOptions>& s) {
  s.option("metric", &SeriesOptions::metric, "Name of the metrics that carry the series.")
      .required();
  s.option("field", &SeriesOptions::field,
           "Numeric field to forecast; values must be positive prices (log returns).")
      .required();
  s.option("tags", &SeriesOptions::tags,
           "Only metrics whose tags match these patterns (`*` and `?` globs). Each distinct tag "
           "set of a matching metric is its own series.")
      .example("{interval: 1m, pair: \"BTC/*\"}");
  s.option("step", &SeriesOptions::step,
           "Grid of the series in event time: the first value of each step (aligned to UTC "
           "multiples of `step`) is the step's value; later ones in the same step are skipped. "
           "Candles: their interval.")
      .min(0.001);
  s.check([](const SeriesOptions& o, const SourceMark&, Diagnostics&) { validate(o); });
}

void ForecastOptions::describe(Schema<ForecastOptions>& s) {
  s.option("series", &ForecastOptions::series,
           "What to forecast, one entry per kind of series. Default: the 1m candle close, "
           "`[{metric: candle, field: close, tags: {interval: 1m}}]`.");
  s.option("horizons", &ForecastOptions::horizons,
           "How far ahead to forecast; each a positive whole number of every series' `step`. "
           "Each becomes the prediction's `horizon` tag.")
      .example("[1m, 5m]");
  s.option("models", &ForecastOptions::models,
           "Models to emit predictions of. `naive` is always computed as the reference of "
           "`relative_mae`, even when not listed.")
      .oneOf({kModelNames.begin(), kModelNames.end()});
  s.option("interval_level", &ForecastOptions::interval_level,
           "Nominal coverage of ci_low..ci_high (split-conformal quantile of each model's own "
           "recent relative errors at that horizon).")
      .min(0.5)
      .max(0.999);
  s.option("error_window", &ForecastOptions::error_window,
           "Resolved forecasts per model, horizon and series that calibrate the interval and give "
           "the rolling mae, mape and coverage.")
      .min(10)
      .max(100'000);
  s.option("moving_average_window", &ForecastOptions::moving_average_window,
           "Steps averaged by `moving_average` (the replaced stack used 3 minutes).")
      .min(1)
      .max(100'000);
  s.option("holt_damping", &ForecastOptions::holt_damping,
           "Trend damping phi of `holt` (1: undamped; the trend of h steps ahead is "
           "phi + ... + phi^h times the current one).")
      .min(0.5)
      .max(1);
  s.option("ar_order", &ForecastOptions::ar_order, "Lags of `ar` (AR(p) on log returns).")
      .min(1)
      .max(16);
  s.option("ar_window", &ForecastOptions::ar_window,
           "Steps of log returns `ar` estimates its coefficients from (Yule-Walker).")
      .min(20)
      .max(100'000);
  s.option("max_series", &ForecastOptions::max_series,
           "Series kept at most (memory is bounded per series); metrics of further series pass "
           "on unforecast and are counted.")
      .min(1);
  s.check([](const ForecastOptions& o, const SourceMark&, Diagnostics&) { validate(o); });
}

void validate(const SeriesOptions& series) {
  if (series.metric.empty()) throw std::invalid_argument("forecast: series `metric` is empty");
  if (series.field.empty()) throw std::invalid_argument("forecast: series `field` is empty");
  if (series.step.count() <= 0) {
    throw std::invalid_argument("forecast: series `step` must be positive");
  }
  for (const auto& known : knownMetrics()) {
    if (known.name != series.metric) continue;
    if (std::find(known.fields.begin(), known.fields.end(), series.field) != known.fields.end()) {
      return;
    }
    std::string message =
        "forecast: `" + series.metric + "` metrics have no numeric field `" + series.field + "`";
    const std::string hint = didYouMean(series.field, known.fields);
    if (!hint.empty()) message += "; did you mean '" + hint + "'?";
    throw std::invalid_argument(message);
  }
}

void validate(const ForecastOptions& options) {
  if (options.series.empty()) throw std::invalid_argument("forecast: `series` is empty");
  for (const auto& s : options.series) validate(s);
  if (options.horizons.empty()) throw std::invalid_argument("forecast: `horizons` is empty");
  for (std::size_t i = 0; i < options.horizons.size(); ++i) {
    const auto horizon = options.horizons[i];
    const std::string label = formatDuration(horizon);
    if (horizon.count() <= 0) {
      throw std::invalid_argument("forecast: horizon `" + label + "` must be positive");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (options.horizons[j] == horizon) {
        throw std::invalid_argument("forecast: horizon `" + label + "` is listed twice");
      }
    }
    for (const auto& s : options.series) {
      if (horizon.count() % s.step.count() != 0 ||
          horizon.count() / s.step.count() > kMaxHorizonSteps) {
        throw std::invalid_argument("forecast: horizon `" + label +
                                    "` must be a whole number of steps (at most 10000) of the `" +
                                    s.metric + "` series' step `" + formatDuration(s.step) + "`");
      }
    }
  }
  if (options.models.empty()) throw std::invalid_argument("forecast: `models` is empty");
  for (std::size_t i = 0; i < options.models.size(); ++i) {
    if (std::find(kModelNames.begin(), kModelNames.end(), options.models[i]) == kModelNames.end()) {
      throw std::invalid_argument("forecast: unknown model `" + options.models[i] +
                                  "` (known: " + modelList() + ")");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (options.models[j] == options.models[i]) {
        throw std::invalid_argument("forecast: model `" + options.models[i] + "` is listed twice");
      }
    }
  }
  if (!(options.interval_level >= 0.5 && options.interval_level < 1)) {
    throw std::invalid_argument("forecast: `interval_level` must be in [0.5, 1)");
  }
  if (options.error_window < 10) throw std::invalid_argument("forecast: `error_window` < 10");
  if (options.moving_average_window < 1) {
    throw std::invalid_argument("forecast: `moving_average_window` < 1");
  }
  if (!(options.holt_damping >= 0.5 && options.holt_damping <= 1)) {
    throw std::invalid_argument("forecast: `holt_damping` must be in [0.5, 1]");
  }
  if (options.ar_order < 1 || options.ar_order > 16) {
    throw std::invalid_argument("forecast: `ar_order` must be 1 to 16");
  }
  if (options.ar_window < 20) throw std::invalid_argument("forecast: `ar_window` < 20");
  if (options.max_series < 1) throw std::invalid_argument("forecast: `max_series` < 1");
}

std::string symbolOfPair(std::string_view pair) {
  const std::size_t slash = pair.find('/');
  std::string base(pair.substr(0, slash));
  if (base == "XBT") base = "BTC";
  return base;
}

void ForecastProcessor::PendingQueue::push(const Pending& p) {
  // Capacity is the horizon in steps plus one and targets are distinct steps, so this never
  // overflows; an overflow would be a bookkeeping bug.
  if (size_ == items_.size()) pop();
  items_[(head_ + size_) % items_.size()] = p;
  ++size_;
}

ForecastProcessor::ForecastProcessor(const ForecastOptions& options, PluginContext& context)
    : interval_level_(options.interval_level),
      error_window_(static_cast<std::size_t>(options.error_window)),
      max_series_(static_cast<std::size_t>(options.max_series)),
      context_(context),
      points_(
          context.counter("forecast_points_total", "Series values the models were updated with.")),
      predictions_(context.counter("forecast_predictions_total",
                                   "Prediction metrics emitted at forecast time.")),
      resolved_(context.counter("forecast_resolved_total",
                                "Predictions re-emitted with actual_price once their target "
                                "step arrived.")),
      unresolved_(context.counter("forecast_unresolved_total",
                                  "Predictions whose target step never had a value (a gap in "
                                  "the series); they get no actual_price.")),
      late_points_(context.counter("forecast_late_points_total",
                                   "Values in a step the series had already used or passed "
                                   "(out of order, duplicates, amended candles); skipped.")),
      nonfinite_points_(context.counter("forecast_nonfinite_points_total",
                                        "NaN or infinite values; skipped, no model sees them.")),
      invalid_points_(context.counter("forecast_invalid_points_total",
                                      "Matching metrics without the numeric field, with a value "
                                      "<= 0, or without a pair or symbol tag; skipped.")),
      series_dropped_(context.counter("forecast_series_dropped_total",
                                      "Values of series beyond max_series; not forecast.")) {
  validate(options);
  settings_.moving_average_window = static_cast<std::size_t>(options.moving_average_window);
  settings_.holt_damping = options.holt_damping;
  settings_.ar_order = static_cast<std::size_t>(options.ar_order);
  settings_.ar_window = static_cast<std::size_t>(options.ar_window);
  for (const auto& h : options.horizons) horizon_labels_.push_back(formatDuration(h));
  std::size_t max_steps_all = 0;
  for (const auto& s : options.series) {
    SeriesConfig config{s, s.step.count(), {}, 0};
    for (const auto& h : options.horizons) {
      config.horizon_steps.push_back(static_cast<std::size_t>(h.count() / s.step.count()));
      config.max_steps = std::max(config.max_steps, config.horizon_steps.back());
    }
    max_steps_all = std::max(max_steps_all, config.max_steps);
    configs_.push_back(std::move(config));
  }
  forecast_buffer_.resize(max_steps_all);
  for (std::size_t k = 0; k < kModelNames.size(); ++k) {
    const bool listed = std::find(options.models.begin(), options.models.end(), kModelNames[k]) !=
                        options.models.end();
    if (listed || static_cast<ModelKind>(k) == ModelKind::kNaive) {
      model_kinds_.push_back(static_cast<ModelKind>(k));
      model_emitted_.push_back(listed);
    }
  }
  for (std::size_t m = 0; m < model_kinds_.size(); ++m) {
    for (std::size_t h = 0; h < horizon_labels_.size(); ++h) {
      Aggregate a;
      const std::string prefix =
          "forecast_" + std::string(kModelNames[static_cast<std::size_t>(model_kinds_[m])]) + "_" +
          horizon_labels_[h];
      a.mae = &context.gauge(prefix + "_mae",
                             "Rolling mean absolute error (quote currency) over every series' "
                             "error window.");
      a.mape = &context.gauge(prefix + "_mape", "Rolling mean absolute percentage error, %.");
      a.coverage = &context.gauge(prefix + "_coverage",
                                  "Share of resolved forecasts whose actual fell inside "
                                  "ci_low..ci_high (nominal: interval_level).");
      aggregates_.push_back(a);
    }
  }
}

ForecastProcessor::~ForecastProcessor() = default;

void ForecastProcessor::rejectPoint(const Metric& metric, std::string_view why) {
  invalid_points_.inc();
  invalid_log_limit_.warn(context_.logger(), "{} at {} not forecast: {}", metric.name(),
                          metric.time(), why);
}

ForecastProcessor::Series* ForecastProcessor::seriesFor(std::size_t config, const Metric& metric) {
  key_buffer_.clear();
  key_buffer_ += std::to_string(config);
  for (const auto& tag : metric.tags()) {
    key_buffer_ += '\x1f';
    key_buffer_ += tag.key;
    key_buffer_ += '\x1e';
    key_buffer_ += tag.value;
  }
  auto it = series_index_.find(key_buffer_);
  if (it != series_index_.end()) return &series_[it->second];

  const std::string* pair = metric.tag("pair");
  const std::string* symbol = metric.tag("symbol");
  if ((!pair || pair->empty()) && (!symbol || symbol->empty())) {
    rejectPoint(metric, "no pair or symbol tag (prediction_data needs crypto_symbol)");
    return nullptr;
  }
  if (series_.size() >= max_series_) {
    series_dropped_.inc();
    return nullptr;
  }
  Series series;
  series.config = config;
  if (pair) series.pair = *pair;
  series.symbol = symbol && !symbol->empty() ? *symbol : symbolOfPair(*pair);
  const SeriesConfig& c = configs_[config];
  for (std::size_t m = 0; m < model_kinds_.size(); ++m) {
    ModelTrack track{model_kinds_[m], model_emitted_[m], makeModel(model_kinds_[m], settings_), {}};
    for (std::size_t h = 0; h < c.horizon_steps.size(); ++h) {
      Metric prototype("prediction", 0);
      prototype.reserveTags(4);
      prototype.setTag("horizon", horizon_labels_[h]);
      prototype.setTag("model", kModelNames[static_cast<std::size_t>(track.kind)]);
      if (!series.pair.empty()) prototype.setTag("pair", series.pair);
      prototype.setTag("symbol", series.symbol);
      track.horizons.push_back({PendingQueue(c.horizon_steps[h] + 1), ErrorTracker(error_window_),
                                std::move(prototype)});
    }
    series.models.push_back(std::move(track));
  }
  series_.push_back(std::move(series));
  series_index_.emplace(key_buffer_, series_.size() - 1);
  return &series_.back();
}

void ForecastProcessor::process(Metric&& metric, Emitter& out) {
  for (std::size_t c = 0; c < configs_.size(); ++c) {
    const SeriesOptions& options = configs_[c].options;
    if (metric.name() != options.metric) continue;
    bool match = true;
    for (const auto& [key, pattern] : options.tags) {
      const std::string* value = metric.tag(key);
      if (!value || !globMatch(pattern, *value)) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    // An open candle (emit_partial) is not the step's value yet; its final form follows.
    if (const FieldValue* partial = metric.field("partial")) {
      const bool* flag = std::get_if<bool>(partial);
      if (flag && *flag) continue;
    }
    double value = 0;
    if (!metric.numberField(options.field, value)) {
      rejectPoint(metric, "no numeric `" + options.field + "` field");
      continue;
    }
    if (!std::isfinite(value)) {
      nonfinite_points_.inc();
      continue;
    }
    if (value <= 0) {
      rejectPoint(metric, "`" + options.field + "` is not a positive price");
      continue;
    }
    Series* series = seriesFor(c, metric);
    if (!series) continue;
    addPoint(*series, floorDiv(metric.time(), configs_[c].step_ns), value, out);
  }
  out.emit(std::move(metric));
}

void ForecastProcessor::addPoint(Series& series, std::int64_t bucket, double value, Emitter& out) {
  if (series.has_last && bucket <= series.last_bucket) {
    late_points_.inc();
    return;
  }
  series.has_last = true;
  series.last_bucket = bucket;
  points_.inc();
  const SeriesConfig& config = configs_[series.config];

  // Score what was forecast for this step first (naive before the others, for relative_mae),
  // then let the models see the value, then forecast from it.
  for (std::size_t m = 0; m < series.models.size(); ++m) {
    ModelTrack& track = series.models[m];
    for (std::size_t h = 0; h < track.horizons.size(); ++h) {
      HorizonTrack& horizon = track.horizons[h];
      while (!horizon.pending.empty() && horizon.pending.front().target_bucket < bucket) {
        horizon.pending.pop();
        unresolved_.inc();
      }
      if (horizon.pending.empty() || horizon.pending.front().target_bucket != bucket) continue;
      const Pending forecast = horizon.pending.front();
      horizon.pending.pop();
      const bool covered = forecast.has_interval && value >= forecast.low && value <= forecast.high;
      const auto change =
          horizon.errors.record(forecast.predicted, value, forecast.has_interval, covered);
      Aggregate& a = aggregates_[m * horizon_labels_.size() + h];
      a.abs_error_sum += change.abs_error_delta;
      a.abs_pct_sum += change.abs_pct_delta;
      a.count += change.count_delta;
      a.with_interval += change.with_interval_delta;
      a.covered += change.covered_delta;
      if (track.emitted) {
        emitPrediction(series, track, h, forecast, &value, out);
        resolved_.inc();
      }
    }
  }
  for (ModelTrack& track : series.models) {
    track.model->update(value);
    if (!track.model->ready()) continue;
    track.model->forecast(config.max_steps, forecast_buffer_.data());
    for (std::size_t h = 0; h < track.horizons.size(); ++h) {
      const std::size_t steps = config.horizon_steps[h];
      Pending forecast;
      forecast.target_bucket = bucket + static_cast<std::int64_t>(steps);
      forecast.predicted = forecast_buffer_[steps - 1];
      if (!std::isfinite(forecast.predicted) || forecast.predicted <= 0) continue;
      forecast.has_interval = track.horizons[h].errors.interval(forecast.predicted, interval_level_,
                                                                forecast.low, forecast.high);
      track.horizons[h].pending.push(forecast);
      if (track.emitted) {
        emitPrediction(series, track, h, forecast, nullptr, out);
        predictions_.inc();
      }
    }
  }
}

void ForecastProcessor::emitPrediction(const Series& series, const ModelTrack& track,
                                       std::size_t horizon, const Pending& forecast,
                                       const double* actual, Emitter& out) {
  const SeriesConfig& config = configs_[series.config];
  Metric m = track.horizons[horizon].prototype;
  m.setTime(forecast.target_bucket * config.step_ns);
  m.reserveFields(8);
  m.setField("predicted_price", forecast.predicted);
  if (forecast.has_interval) {
    m.setField("ci_low", forecast.low);
    m.setField("ci_high", forecast.high);
  }
  if (actual) m.setField("actual_price", *actual);
  const ErrorTracker& errors = track.horizons[horizon].errors;
  if (errors.count() > 0) {
    m.setField("mae", errors.mae());
    m.setField("mape", errors.mape());
    double coverage = 0;
    if (errors.coverage(coverage)) m.setField("coverage", coverage);
    const double naive_mae = series.models.front().horizons[horizon].errors.mae();
    if (naive_mae > 0) m.setField("relative_mae", errors.mae() / naive_mae);
  }
  out.emit(std::move(m));
}

void ForecastProcessor::publishGauges() {
  for (const Aggregate& a : aggregates_) {
    if (a.count == 0) continue;
    a.mae->set(a.abs_error_sum / static_cast<double>(a.count));
    a.mape->set(100 * a.abs_pct_sum / static_cast<double>(a.count));
    if (a.with_interval > 0) {
      a.coverage->set(static_cast<double>(a.covered) / static_cast<double>(a.with_interval));
    }
  }
}

void ForecastProcessor::tick(std::int64_t, Emitter&) { publishGauges(); }

void ForecastProcessor::flush(Emitter&) {
  // Pending forecasts cannot be resolved without their actual; they stay, so a running instance
  // still resolves them when the values come.
  publishGauges();
}

}  // namespace cvagent::processors::forecast
