// outputs.timescale against a real PostgreSQL 15: the shared server of tests/services/postgres.sh
// (a scratch database per test), and a private server for the restart test.

#include "timescale_output.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cvagent/testing/metric_builder.h"
#include "cvagent/testing/test_context.h"
#include "cvagent/time_util.h"
#include "pg_flavour.h"
#include "pg_test_util.h"
#include "service_env.h"

// LeakSanitizer: the suppressions of tests/lsan.supp, built in so that every registration of these
// tests (plain and TimescaleDB flavour) has them whatever its environment: libpqxx 6.4 leaks one
// PGresult each time a query meets a connection that broke (bounded by the connection losses).
extern "C" __attribute__((visibility("default"))) const char* __lsan_default_suppressions() {
  return "leak:libpq.so.5\n";
}

namespace cvagent::outputs::timescale {
namespace {

using cvagent::testing::MetricBuilder;
using cvagent::testing::TestContext;
using testing::PgServer;
using testing::ScratchDatabase;

constexpr std::int64_t kT0 = 1795962600123456789;  // 2026-11-29T13:50:00.123456789Z
constexpr const char* kInjection = "'); DROP TABLE trade_data; --";

TimescaleOptions optionsFor(const std::string& url, const std::string& method = "copy") {
  TimescaleOptions o;
  o.connection = Secret(url);
  o.method = method;
  o.connect_timeout = std::chrono::seconds(5);
  return o;
}

Metric trade(std::int64_t id, std::int64_t time, std::string pair = "BTC/USD",
             std::string side = "buy") {
  return MetricBuilder("trade")
      .tag("exchange", "kraken")
      .tag("pair", pair)
      .tag("side", side)
      .field("price", 95000.0 + static_cast<double>(id % 100))
      .field("volume", 0.25)
      .field("trade_id", id)
      .field("ord_type", "limit")
      .field("receive_time", time + 1500000)
      .time(time);
}

std::int64_t count(pqxx::connection& c, const std::string& table) {
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT count(*) FROM " + tx.quote_name(table))[0].as<std::int64_t>();
}

std::vector<std::size_t> rejectedIndexes(const WriteResult& r) {
  std::vector<std::size_t> out;
  for (const auto& e : r.exceptions()) {
    if (e.status == WriteStatus::kReject) out.push_back(e.index);
  }
  return out;
}

// The schema as the catalog describes it: tables, columns, constraints, indexes, views, functions
// and the migration log. Equal snapshots mean nothing changed.
std::string describeSchema(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  std::string out;
  const char* queries[] = {
      "SELECT table_name, column_name, data_type, coalesce(character_maximum_length, 0), "
      "is_nullable, coalesce(column_default, '') FROM information_schema.columns "
      "WHERE table_schema = 'public' ORDER BY 1, 2",
      "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
      "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
      "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
      "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
      "SELECT proname, md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
      "ORDER BY 1",
      "SELECT version, name, flavor, checksum, applied_at FROM cvagent_schema_migrations "
      "ORDER BY 1",
  };
  for (const char* q : queries) {
    for (const auto& row : tx.exec(q)) {
      for (const auto& field : row) {
        out += field.c_str();
        out += '|';
      }
      out += '\n';
    }
  }
  return out;
}

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string server;
    CVAGENT_REQUIRE_PG_SERVER(server);
    db_ = std::make_unique<ScratchDatabase>(server);
  }
  std::unique_ptr<TimescaleOutput> makeOutput(bool create_schema = true) {
    auto o = optionsFor(db_->url(), method());
    o.create_schema = create_schema;
    auto out = std::make_unique<TimescaleOutput>(o, context_);
    out->connect();
    return out;
  }
  pqxx::connection& reader() {
    if (!reader_) reader_ = std::make_unique<pqxx::connection>(db_->url());
    return *reader_;
  }
  virtual std::string method() const { return "copy"; }

  std::unique_ptr<ScratchDatabase> db_;
  std::unique_ptr<pqxx::connection> reader_;
  TestContext context_{"outputs.timescale"};
};

// The schema, whatever the write method.
using TimescaleSchemaTest = PgTest;

// Writes, once per method (copy, insert).
class TimescaleOutputTest : public PgTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string method() const override { return GetParam(); }
};

TEST_F(TimescaleSchemaTest, AppliesTwiceAndTheSecondTimeChangesNothing) {
  auto out = makeOutput(false);
  ASSERT_TRUE(out->applySchema());
  const std::string first = describeSchema(reader());
  ASSERT_TRUE(out->applySchema());
  // A second agent, with its own connection, finds nothing to do either.
  TimescaleOutput other(optionsFor(db_->url()), context_);
  ASSERT_TRUE(other.applySchema());
  EXPECT_EQ(describeSchema(reader()), first);

  pqxx::nontransaction tx(reader());
  auto versions = tx.exec("SELECT version, flavor FROM cvagent_schema_migrations ORDER BY 1");
  ASSERT_EQ(versions.size(), 4u);
  EXPECT_EQ(versions[0][0].as<int>(), 1);
  EXPECT_EQ(versions[3][0].as<int>(), 4);
  // Plain PostgreSQL even where TimescaleDB is installed but not preloaded (auto falls back).
  EXPECT_EQ(versions[0][1].as<std::string>(), testing::expectedFlavourName());
  // The stand-ins of the continuous aggregates exist with their columns.
  EXPECT_NO_THROW(
      tx.exec("SELECT bucket, pair, open, high, low, close, avg_volume, exchange "
              "FROM ticker_ohlc_hourly"));
  EXPECT_NO_THROW(
      tx.exec("SELECT bucket, crypto_symbol, avg_sentiment, sample_count FROM sentiment_hourly"));
}

TEST_F(TimescaleSchemaTest, AgentsApplyingTogetherDoNotRace) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      try {
        TestContext ctx;
        TimescaleOutput out(optionsFor(db_->url()), ctx);
        out.applySchema();
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  pqxx::nontransaction tx(reader());
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM cvagent_schema_migrations")[0].as<int>(), 4);
}

