#include "tables.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cvagent/testing/metric_builder.h"

namespace cvagent::outputs::timescale {
namespace {

using cvagent::testing::MetricBuilder;

std::string render(const Metric& m, RowFormat format, std::string* error = nullptr) {
  const TableSpec* spec = tableFor(m.name());
  EXPECT_NE(spec, nullptr);
  RowBuilder row(format);
  row.begin(0);
  std::string err;
  if (!spec->fill(m, row, err)) {
    row.abandon();
    if (error) *error = err;
    return {};
  }
  row.end();
  return row.buffer();
}

TEST(Tables, EveryContractMetricHasATable) {
  for (const char* name : {"ticker", "trade", "candle", "book", "book_level", "article",
                           "sentiment", "alert", "prediction"}) {
    EXPECT_NE(tableFor(name), nullptr) << name;
  }
  EXPECT_EQ(tableFor("cpu"), nullptr);
}

TEST(Tables, TradeRendersAsCopyTextWithEscapes) {
  const Metric trade = MetricBuilder("trade")
                           .tag("exchange", "kraken")
                           .tag("pair", "BTC/USD\t\\x")
                           .tag("side", "buy")
                           .field("price", 95863.2)
                           .field("volume", 0.5)
                           .field("trade_id", std::int64_t{93012296})
                           .field("ord_type", "limit")
                           .time(1795962600123456789);
  EXPECT_EQ(
      render(trade, RowFormat::kCopyText),
      "0\t1795962600123456789\tBTC/USD\\t\\\\x\t95863.2\t0.5\tb\tkraken\t93012296\tlimit\t\\N\n");
}

TEST(Tables, ValuesFormatQuotesAndTypesEveryLiteral) {
  const Metric trade = MetricBuilder("trade")
                           .tag("pair", "'); DROP TABLE trade_data; --")
                           .tag("side", "sell")
                           .field("price", std::nan(""))
                           .field("volume", std::numeric_limits<double>::infinity())
                           .field("trade_id", std::uint64_t{7})
                           .time(1);
  EXPECT_EQ(render(trade, RowFormat::kValues),
            "(0::int4,1::int8,'''); DROP TABLE trade_data; --'::text,'NaN'::float8,"
            "'Infinity'::float8,'s'::text,'kraken'::text,7::int8,NULL::text,NULL::int8)");
}

TEST(Tables, MissingRequiredValuesAreReportedByName) {
  std::string error;
  EXPECT_EQ(render(MetricBuilder("trade")
                       .tag("pair", "X")
                       .tag("side", "buy")
                       .field("price", 1.0)
                       .field("volume", 1.0),
                   RowFormat::kCopyText, &error),
            "");
  EXPECT_EQ(error, "missing field 'trade_id'");
  EXPECT_EQ(render(MetricBuilder("ticker").field("last", 1.0), RowFormat::kCopyText, &error), "");
  EXPECT_EQ(error, "missing tag 'pair'");
  EXPECT_EQ(render(MetricBuilder("ticker").tag("pair", "X").field("last", "high"),
                   RowFormat::kCopyText, &error),
            "");
  EXPECT_EQ(error, "field 'last' is not a number");
}

TEST(Tables, InvalidUtf8IsRefusedBeforeTheDatabase) {
  EXPECT_TRUE(isStorableText("BTC/USD"));
  EXPECT_TRUE(isStorableText("\xC3\xA9t\xC3\xA9 \xF0\x9F\x9A\x80"));
  EXPECT_FALSE(isStorableText(std::string_view("a\0b", 3)));
  EXPECT_FALSE(isStorableText("\xC3"));
  EXPECT_FALSE(isStorableText("\xC0\xAF"));      // overlong
  EXPECT_FALSE(isStorableText("\xED\xA0\x80"));  // surrogate
  std::string error;
  EXPECT_EQ(render(MetricBuilder("article")
                       .tag("source", "x")
                       .field("id", "1")
                       .field("title", "bad \xFF")
                       .field("url", "u"),
                   RowFormat::kCopyText, &error),
            "");
  EXPECT_EQ(error, "field 'title' is not valid UTF-8 or contains a NUL byte");
}

TEST(Tables, SentimentKeepsTheOldZeroToOneScore) {
  const Metric s = MetricBuilder("sentiment")
                       .tag("symbol", "BTC")
                       .field("score", 0.5)
                       .field("label", "positive")
                       .field("confidence", 0.8)
                       .field("articles", std::int64_t{4})
                       .time(10);
  EXPECT_EQ(render(s, RowFormat::kCopyText),
            "0\t10\tBTC\t0.75\tpositive\taggregated_articles\t0.8\t0.5\t4\n");
}

TEST(Tables, AlertTypeFollowsTheOldVocabulary) {
  const auto alert = [](double change) {
    return MetricBuilder("alert")
        .tag("pair", "ETH/USD")
        .tag("rule", "spike")
        .field("last", 3000.0)
        .field("change", change)
        .field("threshold", 0.5)
        .time(5)
        .build();
  };
  EXPECT_NE(render(alert(1.2), RowFormat::kCopyText).find("\tPRICE_UP\t"), std::string::npos);
  EXPECT_NE(render(alert(-1.2), RowFormat::kCopyText).find("\tPRICE_DOWN\t"), std::string::npos);
}

TEST(Tables, CandleUpsertKeepsTheLastRowPerKeyAndNeverLetsPartialWin) {
  const std::string sql = insertSql(*tableFor("candle"), "src");
  EXPECT_NE(sql.find("SELECT DISTINCT ON (pair, interval, timestamp, exchange)"), std::string::npos)
      << sql;
  EXPECT_NE(sql.find("ORDER BY pair, interval, timestamp, exchange, seq DESC"), std::string::npos);
  EXPECT_NE(sql.find("ON CONFLICT (pair, interval, timestamp, exchange) DO UPDATE SET open = "
                     "EXCLUDED.open"),
            std::string::npos);
  EXPECT_NE(sql.find("WHERE NOT (EXCLUDED.partial AND NOT ohlc_data.partial)"), std::string::npos);
  const std::string trade_sql = insertSql(*tableFor("trade"), "src");
  EXPECT_NE(trade_sql.find("ON CONFLICT (pair, timestamp, exchange, trade_id) DO NOTHING"),
            std::string::npos)
      << trade_sql;
  // The new-rows insert probes the primary key with the converted key of each source row.
  const std::string fast = insertNewRowsSql(*tableFor("trade"), "src");
  EXPECT_NE(fast.find("WHERE NOT EXISTS (SELECT 1 FROM trade_data AS x WHERE x.pair = s.pair AND "
                      "x.timestamp = TIMESTAMPTZ 'epoch' + (s.timestamp / 1000) * INTERVAL "
                      "'1 microsecond' AND x.exchange = s.exchange AND x.trade_id = s.trade_id "
                      "OFFSET 0)"),
            std::string::npos)
      << fast;
}

TEST(Tables, AbandonedRowLeavesTheBufferAsItWas) {
  RowBuilder row(RowFormat::kValues);
  row.begin(0);
  row.integer(1);
  row.end();
  const std::string before = row.buffer();
  row.begin(1);
  row.integer(2);
  row.abandon();
  EXPECT_EQ(row.buffer(), before);
  EXPECT_EQ(row.rows(), 1u);
}

}  // namespace
}  // namespace cvagent::outputs::timescale
