#include "redis_output.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "contract/kafka_json.h"
#include "cvagent/codec.h"

namespace cvagent::outputs::redis {
namespace {

constexpr std::string_view kModes[] = {"latest", "stream", "pubsub", "timeseries"};

// Replaces the series' hash with the metric's fields unless it holds a newer event. Times are
// compared as decimal strings (length, then text): Lua numbers are doubles and would round
// nanoseconds. An equal time overwrites, so a replay rewrites the same values.
constexpr std::string_view kLatestScript = R"lua(
local stored = redis.call('HGET', KEYS[1], 'time')
local time = ARGV[1]
if stored and (#stored > #time or (#stored == #time and stored > time)) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'time', unpack(ARGV))
return 1
)lua";

timeval toTimeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// A Redis error reply: the first word is the error class (WRONGTYPE, NOSCRIPT, OOM, LOADING...).
enum class ErrorKind { kAlreadyStored, kNoScript, kRejectMetric, kRetry };

ErrorKind classify(std::string_view error) {
  // XADD with an ID not after the stream's top: this entry (or a later one) is already there.
  if (error.find("equal or smaller than the target stream top item") != std::string_view::npos) {
    return ErrorKind::kAlreadyStored;
  }
  if (error.starts_with("NOSCRIPT")) return ErrorKind::kNoScript;
  // About this metric's command (a key of another type, an ID Redis refuses, a script error):
  // a retry would fail the same way.
  if (error.starts_with("WRONGTYPE") || error.starts_with("ERR")) return ErrorKind::kRejectMetric;
  // OOM, LOADING, BUSY, READONLY, MASTERDOWN, NOAUTH...: the server's state, may pass.
  return ErrorKind::kRetry;
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace

std::string keyTemplateError(const std::string& text) {
  std::size_t depth_open = std::string::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') {
      if (depth_open != std::string::npos) return "nested '{' at offset " + std::to_string(i);
      depth_open = i;
    } else if (text[i] == '}') {
      if (depth_open == std::string::npos) return "'}' without '{' at offset " + std::to_string(i);
      const std::string_view inner(text.data() + depth_open + 1, i - depth_open - 1);
      if (inner.empty() || inner.starts_with('|') || inner.ends_with('|') ||
          inner.find("||") != std::string_view::npos) {
        return "empty name in '{" + std::string(inner) + "}'";
      }
      depth_open = std::string::npos;
    }
  }
  if (depth_open != std::string::npos)
    return "unterminated '{' at offset " + std::to_string(depth_open);
  return {};
}

KeyTemplate::KeyTemplate(const std::string& text) {
  if (const std::string error = keyTemplateError(text); !error.empty()) {
    throw std::invalid_argument("template '" + text + "': " + error);
  }
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find('{', i);
    if (open != i) {
      parts_.push_back(
          {text.substr(i, open == std::string::npos ? std::string::npos : open - i), {}});
      if (open == std::string::npos) break;
    }
    const std::size_t close = text.find('}', open);
    Part part;
    std::string_view inner(text.data() + open + 1, close - open - 1);
    while (true) {
      const auto bar = inner.find('|');
      part.alternatives.emplace_back(inner.substr(0, bar));
      if (bar == std::string_view::npos) break;
      inner.remove_prefix(bar + 1);
    }
    parts_.push_back(std::move(part));
    i = close + 1;
  }
}

void KeyTemplate::render(const Metric& metric, std::string& out) const {
  for (const auto& part : parts_) {
    if (part.alternatives.empty()) {
      out += part.literal;
      continue;
    }
    for (const auto& alternative : part.alternatives) {
      if (alternative == "name") {
        out += metric.name();
        break;
      }
      if (const std::string* value = metric.tag(alternative)) {
        out += *value;
        break;
      }
    }
  }
}

// The data contract's Kafka-topic shape, so a consumer of Redis reads what a Kafka consumer reads.
void encodeMetricJson(const Metric& metric, std::string& out) { contract::appendJson(metric, out); }

