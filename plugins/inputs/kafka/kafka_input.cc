#include "kafka_input.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <stdexcept>

#include "contract/contract.h"
#include "contract/kafka_json.h"
#include "cvagent/metric.h"
#include "kafka/kafka_config.h"

namespace cvagent::inputs::kafka {

using cvagent::kafka::setProperty;

struct KafkaInput::Completions {
  struct Done {
    std::string topic;
    std::int32_t partition;
    std::int64_t offset;
    std::uint64_t generation;
    bool delivered;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Done> done;
  bool open = true;
  std::atomic<std::int64_t> in_flight{0};
};

std::vector<std::string> legacyTopics() {
  std::vector<std::string> topics;
  for (const contract::Kind& kind : contract::kinds()) {
    if (kind.topic_settings.legacy) topics.emplace_back(kind.topic);
  }
  return topics;
}

void KafkaInputOptions::describe(Schema<KafkaInputOptions>& s) {
  s.option("brokers", &KafkaInputOptions::brokers, "Bootstrap servers, host:port.");
  s.option("topics", &KafkaInputOptions::topics, "Topics to subscribe to.");
  s.option("group", &KafkaInputOptions::group,
           "Consumer group (group.id): agents in one group share the partitions; offsets are "
           "committed per group.");
  s.option("metrics", &KafkaInputOptions::metrics,
           "Metric kind per topic, for topic-shaped JSON without a `metric` header, over the "
           "defaults: rawticker: ticker, rawtrade: trade, rawarticle: article, rawalert: alert, "
           "ohlc: candle, sentiment: sentiment, prediction: prediction.")
      .example("{trades-eu: trade}");
  s.option("start_offset", &KafkaInputOptions::start_offset,
           "Where a group with no committed offset starts (auto.offset.reset).")
      .oneOf({"earliest", "latest"});
  s.option("commit_interval", &KafkaInputOptions::commit_interval,
           "How often stored offsets are committed (auto.commit.interval.ms).")
      .min(0.01);
  s.option("max_undelivered", &KafkaInputOptions::max_undelivered,
           "Messages read but not yet stored by every output; reading pauses at this many.")
      .min(1);
  s.option("properties", &KafkaInputOptions::properties,
           "librdkafka properties passed through as they are, applied last (SASL/SSL...). Values "
           "of keys containing password or secret are never logged.")
      .example("{security.protocol: SASL_SSL, sasl.password: ${KAFKA_PASSWORD}}");
  s.check([](const KafkaInputOptions& o, const SourceMark& where, Diagnostics& d) {
    if (o.brokers.empty()) d.push_back({where, "inputs.kafka: `brokers` is empty"});
    if (o.topics.empty()) d.push_back({where, "inputs.kafka: `topics` is empty"});
    if (o.group.empty()) d.push_back({where, "inputs.kafka: `group` is empty"});
  });
}

std::int64_t PartitionProgress::complete(std::int64_t offset) {
  auto it = std::lower_bound(pending_.begin(), pending_.end(), offset,
                             [](const Entry& e, std::int64_t o) { return e.offset < o; });
  if (it == pending_.end() || it->offset != offset) return -1;
  it->done = true;
  std::int64_t committable = -1;
  while (!pending_.empty() && pending_.front().done) {
    committable = pending_.front().offset + 1;
    pending_.pop_front();
  }
  return committable;
}

KafkaInput::KafkaInput(const KafkaInputOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      parser_(std::make_unique<simdjson::dom::parser>()),
      events_(context, this),
      consumed_(context.counter("messages_consumed_total", "Kafka messages read.")),
      malformed_(context.counter("messages_malformed_total",
                                 "Kafka messages that are no metric; skipped and committed.")),
      undelivered_(context.counter(
          "messages_undelivered_total",
          "Messages some output dropped or rejected instead of storing; committed anyway.")),
      in_flight_(context.gauge("messages_in_flight",
                               "Messages read whose metrics are not yet stored by every output.")) {
  for (const contract::Kind& kind : contract::kinds()) {
    metric_by_topic_.emplace(kind.topic, kind.name);
  }
  for (const auto& [topic, metric] : options_.metrics) metric_by_topic_[topic] = metric;
  // Fails early on a bad property, with the key named.
  rd_kafka_conf_destroy(makeConf());
  context_.logger().info(
      "brokers {}, group {}, topics {}{}", fmt::join(options_.brokers, ","), options_.group,
      fmt::join(options_.topics, ","),
      options_.properties.empty()
          ? std::string()
          : ", properties: " + cvagent::kafka::describeProperties(options_.properties));
}

KafkaInput::~KafkaInput() { stop(); }

rd_kafka_conf_t* KafkaInput::makeConf() {
  cvagent::kafka::ConfPtr conf(rd_kafka_conf_new());
  setProperty(conf.get(), "bootstrap.servers", fmt::format("{}", fmt::join(options_.brokers, ",")));
  setProperty(conf.get(), "client.id", "cvagent-" + context_.id());
  setProperty(conf.get(), "group.id", options_.group);
  setProperty(conf.get(), "auto.offset.reset", options_.start_offset);
  // Offsets are stored by us, only for what every output has stored; librdkafka commits them.
  setProperty(conf.get(), "enable.auto.offset.store", "false");
  setProperty(conf.get(), "enable.auto.commit", "true");
  setProperty(conf.get(), "auto.commit.interval.ms",
              std::to_string(std::max<std::int64_t>(1, options_.commit_interval.count())));
  setProperty(conf.get(), "enable.partition.eof", "false");
  for (const auto& [key, value] : options_.properties) setProperty(conf.get(), key, value);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaInput::rebalanceCallback);
  events_.install(conf.get());
  return conf.release();
}

void KafkaInput::start(Emitter& out) {
  stop();
  stopping_ = false;
  completions_ = std::make_shared<Completions>();
  assigned_.clear();

  rd_kafka_conf_t* conf = makeConf();
  char errstr[512];
  consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (!consumer_) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(fmt::format("cannot create a Kafka consumer: {}", errstr));
  }
  rd_kafka_poll_set_consumer(consumer_);
  cvagent::kafka::TopicPartitionListPtr topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size())));
  for (const auto& topic : options_.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (auto err = rd_kafka_subscribe(consumer_, topics.get())) {
    rd_kafka_destroy(consumer_);
    consumer_ = nullptr;
    throw std::runtime_error(fmt::format("cannot subscribe to {}: {}",
                                         fmt::join(options_.topics, ","), rd_kafka_err2str(err)));
  }
  thread_ = std::thread([this, &out] { run(out); });
}

