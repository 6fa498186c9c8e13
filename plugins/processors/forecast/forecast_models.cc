#include "forecast_models.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace cvagent::processors::forecast {

namespace {

// Running sums are recomputed from their window this often, so add/subtract rounding never
// accumulates over a long run.
constexpr std::size_t kRecomputeEvery = 4096;
// Weight of the past in Holt's per-candidate one-step squared error (about 50 steps).
constexpr double kHoltErrorMemory = 0.98;
constexpr std::array<double, 6> kHoltAlphas = {0.1, 0.3, 0.5, 0.7, 0.9, 1.0};
constexpr std::array<double, 3> kHoltBetas = {0.01, 0.1, 0.3};
constexpr std::size_t kMaxArOrder = 16;

}  // namespace

std::unique_ptr<Model> makeModel(ModelKind kind, const ModelSettings& settings) {
  switch (kind) {
    case ModelKind::kNaive:
      return std::make_unique<NaiveModel>();
    case ModelKind::kMovingAverage:
      return std::make_unique<MovingAverageModel>(settings.moving_average_window);
    case ModelKind::kHolt:
      return std::make_unique<HoltModel>(settings.holt_damping);
    case ModelKind::kAr:
      return std::make_unique<ArModel>(settings.ar_order, settings.ar_window);
  }
  return nullptr;
}

void NaiveModel::forecast(std::size_t max_steps, double* out) const {
  std::fill(out, out + max_steps, last_);
}

MovingAverageModel::MovingAverageModel(std::size_t window)
    : ring_(std::max<std::size_t>(1, window)) {}

void MovingAverageModel::update(double value) {
  if (count_ == ring_.size()) {
    const double leaving = ring_[next_];
    sum_ -= leaving;
    sum_sq_ -= leaving * leaving;
  } else {
    ++count_;
  }
  ring_[next_] = value;
  sum_ += value;
  sum_sq_ += value * value;
  next_ = (next_ + 1) % ring_.size();
  if (++since_recompute_ >= kRecomputeEvery) recompute();
}

void MovingAverageModel::recompute() {
  since_recompute_ = 0;
  sum_ = 0;
  sum_sq_ = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    sum_ += ring_[i];
    sum_sq_ += ring_[i] * ring_[i];
  }
}

double MovingAverageModel::stddev() const {
  const double n = static_cast<double>(ring_.size());
  const double m = sum_ / n;
  return std::sqrt(std::max(0.0, sum_sq_ / n - m * m));
}

void MovingAverageModel::forecast(std::size_t max_steps, double* out) const {
  std::fill(out, out + max_steps, mean());
}

HoltModel::HoltModel(double damping) : phi_(damping) {
  for (double alpha : kHoltAlphas) {
    for (double beta : kHoltBetas) candidates_.push_back({alpha, beta});
  }
}

void HoltModel::update(double value) {
  ++seen_;
  if (seen_ == 1) {
    for (auto& c : candidates_) c.level = value;
    return;
  }
  if (seen_ == 2) {
    for (auto& c : candidates_) {
      c.trend = value - c.level;
      c.level = value;
    }
    return;
  }
  double best_error = 0;
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    Candidate& c = candidates_[i];
    const double predicted = c.level + phi_ * c.trend;
    const double error = value - predicted;
    c.weighted_sq_error =
        kHoltErrorMemory * c.weighted_sq_error + (1 - kHoltErrorMemory) * error * error;
    const double level = c.alpha * value + (1 - c.alpha) * predicted;
    c.trend = c.beta * (level - c.level) + (1 - c.beta) * phi_ * c.trend;
    c.level = level;
    if (i == 0 || c.weighted_sq_error < best_error) {
      best_error = c.weighted_sq_error;
      best_ = i;
    }
  }
}

void HoltModel::forecast(std::size_t max_steps, double* out) const {
  const Candidate& c = candidates_[best_];
  double damping_sum = 0;
  double power = 1;
  for (std::size_t h = 0; h < max_steps; ++h) {
    power *= phi_;
    damping_sum += power;
    out[h] = c.level + damping_sum * c.trend;
  }
}

