#include <gtest/gtest.h>

#include "redis_output.h"

namespace cvagent::outputs::redis {
namespace {

Diagnostics bind(std::initializer_list<std::pair<const char*, const char*>> options,
                 RedisOptions& out, std::vector<std::string> modes = {}) {
  ConfigNode map = ConfigNode::map({"p.yaml", 3, 5});
  for (const auto& [key, value] : options) {
    map.insert(key, {"p.yaml", 4, 7}, ConfigNode::scalar(value, {"p.yaml", 4, 12}));
  }
  if (!modes.empty()) {
    ConfigNode list = ConfigNode::sequence({"p.yaml", 5, 7});
    for (const auto& m : modes) list.append(ConfigNode::scalar(m, {"p.yaml", 5, 9}));
    map.insert("modes", {"p.yaml", 5, 5}, std::move(list));
  }
  Diagnostics diags;
  schemaOf<RedisOptions>().bind(&out, map, "outputs.redis", diags);
  return diags;
}

TEST(RedisOptions, Defaults) {
  RedisOptions o;
  ASSERT_TRUE(bind({}, o).empty());
  EXPECT_EQ(o.modes, std::vector<std::string>{"latest"});
  EXPECT_EQ(o.key, "cvagent:{name}:{pair|symbol|source}");
  EXPECT_TRUE(o.endpoint.empty());  // kDefaultEndpoint
}

TEST(RedisOptions, SeveralModes) {
  RedisOptions o;
  ASSERT_TRUE(bind({{"stream_max_len", "1000"}}, o, {"latest", "stream", "timeseries"}).empty());
  EXPECT_EQ(o.modes.size(), 3u);
  EXPECT_EQ(o.stream_max_len, 1000);
}

TEST(RedisOptions, UnknownAndRepeatedModesAreRefused) {
  RedisOptions a;
  EXPECT_FALSE(bind({}, a, {"latest", "cache"}).empty());
  RedisOptions b;
  EXPECT_FALSE(bind({}, b, {"stream", "stream"}).empty());
}

TEST(RedisOptions, BadTemplateTlsAndTwoPasswordsAreRefused) {
  RedisOptions a;
  EXPECT_FALSE(bind({{"key", "cvagent:{name"}}, a).empty());
  RedisOptions b;
  EXPECT_FALSE(bind({{"endpoint", "rediss://h:6380/0"}}, b).empty());
  RedisOptions c;
  EXPECT_FALSE(bind({{"password", "x"}, {"password_file", "/run/secrets/redis"}}, c).empty());
}

TEST(RedisOptions, EndpointErrorsHideThePassword) {
  RedisOptions o;
  const Diagnostics d = bind({{"endpoint", "redis://u:topsecret@h:0/0"}}, o);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].message.find("topsecret"), std::string::npos) << d[0].message;
}

TEST(KeyTemplate, NameAndFirstPresentTag) {
  const KeyTemplate t("cvagent:{name}:{pair|symbol|source}");
  Metric ticker("ticker", 1);
  ticker.setTag("pair", "BTC/USD");
  ticker.setTag("source", "kraken");
  std::string out;
  t.render(ticker, out);
  EXPECT_EQ(out, "cvagent:ticker:BTC/USD");
  Metric article("article", 1);
  article.setTag("source", "coindesk");
  out.clear();
  t.render(article, out);
  EXPECT_EQ(out, "cvagent:article:coindesk");
  Metric bare("x", 1);
  out.clear();
  t.render(bare, out);
  EXPECT_EQ(out, "cvagent:x:");
}

TEST(StreamIds, SameTimeGetsIncreasingSequenceAndRollbackRepeats) {
  StreamIds ids;
  const std::int64_t t = 1'795'962'600'123'456'789;
  auto a = ids.next("s", t);
  auto b = ids.next("s", t);
  auto c = ids.next("s", t + 1);
  EXPECT_EQ(a.ms, 1'795'962'600'123);
  EXPECT_EQ(a.seq, 456'789'000u);
  EXPECT_EQ(b.seq, 456'789'001u);
  EXPECT_EQ(c.seq, 456'790'000u);
  ids.rollback();
  EXPECT_EQ(ids.next("s", t).seq, a.seq);  // the retry of the batch gets the same IDs
  ids.commit();
  EXPECT_EQ(ids.next("s", t).seq, b.seq);  // the next batch continues after the stored one
  EXPECT_EQ(ids.next("other", t).seq, a.seq);
}

}  // namespace
}  // namespace cvagent::outputs::redis