TEST_P(TimescaleOutputTest, EveryMetricKindRoundTrips) {
  auto out = makeOutput();
  const std::vector<Metric> batch = {
      MetricBuilder("ticker")
          .tag("exchange", "kraken")
          .tag("pair", "BTC/USD")
          .field("last", 95863.2)
          .field("bid", 95863.1)
          .field("ask", 95863.3)
          .field("bid_qty", 1.5)
          .field("ask_qty", 2.5)
          .field("volume_24h", 1234.5)
          .field("vwap", 95000.0)
          .field("low", 94000.0)
          .field("high", 96000.0)
          .field("change", 800.0)
          .field("change_pct", 0.84)
          .field("receive_time", kT0 + 2000)
          .time(kT0),
      trade(93012296, kT0, "BTC/USD", "sell"),
      MetricBuilder("candle")
          .tag("exchange", "kraken")
          .tag("pair", "BTC/USD")
          .tag("interval", "1m")
          .field("open", 1.0)
          .field("high", 4.0)
          .field("low", 0.5)
          .field("close", 2.0)
          .field("volume", 10.0)
          .field("vwap", 2.5)
          .field("trades", std::int64_t{7})
          .field("partial", false)
          .time(kT0 - kT0 % 60'000'000'000),
      MetricBuilder("book")
          .tag("exchange", "kraken")
          .tag("pair", "BTC/USD")
          .field("best_bid", 10.0)
          .field("best_bid_qty", 1.0)
          .field("best_ask", 11.0)
          .field("best_ask_qty", 2.0)
          .field("spread", 1.0)
          .field("mid", 10.5)
          .field("checksum", std::int64_t{3310070434})
          .time(kT0),
      MetricBuilder("book_level")
          .tag("exchange", "kraken")
          .tag("pair", "BTC/USD")
          .tag("side", "ask")
          .tag("level", "2")
          .field("price", 11.5)
          .field("qty", 0.1)
          .time(kT0),
      MetricBuilder("article")
          .tag("source", "CoinDesk")
          .field("id", "https://x/a1")
          .field("title", "Bitcoin up")
          .field("url", "https://x/a1")
          .field("summary", "A summary.")
          .field("text", "Body\twith\ttabs\nand lines \\ ok")
          .field("coins", "BTC, ETH")
          .field("sentiment", 0.6)
          .field("sentiment_label", "positive")
          .field("sentiment_score", 0.8)
          .field("receive_time", kT0 + 5)
          .time(kT0),
      MetricBuilder("sentiment")
          .tag("symbol", "BTC")
          .field("score", -0.5)
          .field("label", "negative")
          .field("confidence", 0.9)
          .field("articles", std::int64_t{12})
          .time(kT0),
      MetricBuilder("alert")
          .tag("pair", "ETH/USD")
          .tag("rule", "spike")
          .tag("severity", "warning")
          .field("last", 3000.0)
          .field("change", -1.5)
          .field("threshold", 0.5)
          .field("message", "ETH/USD fell 1.5%")
          .time(kT0),
      MetricBuilder("prediction")
          .tag("symbol", "BTC")
          .tag("model", "moving_average")
          .tag("horizon", "5m")  // processors.forecast's shape: one series per horizon
          .field("predicted_price", 96000.0)
          .field("actual_price", 95900.0)
          .field("ci_low", 95000.0)
          .field("ci_high", 97000.0)
          .time(kT0),
  };
  const WriteResult r = out->write(batch);
  ASSERT_EQ(r.status(), WriteStatus::kOk) << r.reason();
  ASSERT_TRUE(r.exceptions().empty()) << r.exceptions()[0].reason;

  pqxx::nontransaction tx(reader());
  // Event time to the microsecond (nanoseconds truncated).
  const std::int64_t us = kT0 / 1000;
  auto epochUs = [](const char* table) {
    return std::string("SELECT (extract(epoch FROM timestamp) * 1000000)::int8 FROM ") + table;
  };
  for (const char* table : {"ticker_data", "trade_data", "book_data", "book_level_data",
                            "article_data", "sentiment_data", "alert_data", "prediction_data"}) {
    auto row = tx.exec1(epochUs(table));
    EXPECT_EQ(row[0].as<std::int64_t>(), us) << table;
  }
  auto t = tx.exec1(
      "SELECT pair, last, bid, ask, volume_24h, exchange, bid_qty, vwap, change_pct, "
      "(extract(epoch FROM receive_time) * 1000000)::int8 FROM ticker_data");
  EXPECT_EQ(t[0].as<std::string>(), "BTC/USD");
  EXPECT_DOUBLE_EQ(t[1].as<double>(), 95863.2);
  EXPECT_DOUBLE_EQ(t[4].as<double>(), 1234.5);
  EXPECT_EQ(t[5].as<std::string>(), "kraken");
  EXPECT_DOUBLE_EQ(t[8].as<double>(), 0.84);
  EXPECT_EQ(t[9].as<std::int64_t>(), (kT0 + 2000) / 1000);

  auto tr =
      tx.exec1("SELECT pair, price, volume, side, exchange, trade_id, ord_type FROM trade_data");
  EXPECT_EQ(tr[3].as<std::string>(), "s");
  EXPECT_EQ(tr[5].as<std::int64_t>(), 93012296);
  EXPECT_EQ(tr[6].as<std::string>(), "limit");

  auto c = tx.exec1(
      "SELECT interval, open, high, low, close, volume, vwap, trades, partial "
      "FROM ohlc_data");
  EXPECT_EQ(c[0].as<std::string>(), "1m");
  EXPECT_DOUBLE_EQ(c[4].as<double>(), 2.0);
  EXPECT_EQ(c[7].as<std::int64_t>(), 7);
  EXPECT_FALSE(c[8].as<bool>());

  EXPECT_EQ(tx.exec1("SELECT checksum FROM book_data")[0].as<std::int64_t>(), 3310070434);
  auto bl = tx.exec1("SELECT side, level, price FROM book_level_data");
  EXPECT_EQ(bl[0].as<std::string>(), "ask");
  EXPECT_EQ(bl[1].as<int>(), 2);

  auto a = tx.exec1(
      "SELECT article_id, title, website, summary, text, "
      "array_to_string(cryptocurrencies_mentioned, '|'), sentiment_score, "
      "sentiment_label, sentiment_compound FROM article_data");
  EXPECT_EQ(a[0].as<std::string>(), "https://x/a1");
  EXPECT_EQ(a[2].as<std::string>(), "CoinDesk");
  EXPECT_EQ(a[3].as<std::string>(), "A summary.");
  EXPECT_EQ(a[4].as<std::string>(), "Body\twith\ttabs\nand lines \\ ok");
  EXPECT_EQ(a[5].as<std::string>(), "BTC|ETH");
  EXPECT_DOUBLE_EQ(a[6].as<double>(), 0.8);
  EXPECT_DOUBLE_EQ(a[8].as<double>(), 0.6);
  // The old API's case-insensitive array match still finds it.
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM article_data WHERE EXISTS (SELECT 1 FROM "
                     "unnest(cryptocurrencies_mentioned) c WHERE lower(c) = 'btc')")[0]
                .as<int>(),
            1);

  auto s = tx.exec1(
      "SELECT crypto_symbol, sentiment_score, sentiment_label, source, confidence, "
      "sentiment_compound, article_count FROM sentiment_data");
  EXPECT_DOUBLE_EQ(s[1].as<double>(), 0.25);
  EXPECT_EQ(s[3].as<std::string>(), "aggregated_articles");
  EXPECT_DOUBLE_EQ(s[5].as<double>(), -0.5);
  EXPECT_EQ(s[6].as<std::int64_t>(), 12);

  auto al = tx.exec1(
      "SELECT pair, last_price, change_percent, threshold, alert_type, rule, "
      "severity, message FROM alert_data");
  EXPECT_DOUBLE_EQ(al[2].as<double>(), -1.5);
  EXPECT_EQ(al[4].as<std::string>(), "PRICE_DOWN");
  EXPECT_EQ(al[5].as<std::string>(), "spike");
  EXPECT_EQ(al[6].as<std::string>(), "warning");

  auto p = tx.exec1(
      "SELECT crypto_symbol, predicted_price, actual_price, model_name, "
      "confidence_interval_low, confidence_interval_high, horizon FROM prediction_data");
  EXPECT_EQ(p[3].as<std::string>(), "moving_average");
  EXPECT_DOUBLE_EQ(p[4].as<double>(), 95000.0);
  EXPECT_EQ(p[6].as<std::string>(), "5m");

  // The hourly views aggregate what was written.
  auto h =
      tx.exec1("SELECT open, close, avg_volume FROM ticker_ohlc_hourly WHERE pair = 'BTC/USD'");
  EXPECT_DOUBLE_EQ(h[0].as<double>(), 95863.2);
  auto sh = tx.exec1("SELECT avg_sentiment, sample_count FROM sentiment_hourly");
  EXPECT_DOUBLE_EQ(sh[0].as<double>(), 0.25);
  EXPECT_EQ(sh[1].as<int>(), 1);
}

