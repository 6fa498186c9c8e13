#pragma once
// processors.forecast: price forecasts per series at fixed horizons, with prediction intervals
// calibrated on each model's own out-of-sample errors (split conformal), in event time. Emits
// `prediction` metrics (the data contract's prediction_data rows) and, once a forecast's target
// time has arrived, the same prediction again with `actual_price`.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cvagent/logger.h"
#include "cvagent/options.h"
#include "cvagent/plugin_context.h"
#include "cvagent/processor.h"
#include "forecast_models.h"

namespace cvagent::processors::forecast {

struct SeriesOptions {
  std::string metric = "candle";
  std::string field = "close";
  std::map<std::string, std::string> tags;
  std::chrono::nanoseconds step{std::chrono::minutes(1)};

  static void describe(Schema<SeriesOptions>& s);
};

struct ForecastOptions {
  std::vector<SeriesOptions> series{SeriesOptions{"candle", "close", {{"interval", "1m"}}}};
  std::vector<std::chrono::nanoseconds> horizons{std::chrono::minutes(1), std::chrono::minutes(5)};
  std::vector<std::string> models{"naive", "moving_average", "holt", "ar"};
  double interval_level = 0.8;
  std::int64_t error_window = 500;
  std::int64_t moving_average_window = 3;
  double holt_damping = 0.98;
  std::int64_t ar_order = 2;
  std::int64_t ar_window = 500;
  std::int64_t max_series = 1000;

  static void describe(Schema<ForecastOptions>& s);
};

// Throws std::invalid_argument naming the bad option (the factory path has already checked them).
void validate(const SeriesOptions& series);
void validate(const ForecastOptions& options);

// Base currency of a pair as prediction_data's crypto_symbol: `XBT/USD` -> `BTC`.
std::string symbolOfPair(std::string_view pair);

class ForecastProcessor final : public Processor {
 public:
  ForecastProcessor(const ForecastOptions& options, PluginContext& context);
  ~ForecastProcessor() override;

  void process(Metric&& metric, Emitter& out) override;
  void tick(std::int64_t now_ns, Emitter& out) override;
  void flush(Emitter& out) override;

 private:
  struct Pending {
    std::int64_t target_bucket = 0;
    double predicted = 0, low = 0, high = 0;
    bool has_interval = false;
  };
  // Forecasts waiting for their target; a horizon of k steps has at most k in flight.
  class PendingQueue {
   public:
    explicit PendingQueue(std::size_t capacity) : items_(capacity) {}
    bool empty() const { return size_ == 0; }
    Pending& front() { return items_[head_]; }
    void pop() {
      head_ = (head_ + 1) % items_.size();
      --size_;
    }
    void push(const Pending& p);

   private:
    std::vector<Pending> items_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
  };
  struct HorizonTrack {
    PendingQueue pending;
    ErrorTracker errors;
    Metric prototype;  // `prediction` with this track's tags: copied, cheaper than four setTag
  };
  struct ModelTrack {
    ModelKind kind;
    bool emitted;  // listed in `models` (naive is always computed, as the reference)
    std::unique_ptr<Model> model;
    std::vector<HorizonTrack> horizons;
  };
  struct Series {
    std::size_t config = 0;
    std::string symbol;
    std::string pair;
    std::int64_t last_bucket = 0;
    bool has_last = false;
    std::vector<ModelTrack> models;  // naive first
  };
  struct Aggregate {  // one model at one horizon over every series, for /metrics
    double abs_error_sum = 0;
    double abs_pct_sum = 0;
    std::int64_t count = 0;
    std::int64_t with_interval = 0;
    std::int64_t covered = 0;
    Gauge* mae = nullptr;
    Gauge* mape = nullptr;
    Gauge* coverage = nullptr;
  };
  struct SeriesConfig {
    SeriesOptions options;
    std::int64_t step_ns;
    std::vector<std::size_t> horizon_steps;
    std::size_t max_steps;
  };

  Series* seriesFor(std::size_t config, const Metric& metric);
  void addPoint(Series& series, std::int64_t bucket, double value, Emitter& out);
  void emitPrediction(const Series& series, const ModelTrack& track, std::size_t horizon,
                      const Pending& forecast, const double* actual, Emitter& out);
  void rejectPoint(const Metric& metric, std::string_view why);
  void publishGauges();

  std::vector<SeriesConfig> configs_;
  std::vector<std::string> horizon_labels_;
  std::vector<ModelKind> model_kinds_;  // naive first
  std::vector<bool> model_emitted_;
  ModelSettings settings_;
  double interval_level_;
  std::size_t error_window_;
  std::size_t max_series_;

  PluginContext& context_;
  Counter& points_;
  Counter& predictions_;
  Counter& resolved_;
  Counter& unresolved_;
  Counter& late_points_;
  Counter& nonfinite_points_;
  Counter& invalid_points_;
  Counter& series_dropped_;
  LogRateLimiter invalid_log_limit_;
  std::vector<Aggregate> aggregates_;  // [model index * horizons + horizon]

  std::vector<Series> series_;
  std::unordered_map<std::string, std::size_t> series_index_;
  std::string key_buffer_;
  std::vector<double> forecast_buffer_;
};

}  // namespace cvagent::processors::forecast