ArModel::ArModel(std::size_t order, std::size_t window)
    : order_(std::clamp<std::size_t>(order, 1, kMaxArOrder)),
      window_(std::max(window, order_ + 1)),
      window_min_(std::min(window_, std::max<std::size_t>(20, 5 * order_))),
      returns_(window_ + order_ + 1),
      autocov_sums_(order_ + 1),
      coefficients_(order_) {}

double ArModel::returnAt(std::size_t lag) const {
  return returns_[(newest_ + returns_.size() - lag) % returns_.size()];
}

void ArModel::update(double value) {
  if (!seen_) {
    last_ = value;
    seen_ = true;
    return;
  }
  const double r = std::log(value / last_);
  last_ = value;
  newest_ = (newest_ + 1) % returns_.size();
  returns_[newest_] = r;
  ++returns_seen_;
  // The newest return joins the window with every lag it has a partner for...
  const std::size_t newest_index = returns_seen_ - 1;
  for (std::size_t j = 0; j <= order_ && j <= newest_index; ++j) {
    autocov_sums_[j] += r * returnAt(j);
  }
  // ...and the one `window_` steps back leaves it, with the terms it entered with.
  if (returns_seen_ > window_) {
    const std::size_t old_index = newest_index - window_;
    const double old = returnAt(window_);
    for (std::size_t j = 0; j <= order_ && j <= old_index; ++j) {
      autocov_sums_[j] -= old * returnAt(window_ + j);
    }
  }
  if (++since_recompute_ >= kRecomputeEvery) recomputeSums();
  if (ready()) solve();
}

void ArModel::recomputeSums() {
  since_recompute_ = 0;
  std::fill(autocov_sums_.begin(), autocov_sums_.end(), 0.0);
  const std::size_t in_window = std::min(returns_seen_, window_);
  for (std::size_t lag = 0; lag < in_window; ++lag) {
    const std::size_t index = returns_seen_ - 1 - lag;
    for (std::size_t j = 0; j <= order_ && j <= index; ++j) {
      autocov_sums_[j] += returnAt(lag) * returnAt(lag + j);
    }
  }
}

// Levinson-Durbin on the window's autocovariances; a flat window (all returns 0) gives zeros.
void ArModel::solve() {
  std::array<double, kMaxArOrder> a{};
  std::array<double, kMaxArOrder> previous{};
  double error = autocov_sums_[0];
  std::fill(coefficients_.begin(), coefficients_.end(), 0.0);
  if (!(error > 0)) return;
  std::size_t solved = 0;
  for (std::size_t k = 1; k <= order_; ++k) {
    double acc = autocov_sums_[k];
    for (std::size_t j = 1; j < k; ++j) acc -= a[j - 1] * autocov_sums_[k - j];
    const double reflection = acc / error;
    if (!std::isfinite(reflection) || std::abs(reflection) >= 1) break;
    previous = a;
    for (std::size_t j = 1; j < k; ++j)
      a[j - 1] = previous[j - 1] - reflection * previous[k - j - 1];
    a[k - 1] = reflection;
    error *= 1 - reflection * reflection;
    solved = k;
    if (!(error > 0)) break;
  }
  std::copy(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(solved), coefficients_.begin());
}

void ArModel::forecast(std::size_t max_steps, double* out) const {
  std::array<double, kMaxArOrder> history{};  // history[j] = r_{t-j}
  const std::size_t known = std::min(order_, returns_seen_);
  for (std::size_t j = 0; j < known; ++j) history[j] = returnAt(j);
  double cumulative = 0;
  for (std::size_t h = 0; h < max_steps; ++h) {
    double next = 0;
    for (std::size_t j = 0; j < order_; ++j) next += coefficients_[j] * history[j];
    for (std::size_t j = order_ - 1; j > 0; --j) history[j] = history[j - 1];
    history[0] = next;
    cumulative += next;
    out[h] = last_ * std::exp(cumulative);
  }
}