// The plain-PostgreSQL stand-ins compute what the continuous aggregates would: hour buckets
// aligned like time_bucket, open/close by event time (not by insertion order), high, low, mean.
TEST_P(TimescaleOutputTest, HourlyViewsAggregateByEventTime) {
  auto out = makeOutput();
  const std::int64_t hour = 3'600'000'000'000;
  const std::int64_t h0 = kT0 - kT0 % hour;
  auto ticker = [](double last, double volume, std::int64_t time) {
    return MetricBuilder("ticker")
        .tag("exchange", "kraken")
        .tag("pair", "ETH/USD")
        .field("last", last)
        .field("volume_24h", volume)
        .time(time)
        .build();
  };
  auto sentiment = [](double score, std::int64_t time) {
    return MetricBuilder("sentiment")
        .tag("symbol", "ETH")
        .field("score", score)
        .field("label", "neutral")
        .time(time)
        .build();
  };
  // Written out of event-time order.
  const std::vector<Metric> batch = {
      ticker(30.0, 3.0, h0 + 30 * 60'000'000'000),
      ticker(10.0, 1.0, h0 + 5'000),
      ticker(50.0, 5.0, h0 + hour - 1'000),
      ticker(5.0, 2.0, h0 + 20 * 60'000'000'000),
      ticker(99.0, 9.0, h0 + hour),
      sentiment(0.2, h0 + 1'000),
      sentiment(0.6, h0 + 59 * 60'000'000'000),
      sentiment(-1.0, h0 + hour + 1'000),
  };
  ASSERT_EQ(out->write(batch).status(), WriteStatus::kOk);
  pqxx::nontransaction tx(reader());
  auto r = tx.exec(
      "SELECT (extract(epoch FROM bucket) * 1000000)::int8, open, high, low, close, avg_volume, "
      "exchange FROM ticker_ohlc_hourly WHERE pair = 'ETH/USD' ORDER BY bucket");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0][0].as<std::int64_t>(), h0 / 1000);
  EXPECT_DOUBLE_EQ(r[0][1].as<double>(), 10.0);
  EXPECT_DOUBLE_EQ(r[0][2].as<double>(), 50.0);
  EXPECT_DOUBLE_EQ(r[0][3].as<double>(), 5.0);
  EXPECT_DOUBLE_EQ(r[0][4].as<double>(), 50.0);
  EXPECT_DOUBLE_EQ(r[0][5].as<double>(), 2.75);
  EXPECT_EQ(r[0][6].as<std::string>(), "kraken");
  EXPECT_EQ(r[1][0].as<std::int64_t>(), (h0 + hour) / 1000);
  EXPECT_DOUBLE_EQ(r[1][1].as<double>(), 99.0);
  auto s = tx.exec(
      "SELECT avg_sentiment, sample_count FROM sentiment_hourly "
      "WHERE crypto_symbol = 'ETH' ORDER BY bucket");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_DOUBLE_EQ(s[0][0].as<double>(), 0.7);  // (0.6 + 0.8) / 2 on the old 0..1 scale
  EXPECT_EQ(s[0][1].as<int>(), 2);
  EXPECT_DOUBLE_EQ(s[1][0].as<double>(), 0.0);
}

// The Kraken v2 recording's trades and tickers as the kraken input emits them.
std::vector<Metric> recordingMetrics() {
  std::vector<Metric> out;
  std::ifstream in(CVAGENT_SHARED_TEST_DATA "/kraken/ws_v2_session.jsonl");
  EXPECT_TRUE(in) << "missing test data";
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element frame;
    if (parser.parse(line).get(frame)) continue;
    std::string_view channel, type;
    if (frame["channel"].get(channel) || frame["type"].get(type)) continue;
    if (channel != "trade" && channel != "ticker") continue;
    for (simdjson::dom::element item : frame["data"].get_array()) {
      std::string_view symbol, ts;
      std::int64_t time = 0;
      if (item["symbol"].get(symbol) || item["timestamp"].get(ts) || !parseRfc3339(ts, time)) {
        ADD_FAILURE() << "unexpected frame: " << line;
        continue;
      }
      if (channel == "trade") {
        std::string_view side, ord_type;
        double price = 0, qty = 0;
        std::int64_t id = 0;
        if (item["side"].get(side) || item["ord_type"].get(ord_type) || item["price"].get(price) ||
            item["qty"].get(qty) || item["trade_id"].get(id)) {
          ADD_FAILURE() << "unexpected trade: " << line;
          continue;
        }
        out.push_back(MetricBuilder("trade")
                          .tag("exchange", "kraken")
                          .tag("pair", symbol)
                          .tag("side", side)
                          .field("price", price)
                          .field("volume", qty)
                          .field("trade_id", id)
                          .field("ord_type", std::string(ord_type))
                          .time(time));
      } else {
        double last = 0, bid = 0, ask = 0, volume = 0;
        if (item["last"].get(last) || item["bid"].get(bid) || item["ask"].get(ask) ||
            item["volume"].get(volume)) {
          ADD_FAILURE() << "unexpected ticker: " << line;
          continue;
        }
        out.push_back(MetricBuilder("ticker")
                          .tag("exchange", "kraken")
                          .tag("pair", symbol)
                          .field("last", last)
                          .field("bid", bid)
                          .field("ask", ask)
                          .field("volume_24h", volume)
                          .time(time));
      }
    }
  }
  return out;
}

TEST_P(TimescaleOutputTest, ReplayingARecordingTwiceStoresEachRowOnce) {
  const std::vector<Metric> metrics = recordingMetrics();
  std::set<std::tuple<std::string, std::int64_t, std::int64_t>> trades;
  std::set<std::pair<std::string, std::int64_t>> tickers;
  for (const auto& m : metrics) {
    const std::int64_t us = m.time() / 1000;
    if (m.name() == "trade") {
      double id = 0;
      m.numberField("trade_id", id);
      trades.emplace(*m.tag("pair"), us, static_cast<std::int64_t>(id));
    } else {
      tickers.emplace(*m.tag("pair"), us);
    }
  }
  ASSERT_GT(trades.size(), 500u);
  ASSERT_GT(tickers.size(), 100u);

  auto out = makeOutput();
  for (int pass = 0; pass < 2; ++pass) {
    // Batches of 97 so the second pass's batches straddle the first pass's.
    const std::size_t step = 97;
    for (std::size_t i = 0; i < metrics.size(); i += step) {
      const std::size_t n = std::min(step, metrics.size() - i);
      const WriteResult r = out->write(std::span<const Metric>(metrics.data() + i, n));
      ASSERT_EQ(r.status(), WriteStatus::kOk) << r.reason();
      ASSERT_TRUE(r.exceptions().empty()) << r.exceptions()[0].reason;
    }
    EXPECT_EQ(count(reader(), "trade_data"), static_cast<std::int64_t>(trades.size()));
    EXPECT_EQ(count(reader(), "ticker_data"), static_cast<std::int64_t>(tickers.size()));
  }
  pqxx::nontransaction tx(reader());
  EXPECT_EQ(tx.exec1("SELECT count(DISTINCT pair) FROM ticker_ohlc_hourly")[0].as<int>(), 3);
}

TEST_P(TimescaleOutputTest, RepeatedKeysAndConcurrentWritersStoreOneCopy) {
  auto out = makeOutput();
  // The same trade twice in one batch.
  const std::vector<Metric> twice = {trade(7, kT0), trade(8, kT0 + 1000), trade(7, kT0)};
  const WriteResult r = out->write(twice);
  ASSERT_EQ(r.status(), WriteStatus::kOk) << r.reason();
  EXPECT_TRUE(r.exceptions().empty());
  EXPECT_EQ(count(reader(), "trade_data"), 2);

  // Four agents writing the same overlapping batches at once. Crossing transactions may deadlock
  // (40P01): the batch then comes back as retry and, as the core would, is written again.
  std::vector<Metric> batch;
  for (int i = 0; i < 2000; ++i) batch.push_back(trade(100 + i, kT0 + i * 1000));
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  auto writeUntilStored = [&](TimescaleOutput& writer, std::span<const Metric> part) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const WriteResult wr = writer.write(part);
      if (!wr.exceptions().empty()) break;
      if (wr.status() == WriteStatus::kOk) return;
    }
    ++failures;
  };
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      TestContext ctx;
      TimescaleOutput writer(optionsFor(db_->url(), GetParam()), ctx);
      for (std::size_t start = static_cast<std::size_t>(w) * 100; start < batch.size();
           start += 500) {
        const std::size_t n = std::min<std::size_t>(700, batch.size() - start);
        writeUntilStored(writer, std::span<const Metric>(batch.data() + start, n));
      }
      writeUntilStored(writer, batch);
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count(reader(), "trade_data"), 2002);
}

TEST_P(TimescaleOutputTest, ReemittedCandleOverwritesItsRowAndPartialNeverReplacesFinal) {
  auto out = makeOutput();
  const std::int64_t start = kT0 - kT0 % 60'000'000'000;
  auto candle = [&](double close, bool partial) {
    return MetricBuilder("candle")
        .tag("exchange", "kraken")
        .tag("pair", "ETH/USD")
        .tag("interval", "1m")
        .field("open", 1.0)
        .field("high", 5.0)
        .field("low", 0.5)
        .field("close", close)
        .field("volume", close)
        .field("trades", std::int64_t{3})
        .field("partial", partial)
        .time(start)
        .build();
  };
  // Partial then final in one batch: the last copy of the key is kept.
  std::vector<Metric> b1 = {candle(2.0, true), candle(3.0, false)};
  ASSERT_EQ(out->write(b1).status(), WriteStatus::kOk);
  // A late trade re-emits the final candle: it replaces the row.
  std::vector<Metric> b2 = {candle(4.0, false)};
  ASSERT_EQ(out->write(b2).status(), WriteStatus::kOk);
  // A stale partial copy (a replay) does not undo it.
  std::vector<Metric> b3 = {candle(9.0, true)};
  ASSERT_EQ(out->write(b3).status(), WriteStatus::kOk);
  pqxx::nontransaction tx(reader());
  auto r = tx.exec("SELECT close, volume, partial FROM ohlc_data");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_DOUBLE_EQ(r[0][0].as<double>(), 4.0);
  EXPECT_FALSE(r[0][2].as<bool>());
}

TEST_P(TimescaleOutputTest, RowsTheDatabaseRefusesAreReportedAndTheRestStored) {
  auto out = makeOutput();
  const std::vector<Metric> batch = {
      trade(1, kT0),
      trade(2, kT0 + 1000, std::string(80, 'X')),  // longer than pair's VARCHAR(64)
      trade(3, kT0 + 2000),
      trade(4, kT0 + 3000, "BTC/USD", "x"),  // side CHECK constraint
      MetricBuilder("cpu").field("usage", 1.0).time(kT0),
      MetricBuilder("trade")
          .tag("pair", "BTC/USD")
          .tag("side", "buy")
          .field("price", 1.0)
          .time(kT0),  // no volume, no trade_id
      trade(5, kT0 + 4000),
  };
  const WriteResult r = out->write(batch);
  EXPECT_EQ(r.status(), WriteStatus::kOk) << r.reason();
  std::vector<std::size_t> rejected = rejectedIndexes(r);
  std::sort(rejected.begin(), rejected.end());
  EXPECT_EQ(rejected, (std::vector<std::size_t>{1, 3, 4, 5}));
  std::map<std::size_t, std::string> reasons;
  for (const auto& e : r.exceptions()) reasons[e.index] = e.reason;
  EXPECT_NE(reasons[1].find("value too long for type character varying(64)"), std::string::npos)
      << reasons[1];
  EXPECT_NE(reasons[3].find("trade_data_side_check"), std::string::npos) << reasons[3];
  EXPECT_NE(reasons[4].find("no table for metric 'cpu'"), std::string::npos) << reasons[4];
  EXPECT_NE(reasons[5].find("missing field 'volume'"), std::string::npos) << reasons[5];
  pqxx::nontransaction tx(reader());
  auto ids = tx.exec("SELECT trade_id FROM trade_data ORDER BY 1");
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0][0].as<int>(), 1);
  EXPECT_EQ(ids[1][0].as<int>(), 3);
  EXPECT_EQ(ids[2][0].as<int>(), 5);
  EXPECT_EQ(context_.counterValue("rows_refused_total"), 2.0);
}

