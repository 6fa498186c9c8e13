#include "kafka_output.h"

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

#include "contract/contract.h"
#include "contract/kafka_json.h"
#include "kafka/kafka_client.h"
#include "kafka/kafka_config.h"

namespace cvagent::outputs::kafka {

using cvagent::kafka::setProperty;
using Clock = std::chrono::steady_clock;

// A message's place in its batch: the librdkafka opaque of each produced message.
struct KafkaOutput::Slot {
  Batch* batch = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  bool reported = false;
};

struct KafkaOutput::Batch {
  std::span<const Metric> metrics;  // the core's, valid until this batch is collected
  std::vector<Slot> slots;
  std::size_t outstanding = 0;
  std::chrono::steady_clock::time_point deadline;  // for every report of the batch
  // Failures before librdkafka took a message (no topic, queue full past the deadline).
  struct LocalFailure {
    std::size_t index;
    WriteStatus status;
    std::string reason;
  };
  std::vector<LocalFailure> local_failures;
};

namespace {
// Whether a consumer knows a message's metric from its topic alone: the topic is one contract
// kind's own (inputs.kafka reads that kind when a message has no `metric` header).
bool topicNamesMetric(std::string_view topic, std::string_view metric) {
  const contract::Kind* kind = contract::kindOfTopic(topic);
  return kind && kind->name == metric;
}
}  // namespace

void TopicSpec::describe(Schema<TopicSpec>& s) {
  s.option("name", &TopicSpec::name, "Topic name.").required();
  s.option("partitions", &TopicSpec::partitions, "Number of partitions.").min(1);
  s.option("replication_factor", &TopicSpec::replication_factor,
           "Replicas per partition; -1 takes the broker's default.")
      .min(-1);
  s.option("retention", &TopicSpec::retention, "How long the brokers keep messages (retention.ms).")
      .min(0);
  s.option("segment_size", &TopicSpec::segment_size, "Log segment size (segment.bytes).");
  s.option("compression", &TopicSpec::compression, "Topic compression.type.")
      .oneOf({"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"});
}

void KafkaOptions::describe(Schema<KafkaOptions>& s) {
  s.option("brokers", &KafkaOptions::brokers, "Bootstrap servers, host:port.");
  s.option("topics", &KafkaOptions::topics,
           "Topic per metric name, over the defaults: ticker: rawticker, trade: rawtrade, article: "
           "rawarticle, alert: rawalert, candle: ohlc, sentiment: sentiment, prediction: "
           "prediction.")
      .example("{trade: trades-eu}");
  s.option("default_topic", &KafkaOptions::default_topic,
           "Topic of metrics not in `topics`; `{name}` is replaced by the metric name. Empty: such "
           "metrics are rejected.");
  s.option("key", &KafkaOptions::key,
           "Tags tried in order for the message key; the first present is the key, so one pair's "
           "messages stay in one partition, in order. None present: no key.");
  s.option("format", &KafkaOptions::format,
           "Message value: json (the topic's JSON shape for contract metrics, the generic JSON "
           "form for others), metric_json (always the generic JSON form) or influx (line "
           "protocol).");
  s.option("headers", &KafkaOptions::headers,
           "Message headers: needed writes `metric` (the metric name) only where a consumer "
           "cannot tell the metric from the topic, i.e. a contract metric on another topic than "
           "its own in the json format (inputs.kafka reads a topic's own metric without it); all "
           "writes `metric` and `cvagent_version` on every message; none writes no headers. "
           "Each header costs librdkafka two allocations per message.");
  s.option("acks", &KafkaOptions::acks, "Acknowledgements the leader waits for.")
      .oneOf({"all", "1", "0"});
  s.option("idempotence", &KafkaOptions::idempotence,
           "Idempotent producer: retries never duplicate or reorder messages (needs acks all).");
  s.option("compression", &KafkaOptions::compression, "Batch compression.")
      .oneOf({"none", "gzip", "snappy", "lz4", "zstd"});
  s.option("linger", &KafkaOptions::linger,
           "How long librdkafka waits to fill a batch (the core hands it whole batches already).")
      .min(0);
  s.option("max_batch_bytes", &KafkaOptions::max_batch_bytes,
           "Largest batch librdkafka sends to one partition (batch.size).");
  s.option("max_message_bytes", &KafkaOptions::max_message_bytes,
           "Largest message; larger ones are rejected and counted (message.max.bytes).");
  s.option("delivery_timeout", &KafkaOptions::delivery_timeout,
           "How long a message may wait for its delivery report before the batch is retried "
           "(message.timeout.ms).")
      .min(1);
  s.option("connect_timeout", &KafkaOptions::connect_timeout,
           "How long connect waits for the cluster's metadata.")
      .min(0.1);
  s.option("properties", &KafkaOptions::properties,
           "librdkafka properties passed through as they are, applied last (SASL/SSL for managed "
           "Kafka...). Values of keys containing password or secret are never logged.")
      .example(
          "{security.protocol: SASL_SSL, sasl.mechanisms: PLAIN, sasl.username: u, "
          "sasl.password: ${KAFKA_PASSWORD}}");
  s.option("create_default_topics", &KafkaOptions::create_default_topics,
           "Create the existing stack's topics at connect if missing: rawticker (6 partitions, "
           "7 d), rawtrade (6, 3 d), rawarticle (3, 30 d), rawalert (3, 14 d), ohlc, sentiment, "
           "prediction (3, 30 d), all lz4.");
  s.option("create_topics", &KafkaOptions::create_topics,
           "Topics to create at connect if missing (after the default ones).");
  s.check([](const KafkaOptions& o, const SourceMark& where, Diagnostics& d) {
    if (o.brokers.empty()) d.push_back({where, "outputs.kafka: `brokers` is empty"});
    if (o.idempotence && o.acks != "all") {
      d.push_back({where, "outputs.kafka: `idempotence` needs `acks: all`"});
    }
  });
}

std::vector<TopicSpec> defaultTopicSpecs() {
  std::vector<TopicSpec> specs;
  for (const contract::Kind& kind : contract::kinds()) {
    const contract::TopicSettings& t = kind.topic_settings;
    if (!t.create) continue;
    specs.push_back({std::string(kind.topic), t.partitions, -1,
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::hours(24 * t.retention_days)),
                     ByteSize{t.segment_bytes}, "lz4"});
  }
  return specs;
}

