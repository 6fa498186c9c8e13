#pragma once
// The one data type that flows through cvagent: a named measurement with sorted string tags, typed
// fields and an event time in nanoseconds since the Unix epoch (UTC).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cvagent {

// Field values keep their type end to end: outputs decide how to render them.
using FieldValue = std::variant<double, std::int64_t, std::uint64_t, bool, std::string>;

struct Tag {
  std::string key;
  std::string value;
  friend bool operator==(const Tag&, const Tag&) = default;
};

struct Field {
  std::string key;
  FieldValue value;
  friend bool operator==(const Field&, const Field&) = default;
};

// Delivery tracking, for inputs that must know when what they read is stored (a Kafka consumer
// commits an offset only then). An input attaches one Delivery to the metrics of a unit of work;
// every copy of a metric (one per output) holds it. When the last copy is gone - stored by every
// output, filtered out, or dropped - the callback runs once, on whichever thread released it, with
// `delivered` false if any copy was dropped or rejected rather than stored.
class Delivery {
 public:
  explicit Delivery(std::function<void(bool delivered)> on_done) : on_done_(std::move(on_done)) {}
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;
  ~Delivery() {
    if (on_done_) on_done_(!failed_.load(std::memory_order_acquire));
  }
  // Called by the core when a copy is dropped or rejected instead of stored.
  void markFailed() { failed_.store(true, std::memory_order_release); }

 private:
  std::function<void(bool)> on_done_;
  std::atomic<bool> failed_{false};
};

using DeliveryHandle = std::shared_ptr<Delivery>;

class Metric {
 public:
  Metric() = default;
  Metric(std::string name, std::int64_t time_ns) : name_(std::move(name)), time_ns_(time_ns) {}

  const std::string& name() const { return name_; }
  void setName(std::string name) { name_ = std::move(name); }

  // Event time: the exchange's trade time or the article's publish time, never the receive time.
  std::int64_t time() const { return time_ns_; }
  void setTime(std::int64_t time_ns) { time_ns_ = time_ns; }

  // Tags stay sorted by key, so two metrics with the same series compare equal tag by tag.
  const std::vector<Tag>& tags() const { return tags_; }
  const std::string* tag(std::string_view key) const;
  void setTag(std::string_view key, std::string_view value);
  bool removeTag(std::string_view key);
  void reserveTags(std::size_t n) { tags_.reserve(n); }

  // Fields keep insertion order (the order an output renders them in).
  const std::vector<Field>& fields() const { return fields_; }
  const FieldValue* field(std::string_view key) const;
  FieldValue* field(std::string_view key);
  void setField(std::string_view key, FieldValue value);
  bool removeField(std::string_view key);
  void reserveFields(std::size_t n) { fields_.reserve(n); }

  // Typed accessors: nullptr / nullopt when absent or of another type.
  const std::string* stringField(std::string_view key) const;
  // Numeric fields of any numeric type (double, int64, uint64) as a double.
  bool numberField(std::string_view key, double& out) const;

  // Tracking handle (null for untracked metrics, the common case).
  const DeliveryHandle& delivery() const { return delivery_; }
  void setDelivery(DeliveryHandle delivery) { delivery_ = std::move(delivery); }

  // Same data; the delivery handle does not take part.
  friend bool operator==(const Metric& a, const Metric& b) {
    return a.time_ns_ == b.time_ns_ && a.name_ == b.name_ && a.tags_ == b.tags_ &&
           a.fields_ == b.fields_;
  }

 private:
  std::string name_;
  std::vector<Tag> tags_;
  std::vector<Field> fields_;
  std::int64_t time_ns_ = 0;
  DeliveryHandle delivery_;
};

}  // namespace cvagent