TEST_P(TimescaleOutputTest, SqlInTagsAndFieldsIsStoredVerbatim) {
  auto out = makeOutput();
  const std::vector<Metric> batch = {
      trade(42, kT0, kInjection),
      MetricBuilder("article")
          .tag("source", kInjection)
          .field("id", kInjection)
          .field("title", std::string("\"; DELETE FROM article_data; \\' $$ ") + kInjection)
          .field("url", "https://x/y?q='1'")
          .field("coins", "BTC,'); DROP TABLE x; --")
          .time(kT0),
  };
  const WriteResult r = out->write(batch);
  ASSERT_EQ(r.status(), WriteStatus::kOk) << r.reason();
  ASSERT_TRUE(r.exceptions().empty()) << r.exceptions()[0].reason;
  pqxx::nontransaction tx(reader());
  EXPECT_EQ(tx.exec1("SELECT pair FROM trade_data")[0].as<std::string>(), kInjection);
  auto a = tx.exec1(
      "SELECT article_id, website, title, url, cryptocurrencies_mentioned[2] "
      "FROM article_data");
  EXPECT_EQ(a[0].as<std::string>(), kInjection);
  EXPECT_EQ(a[1].as<std::string>(), kInjection);
  EXPECT_EQ(a[2].as<std::string>(),
            std::string("\"; DELETE FROM article_data; \\' $$ ") + kInjection);
  EXPECT_EQ(a[3].as<std::string>(), "https://x/y?q='1'");
  EXPECT_EQ(a[4].as<std::string>(), "'); DROP TABLE x; --");
}