bool isPermanentError(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

KafkaOutput::KafkaOutput(const KafkaOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      events_(context, this,
              [this](const std::string& why) {
                fatal_ = true;
                context_.logger().error("fatal producer error, recreating the producer: {}", why);
              }),
      produced_(context.counter("messages_produced_total",
                                "Messages Kafka acknowledged (delivery report without error).")),
      rejected_(context.counter("messages_rejected_total",
                                "Messages Kafka can never take (too large, unknown topic...).")),
      retried_(context.counter("messages_retried_total",
                               "Messages handed back to the core for a later retry.")) {
  shaped_json_ = options_.format == KafkaFormat::kJson;
  codec_format_ =
      options_.format == KafkaFormat::kInflux ? codec::Format::kInflux : codec::Format::kJson;
  for (const contract::Kind& kind : contract::kinds()) {
    topics_by_metric_.emplace(kind.name, kind.topic);
  }
  for (const auto& [metric, topic] : options_.topics) topics_by_metric_[metric] = topic;
  if (options_.headers == KafkaHeaders::kNone && shaped_json_) {
    for (const auto& [metric, topic] : options_.topics) {
      if (contract::kindOf(metric) && !topicNamesMetric(topic, metric)) {
        context_.logger().warn(
            "headers: none: a consumer cannot tell that {} holds {} metrics (inputs.kafka needs "
            "`metrics: {{{}: {}}}`, or `headers: needed` here)",
            topic, metric, topic, metric);
      }
    }
  }
  // Fails early on a bad property, with the key named, not at the first write.
  createProducer();
  context_.logger().info(
      "brokers {}, format {}, acks {}, idempotence {}, compression {}{}",
      fmt::join(options_.brokers, ","), enumName(options_.format), options_.acks,
      options_.idempotence, options_.compression,
      options_.properties.empty()
          ? std::string()
          : ", properties: " + cvagent::kafka::describeProperties(options_.properties));
}

KafkaOutput::~KafkaOutput() { destroyProducer(); }

void KafkaOutput::createProducer() {
  cvagent::kafka::ConfPtr conf(rd_kafka_conf_new());
  setProperty(conf.get(), "bootstrap.servers", fmt::format("{}", fmt::join(options_.brokers, ",")));
  setProperty(conf.get(), "client.id", "cvagent-" + context_.id());
  setProperty(conf.get(), "acks", options_.acks);
  setProperty(conf.get(), "enable.idempotence", options_.idempotence ? "true" : "false");
  setProperty(conf.get(), "compression.codec", options_.compression);
  setProperty(conf.get(), "linger.ms", std::to_string(options_.linger.count()));
  setProperty(conf.get(), "batch.size", std::to_string(options_.max_batch_bytes.bytes));
  setProperty(conf.get(), "message.max.bytes", std::to_string(options_.max_message_bytes.bytes));
  setProperty(conf.get(), "message.timeout.ms", std::to_string(options_.delivery_timeout.count()));
  // The Java clients' partitioner: a key lands on the same partition whoever produces it.
  setProperty(conf.get(), "partitioner", "murmur2_random");
  setProperty(conf.get(), "queue.buffering.max.messages", "1000000");
  for (const auto& [key, value] : options_.properties) setProperty(conf.get(), key, value);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaOutput::onDelivery);
  events_.install(conf.get());

  char errstr[512];
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr));
  if (!producer_)
    throw std::runtime_error(fmt::format("cannot create a Kafka producer: {}", errstr));
  static_cast<void>(conf.release());  // rd_kafka_new owns it now
  fatal_ = false;
}