void KafkaInput::stop() {
  stopping_ = true;
  if (completions_) completions_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  if (completions_) {
    // Deliveries that complete from now on belong to a closed consumer: their messages are read
    // again after a restart (at-least-once).
    std::lock_guard lock(completions_->mu);
    completions_->open = false;
  }
}

void KafkaInput::run(Emitter& out) {
  context_.setHealth(HealthState::kStarting, "joining group " + options_.group);
  constexpr std::size_t kBatch = 1000;
  std::vector<rd_kafka_message_t*> batch(kBatch);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer_);
  while (!stopping_) {
    drainCompletions();
    if (completions_->in_flight.load() >= options_.max_undelivered) {
      // Back-pressure: wait for the outputs instead of reading more into memory.
      std::unique_lock lock(completions_->mu);
      completions_->cv.wait_for(lock, std::chrono::milliseconds(100),
                                [&] { return stopping_ || !completions_->done.empty(); });
      continue;
    }
    // Wait for one message, then take whatever else is queued without waiting: one wake-up and
    // one queue lock per batch. (consume_batch_queue with a timeout waits for a full batch.)
    rd_kafka_message_t* first = rd_kafka_consumer_poll(consumer_, 100);
    if (!first) continue;
    batch[0] = first;
    const ssize_t more = rd_kafka_consume_batch_queue(queue, 0, batch.data() + 1, batch.size() - 1);
    const std::size_t n = 1 + static_cast<std::size_t>(std::max<ssize_t>(more, 0));
    for (std::size_t i = 0; i < n; ++i) {
      handle(batch[i], out);
      rd_kafka_message_destroy(batch[i]);
    }
  }
  rd_kafka_queue_destroy(queue);
  drainCompletions();
  commitNow();
  rd_kafka_consumer_close(consumer_);
  rd_kafka_destroy(consumer_);
  consumer_ = nullptr;
  assigned_.clear();
}