TEST_P(TimescaleOutputTest, MissingSchemaIsRetriedWithAHint) {
  auto out = makeOutput(false);
  const std::vector<Metric> batch = {trade(1, kT0)};
  const WriteResult r = out->write(batch);
  EXPECT_EQ(r.status(), WriteStatus::kRetry);
  EXPECT_NE(r.reason().find("trade_data"), std::string::npos) << r.reason();
  EXPECT_NE(r.reason().find("cvagent schema apply"), std::string::npos) << r.reason();
  // Once the schema exists the same batch goes through on the same connection.
  out->applySchema();
  EXPECT_EQ(out->write(batch).status(), WriteStatus::kOk);
  EXPECT_EQ(count(reader(), "trade_data"), 1);
}

TEST_P(TimescaleOutputTest, PasswordNeverReachesTheLog) {
  // Trust authentication ignores the password, so the connection succeeds with it set.
  std::string url = db_->url();
  url.insert(url.find("postgres@") + std::string("postgres").size(), ":Sup3rS3cret");
  TimescaleOptions o = optionsFor(url, GetParam());
  o.create_schema = true;
  TimescaleOutput out(o, context_);
  out.connect();
  EXPECT_EQ(out.redactedConnection().find("Sup3rS3cret"), std::string::npos);
  bool logged_connection = false;
  for (const auto& line : context_.logger().lines()) {
    EXPECT_EQ(line.message.find("Sup3rS3cret"), std::string::npos) << line.message;
    logged_connection = logged_connection || line.message.find("********") != std::string::npos;
  }
  EXPECT_TRUE(logged_connection);
}

