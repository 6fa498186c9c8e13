// Runs processors.forecast on the real Kraken 1-minute candles in the repository (a REST
// /0/public/OHLC response, XBTUSDT) and prints, per model and horizon, the MAE relative to naive
// over the same targets and the coverage of the 80 % and 95 % intervals. Also prints the coverage
// of the replaced stack's own interval (3-value mean -/+ stddev) for comparison.
//
//   forecast_kraken_driver [path/to/http_ohlc.json]

#include <fmt/format.h>
#include <simdjson.h>

#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "cvagent/testing/capturing_emitter.h"
#include "cvagent/testing/test_context.h"
#include "forecast_processor.h"

namespace {

using namespace cvagent;
using namespace cvagent::processors::forecast;
using namespace std::chrono_literals;

struct Row {
  std::int64_t time_s;
  double close;
};

double number(simdjson::dom::element e) {
  if (e.is_string()) return std::stod(std::string(std::string_view(e)));
  return double(e);
}

std::vector<Row> readOhlc(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(path);
  std::vector<Row> rows;
  for (auto [key, value] : simdjson::dom::object(doc["result"])) {
    if (key == "last") continue;
    for (simdjson::dom::element row : simdjson::dom::array(value)) {
      simdjson::dom::array cells = row;
      rows.push_back({std::int64_t(cells.at(0)), number(cells.at(4))});
    }
  }
  // The last row is the minute still open when the response was recorded.
  if (!rows.empty()) rows.pop_back();
  return rows;
}

struct Resolved {
  double predicted, actual, low, high;
  bool has_interval;
};
// (model, horizon) -> target time -> resolution
using Results = std::map<std::pair<std::string, std::string>, std::map<std::int64_t, Resolved>>;

Results run(const std::vector<Row>& rows, double level) {
  testing::TestContext context;
  ForecastOptions options;
  options.horizons = {1min, 5min};
  options.interval_level = level;
  ForecastProcessor processor(options, context);
  testing::CapturingEmitter out;
  Results results;
  for (const Row& r : rows) {
    Metric m("candle", r.time_s * 1'000'000'000);
    m.setTag("exchange", "kraken");
    m.setTag("interval", "1m");
    m.setTag("pair", "XBT/USDT");
    m.setField("close", r.close);
    m.setField("partial", false);
    processor.process(std::move(m), out);
    for (const Metric& p : out.take()) {
      double actual = 0;
      if (p.name() != "prediction" || !p.numberField("actual_price", actual)) continue;
      Resolved res{};
      res.actual = actual;
      p.numberField("predicted_price", res.predicted);
      res.has_interval = p.numberField("ci_low", res.low) && p.numberField("ci_high", res.high);
      results[{*p.tag("model"), *p.tag("horizon")}][p.time()] = res;
    }
  }
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : KRAKEN_OHLC_PATH;
  const auto rows = readOhlc(path);
  std::int64_t flat = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) flat += rows[i].close == rows[i - 1].close;
  fmt::print("{}: {} closed 1m candles, {} unchanged from the previous close\n", path, rows.size(),
             flat);

  const Results at80 = run(rows, 0.8);
  const Results at95 = run(rows, 0.95);
  fmt::print("{:<16} {:>7} {:>8} {:>10} {:>12} {:>8} {:>8}\n", "model", "horizon", "targets", "MAE",
             "MAE/naive", "cov80", "cov95");
  for (const std::string horizon : {"1m", "5m"}) {
    // Targets every model resolved, so each MAE is over the same minutes.
    std::vector<std::int64_t> common;
    for (const auto& [target, _] : at80.at({"ar", horizon})) {
      bool all = true;
      for (auto name : kModelNames) {
        all = all && at80.at({std::string(name), horizon}).count(target) &&
              at95.at({std::string(name), horizon}).count(target);
      }
      if (all) common.push_back(target);
    }
    auto mae = [&](const std::string& model) {
      double sum = 0;
      for (auto t : common) {
        const Resolved& r = at80.at({model, horizon}).at(t);
        sum += std::abs(r.actual - r.predicted);
      }
      return sum / static_cast<double>(common.size());
    };
    auto coverage = [&](const Results& results, const std::string& model) {
      std::int64_t with = 0, covered = 0;
      for (auto t : common) {
        const Resolved& r = results.at({model, horizon}).at(t);
        if (!r.has_interval) continue;
        ++with;
        covered += r.actual >= r.low && r.actual <= r.high;
      }
      return with ? 100.0 * static_cast<double>(covered) / static_cast<double>(with) : NAN;
    };
    const double naive = mae("naive");
    for (auto name : kModelNames) {
      const std::string model(name);
      fmt::print("{:<16} {:>7} {:>8} {:>10.3f} {:>12.3f} {:>7.1f}% {:>7.1f}%\n", model, horizon,
                 common.size(), mae(model), mae(model) / naive, coverage(at80, model),
                 coverage(at95, model));
    }
  }

  // The replaced stack's interval: mean -/+ stddev of the last 3 values, taken as a forecast of
  // the next minute.
  MovingAverageModel old(3);
  std::int64_t with = 0, covered = 0;
  for (const Row& r : rows) {
    if (old.ready()) {
      ++with;
      covered += std::abs(r.close - old.mean()) <= old.stddev();
    }
    old.update(r.close);
  }
  fmt::print("old stack interval (3-value mean -/+ stddev) as a 1m forecast: {:.1f}% coverage\n",
             100.0 * static_cast<double>(covered) / static_cast<double>(with));
  return 0;
}