StreamIds::Id StreamIds::next(const std::string& key, std::int64_t time_ns) {
  auto pending = pending_.find(key);
  const Last* last = nullptr;
  if (pending != pending_.end()) {
    last = &pending->second;
  } else if (auto committed = committed_.find(key); committed != committed_.end()) {
    last = &committed->second;
  }
  const std::uint32_t n = last && last->time_ns == time_ns ? last->n + 1 : 0;
  if (pending != pending_.end()) {
    pending->second = {time_ns, n};
  } else {
    pending_.emplace(key, Last{time_ns, n});
  }
  const std::int64_t ms = floorDiv(time_ns, 1'000'000);
  const auto sub_ms_ns = static_cast<std::uint64_t>(time_ns - ms * 1'000'000);
  return {ms, sub_ms_ns * 1000 + n};
}

void StreamIds::commit() {
  for (auto& [key, last] : pending_) committed_[key] = last;
  pending_.clear();
}

void RedisOptions::describe(Schema<RedisOptions>& s) {
  s.option("endpoint", &RedisOptions::endpoint,
           "Where Redis listens: `redis://[user[:password]@]host[:port][/db]` (as Vector spells "
           "it; percent-encode reserved characters in the password) or `unix:/path/redis.sock` "
           "(`?db=N` for a database). `rediss://` (TLS) is refused: Debian 12's hiredis 0.14 "
           "has no TLS; use a unix socket or a TLS tunnel. Empty: `redis://127.0.0.1:6379/0`.")
      .example("${REDIS_URL:-redis://redis:6379/0}");
  s.option("username", &RedisOptions::username,
           "ACL user for AUTH (Redis 6+), over the endpoint's. Empty: the endpoint's, or the "
           "`default` user.");
  s.option("password", &RedisOptions::password,
           "Password for AUTH, over the endpoint's (use `${REDIS_PASSWORD}`). Never logged.");
  s.option("password_file", &RedisOptions::password_file,
           "File holding the password (a mounted secret; a trailing newline is ignored). Instead "
           "of `password`.");
  s.option("modes", &RedisOptions::modes,
           "What each metric becomes, any of: `latest` (a hash per series with the newest "
           "event's fields and `time`; an older event never overwrites it), `stream` (XADD to a "
           "stream per series, entry ID from the event time, so retries and replays add "
           "nothing), `pubsub` (PUBLISH of the JSON), `timeseries` (a sorted set per series, "
           "score the event time in ms, member the JSON).")
      .oneOf({"latest", "stream", "pubsub", "timeseries"});
  s.option("key", &RedisOptions::key,
           "Hash key of a series in `latest` mode: `{name}` is the metric name, `{a|b}` the first "
           "of these tags the metric has (nothing when it has none).");
  s.option("stream_key", &RedisOptions::stream_key,
           "Stream key of a series in `stream` mode (a template as `key`).");
  s.option("channel", &RedisOptions::channel, "Channel in `pubsub` mode (a template as `key`).");
  s.option("timeseries_key", &RedisOptions::timeseries_key,
           "Sorted-set key of a series in `timeseries` mode (a template as `key`).");
  s.option("stream_max_len", &RedisOptions::stream_max_len,
           "Streams are trimmed to about this many entries (`MAXLEN ~`); 0 keeps everything.")
      .min(0);
  s.option("timeseries_max_age", &RedisOptions::timeseries_max_age,
           "Sorted-set members older than this before the newest event written to the set are "
           "removed; 0 keeps everything.")
      .min(0);
  s.option("connect_timeout", &RedisOptions::connect_timeout,
           "How long connecting (and AUTH, SELECT) may take; 0 waits forever.")
      .min(0);
  s.option("command_timeout", &RedisOptions::command_timeout,
           "How long a batch's round trip may take before the connection is dropped and the "
           "batch retried; 0 waits forever.")
      .min(0);
  s.check([](const RedisOptions& o, const SourceMark& where, Diagnostics& d) {
    try {
      if (parseEndpoint(o.endpoint.empty() ? kDefaultEndpoint : o.endpoint.reveal()).tls) {
        d.push_back({where,
                     "endpoint: rediss:// (TLS) is not supported: Debian 12's hiredis "
                     "0.14 has no TLS; use a unix socket or a TLS tunnel"});
      }
    } catch (const std::invalid_argument& e) {
      d.push_back({where, e.what()});
    }
    if (!o.password.empty() && !o.password_file.empty()) {
      d.push_back({where, "set either `password` or `password_file`, not both"});
    }
    if (o.modes.empty()) d.push_back({where, "modes: name at least one mode"});
    for (std::size_t i = 0; i < o.modes.size(); ++i) {
      if (std::find(o.modes.begin(), o.modes.begin() + i, o.modes[i]) != o.modes.begin() + i) {
        d.push_back({where, "modes: '" + o.modes[i] + "' is named twice"});
      }
    }
    for (const auto& [name, text] : {std::pair{"key", &o.key},
                                     {"stream_key", &o.stream_key},
                                     {"channel", &o.channel},
                                     {"timeseries_key", &o.timeseries_key}}) {
      if (const std::string error = keyTemplateError(*text); !error.empty()) {
        d.push_back({where, std::string(name) + ": " + error});
      }
    }
  });
}