// TimescaleDB is not packaged for Debian, so the TimescaleDB flavour cannot run here. What can be
// checked without it: every statement of it parses with PostgreSQL 15's grammar (as the body of a
// PL/pgSQL function, which PostgreSQL parses at CREATE FUNCTION), and the PL/pgSQL policy function
// it defines compiles.
TEST_F(TimescaleSchemaTest, TimescaleFlavourParsesWithThePostgresGrammar) {
  if (testing::timescaleFlavour()) GTEST_SKIP() << "the TimescaleDB flavour runs for real here";
  auto out = makeOutput();  // the tables exist: CREATE FUNCTION below refers to nothing else
  pqxx::work tx(reader());
  int checked = 0;
  for (const auto& m : embeddedMigrations()) {
    if (m.timescale.empty()) continue;
    const std::string body(m.timescale);
    ASSERT_EQ(body.find("$cvagent_check$"), std::string::npos);
    try {
      pqxx::subtransaction check(tx, "syntax");
      check.exec0("SET LOCAL check_function_bodies = on");
      check.exec0(
          "CREATE OR REPLACE FUNCTION pg_temp.cvagent_syntax_check() RETURNS void "
          "LANGUAGE plpgsql "
          "AS $cvagent_check$ BEGIN\n" +
          body + "\nEND $cvagent_check$");
      check.commit();
      ++checked;
    } catch (const pqxx::sql_error& e) {
      ADD_FAILURE() << "migration " << m.version << " (timescale) does not parse: " << e.what();
    }
    const std::size_t fn = body.find("CREATE OR REPLACE FUNCTION cvagent_apply_policies");
    if (fn != std::string::npos) {
      const std::size_t end = body.find("$fn$;", fn);
      ASSERT_NE(end, std::string::npos);
      // Replaces the plain-PostgreSQL version inside this transaction only (rolled back below);
      // CREATE OR REPLACE also proves both flavours declare the same parameters.
      try {
        pqxx::subtransaction create(tx, "policy_function");
        create.exec0(body.substr(fn, end + 4 - fn));
        create.commit();
      } catch (const pqxx::sql_error& e) {
        ADD_FAILURE() << "policy function: " << e.what();
      }
    }
  }
  EXPECT_EQ(checked, 3);
  tx.abort();
}

INSTANTIATE_TEST_SUITE_P(Methods, TimescaleOutputTest, ::testing::Values("copy", "insert"));

TEST(TimescaleOutputUnreachable, ConnectThrowsAndWriteAsksForARetry) {
  const int port = testing::freeLoopbackPort();  // nothing listens there
  TestContext ctx;
  TimescaleOutput out(
      optionsFor("postgresql://postgres:pw@127.0.0.1:" + std::to_string(port) + "/x"), ctx);
  try {
    out.connect();
    FAIL() << "connect() should throw";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(port)), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("pw"), std::string::npos) << e.what();
  }
  const std::vector<Metric> batch = {trade(1, kT0)};
  EXPECT_EQ(out.write(batch).status(), WriteStatus::kRetry);
}

// PostgreSQL restarted mid-stream: the batches written while it is down come back as retry, the
// core (simulated here) re-sends them, and the table ends with every row exactly once.
TEST(TimescaleOutputRestart, ServerRestartedMidStreamLosesAndDuplicatesNothing) {
  std::unique_ptr<PgServer> server;
  try {
    std::string skip;
    if (testing::timescaleFlavour() &&
        !(skip = cvagent::testing::serviceEnv("CVAGENT_TEST_TSDB_SKIP")).empty()) {
      GTEST_SKIP() << "TimescaleDB flavour skipped: " << skip;
    }
    server = std::make_unique<PgServer>("-c fsync=off " + testing::flavourServerSettings());
  } catch (const std::exception& e) {
    if (cvagent::testing::servicesRequired()) {
      FAIL() << e.what();
    }
    GTEST_SKIP() << "cannot start a private PostgreSQL: " << e.what();
  }
  TestContext ctx;
  TimescaleOptions o = optionsFor(server->url());
  o.create_schema = true;
  TimescaleOutput out(o, ctx);
  out.connect();

  constexpr int kBatches = 12;
  constexpr int kPerBatch = 250;
  int retries = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<Metric> batch;
    for (int i = 0; i < kPerBatch; ++i) {
      const std::int64_t id = b * kPerBatch + i;
      batch.push_back(trade(id, kT0 + id * 1000));
    }
    if (b == 4) server->stop("fast");       // a clean restart
    if (b == 8) server->stop("immediate");  // a crash
    bool stored = false;
    for (int attempt = 0; attempt < 5 && !stored; ++attempt) {
      const WriteResult r = out.write(batch);
      ASSERT_TRUE(r.exceptions().empty());
      if (r.status() == WriteStatus::kOk) {
        stored = true;
      } else {
        ASSERT_EQ(r.status(), WriteStatus::kRetry);
        ++retries;
        if (attempt == 1) server->start();  // back after a failed attempt or two
      }
    }
    ASSERT_TRUE(stored) << "batch " << b;
    // Re-sending a batch already stored (a retry after an unknown commit outcome) is harmless.
    if (b == 10) {
      ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);
    }
  }
  EXPECT_GE(retries, 4);
  EXPECT_GE(ctx.counterValue("reconnects_total"), 2.0);
  pqxx::connection c(server->url());
  pqxx::nontransaction tx(c);
  auto r = tx.exec1(
      "SELECT count(*), count(DISTINCT trade_id), min(trade_id), max(trade_id) "
      "FROM trade_data");
  EXPECT_EQ(r[0].as<int>(), kBatches * kPerBatch);
  EXPECT_EQ(r[1].as<int>(), kBatches * kPerBatch);
  EXPECT_EQ(r[2].as<int>(), 0);
  EXPECT_EQ(r[3].as<int>(), kBatches * kPerBatch - 1);
}

// ---------------------------------------------------------------- TimescaleDB for real

std::int64_t wallNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Metric tickerAt(const std::string& pair, double last, std::int64_t time) {
  return MetricBuilder("ticker")
      .tag("exchange", "kraken")
      .tag("pair", pair)
      .field("last", last)
      .field("volume_24h", 1.0)
      .time(time);
}