void KafkaOutput::destroyProducer() {
  if (!producer_) return;
  route_cache_.clear();
  topic_handles_.clear();
  // Messages still queued are purged; their reports (served by the destroy) find their batches.
  rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer_, 0);
  rd_kafka_destroy(producer_);
  producer_ = nullptr;
  abandoned_.clear();
  // Batches in flight are collected after a new producer replaces this one: a report the destroy
  // did not serve will never come, so the message is retried.
  for (auto& batch : in_flight_) {
    for (auto& slot : batch->slots) {
      if (slot.reported) continue;
      slot.reported = true;
      slot.err = RD_KAFKA_RESP_ERR__PURGE_QUEUE;
      --batch->outstanding;
    }
  }
}

void KafkaOutput::connect() {
  if (!producer_ || fatal_) {
    destroyProducer();
    createProducer();
  }
  const struct rd_kafka_metadata* metadata = nullptr;
  const auto err = rd_kafka_metadata(producer_, 0, nullptr, &metadata,
                                     static_cast<int>(options_.connect_timeout.count()));
  if (err) {
    // Degraded, not failed: the core retries the connect with backoff (see /ready).
    context_.setHealth(HealthState::kDegraded, rd_kafka_err2str(err));
    throw std::runtime_error(fmt::format("cannot reach Kafka brokers {}: {}",
                                         fmt::join(options_.brokers, ","), rd_kafka_err2str(err)));
  }
  rd_kafka_metadata_destroy(metadata);
  createTopics();
  context_.setHealth(HealthState::kOk, "connected");
}

void KafkaOutput::createTopics() {
  std::vector<TopicSpec> specs;
  if (options_.create_default_topics) specs = defaultTopicSpecs();
  specs.insert(specs.end(), options_.create_topics.begin(), options_.create_topics.end());
  if (specs.empty()) return;

  char errstr[512];
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  for (const auto& spec : specs) {
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
        spec.name.c_str(), spec.partitions, spec.replication_factor, errstr, sizeof(errstr));
    if (!topic) {
      for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
      throw std::invalid_argument(fmt::format("topic {}: {}", spec.name, errstr));
    }
    rd_kafka_NewTopic_set_config(topic, "retention.ms",
                                 std::to_string(spec.retention.count()).c_str());
    rd_kafka_NewTopic_set_config(topic, "segment.bytes",
                                 std::to_string(spec.segment_size.bytes).c_str());
    rd_kafka_NewTopic_set_config(topic, "compression.type", spec.compression.c_str());
    new_topics.push_back(topic);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_);
  rd_kafka_AdminOptions_t* admin =
      rd_kafka_AdminOptions_new(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(
      admin, static_cast<int>(options_.connect_timeout.count()), errstr, sizeof(errstr));
  rd_kafka_CreateTopics(producer_, new_topics.data(), new_topics.size(), admin, queue);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(options_.connect_timeout.count()) + 1000);
  std::string failure;
  if (!event) {
    failure = "no answer to CreateTopics";
  } else if (rd_kafka_event_error(event)) {
    failure = rd_kafka_event_error_string(event);
  } else {
    size_t count = 0;
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count; ++i) {
      const auto err = rd_kafka_topic_result_error(results[i]);
      const char* name = rd_kafka_topic_result_name(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        context_.logger().info("created topic {}", name);
      } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        if (!failure.empty()) failure += "; ";
        failure += fmt::format("{}: {}", name, rd_kafka_topic_result_error_string(results[i]));
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_queue_destroy(queue);
  for (auto* t : new_topics) rd_kafka_NewTopic_destroy(t);
  if (!failure.empty()) throw std::runtime_error("cannot create Kafka topics: " + failure);
}