namespace {

Endpoint resolveEndpoint(const RedisOptions& options) {
  Endpoint e =
      parseEndpoint(options.endpoint.empty() ? kDefaultEndpoint : options.endpoint.reveal());
  if (e.tls) throw std::invalid_argument("endpoint: rediss:// (TLS) is not supported");
  if (!options.username.empty()) e.username = options.username;
  if (!options.password.empty()) e.password = options.password.reveal();
  if (!options.password_file.empty()) {
    try {
      e.password = Secret::fromFile(options.password_file).reveal();
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(std::string("password_file: ") + error.what());
    }
  }
  return e;
}

bool hasMode(const RedisOptions& options, std::string_view mode) {
  return std::find(options.modes.begin(), options.modes.end(), mode) != options.modes.end();
}

}  // namespace

RedisOutput::RedisOutput(const RedisOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      endpoint_(resolveEndpoint(options)),
      latest_(hasMode(options, kModes[0])),
      stream_(hasMode(options, kModes[1])),
      pubsub_(hasMode(options, kModes[2])),
      timeseries_(hasMode(options, kModes[3])),
      key_(options.key),
      stream_key_(options.stream_key),
      channel_(options.channel),
      timeseries_key_(options.timeseries_key),
      reconnects_(context.counter("redis_reconnects_total",
                                  "Connections to Redis opened after the first one.")),
      stream_not_after_top_(context.counter(
          "redis_stream_not_after_top_total",
          "Stream entries Redis refused as not after the stream's last entry: already stored "
          "(a retry or replay) or an event older than the stream's newest.")),
      older_than_latest_(context.counter(
          "redis_latest_older_total",
          "Metrics not written to their latest hash because it holds a newer event.")),
      rejected_(context.counter("redis_rejected_total",
                                "Commands Redis refused for a metric (the metric is rejected).")) {}

RedisOutput::~RedisOutput() { dropConnection(); }

void RedisOutput::dropConnection() {
  if (redis_) {
    redisFree(redis_);
    redis_ = nullptr;
  }
}

void RedisOutput::close() { dropConnection(); }

void RedisOutput::connect() {
  if (redis_) return;
  const bool wait_forever = options_.connect_timeout.count() == 0;
  const timeval connect_tv = toTimeval(options_.connect_timeout);
  redisContext* c = nullptr;
  if (endpoint_.unix_socket) {
    c = wait_forever ? redisConnectUnix(endpoint_.host.c_str())
                     : redisConnectUnixWithTimeout(endpoint_.host.c_str(), connect_tv);
  } else {
    c = wait_forever ? redisConnect(endpoint_.host.c_str(), endpoint_.port)
                     : redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, connect_tv);
  }
  if (!c) throw std::runtime_error("cannot allocate a Redis context");
  if (c->err) {
    const std::string why = c->errstr;
    redisFree(c);
    throw std::runtime_error("cannot connect to " + endpoint_.redacted + ": " + why);
  }
  redis_ = c;
  // AUTH and SELECT run under the connect timeout (hiredis applies it to the socket); the
  // command timeout takes over afterwards.
  auto command = [&](const std::vector<std::string_view>& args, const char* what) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (auto a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(redis_, static_cast<int>(argv.size()), argv.data(), lengths.data())));
    std::string why;
    if (!reply) {
      why = redis_->errstr;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      why = std::string(reply->str, reply->len);  // Redis's words: they never echo a password
    } else {
      return reply;
    }
    dropConnection();
    throw std::runtime_error(fmt::format("{} on {} failed: {}", what, endpoint_.redacted, why));
  };
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty()) {
      command({"AUTH", endpoint_.password}, "AUTH");
    } else {
      command({"AUTH", endpoint_.username, endpoint_.password}, "AUTH");
    }
  }
  if (endpoint_.database != 0) {
    command({"SELECT", std::to_string(endpoint_.database)}, "SELECT");
  }
  if (latest_) {
    ReplyPtr reply = command({"SCRIPT", "LOAD", kLatestScript}, "SCRIPT LOAD");
    script_sha_.assign(reply->str, reply->len);
  }
  if (options_.command_timeout.count() > 0) {
    redisSetTimeout(redis_, toTimeval(options_.command_timeout));
  }
  if (!endpoint_.unix_socket) redisEnableKeepAlive(redis_);
  if (connections_opened_++ == 0) {
    context_.logger().info("connected to {}", endpoint_.redacted);
  } else {
    reconnects_.inc();
    context_.logger().info("reconnected to {}", endpoint_.redacted);
  }
}