// Once TimescaleDB is installed on a machine, every cluster lists it in pg_available_extensions,
// loaded or not; only a server that preloads it can CREATE EXTENSION. `auto` must fall back to
// plain PostgreSQL with a warning there, `require` must refuse with the reason, and neither may
// count a metric as stored.
TEST_F(TimescaleSchemaTest, AutoFallsBackWhenTimescaleIsInstalledButNotPreloaded) {
  if (testing::timescaleFlavour()) GTEST_SKIP() << "needs a server that does not preload it";
  {
    pqxx::nontransaction tx(reader());
    if (!tx.exec1("SELECT EXISTS (SELECT 1 FROM pg_available_extensions "
                  "WHERE name = 'timescaledb')")[0]
             .as<bool>()) {
      GTEST_SKIP() << "TimescaleDB is not installed on this machine (tests/services/"
                      "timescaledb.sh installs it when ../shared/vendor/timescaledb exists)";
    }
  }
  TestContext require_ctx;
  auto require = optionsFor(db_->url());
  require.create_schema = true;
  require.timescaledb = "require";
  TimescaleOutput refusing(require, require_ctx);
  try {
    refusing.applySchema();
    FAIL() << "require must refuse a server that does not preload TimescaleDB";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("shared_preload_libraries"), std::string::npos)
        << e.what();
  }
  std::vector<Metric> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(trade(i, kT0 + i * 1000));
  EXPECT_EQ(refusing.write(batch).status(), WriteStatus::kRetry);
  EXPECT_FALSE(require_ctx.logger().contains("applied schema migration"));

  auto out = makeOutput();  // auto
  EXPECT_TRUE(context_.logger().contains("not loaded", LogLevel::kWarn));
  ASSERT_EQ(out->write(batch).status(), WriteStatus::kOk);
  EXPECT_EQ(count(reader(), "trade_data"), 500);
  pqxx::nontransaction tx(reader());
  EXPECT_EQ(tx.exec1("SELECT min(flavor) || max(flavor) FROM cvagent_schema_migrations")[0]
                .as<std::string>(),
            "postgresqlpostgresql");
  EXPECT_FALSE(
      tx.exec1("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')")[0]
          .as<bool>());
}

// Per-table policies land as the options say, and the background scheduler (not CALL run_job)
// runs every job of the schema successfully.
TEST_F(TimescaleSchemaTest, PerTablePoliciesRunInTheBackground) {
  if (!testing::timescaleFlavour()) GTEST_SKIP() << "TimescaleDB flavour only";
  auto o = optionsFor(db_->url());
  o.create_schema = true;
  o.policies["trade_data"].retention = std::chrono::hours(24 * 30);
  TimescaleOutput out(o, context_);
  out.connect();
  // Something to compress, refresh and keep: rows in old and recent chunks.
  const std::int64_t now = wallNow();
  std::vector<Metric> batch;
  for (int i = 0; i < 200; ++i) {
    const std::int64_t age = static_cast<std::int64_t>(i) * 6 * 3'600'000'000'000LL;  // 6 h steps
    batch.push_back(trade(i, now - age));
    batch.push_back(tickerAt("BTC/USD", 90000.0 + i, now - age));
  }
  ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);

  pqxx::nontransaction tx(reader());
  // One policy of `proc` on `table` whose `key` equals `value`; "" for no policy at all.
  auto policyIs = [&](const std::string& table, const std::string& proc, const std::string& key,
                      const std::string& value) {
    auto r = tx.exec_params(
        "SELECT config->>$3 FROM timescaledb_information.jobs "
        "WHERE hypertable_name = $1 AND proc_name = $2",
        table, proc, key);
    if (value.empty()) return r.empty();
    return r.size() == 1 && tx.exec_params1("SELECT $1::interval = $2::interval",
                                            r[0][0].as<std::string>(), value)[0]
                                .as<bool>();
  };
  auto chunkIs = [&](const std::string& table, const std::string& value) {
    return tx
        .exec_params1(
            "SELECT time_interval = $2::interval FROM "
            "timescaledb_information.dimensions WHERE hypertable_name = $1",
            table, value)[0]
        .as<bool>();
  };
  EXPECT_TRUE(policyIs("trade_data", "policy_retention", "drop_after", "30 days"));  // option
  EXPECT_TRUE(policyIs("book_level_data", "policy_retention", "drop_after", "7 days"));
  EXPECT_TRUE(policyIs("article_data", "policy_retention", "drop_after", "365 days"));
  EXPECT_TRUE(policyIs("ohlc_data", "policy_retention", "drop_after", ""));  // candles are kept
  EXPECT_TRUE(policyIs("trade_data", "policy_compression", "compress_after", "2 days"));
  EXPECT_TRUE(policyIs("book_level_data", "policy_compression", "compress_after", "12 hours"));
  EXPECT_TRUE(chunkIs("article_data", "7 days"));
  EXPECT_TRUE(chunkIs("book_level_data", "6 hours"));

  // Every job falls due now; the scheduler runs them on its own. Only runs that finish after this
  // count (the jobs also ran once when they were created, before the rows were written). Retention
  // goes first: a compression job that lists a chunk the retention job of the same table drops
  // meanwhile fails with "chunk not found" (TimescaleDB retries it on its next schedule, but the
  // count of failures below would say so); in production their schedules rarely meet.
  const int jobs =
      tx.exec1("SELECT count(*) FROM timescaledb_information.jobs WHERE job_id >= 1000")[0]
          .as<int>();
  ASSERT_EQ(jobs, 8 + 9 + 2);  // retention (not ohlc_data), columnstore, aggregate refresh
  auto runInTheBackground = [&](const std::string& which) {
    const std::string due = tx.exec1("SELECT now()::text")[0].as<std::string>();
    const int count = tx.exec1(
                            "SELECT count(*) FROM timescaledb_information.jobs "
                            "WHERE job_id >= 1000 AND " +
                            which)[0]
                          .as<int>();
    tx.exec(
        "SELECT alter_job(job_id, next_start => now()) FROM timescaledb_information.jobs "
        "WHERE job_id >= 1000 AND " +
        which);
    int succeeded = 0;
    for (int waited = 0; waited < 120 && succeeded < count; ++waited) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      succeeded = tx.exec_params1(
                        "SELECT count(*) FROM timescaledb_information.job_stats s JOIN "
                        "timescaledb_information.jobs j USING (job_id) "
                        "WHERE job_id >= 1000 AND last_run_status = 'Success' "
                        "AND last_successful_finish > $1::timestamptz AND " +
                            which,
                        due)[0]
                      .as<int>();
    }
    EXPECT_EQ(succeeded, count) << which;
    return count;
  };
  const int retention = runInTheBackground("proc_name = 'policy_retention'");
  const int others = runInTheBackground("proc_name <> 'policy_retention'");
  EXPECT_EQ(retention + others, jobs);
  const auto failures = tx.exec(
      "SELECT job_id, proc_name, total_failures FROM timescaledb_information.job_stats "
      "JOIN timescaledb_information.jobs USING (job_id) WHERE job_id >= 1000 "
      "AND total_failures > 0");
  for (const auto& row : failures) {
    ADD_FAILURE() << "job " << row[0].c_str() << " (" << row[1].c_str() << ") failed "
                  << row[2].c_str() << " time(s); the server log of the test cluster says why";
  }
  // The compression jobs compressed the old trade chunks; the rows are all still there.
  EXPECT_GT(tx.exec1("SELECT count(*) FROM timescaledb_information.chunks WHERE "
                     "hypertable_name = 'trade_data' AND is_compressed")[0]
                .as<int>(),
            0);
  // Retention dropped the trade chunks past 30 days (whole chunks: the day at the edge may stay).
  auto kept = tx.exec1(
      "SELECT count(*) FILTER (WHERE timestamp > now() - INTERVAL '29 days'), "
      "       count(*) FILTER (WHERE timestamp < now() - INTERVAL '31 days') FROM trade_data");
  EXPECT_EQ(kept[0].as<int>(), 116);  // 6-hour steps younger than 29 days
  EXPECT_EQ(kept[1].as<int>(), 0);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM ticker_data")[0].as<int>(), 200);  // 90 days: kept
}

