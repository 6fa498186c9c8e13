#include <gtest/gtest.h>

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
  EXPECT_EQ(o.compress_after, std::chrono::hours(24 * 7));
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