SortedWindow::SortedWindow(std::size_t capacity) : ring_(std::max<std::size_t>(1, capacity)) {
  sorted_.reserve(ring_.size());
}

void SortedWindow::add(double value_in) {
  const float value = static_cast<float>(value_in);
  if (sorted_.size() < ring_.size()) {
    sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), value), value);
  } else {
    // Full: the new value takes the leaving one's slot and only the values between the two
    // positions shift by one (a third of the window on average, against all of it for an erase
    // and an insert).
    const auto leaving = std::lower_bound(sorted_.begin(), sorted_.end(), ring_[next_]);
    assert(leaving != sorted_.end() && *leaving == ring_[next_]);
    if (value > *leaving) {
      const auto to = std::upper_bound(leaving + 1, sorted_.end(), value);
      std::move(leaving + 1, to, leaving);
      *(to - 1) = value;
    } else {
      const auto to = std::upper_bound(sorted_.begin(), leaving, value);
      std::move_backward(to, leaving, leaving + 1);
      *to = value;
    }
  }
  ring_[next_] = value;
  next_ = (next_ + 1) % ring_.size();
}

bool SortedWindow::conformalQuantile(double level, double& out) const {
  const double n = static_cast<double>(sorted_.size());
  const double rank = std::ceil((n + 1) * level);
  if (rank < 1 || rank > n) return false;
  out = sorted_[static_cast<std::size_t>(rank) - 1];
  return true;
}

ErrorTracker::ErrorTracker(std::size_t capacity)
    : relative_errors_(capacity), ring_(std::max<std::size_t>(1, capacity)) {}

ErrorTracker::Change ErrorTracker::record(double predicted, double actual, bool had_interval,
                                          bool covered) {
  const double abs_before = abs_error_sum_;
  const double pct_before = abs_pct_sum_;
  const std::int64_t count_before = static_cast<std::int64_t>(count_);
  const std::int64_t with_before = with_interval_;
  const std::int64_t covered_before = covered_;

  relative_errors_.add(std::abs(actual / predicted - 1));
  if (count_ == ring_.size()) {
    const Entry& leaving = ring_[next_];
    abs_error_sum_ -= leaving.abs_error;
    abs_pct_sum_ -= leaving.abs_pct;
    if (leaving.interval_state != 0) --with_interval_;
    if (leaving.interval_state == 2) --covered_;
  } else {
    ++count_;
  }
  const Entry entry{static_cast<float>(std::abs(actual - predicted)),
                    static_cast<float>(std::abs(actual - predicted) / std::abs(actual)),
                    static_cast<std::int8_t>(had_interval ? (covered ? 2 : 1) : 0)};
  ring_[next_] = entry;
  next_ = (next_ + 1) % ring_.size();
  abs_error_sum_ += entry.abs_error;
  abs_pct_sum_ += entry.abs_pct;
  if (entry.interval_state != 0) ++with_interval_;
  if (entry.interval_state == 2) ++covered_;
  if (++since_recompute_ >= kRecomputeEvery) {
    since_recompute_ = 0;
    abs_error_sum_ = 0;
    abs_pct_sum_ = 0;
    for (std::size_t i = 0; i < count_; ++i) {
      abs_error_sum_ += ring_[i].abs_error;
      abs_pct_sum_ += ring_[i].abs_pct;
    }
  }
  return {abs_error_sum_ - abs_before, abs_pct_sum_ - pct_before,
          static_cast<std::int64_t>(count_) - count_before, with_interval_ - with_before,
          covered_ - covered_before};
}

bool ErrorTracker::interval(double predicted, double level, double& low, double& high) const {
  double q = 0;
  if (!relative_errors_.conformalQuantile(level, q)) return false;
  low = predicted * (1 - q);
  high = predicted * (1 + q);
  return true;
}

bool ErrorTracker::coverage(double& out) const {
  if (with_interval_ == 0) return false;
  out = static_cast<double>(covered_) / static_cast<double>(with_interval_);
  return true;
}

}  // namespace cvagent::processors::forecast
