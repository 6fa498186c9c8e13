#include "runtime/metric_record.h"

#include <cstring>
#include <string_view>

namespace cvagent::runtime {

namespace {

enum FieldType : std::uint8_t {
  kDouble = 0,
  kInt64 = 1,
  kUint64 = 2,
  kFalse = 3,
  kTrue = 4,
  kString = 5,
};

void putVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void putString(std::string& out, std::string_view s) {
  putVarint(out, s.size());
  out.append(s);
}

// Bounds-checked reader; the first failure sticks and every later read returns a neutral value.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}

  bool failed() const { return !error_.empty(); }
  std::size_t remaining() const { return bytes_.size() - pos_; }
  DecodeError error() const { return {error_offset_, error_}; }

  void fail(std::string message) {
    if (failed()) return;
    error_ = std::move(message);
    error_offset_ = pos_;
  }

  std::uint8_t byte() {
    if (failed()) return 0;
    if (pos_ >= bytes_.size()) {
      fail("truncated");
      return 0;
    }
    return static_cast<std::uint8_t>(bytes_[pos_++]);
  }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const std::uint8_t b = byte();
      if (failed()) return 0;
      if (shift == 63 && b > 1) {
        fail("varint overflows 64 bits");
        return 0;
      }
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
    return 0;
  }

  std::string_view string() {
    const std::uint64_t n = varint();
    if (failed()) return {};
    if (n > remaining()) {
      fail("string length past the end");
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }

  double float64() {
    if (failed()) return 0;
    if (remaining() < 8) {
      fail("truncated double");
      return 0;
    }
    std::uint64_t bits = 0;
    for (int i = 0; i < 8; ++i)
      bits |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes_[pos_ + i])) << (8 * i);
    pos_ += 8;
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }

  // A count of elements each at least `min_size` bytes long: never more than the bytes left allow.
  std::size_t count(std::size_t min_size) {
    const std::uint64_t n = varint();
    if (failed()) return 0;
    if (n > remaining() / min_size) {
      fail("count larger than the record");
      return 0;
    }
    return static_cast<std::size_t>(n);
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
  std::string error_;
  std::size_t error_offset_ = 0;
};

}  // namespace

void encodeMetric(const Metric& metric, std::string& out) {
  out.push_back(static_cast<char>(kMetricRecordVersion));
  putVarint(out, zigzag(metric.time()));
  putString(out, metric.name());
  putVarint(out, metric.tags().size());
  for (const auto& t : metric.tags()) {
    putString(out, t.key);
    putString(out, t.value);
  }
  putVarint(out, metric.fields().size());
  for (const auto& f : metric.fields()) {
    putString(out, f.key);
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, double>) {
            out.push_back(static_cast<char>(kDouble));
            std::uint64_t bits;
            std::memcpy(&bits, &v, 8);
            for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            out.push_back(static_cast<char>(kInt64));
            putVarint(out, zigzag(v));
          } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            out.push_back(static_cast<char>(kUint64));
            putVarint(out, v);
          } else if constexpr (std::is_same_v<T, bool>) {
            out.push_back(static_cast<char>(v ? kTrue : kFalse));
          } else {
            out.push_back(static_cast<char>(kString));
            putString(out, v);
          }
        },
        f.value);
  }
}

DecodeResult decodeMetric(std::span<const std::byte> bytes) {
  Reader in(bytes);
  const std::uint8_t version = in.byte();
  if (in.failed()) return in.error();
  if (version != kMetricRecordVersion) {
    return DecodeError{0, "unknown record version " + std::to_string(version)};
  }
  const std::int64_t time = unzigzag(in.varint());
  const std::string_view name = in.string();
  Metric metric(std::string(name), time);
  const std::size_t tag_count = in.count(2);
  metric.reserveTags(tag_count);
  for (std::size_t i = 0; i < tag_count && !in.failed(); ++i) {
    const std::string_view key = in.string();
    const std::string_view value = in.string();
    if (!in.failed()) metric.setTag(key, value);
  }
  const std::size_t field_count = in.count(2);
  metric.reserveFields(field_count);
  for (std::size_t i = 0; i < field_count && !in.failed(); ++i) {
    const std::string_view key = in.string();
    const std::uint8_t type = in.byte();
    FieldValue value;
    switch (type) {
      case kDouble:
        value = in.float64();
        break;
      case kInt64:
        value = unzigzag(in.varint());
        break;
      case kUint64:
        value = in.varint();
        break;
      case kFalse:
        value = false;
        break;
      case kTrue:
        value = true;
        break;
      case kString:
        value = std::string(in.string());
        break;
      default:
        in.fail("unknown field type " + std::to_string(type));
    }
    if (!in.failed()) metric.setField(key, std::move(value));
  }
  if (in.failed()) return in.error();
  if (in.remaining() != 0) {
    in.fail("trailing bytes after the metric");
    return in.error();
  }
  return DecodeResult(std::move(metric));
}

}  // namespace cvagent::runtime
