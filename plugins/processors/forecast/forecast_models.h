#pragma once
// The forecasting models of processors.forecast and their error bookkeeping, free of the plugin
// machinery so the driver and the tests use them directly. Every model sees one value per step
// (a regular grid in event time) and forecasts `steps` steps ahead; all are O(1) or O(order^2)
// per step with fixed-size state.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace cvagent::processors::forecast {

enum class ModelKind { kNaive, kMovingAverage, kHolt, kAr };
inline constexpr std::array<std::string_view, 4> kModelNames = {"naive", "moving_average", "holt",
                                                                "ar"};

struct ModelSettings {
  std::size_t moving_average_window = 3;  // steps
  double holt_damping = 0.98;             // phi; 1 = undamped Holt
  std::size_t ar_order = 2;
  std::size_t ar_window = 500;  // steps of log returns the Yule-Walker estimate looks at
};

class Model {
 public:
  virtual ~Model() = default;
  // Values reaching a model are finite and positive (the processor filters the rest).
  virtual void update(double value) = 0;
  // False until the model has seen enough values to forecast.
  virtual bool ready() const = 0;
  // Forecasts for 1..max_steps steps ahead into out[0..max_steps-1] (one call per step, so
  // multi-step recursions run once for all horizons).
  virtual void forecast(std::size_t max_steps, double* out) const = 0;
};

std::unique_ptr<Model> makeModel(ModelKind kind, const ModelSettings& settings);

// Last value.
class NaiveModel final : public Model {
 public:
  void update(double value) override {
    last_ = value;
    seen_ = true;
  }
  bool ready() const override { return seen_; }
  void forecast(std::size_t max_steps, double* out) const override;

 private:
  double last_ = 0;
  bool seen_ = false;
};

// The replaced stack's "prediction": the mean of the last `window` values, for every horizon.
class MovingAverageModel final : public Model {
 public:
  explicit MovingAverageModel(std::size_t window);
  void update(double value) override;
  bool ready() const override { return count_ == ring_.size(); }
  void forecast(std::size_t max_steps, double* out) const override;
  double mean() const { return sum_ / static_cast<double>(ring_.size()); }
  // Population standard deviation of the window (the old stack's interval was mean -/+ this).
  double stddev() const;

 private:
  void recompute();
  std::vector<double> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  std::size_t since_recompute_ = 0;
  double sum_ = 0;
  double sum_sq_ = 0;
};

// Damped additive Holt (level + trend). The smoothing weights are chosen online: a small grid of
// (alpha, beta) runs side by side and the one with the lowest exponentially weighted one-step
// squared error forecasts, so a random walk ends up near alpha = 1 and a steady trend keeps a
// trend weight.
class HoltModel final : public Model {
 public:
  explicit HoltModel(double damping);
  void update(double value) override;
  bool ready() const override { return seen_ >= 2; }
  void forecast(std::size_t max_steps, double* out) const override;
  double level() const { return candidates_[best_].level; }
  double trend() const { return candidates_[best_].trend; }

  struct Candidate {
    double alpha, beta;
    double level = 0, trend = 0;
    double weighted_sq_error = 0;
  };

 private:
  double phi_;
  std::vector<Candidate> candidates_;
  std::size_t best_ = 0;
  std::int64_t seen_ = 0;
};

// AR(p) on log returns r_t = ln(x_t / x_{t-1}), zero mean, coefficients from the Yule-Walker
// equations over a sliding window of returns (Levinson-Durbin each step). Multi-step forecasts
// iterate the recursion and compound the predicted returns.
class ArModel final : public Model {
 public:
  ArModel(std::size_t order, std::size_t window);
  void update(double value) override;
  bool ready() const override { return returns_seen_ >= window_min_; }
  void forecast(std::size_t max_steps, double* out) const override;
  const std::vector<double>& coefficients() const { return coefficients_; }

 private:
  double returnAt(std::size_t lag) const;  // r_{t-lag}, lag 0 = newest
  void solve();
  void recomputeSums();

  std::size_t order_;
  std::size_t window_;
  std::size_t window_min_;
  std::vector<double> returns_;  // ring of window_ + order_ returns
  std::size_t newest_ = 0;
  std::size_t returns_seen_ = 0;
  std::size_t since_recompute_ = 0;
  std::vector<double> autocov_sums_;  // sum over the window of r_t * r_{t-j}, j = 0..order
  std::vector<double> coefficients_;
  double last_ = 0;
  bool seen_ = false;
};

// A sliding window of values kept both in arrival order and sorted, so a quantile is one index
// and an update is two binary searches and one memmove of the values between the leaving and the
// new one. Stored as float (7 digits are plenty for an error quantile): half the memory, and the
// windows of many series are what the processor's cache misses are made of.
class SortedWindow {
 public:
  explicit SortedWindow(std::size_t capacity);
  // Adds a value; when full, the oldest leaves first.
  void add(double value);
  std::size_t size() const { return sorted_.size(); }
  // The split-conformal quantile for coverage `level`: the ceil((n + 1) * level)-th smallest of
  // the n values, or false when n is too small for that level.
  bool conformalQuantile(double level, double& out) const;

 private:
  std::vector<float> ring_;
  std::size_t next_ = 0;
  std::vector<float> sorted_;
};

// Realised errors of one model at one horizon over the last `capacity` resolved forecasts:
// relative errors for the intervals, and rolling MAE, MAPE and interval coverage.
class ErrorTracker {
 public:
  explicit ErrorTracker(std::size_t capacity);
  struct Change {  // what one record added and evicted, for aggregates across series
    double abs_error_delta = 0;
    double abs_pct_delta = 0;
    std::int64_t count_delta = 0;
    std::int64_t with_interval_delta = 0;
    std::int64_t covered_delta = 0;
  };
  // `had_interval`: the forecast carried an interval; `covered`: the actual fell inside it.
  Change record(double predicted, double actual, bool had_interval, bool covered);
  bool interval(double predicted, double level, double& low, double& high) const;
  std::size_t count() const { return count_; }
  double mae() const { return count_ ? abs_error_sum_ / static_cast<double>(count_) : 0; }
  double mape() const { return count_ ? 100 * abs_pct_sum_ / static_cast<double>(count_) : 0; }
  // Share of forecasts with an interval whose actual fell inside it; false when none had one.
  bool coverage(double& out) const;

 private:
  struct Entry {
    double abs_error;
    double abs_pct;              // |actual - predicted| / actual
    std::int8_t interval_state;  // 0 none, 1 missed, 2 covered
  };
  SortedWindow relative_errors_;
  std::vector<Entry> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  double abs_error_sum_ = 0;
  double abs_pct_sum_ = 0;
  std::int64_t with_interval_ = 0;
  std::int64_t covered_ = 0;
  std::size_t since_recompute_ = 0;
};

}  // namespace cvagent::processors::forecast