std::string KafkaOutput::topicFor(const Metric& metric) const {
  if (auto it = topics_by_metric_.find(metric.name()); it != topics_by_metric_.end()) {
    return it->second;
  }
  std::string topic = options_.default_topic;
  for (auto pos = topic.find("{name}"); pos != std::string::npos; pos = topic.find("{name}", pos)) {
    topic.replace(pos, 6, metric.name());
    pos += metric.name().size();
  }
  return topic;
}

const KafkaOutput::Route& KafkaOutput::routeFor(const Metric& metric) {
  if (auto cached = route_cache_.find(metric.name()); cached != route_cache_.end()) {
    return cached->second;
  }
  Route route;
  const std::string name = topicFor(metric);
  if (!name.empty()) {
    route.topic = topicHandle(name);
    // The generic JSON form and line protocol carry the name; so does a shape on its own topic.
    route.metric_header =
        options_.headers == KafkaHeaders::kAll ||
        (options_.headers == KafkaHeaders::kNeeded && shaped_json_ &&
         contract::kindOf(metric.name()) && !topicNamesMetric(name, metric.name()));
  }
  return route_cache_.emplace(metric.name(), route).first->second;
}

rd_kafka_topic_t* KafkaOutput::topicHandle(const std::string& name) {
  auto& slot = topic_handles_[name];
  if (!slot) slot.reset(rd_kafka_topic_new(producer_, name.c_str(), nullptr));
  return slot.get();
}

void KafkaOutput::encode(const Metric& metric, std::string& out) const {
  out.clear();
  if (shaped_json_) {
    contract::appendJson(metric, out);
  } else {
    codec::append(codec_format_, metric, out);
  }
}

void KafkaOutput::onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* slot = static_cast<Slot*>(message->_private);
  if (!slot || slot->reported) return;
  slot->reported = true;
  slot->err = message->err;
  --slot->batch->outstanding;
}

WriteResult KafkaOutput::write(std::span<const Metric> batch) {
  send(batch);
  std::optional<WriteResult> result;
  while (!(result = collect(std::chrono::milliseconds(50)))) {
  }
  return std::move(*result);
}

void KafkaOutput::send(std::span<const Metric> batch) {
  if (!producer_ || fatal_) {
    destroyProducer();  // reports of batches in flight say "purged": they are retried
    createProducer();
  }
  std::erase_if(abandoned_, [](const auto& b) { return b->outstanding == 0; });

  auto state = std::make_unique<Batch>();
  state->metrics = batch;
  state->deadline = Clock::now() + options_.delivery_timeout + std::chrono::seconds(5);
  state->slots.resize(batch.size());
  const std::string_view version = context_.agentVersion();

  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Metric& metric = batch[i];
    Slot& slot = state->slots[i];
    slot.batch = state.get();

    const Route& route = routeFor(metric);
    if (!route.topic) {
      slot.reported = true;
      state->local_failures.push_back(
          {i, WriteStatus::kReject,
           fmt::format("no topic for metric `{}` (default_topic is empty)", metric.name())});
      continue;
    }
    const std::string* key = nullptr;
    for (const auto& tag : options_.key) {
      if ((key = metric.tag(tag))) break;
    }
    encode(metric, value_buffer_);

    rd_kafka_headers_t* headers = nullptr;
    if (route.metric_header) {
      headers = rd_kafka_headers_new(2);
      rd_kafka_header_add(headers, "metric", -1, metric.name().data(),
                          static_cast<ssize_t>(metric.name().size()));
      if (options_.headers == KafkaHeaders::kAll) {
        rd_kafka_header_add(headers, "cvagent_version", -1, version.data(),
                            static_cast<ssize_t>(version.size()));
      }
    }
    const rd_kafka_resp_err_t err = cvagent::kafka::produce(
        producer_, {route.topic, value_buffer_, key, metric.time() / 1'000'000, headers, &slot},
        state->deadline);
    if (err) {
      if (headers) rd_kafka_headers_destroy(headers);  // ours again when produce fails
      slot.reported = true;
      state->local_failures.push_back(
          {i, isPermanentError(err) ? WriteStatus::kReject : WriteStatus::kRetry,
           rd_kafka_err2str(err)});
      continue;
    }
    ++state->outstanding;
  }
  in_flight_.push_back(std::move(state));
}

