#include <gtest/gtest.h>

#include <stdexcept>
#include <tuple>

#include "timescale_output.h"

namespace cvagent::outputs::timescale {
namespace {

Diagnostics bind(std::initializer_list<std::pair<const char*, const char*>> options,
                 TimescaleOptions& out) {
  ConfigNode map = ConfigNode::map({"p.yaml", 3, 5});
  for (const auto& [key, value] : options) {
    map.insert(key, {"p.yaml", 4, 7}, ConfigNode::scalar(value, {"p.yaml", 4, 12}));
  }
  Diagnostics diags;
  schemaOf<TimescaleOptions>().bind(&out, map, "outputs.timescale", diags);
  return diags;
}

TEST(TimescaleOptions, DefaultsAndDurations) {
  TimescaleOptions o;
  ASSERT_TRUE(bind({{"connection", "postgresql://u@h/db"}, {"retention", "30d"}}, o).empty());
  EXPECT_EQ(o.retention, std::chrono::hours(24 * 30));
  EXPECT_FALSE(o.compress_after);  // each table's default
  EXPECT_EQ(o.method, "copy");
  EXPECT_FALSE(o.create_schema);
  EXPECT_EQ(o.connection.reveal(), "postgresql://u@h/db");
}

TEST(TimescaleOptions, RetentionInsideTheAggregateRefreshWindowIsRefused) {
  TimescaleOptions o;
  const Diagnostics d = bind({{"retention", "2d"}}, o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("at least 4d"), std::string::npos) << d[0].message;
  TimescaleOptions off;
  EXPECT_TRUE(bind({{"retention", "0"}}, off).empty());
}

Diagnostics bindPolicies(
    std::initializer_list<std::tuple<const char*, const char*, const char*>> policies,
    TimescaleOptions& out) {
  ConfigNode map = ConfigNode::map({"p.yaml", 3, 5});
  ConfigNode tables = ConfigNode::map({"p.yaml", 5, 7});
  for (const auto& [table, key, value] : policies) {
    ConfigNode policy = ConfigNode::map({"p.yaml", 6, 9});
    policy.insert(key, {"p.yaml", 6, 9}, ConfigNode::scalar(value, {"p.yaml", 6, 20}));
    tables.insert(table, {"p.yaml", 6, 7}, std::move(policy));
  }
  map.insert("policies", {"p.yaml", 5, 5}, std::move(tables));
  Diagnostics diags;
  schemaOf<TimescaleOptions>().bind(&out, map, "outputs.timescale", diags);
  return diags;
}

const TablePolicySetting& policyOf(const std::vector<TablePolicySetting>& all,
                                   const std::string& table) {
  for (const auto& p : all) {
    if (p.table == table) return p;
  }
  throw std::out_of_range(table);
}

TEST(TimescaleOptions, PoliciesAreDefaultsThenEveryTableThenPerTable) {
  TimescaleOptions o;
  ASSERT_TRUE(
      bindPolicies(
          {{"trade_data", "retention", "30d"}, {"book_level_data", "chunk_interval", "1h"}}, o)
          .empty());
  o.compress_after = std::chrono::hours(24 * 3);  // as `compress_after: 3d` would
  const auto all = effectivePolicies(o);
  ASSERT_EQ(all.size(), defaultPolicies().size());
  EXPECT_EQ(policyOf(all, "trade_data").retention, std::chrono::hours(24 * 30));
  EXPECT_EQ(policyOf(all, "trade_data").compress_after, std::chrono::hours(24 * 3));
  EXPECT_EQ(policyOf(all, "book_level_data").chunk_interval, std::chrono::hours(1));
  EXPECT_EQ(policyOf(all, "book_level_data").retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(policyOf(all, "ohlc_data").retention.count(), 0);  // candles are kept
  // Every default keeps a table at most one chunk past its retention, and compresses only
  // chunks that are closed.
  for (const auto& p : defaultPolicies()) {
    if (p.retention.count() > 0) {
      EXPECT_LE(p.chunk_interval * 10, p.retention * 1) << p.table;
    }
    EXPECT_GE(p.compress_after, p.chunk_interval) << p.table;
  }
}

TEST(TimescaleOptions, PoliciesNameKnownTablesAndKeepTheAggregatesWhole) {
  TimescaleOptions unknown;
  const Diagnostics d = bindPolicies({{"trades", "retention", "30d"}}, unknown);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("no table 'trades'"), std::string::npos) << d[0].message;
  TimescaleOptions short_ticker;
  const Diagnostics t = bindPolicies({{"ticker_data", "retention", "1d"}}, short_ticker);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_NE(t[0].message.find("ticker_data"), std::string::npos) << t[0].message;
  TimescaleOptions short_trades;  // no aggregate reads trade_data
  EXPECT_TRUE(bindPolicies({{"trade_data", "retention", "1d"}}, short_trades).empty());
}

TEST(TimescaleOptions, ConnectionAndConnectionFileAreExclusive) {
  TimescaleOptions o;
  const Diagnostics d = bind({{"connection", "host=a"}, {"connection_file", "/run/s"}}, o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("not both"), std::string::npos);
}

TEST(TimescaleOptions, UnknownMethodIsRefused) {
  TimescaleOptions o;
  EXPECT_EQ(bind({{"method", "bulk"}}, o).size(), 1u);
}

}  // namespace
}  // namespace cvagent::outputs::timescale
