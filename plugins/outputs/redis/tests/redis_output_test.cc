// outputs.redis against real redis-server processes started on free loopback ports.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cvagent/testing/test_context.h"
#include "redis_output.h"
#include "redis_server.h"
#include "service_env.h"

namespace cvagent::outputs::redis {
namespace {

using cvagent::testing::TestContext;
using testing::RedisServer;

constexpr std::int64_t kT0 = 1'795'962'600'000'000'000;  // 2026-11-30T12:30:00Z

Metric ticker(const std::string& pair, std::int64_t time_ns, double last) {
  Metric m("ticker", time_ns);
  m.setTag("pair", pair);
  m.setTag("exchange", "kraken");
  m.setField("last", last);
  m.setField("volume", std::int64_t{42});
  m.setField("status", std::string("online"));
  return m;
}

struct Reply {
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> r;
  redisReply* operator->() const { return r.get(); }
};

class RedisClient {
 public:
  explicit RedisClient(redisContext* c) : c_(c) {}
  ~RedisClient() { redisFree(c_); }
  template <typename... Args>
  Reply run(const char* format, Args... args) {
    auto* r = static_cast<redisReply*>(redisCommand(c_, format, args...));
    if (!r) throw std::runtime_error("redis command failed");
    return {{r, freeReplyObject}};
  }
  redisContext* raw() { return c_; }

 private:
  redisContext* c_;
};

std::string str(const redisReply* r) { return std::string(r->str, r->len); }

class RedisOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::haveRedisServer()) {
      if (cvagent::testing::servicesRequired()) FAIL() << "redis-server is not installed";
      GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
    }
    server_ = std::make_unique<RedisServer>();
  }
  RedisOptions options(std::vector<std::string> modes) {
    RedisOptions o;
    o.endpoint = Secret(server_->url());
    o.modes = std::move(modes);
    return o;
  }
  std::unique_ptr<RedisServer> server_;
  TestContext context_{"outputs.redis"};
};