void RedisOutput::beginCommand(std::size_t args) {
  char digits[24];
  commands_ += '*';
  commands_.append(digits, std::to_chars(digits, digits + sizeof(digits), args).ptr);
  commands_ += "\r\n";
}

void RedisOutput::addArg(std::string_view arg) {
  char digits[24];
  commands_ += '$';
  commands_.append(digits, std::to_chars(digits, digits + sizeof(digits), arg.size()).ptr);
  commands_ += "\r\n";
  commands_ += arg;
  commands_ += "\r\n";
}

void RedisOutput::appendLatest(const Metric& metric) {
  key_text_.clear();
  key_.render(metric, key_text_);
  // A field named `time` would overwrite the event time the script compares: left out.
  const auto stored =
      static_cast<std::size_t>(std::count_if(metric.fields().begin(), metric.fields().end(),
                                             [](const Field& f) { return f.key != "time"; }));
  beginCommand(5 + 2 * stored);
  addArg("EVALSHA");
  addArg(script_sha_);
  addArg("1");
  addArg(key_text_);
  char digits[24];
  addArg({digits, std::to_chars(digits, digits + sizeof(digits), metric.time()).ptr});
  for (const auto& field : metric.fields()) {
    if (field.key == "time") continue;
    addArg(field.key);
    if (const auto* text = std::get_if<std::string>(&field.value)) {
      addArg(*text);
    } else {
      scratch_.clear();
      codec::appendJsonValue(field.value, scratch_);
      addArg(scratch_);
    }
  }
}

void RedisOutput::appendStream(const Metric& metric) {
  key_text_.clear();
  stream_key_.render(metric, key_text_);
  const StreamIds::Id id = stream_ids_.next(key_text_, metric.time());
  scratch_ = fmt::format("{}-{}", id.ms, id.seq);
  const bool trim = options_.stream_max_len > 0;
  beginCommand(trim ? 8 : 5);
  addArg("XADD");
  addArg(key_text_);
  if (trim) {
    addArg("MAXLEN");
    addArg("~");
    char digits[24];
    addArg({digits, std::to_chars(digits, digits + sizeof(digits), options_.stream_max_len).ptr});
  }
  addArg(scratch_);
  addArg("json");
  addArg(json_);
}

void RedisOutput::loadScript() {
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommand(redis_, "SCRIPT LOAD %b", kLatestScript.data(), kLatestScript.size())));
  if (!reply || reply->type != REDIS_REPLY_STRING) {
    throw std::runtime_error("SCRIPT LOAD failed: " +
                             (reply ? std::string(reply->str ? reply->str : "", reply->len)
                                    : std::string(redis_->errstr)));
  }
  script_sha_.assign(reply->str, reply->len);
}

