#pragma once
// outputs.redis: live values for dashboards and applications in Redis (hiredis), pipelined: the
// latest value per series (a hash), a stream per series, pub/sub messages and a sorted set per
// series, idempotently so the core's retries duplicate nothing.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "cvagent/options.h"
#include "cvagent/output.h"
#include "cvagent/plugin_context.h"
#include "redis_endpoint.h"

struct redisContext;

namespace cvagent::outputs::redis {

inline constexpr const char* kDefaultEndpoint = "redis://127.0.0.1:6379/0";

struct RedisOptions {
  Secret endpoint;  // empty: kDefaultEndpoint
  std::string username;
  Secret password;
  std::string password_file;
  std::vector<std::string> modes{"latest"};
  std::string key = "cvagent:{name}:{pair|symbol|source}";
  std::string stream_key = "cvagent:stream:{name}:{pair|symbol|source}";
  std::string channel = "cvagent:{name}:{pair|symbol|source}";
  std::string timeseries_key = "cvagent:ts:{name}:{pair|symbol|source}";
  std::int64_t stream_max_len = 100000;
  std::chrono::seconds timeseries_max_age{86400};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds command_timeout{10000};

  static void describe(Schema<RedisOptions>& s);
};

// A key or channel template: literal text with `{name}` (the metric name) and `{a|b|c}` (the
// first of these tags the metric has; `name` may be one of the alternatives).
class KeyTemplate {
 public:
  explicit KeyTemplate(const std::string& text);
  void render(const Metric& metric, std::string& out) const;

 private:
  struct Part {
    std::string literal;
    std::vector<std::string> alternatives;  // empty for a literal part
  };
  std::vector<Part> parts_;
};

// Checks a template's braces; "" when it is fine, otherwise why not.
std::string keyTemplateError(const std::string& text);

// The JSON a metric is stored as in streams, sorted sets and pub/sub messages.
void encodeMetricJson(const Metric& metric, std::string& out);

// Stream entry IDs "<ms>-<seq>": seq = (nanoseconds within the millisecond) * 1000 + n, n counting
// the metrics of one stream with the very same event time in arrival order (several trades of
// one match). The same metrics in the same order get the same IDs, so a retry or a replay is
// refused by Redis as not after the stream's top and counts as already stored.
class StreamIds {
 public:
  struct Id {
    std::int64_t ms;
    std::uint64_t seq;
  };
  // The ID of the next metric of stream `key`, on top of what the pending batch assigned.
  Id next(const std::string& key, std::int64_t time_ns);
  // The pending batch was stored: its assignments become the base of the next batch.
  void commit();
  // The pending batch will be retried: forget its assignments so the retry gets the same IDs.
  void rollback() { pending_.clear(); }

 private:
  struct Last {
    std::int64_t time_ns;
    std::uint32_t n;
  };
  std::unordered_map<std::string, Last> committed_, pending_;
};

class RedisOutput final : public Output {
 public:
  RedisOutput(const RedisOptions& options, PluginContext& context);
  ~RedisOutput() override;

  void connect() override;
  WriteResult write(std::span<const Metric> batch) override;
  void close() override;

  const std::string& redactedEndpoint() const { return endpoint_.redacted; }

 private:
  enum class Command : std::uint8_t { kLatest, kStream, kPublish, kTimeseriesAdd, kTrim };
  struct Pending {
    std::uint32_t index;  // in the batch; unused for kTrim
    Command command;
  };

  void dropConnection();
  // Appends one command in RESP to `commands_`.
  void beginCommand(std::size_t args);
  void addArg(std::string_view arg);
  void appendLatest(const Metric& metric);
  void appendStream(const Metric& metric);
  // Sends `commands_` and reads one reply per entry of `pending`; false when the connection
  // failed (`error` says why).
  bool roundTrip(const std::vector<Pending>& pending, WriteResult& result, bool& retry_batch,
                 std::vector<std::uint32_t>& noscript, std::string& error);
  void loadScript();

  RedisOptions options_;
  PluginContext& context_;
  Endpoint endpoint_;
  bool latest_ = false, stream_ = false, pubsub_ = false, timeseries_ = false;
  KeyTemplate key_, stream_key_, channel_, timeseries_key_;
  redisContext* redis_ = nullptr;
  std::string script_sha_;
  StreamIds stream_ids_;
  std::string commands_, scratch_, json_, key_text_;
  std::vector<Pending> pending_;
  std::uint64_t connections_opened_ = 0;
  std::unordered_map<std::string, std::int64_t> newest_per_timeseries_;
  Counter& reconnects_;
  Counter& stream_not_after_top_;
  Counter& older_than_latest_;
  Counter& rejected_;
};

}  // namespace cvagent::outputs::redis