void KafkaInput::handle(rd_kafka_message_t* message, Emitter& out) {
  if (message->err) {
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    error_log_.warn(context_.logger(), "consume error on {} [{}]: {}",
                    message->rkt ? rd_kafka_topic_name(message->rkt) : "?", message->partition,
                    rd_kafka_message_errstr(message));
    return;
  }
  consumed_.inc();
  const std::string topic = rd_kafka_topic_name(message->rkt);
  auto assigned = assigned_.find({topic, message->partition});
  if (assigned == assigned_.end()) return;  // a straggler of a revoked partition
  if (!assigned->second.progress.add(message->offset)) {
    // Read again from an earlier offset: what was pending is read again too, so forget it, and
    // let completions of the old copies find nothing.
    assigned->second.progress.reset();
    assigned->second.generation = next_generation_++;
    assigned->second.progress.add(message->offset);
  }

  // The metric kind: the `metric` header outputs.kafka writes, else the topic's kind.
  std::string_view hint;
  rd_kafka_headers_t* headers = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  if (!rd_kafka_message_headers(message, &headers) &&
      !rd_kafka_header_get_last(headers, "metric", &value, &size) && value) {
    hint = std::string_view(static_cast<const char*>(value), size);
  } else if (auto it = metric_by_topic_.find(topic); it != metric_by_topic_.end()) {
    hint = it->second;
  }
  rd_kafka_timestamp_type_t ts_type;
  const std::int64_t ts_ms = rd_kafka_message_timestamp(message, &ts_type);
  const std::int64_t default_time = ts_ms > 0 ? ts_ms * 1'000'000 : context_.clock().nowNanos();

  // One message may hold several lines (line protocol, JSON lines); they share one delivery.
  std::string_view payload(static_cast<const char*>(message->payload), message->len);
  std::vector<Metric> metrics;
  std::string error;
  std::size_t line_no = 0;
  while (!payload.empty()) {
    const auto nl = payload.find('\n');
    std::string_view line = payload.substr(0, nl);
    payload = nl == std::string_view::npos ? std::string_view() : payload.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Metric metric;
    if (!contract::parseValue(*parser_, line, hint, default_time, metric, error)) {
      metrics.clear();
      break;
    }
    metrics.push_back(std::move(metric));
  }
  const std::int64_t offset = message->offset;
  if (metrics.empty()) {
    if (error.empty()) error = "empty message";
    malformed_.inc();
    malformed_log_.warn(context_.logger(), "skipping message {} [{}] at offset {} (line {}): {}",
                        topic, message->partition, offset, line_no, error);
    // It will never be a metric: done, so the offsets after it can be committed.
    if (auto next = assigned->second.progress.complete(offset); next >= 0) {
      storeOffset(topic, message->partition, next);
    }
    return;
  }

  auto delivery = std::make_shared<Delivery>(
      [completions = completions_, topic, partition = message->partition, offset,
       generation = assigned->second.generation](bool delivered) {
        completions->in_flight.fetch_sub(1);
        std::lock_guard lock(completions->mu);
        if (!completions->open) return;
        completions->done.push_back({topic, partition, offset, generation, delivered});
        completions->cv.notify_all();
      });
  in_flight_.set(static_cast<double>(completions_->in_flight.fetch_add(1) + 1));
  for (auto& metric : metrics) {
    metric.setDelivery(delivery);
    out.emit(std::move(metric));
  }
}

void KafkaInput::drainCompletions() {
  std::vector<Completions::Done> done;
  {
    std::lock_guard lock(completions_->mu);
    done.swap(completions_->done);
  }
  if (done.empty()) return;
  in_flight_.set(static_cast<double>(completions_->in_flight.load()));
  // One store per partition per drain: librdkafka's offsets_store locks the partition.
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> to_store;
  for (const auto& d : done) {
    if (!d.delivered) {
      undelivered_.inc();
      error_log_.warn(context_.logger(),
                      "message {} [{}] at offset {} was dropped or rejected by an output; "
                      "committing past it",
                      d.topic, d.partition, d.offset);
    }
    auto it = assigned_.find({d.topic, d.partition});
    if (it == assigned_.end() || it->second.generation != d.generation) continue;  // revoked
    if (auto next = it->second.progress.complete(d.offset); next >= 0) to_store[it->first] = next;
  }
  for (const auto& [tp, offset] : to_store) storeOffset(tp.first, tp.second, offset);
}

void KafkaInput::storeOffset(const std::string& topic, std::int32_t partition,
                             std::int64_t offset) {
  cvagent::kafka::TopicPartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  if (auto err = rd_kafka_offsets_store(consumer_, list.get())) {
    context_.logger().debug("cannot store offset {} of {} [{}]: {}", offset, topic, partition,
                            rd_kafka_err2str(err));
  }
}

void KafkaInput::commitNow() {
  const auto err = rd_kafka_commit(consumer_, nullptr, 0);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    context_.logger().warn("offset commit failed: {}", rd_kafka_err2str(err));
  }
}

void KafkaInput::onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative =
      std::string_view(rd_kafka_rebalance_protocol(consumer_)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < partitions->cnt; ++i) {
      const auto& tp = partitions->elems[i];
      assigned_[{tp.topic, tp.partition}] = Assigned{next_generation_++, {}};
    }
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(consumer_, partitions)) {
        context_.logger().error("incremental assign failed: {}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(consumer_, partitions);
    }
    context_.logger().info("assigned {} partition(s) of group {}", partitions->cnt, options_.group);
    context_.setHealth(HealthState::kOk, "consuming");
    return;
  }
  // Revoked: store and commit what is done, then forget the rest; another member reads it again.
  drainCompletions();
  if (!rd_kafka_assignment_lost(consumer_)) commitNow();
  for (int i = 0; i < partitions->cnt; ++i) {
    assigned_.erase({partitions->elems[i].topic, partitions->elems[i].partition});
  }
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(consumer_, partitions)) {
      rd_kafka_error_destroy(e);
    }
  } else {
    rd_kafka_assign(consumer_, nullptr);
  }
  context_.logger().info("revoked {} partition(s)", partitions->cnt);
}

void KafkaInput::rebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  cvagent::kafka::ClientEvents::owner<KafkaInput>(opaque)->onRebalance(err, partitions);
}

}  // namespace cvagent::inputs::kafka