std::optional<WriteResult> KafkaOutput::collect(std::chrono::milliseconds wait) {
  if (in_flight_.empty()) return WriteResult::retry("no batch in flight");
  Batch& state = *in_flight_.front();
  // Reports arrive for every batch in flight; the oldest is answered first.
  const auto until = std::min(state.deadline, Clock::now() + wait);
  while (state.outstanding > 0 && !fatal_) {
    const auto now = Clock::now();
    if (now >= until) break;
    rd_kafka_poll(producer_,
                  static_cast<int>(std::max<std::int64_t>(
                      1, std::chrono::ceil<std::chrono::milliseconds>(until - now).count())));
  }
  if (state.outstanding > 0 && !fatal_ && Clock::now() < state.deadline) return std::nullopt;

  std::vector<WriteStatus> local_status(state.slots.size(), WriteStatus::kOk);
  std::vector<std::string> local_errors(state.slots.size());
  for (auto& failure : state.local_failures) {
    local_status[failure.index] = failure.status;
    local_errors[failure.index] = std::move(failure.reason);
  }
  const std::span<const Metric> batch = state.metrics;
  WriteResult result = WriteResult::ok();
  std::size_t ok_count = 0, retry_count = 0, reject_count = 0;
  std::string last_retry_reason;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Slot& slot = state.slots[i];
    WriteStatus status = local_status[i];
    std::string reason = std::move(local_errors[i]);
    if (status == WriteStatus::kOk) {
      if (!slot.reported) {
        status = WriteStatus::kRetry;
        reason = fatal_ ? "the producer hit a fatal error"
                        : fmt::format("no delivery report within {}s",
                                      std::chrono::duration_cast<std::chrono::seconds>(
                                          options_.delivery_timeout + std::chrono::seconds(5))
                                          .count());
      } else if (slot.err) {
        status = isPermanentError(slot.err) ? WriteStatus::kReject : WriteStatus::kRetry;
        reason = rd_kafka_err2str(slot.err);
      }
    }
    switch (status) {
      case WriteStatus::kOk:
        ++ok_count;
        break;
      case WriteStatus::kRetry:
        ++retry_count;
        last_retry_reason = reason;
        result.set(i, status, std::move(reason));
        break;
      case WriteStatus::kReject: {
        ++reject_count;
        reject_log_.warn(context_.logger(), "rejected a {} metric for topic {}: {}",
                         batch[i].name(), topicFor(batch[i]), reason);
        result.set(i, status, std::move(reason));
        break;
      }
    }
  }
  // Given up on with reports still due: kept until they come, so the reports find their slots.
  if (state.outstanding > 0) abandoned_.push_back(std::move(in_flight_.front()));
  in_flight_.pop_front();

  if (ok_count) produced_.inc(static_cast<double>(ok_count));
  if (reject_count) rejected_.inc(static_cast<double>(reject_count));
  if (retry_count) {
    retried_.inc(static_cast<double>(retry_count));
    context_.setHealth(HealthState::kDegraded, last_retry_reason);
    if (retry_count == batch.size()) return WriteResult::retry(last_retry_reason);
  } else {
    context_.setHealth(HealthState::kOk, "delivering");
  }
  return result;
}

void KafkaOutput::close() {
  if (producer_) rd_kafka_flush(producer_, 5000);
  destroyProducer();
  in_flight_.clear();  // the core no longer collects them: its metrics count as not stored
}

}  // namespace cvagent::outputs::kafka