// A backfill older than the aggregates' 3-day refresh window: the refresh policy never covers it,
// so the output refreshes the affected buckets itself; the hourly views then equal values computed
// by hand, on both flavours.
TEST_F(TimescaleSchemaTest, BackfillOlderThanTheRefreshWindowReachesTheHourlyAggregates) {
  const std::int64_t now = wallNow();
  context_.fakeClock().set(now);
  auto out = makeOutput();
  const std::int64_t hour = 3'600'000'000'000LL;
  if (testing::timescaleFlavour()) {
    // The aggregates are materialised up to an hour ago, as the policy leaves them: from then on
    // real-time aggregation only covers rows newer than that. The policy itself is paused so that
    // only the refresh under test runs.
    ASSERT_EQ(out->write(std::vector<Metric>{tickerAt("ETH/USD", 1.0, now - 2 * hour)}).status(),
              WriteStatus::kOk);
    pqxx::nontransaction tx(reader());
    tx.exec(
        "SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_refresh_continuous_aggregate'");
    for (int attempt = 0;; ++attempt) {  // the policy may have been running already
      try {
        tx.exec0(
            "CALL refresh_continuous_aggregate('ticker_ohlc_hourly', now() - INTERVAL '3 days', "
            "now() - INTERVAL '1 hour')");
        break;
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "55P03" || attempt == 50) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
  const std::int64_t h0 = (now - 10 * 24 * hour) - (now - 10 * 24 * hour) % hour;  // 10 days ago
  const std::vector<Metric> backfill = {
      tickerAt("ETH/USD", 30.0, h0 + 30 * 60'000'000'000LL),
      tickerAt("ETH/USD", 10.0, h0 + 5'000),
      tickerAt("ETH/USD", 50.0, h0 + hour - 1'000),
      tickerAt("ETH/USD", 5.0, h0 + 20 * 60'000'000'000LL),
  };
  ASSERT_EQ(out->write(backfill).status(), WriteStatus::kOk);
  pqxx::nontransaction tx(reader());
  auto r = tx.exec_params(
      "SELECT open, high, low, close FROM ticker_ohlc_hourly WHERE pair = 'ETH/USD' "
      "AND bucket = to_timestamp($1::float8 / 1e9)",
      h0);
  ASSERT_EQ(r.size(), 1u) << "the backfilled hour is missing from ticker_ohlc_hourly";
  EXPECT_DOUBLE_EQ(r[0][0].as<double>(), 10.0);
  EXPECT_DOUBLE_EQ(r[0][1].as<double>(), 50.0);
  EXPECT_DOUBLE_EQ(r[0][2].as<double>(), 5.0);
  EXPECT_DOUBLE_EQ(r[0][3].as<double>(), 50.0);
  if (testing::timescaleFlavour()) {
    EXPECT_EQ(context_.counterValue("late_refreshes_total"), 1.0);
  }
}

// With PostgreSQL's default max_worker_processes (8), TimescaleDB's 20-odd jobs fail to start when
// they fall due together: the agent says so at start-up.
TEST(TimescaleWorkers, TooFewWorkerProcessesAreReported) {
  if (!testing::timescaleFlavour()) GTEST_SKIP() << "TimescaleDB flavour only";
  const std::string skip = cvagent::testing::serviceEnv("CVAGENT_TEST_TSDB_SKIP");
  if (!skip.empty()) GTEST_SKIP() << "TimescaleDB flavour skipped: " << skip;
  std::unique_ptr<PgServer> server;
  try {
    server = std::make_unique<PgServer>(
        "-c fsync=off -c shared_preload_libraries=timescaledb -c max_worker_processes=8 "
        "-c timescaledb.telemetry_level=off");
  } catch (const std::exception& e) {
    if (cvagent::testing::servicesRequired()) FAIL() << e.what();
    GTEST_SKIP() << "cannot start a private PostgreSQL: " << e.what();
  }
  TestContext ctx;
  TimescaleOutput out(optionsFor(server->url()), ctx);
  ASSERT_TRUE(out.applySchema());
  EXPECT_TRUE(ctx.logger().contains("max_worker_processes is 8", LogLevel::kWarn));
}

}  // namespace
}  // namespace cvagent::outputs::timescale
