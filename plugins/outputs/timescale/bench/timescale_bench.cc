// Rows per second sustained into trade_data, COPY path against multi-row INSERT, in one run.
//
// Server: $CVAGENT_BENCH_PG_URL if set (any PostgreSQL or TimescaleDB; a scratch database is
// created on it), else a private PostgreSQL 15 started here with default durability settings
// (fsync and synchronous_commit on). Each iteration writes one batch of new trades, as the core's
// worker does; items_per_second is rows stored per second, wall clock (the server does most of
// the work, in another process).
//
//   bench_output_timescale --benchmark_min_time=2

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "pg_test_util.h"
#include "tables.h"
#include "timescale_output.h"

namespace cvagent::outputs::timescale {
namespace {

using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;

constexpr std::int64_t kT0 = 1795962600000000000;
const char* const kPairs[] = {"BTC/USD", "ETH/USD",  "SOL/USD", "ADA/USD",
                              "DOT/USD", "LINK/USD", "XRP/USD", "LTC/USD"};

struct Database {
  std::unique_ptr<testing::PgServer> server;
  std::unique_ptr<testing::ScratchDatabase> scratch;
  std::string url;
};

Database& database() {
  static Database db = [] {
    Database d;
    const char* url = std::getenv("CVAGENT_BENCH_PG_URL");
    if (url && *url) {
      d.scratch = std::make_unique<testing::ScratchDatabase>(url);
      d.url = d.scratch->url();
    } else {
      d.server = std::make_unique<testing::PgServer>();
      d.url = d.server->url();
    }
    return d;
  }();
  return db;
}

// CPU seconds (user + system) a process has used so far, from /proc (the server runs here too).
double processCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The server process serving the output's connection (application_name cvagent, newest).
int serverPid(const std::string& url) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  auto r = tx.exec(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'cvagent' AND datname = "
      "current_database() ORDER BY backend_start DESC LIMIT 1");
  return r.empty() ? 0 : r[0][0].as<int>();
}

// Trades with ids never used before, spread over pairs the way an exchange feed is.
std::vector<Metric> trades(std::int64_t& next_id, std::size_t n) {
  std::vector<Metric> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t id = next_id++;
    out.push_back(MetricBuilder("trade")
                      .tag("exchange", "kraken")
                      .tag("pair", kPairs[id % 8])
                      .tag("side", id % 3 ? "buy" : "sell")
                      .field("price", 95000.0 + static_cast<double>(id % 1000) / 10.0)
                      .field("volume", 0.001 * static_cast<double>(id % 997 + 1))
                      .field("trade_id", id)
                      .field("ord_type", id % 2 ? "limit" : "market")
                      .field("receive_time", kT0 + id * 1000 + 2'000'000)
                      .time(kT0 + id * 1000));
  }
  return out;
}

void writeTrades(benchmark::State& state, const std::string& method) {
  TestContext context;
  TimescaleOptions options;
  options.connection = Secret(database().url);
  options.create_schema = true;
  options.method = method;
  TimescaleOutput output(options, context);
  output.connect();
  static std::int64_t next_id = 0;  // across runs: every row is new
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  std::vector<Metric> batch = trades(next_id, batch_size);
  const int pid = serverPid(database().url);
  const double server_cpu_before = pid ? processCpuSeconds(pid) : 0;
  for (auto _ : state) {
    const WriteResult r = output.write(batch);
    if (r.status() != WriteStatus::kOk || !r.exceptions().empty()) {
      state.SkipWithError(r.reason().c_str());
      break;
    }
    state.PauseTiming();
    batch = trades(next_id, batch_size);
    state.ResumeTiming();
  }
  const double rows = static_cast<double>(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  // Server CPU per row: what the load of other processes on the machine does not change.
  if (pid && rows > 0) {
    state.counters["server_us_per_row"] = (processCpuSeconds(pid) - server_cpu_before) * 1e6 / rows;
  }
}

void BM_TradeCopy(benchmark::State& state) { writeTrades(state, "copy"); }
void BM_TradeInsert(benchmark::State& state) { writeTrades(state, "insert"); }
BENCHMARK(BM_TradeCopy)->Arg(1000)->Arg(5000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TradeInsert)->Arg(1000)->Arg(5000)->UseRealTime()->Unit(benchmark::kMillisecond);

// A replay: every row of the batch is already stored (ON CONFLICT DO NOTHING on each).
void BM_TradeCopyReplay(benchmark::State& state) {
  TestContext context;
  TimescaleOptions options;
  options.connection = Secret(database().url);
  options.create_schema = true;
  TimescaleOutput output(options, context);
  output.connect();
  std::int64_t id = 1'000'000'000;
  const std::vector<Metric> batch = trades(id, static_cast<std::size_t>(state.range(0)));
  output.write(batch);
  const int pid = serverPid(database().url);
  const double server_cpu_before = pid ? processCpuSeconds(pid) : 0;
  for (auto _ : state) {
    const WriteResult r = output.write(batch);
    if (r.status() != WriteStatus::kOk) {
      state.SkipWithError(r.reason().c_str());
      break;
    }
  }
  const double rows = static_cast<double>(state.iterations() * state.range(0));
  state.SetItemsProcessed(state.iterations() * state.range(0));
  if (pid && rows > 0) {
    state.counters["server_us_per_row"] = (processCpuSeconds(pid) - server_cpu_before) * 1e6 / rows;
  }
}
BENCHMARK(BM_TradeCopyReplay)->Arg(5000)->UseRealTime()->Unit(benchmark::kMillisecond);

// The client's share: rendering a batch as COPY text, no database.
void BM_RenderCopyText(benchmark::State& state) {
  std::int64_t id = 0;
  const std::vector<Metric> batch = trades(id, 5000);
  const TableSpec& spec = *tableFor("trade");
  RowBuilder rows(RowFormat::kCopyText);
  std::string error;
  for (auto _ : state) {
    rows.clear();
    std::int64_t seq = 0;
    for (const auto& m : batch) {
      rows.begin(seq++);
      spec.fill(m, rows, error);
      rows.end();
    }
    benchmark::DoNotOptimize(rows.buffer().data());
  }
  state.SetItemsProcessed(state.iterations() * 5000);
}
BENCHMARK(BM_RenderCopyText);

}  // namespace
}  // namespace cvagent::outputs::timescale

BENCHMARK_MAIN();