TEST_F(RedisOutputTest, LatestHashHoldsTheNewestEventOnly) {
  RedisOutput out(options({"latest"}), context_);
  const std::vector<Metric> newer = {ticker("BTC/USD", kT0 + 2'000'000'000, 95000.5)};
  ASSERT_EQ(out.write(newer).status(), WriteStatus::kOk);
  const std::vector<Metric> older = {ticker("BTC/USD", kT0 + 1'000'000'000, 94000.25)};
  ASSERT_EQ(out.write(older).status(), WriteStatus::kOk);
  EXPECT_EQ(context_.counterValue("redis_latest_older_total"), 1.0);

  RedisClient client(server_->client());
  auto last = client.run("HGET %s last", "cvagent:ticker:BTC/USD");
  EXPECT_EQ(str(last.r.get()), "95000.5");
  EXPECT_EQ(str(client.run("HGET %s time", "cvagent:ticker:BTC/USD").r.get()),
            std::to_string(kT0 + 2'000'000'000));
  EXPECT_EQ(str(client.run("HGET %s status", "cvagent:ticker:BTC/USD").r.get()), "online");
  EXPECT_EQ(str(client.run("HGET %s volume", "cvagent:ticker:BTC/USD").r.get()), "42");

  // One nanosecond later wins, even though Lua's doubles could not tell the two apart.
  const std::vector<Metric> by_a_nanosecond = {ticker("BTC/USD", kT0 + 2'000'000'001, 96000.0)};
  ASSERT_EQ(out.write(by_a_nanosecond).status(), WriteStatus::kOk);
  EXPECT_EQ(str(client.run("HGET %s last", "cvagent:ticker:BTC/USD").r.get()), "96000.0");
  EXPECT_EQ(client.run("HLEN %s", "cvagent:ticker:BTC/USD")->integer, 4);

  // A field named `time` does not take the event time's place.
  Metric odd = ticker("BTC/USD", kT0 + 3'000'000'000, 97000.0);
  odd.setField("time", std::int64_t{1});
  ASSERT_EQ(out.write(std::vector<Metric>{odd}).status(), WriteStatus::kOk);
  EXPECT_EQ(str(client.run("HGET %s time", "cvagent:ticker:BTC/USD").r.get()),
            std::to_string(kT0 + 3'000'000'000));
  ASSERT_EQ(out.write(by_a_nanosecond).status(), WriteStatus::kOk);
  EXPECT_EQ(str(client.run("HGET %s last", "cvagent:ticker:BTC/USD").r.get()), "97000.0");
}

TEST_F(RedisOutputTest, StreamEntriesEqualWhatWasSentAndAReplayAddsNothing) {
  RedisOptions o = options({"stream"});
  RedisOutput out(o, context_);
  std::vector<Metric> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(ticker("ETH/USD", kT0 + i * 250'000, 3000 + i));
  batch.push_back(ticker("ETH/USD", kT0 + 49 * 250'000, 4000));  // same event time as the last
  ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);

  RedisClient client(server_->client());
  auto entries = client.run("XRANGE %s - +", "cvagent:stream:ticker:ETH/USD");
  ASSERT_EQ(entries->elements, batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const redisReply* entry = entries->element[i];
    const redisReply* fields = entry->element[1];
    std::string expected;
    encodeMetricJson(batch[i], expected);
    ASSERT_EQ(fields->elements, 2u);
    EXPECT_EQ(str(fields->element[0]), "json");
    EXPECT_EQ(str(fields->element[1]), expected) << i;
    const std::int64_t ms = batch[i].time() / 1'000'000;
    EXPECT_EQ(str(entry->element[0]).rfind(std::to_string(ms) + "-", 0), 0u)
        << str(entry->element[0]);
  }

  // The same recording replayed twice, by this output and by a fresh one (a restarted agent).
  ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);
  TestContext other_context;
  RedisOutput restarted(o, other_context);
  ASSERT_EQ(restarted.write(batch).status(), WriteStatus::kOk);
  EXPECT_EQ(client.run("XLEN %s", "cvagent:stream:ticker:ETH/USD")->integer,
            static_cast<long long>(batch.size()));
  EXPECT_EQ(context_.counterValue("redis_stream_not_after_top_total"), batch.size());
}

TEST_F(RedisOutputTest, PubSubPublishesTheJson) {
  RedisClient subscriber(server_->client());
  freeReplyObject(redisCommand(subscriber.raw(), "SUBSCRIBE %s", "cvagent:ticker:SOL/USD"));
  RedisOutput out(options({"pubsub"}), context_);
  const std::vector<Metric> batch = {ticker("SOL/USD", kT0, 180.5)};
  ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);
  void* raw = nullptr;
  ASSERT_EQ(redisGetReply(subscriber.raw(), &raw), REDIS_OK);
  Reply message{{static_cast<redisReply*>(raw), freeReplyObject}};
  ASSERT_EQ(message->elements, 3u);
  EXPECT_EQ(str(message->element[0]), "message");
  std::string expected;
  encodeMetricJson(batch[0], expected);
  EXPECT_EQ(str(message->element[2]), expected);
}

TEST_F(RedisOutputTest, TimeseriesIsASortedSetTrimmedByAge) {
  RedisOptions o = options({"timeseries"});
  o.timeseries_max_age = std::chrono::seconds(60);
  RedisOutput out(o, context_);
  std::vector<Metric> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(ticker("XRP/USD", kT0 + i * 30'000'000'000LL, i));
  ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);
  ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);  // a retry: same members, no duplicates

  RedisClient client(server_->client());
  auto members = client.run("ZRANGE %s 0 -1 WITHSCORES", "cvagent:ts:ticker:XRP/USD");
  // Newest at +120 s: members older than +60 s are gone; +60 s itself stays.
  ASSERT_EQ(members->elements, 6u);
  for (int k = 0; k < 3; ++k) {
    const Metric& m = batch[2 + k];
    std::string expected;
    encodeMetricJson(m, expected);
    EXPECT_EQ(str(members->element[2 * k]), expected);
    EXPECT_EQ(str(members->element[2 * k + 1]), std::to_string(m.time() / 1'000'000));
  }
}

TEST_F(RedisOutputTest, SeveralModesAtOnceOnADatabaseThroughTheUnixSocket) {
  RedisOptions o = options({"latest", "stream", "timeseries", "pubsub"});
  o.endpoint = Secret("unix:" + server_->socketPath() + "?db=5");
  RedisOutput out(o, context_);
  const std::vector<Metric> batch = {ticker("BTC/EUR", kT0, 1.5), ticker("BTC/EUR", kT0 + 1, 2.5)};
  ASSERT_EQ(out.write(batch).status(), WriteStatus::kOk);
  RedisClient db5(server_->client(5));
  EXPECT_EQ(str(db5.run("HGET %s last", "cvagent:ticker:BTC/EUR").r.get()), "2.5");
  EXPECT_EQ(db5.run("XLEN %s", "cvagent:stream:ticker:BTC/EUR")->integer, 2);
  EXPECT_EQ(db5.run("ZCARD %s", "cvagent:ts:ticker:BTC/EUR")->integer, 2);
  RedisClient db0(server_->client());
  EXPECT_EQ(db0.run("DBSIZE")->integer, 0);
}

TEST_F(RedisOutputTest, ScriptFlushedOnTheServerIsLoadedAgain) {
  RedisOutput out(options({"latest"}), context_);
  ASSERT_EQ(out.write(std::vector<Metric>{ticker("A/B", kT0, 1)}).status(), WriteStatus::kOk);
  RedisClient client(server_->client());
  client.run("SCRIPT FLUSH");
  ASSERT_EQ(out.write(std::vector<Metric>{ticker("A/B", kT0 + 1, 2)}).status(), WriteStatus::kOk);
  EXPECT_EQ(str(client.run("HGET %s last", "cvagent:ticker:A/B").r.get()), "2.0");
}

TEST_F(RedisOutputTest, AKeyOfAnotherTypeRejectsThatMetricOnly) {
  RedisClient client(server_->client());
  client.run("SET %s %s", "cvagent:stream:ticker:BAD/USD", "not a stream");
  RedisOutput out(options({"stream"}), context_);
  const std::vector<Metric> batch = {ticker("OK/USD", kT0, 1), ticker("BAD/USD", kT0, 2),
                                     ticker("OK/USD", kT0 + 1, 3)};
  const WriteResult r = out.write(batch);
  EXPECT_EQ(r.status(), WriteStatus::kOk);
  ASSERT_EQ(r.exceptions().size(), 1u);
  EXPECT_EQ(r.exceptions()[0].index, 1u);
  EXPECT_EQ(r.exceptions()[0].status, WriteStatus::kReject);
  EXPECT_NE(r.exceptions()[0].reason.find("WRONGTYPE"), std::string::npos);
  EXPECT_EQ(client.run("XLEN %s", "cvagent:stream:ticker:OK/USD")->integer, 2);
}

TEST(RedisOutputAuth, PasswordFromASecretAuthenticatesAndIsNeverLogged) {
  if (!testing::haveRedisServer()) GTEST_SKIP() << "redis-server is not installed";
  const std::string password = "pw-Zq8!never-in-logs";
  RedisServer server(password);
  TestContext context;
  RedisOptions o;
  o.endpoint = Secret(server.url(2));
  o.password = Secret(password);
  o.modes = {"latest"};
  RedisOutput out(o, context);
  ASSERT_EQ(out.write(std::vector<Metric>{ticker("BTC/USD", kT0, 7)}).status(), WriteStatus::kOk);
  RedisClient client(server.client(2));
  EXPECT_EQ(str(client.run("HGET %s last", "cvagent:ticker:BTC/USD").r.get()), "7.0");

  // Also in the URL, and a wrong one: the error says why without echoing either.
  TestContext wrong_context;
  RedisOptions wrong;
  wrong.endpoint = Secret("redis://default:" + password +
                          "-x@127.0.0.1:" + std::to_string(server.port()) + "/0");
  RedisOutput refused(wrong, wrong_context);
  const WriteResult r = refused.write(std::vector<Metric>{ticker("BTC/USD", kT0, 7)});
  EXPECT_EQ(r.status(), WriteStatus::kRetry);
  EXPECT_NE(r.reason().find("WRONGPASS"), std::string::npos) << r.reason();
  EXPECT_NE(r.reason().find("***"), std::string::npos) << r.reason();
  EXPECT_EQ(r.reason().find(password), std::string::npos) << r.reason();
  EXPECT_EQ(refused.redactedEndpoint().find(password), std::string::npos);
  for (TestContext* c : {&context, &wrong_context}) {
    for (const auto& line : c->logger().lines()) {
      EXPECT_EQ(line.message.find(password), std::string::npos) << line.message;
    }
  }
  EXPECT_TRUE(context.logger().contains("connected to redis://127.0.0.1"));
}

TEST(RedisOutputRestart, ServerKilledMidStreamLosesAndDuplicatesNothing) {
  if (!testing::haveRedisServer()) GTEST_SKIP() << "redis-server is not installed";
  RedisServer server;
  TestContext context;
  RedisOptions o;
  o.endpoint = Secret(server.url());
  o.modes = {"stream", "latest"};
  o.connect_timeout = std::chrono::milliseconds(500);
  o.command_timeout = std::chrono::milliseconds(2000);
  RedisOutput out(o, context);

  constexpr int kBatches = 40, kPerBatch = 250;
  std::vector<std::string> pairs = {"BTC/USD", "ETH/USD", "SOL/USD"};
  int retries = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<Metric> batch;
    for (int i = 0; i < kPerBatch; ++i) {
      const int n = b * kPerBatch + i;
      // Every fifth metric shares its event time with the one before (same-time sequence).
      const std::int64_t t = kT0 + (n - (n % 5 == 4 ? 1 : 0)) * 100'000;
      batch.push_back(ticker(pairs[n % 3 == 0 ? 0 : (n % 3 == 1 ? 1 : 2)], t, n));
    }
    if (b == 10 || b == 25) server.kill();  // mid-stream, between and during batches
    // The core's loop: retry the same batch with backoff until it is stored.
    int attempts = 0;
    while (true) {
      const WriteResult r = out.write(batch);
      if (r.status() == WriteStatus::kOk) {
        EXPECT_TRUE(r.exceptions().empty());
        break;
      }
      ASSERT_EQ(r.status(), WriteStatus::kRetry) << r.reason();
      ++retries;
      ASSERT_LT(++attempts, 50) << r.reason();
      if (attempts == 2) server.start();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_GE(retries, 2);
  EXPECT_GE(context.counterValue("redis_reconnects_total"), 2.0);

  RedisClient client(server.client());
  long long total = 0;
  for (const auto& pair : pairs) {
    auto entries = client.run("XRANGE %s - +", ("cvagent:stream:ticker:" + pair).c_str());
    std::set<std::string> ids, values;
    for (std::size_t i = 0; i < entries->elements; ++i) {
      ids.insert(str(entries->element[i]->element[0]));
      values.insert(str(entries->element[i]->element[1]->element[1]));
    }
    EXPECT_EQ(ids.size(), entries->elements);
    EXPECT_EQ(values.size(), entries->elements);  // each metric (distinct `last`) exactly once
    total += static_cast<long long>(entries->elements);
  }
  EXPECT_EQ(total, kBatches * kPerBatch);
  // And the hashes hold the newest event of each series.
  EXPECT_EQ(str(client.run("HGET %s last", "cvagent:ticker:BTC/USD").r.get()),
            std::to_string(kBatches * kPerBatch - 1 - ((kBatches * kPerBatch - 1) % 3)) + ".0");
}

}  // namespace
}  // namespace cvagent::outputs::redis