bool RedisOutput::roundTrip(const std::vector<Pending>& pending, WriteResult& result,
                            bool& retry_batch, std::vector<std::uint32_t>& noscript,
                            std::string& error) {
  if (pending.empty()) return true;
  if (redisAppendFormattedCommand(redis_, commands_.data(), commands_.size()) != REDIS_OK) {
    error = redis_->errstr;
    return false;
  }
  std::uint32_t last_rejected = UINT32_MAX;
  for (const Pending& p : pending) {
    void* raw = nullptr;
    if (redisGetReply(redis_, &raw) != REDIS_OK) {
      error = fmt::format("lost the connection to {}: {}", endpoint_.redacted, redis_->errstr);
      return false;
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (reply->type != REDIS_REPLY_ERROR) {
      if (p.command == Command::kLatest && reply->type == REDIS_REPLY_INTEGER &&
          reply->integer == 0) {
        older_than_latest_.inc();
      }
      continue;
    }
    const std::string_view message(reply->str, reply->len);
    switch (classify(message)) {
      case ErrorKind::kAlreadyStored:
        stream_not_after_top_.inc();
        break;
      case ErrorKind::kNoScript:
        noscript.push_back(p.index);
        break;
      case ErrorKind::kRejectMetric:
        rejected_.inc();
        if (p.command == Command::kTrim) break;  // the entries are stored; trimming waits
        if (p.index != last_rejected) {
          result.set(p.index, WriteStatus::kReject, "Redis refused: " + std::string(message));
          last_rejected = p.index;
        }
        break;
      case ErrorKind::kRetry:
        if (!retry_batch) error = "Redis: " + std::string(message);
        retry_batch = true;
        break;
    }
  }
  return true;
}

WriteResult RedisOutput::write(std::span<const Metric> batch) {
  if (batch.empty()) return WriteResult::ok();
  try {
    connect();
  } catch (const std::exception& e) {
    return WriteResult::retry(e.what());
  }
  commands_.clear();
  pending_.clear();
  newest_per_timeseries_.clear();
  for (std::uint32_t i = 0; i < batch.size(); ++i) {
    const Metric& metric = batch[i];
    json_.clear();
    if (stream_ || pubsub_ || timeseries_) encodeMetricJson(metric, json_);
    if (latest_) {
      appendLatest(metric);
      pending_.push_back({i, Command::kLatest});
    }
    if (stream_) {
      appendStream(metric);
      pending_.push_back({i, Command::kStream});
    }
    if (pubsub_) {
      key_text_.clear();
      channel_.render(metric, key_text_);
      beginCommand(3);
      addArg("PUBLISH");
      addArg(key_text_);
      addArg(json_);
      pending_.push_back({i, Command::kPublish});
    }
    if (timeseries_) {
      key_text_.clear();
      timeseries_key_.render(metric, key_text_);
      const std::int64_t ms = floorDiv(metric.time(), 1'000'000);
      beginCommand(4);
      addArg("ZADD");
      addArg(key_text_);
      char digits[24];
      addArg({digits, std::to_chars(digits, digits + sizeof(digits), ms).ptr});
      addArg(json_);
      pending_.push_back({i, Command::kTimeseriesAdd});
      auto [it, inserted] = newest_per_timeseries_.try_emplace(key_text_, ms);
      if (!inserted) it->second = std::max(it->second, ms);
    }
  }
  const auto max_age_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeseries_max_age).count();
  if (max_age_ms > 0) {
    for (const auto& [key, newest_ms] : newest_per_timeseries_) {
      beginCommand(4);
      addArg("ZREMRANGEBYSCORE");
      addArg(key);
      addArg("-inf");
      addArg(fmt::format("({}", newest_ms - max_age_ms));
      pending_.push_back({0, Command::kTrim});
    }
  }

  WriteResult result = WriteResult::ok();
  bool retry_batch = false;
  std::vector<std::uint32_t> noscript;
  std::string error;
  auto fail = [&](std::string why) {
    dropConnection();
    stream_ids_.rollback();
    return WriteResult::retry(std::move(why));
  };
  if (!roundTrip(pending_, result, retry_batch, noscript, error)) return fail(error);
  if (!noscript.empty()) {
    // The server lost its scripts (a restart, SCRIPT FLUSH, a failover): load it again and redo
    // the hashes that failed; nothing else of the batch ran twice.
    try {
      loadScript();
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    commands_.clear();
    std::vector<Pending> again;
    for (const std::uint32_t index : noscript) {
      appendLatest(batch[index]);
      again.push_back({index, Command::kLatest});
    }
    noscript.clear();
    if (!roundTrip(again, result, retry_batch, noscript, error)) return fail(error);
    if (!noscript.empty()) return fail("Redis keeps answering NOSCRIPT to EVALSHA");
  }
  if (retry_batch) {
    stream_ids_.rollback();
    return WriteResult::retry(error);
  }
  stream_ids_.commit();
  return result;
}

}  // namespace cvagent::outputs::redis
