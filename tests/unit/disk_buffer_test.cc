// The disk buffer: CRC32C, the record codec, segments, acknowledgement, recovery from damage,
// a full disk and the directory lock.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <thread>

#include "cvagent/testing/test_context.h"
#include "runtime/crc32c.h"
#include "runtime/disk_buffer.h"
#include "runtime/metric_record.h"

namespace cvagent::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A fresh directory removed with the object.
struct TempDir {
  std::string path;
  explicit TempDir(const char* base = "/tmp") {
    std::string templ = std::string(base) + "/cvagent-disk-buffer-XXXXXX";
    path = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

Metric trade(std::int64_t i) {
  Metric m("trade", 1'795'962'600'000'000'000 + i);
  m.setTag("exchange", "kraken");
  m.setTag("pair", i % 2 ? "BTC/USD" : "ETH/USD");
  m.setTag("side", i % 3 ? "buy" : "sell");
  m.setField("price", 95863.2 + static_cast<double>(i));
  m.setField("volume", 0.0125);
  m.setField("trade_id", static_cast<std::uint64_t>(i));
  m.setField("ord_type", std::string("limit"));
  return m;
}

std::vector<Metric> trades(std::int64_t from, std::int64_t count) {
  std::vector<Metric> out;
  for (std::int64_t i = from; i < from + count; ++i) out.push_back(trade(i));
  return out;
}

std::vector<Metric> readAll(DiskBuffer& buffer, bool ack = true) {
  std::vector<Metric> out;
  while (true) {
    DiskPosition end;
    const std::size_t before = out.size();
    const std::size_t n = buffer.read(out, 500, end);
    EXPECT_EQ(n, out.size() - before);
    if (ack) buffer.acknowledge(end);
    if (n == 0) break;
  }
  return out;
}

std::vector<std::string> segmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".cvb") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

DiskBufferOptions optionsFor(const std::string& dir) {
  DiskBufferOptions o;
  o.directory = dir;
  o.max_bytes = 1ull << 30;
  o.sync = DiskSync::kInterval;
  return o;
}

// ---------------------------------------------------------------- CRC32C

TEST(Crc32c, KnownValueOnBothPaths) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32cPortable(check.data(), check.size()), 0xE3069283u);
  EXPECT_EQ(crc32c(check.data(), check.size()), 0xE3069283u);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

TEST(Crc32c, HardwareMatchesPortableAndContinues) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 500; ++round) {
    std::string data(rng() % 300, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    const std::size_t split = data.empty() ? 0 : rng() % data.size();
    const std::uint32_t whole = crc32c(data.data(), data.size());
    ASSERT_EQ(whole, crc32cPortable(data.data(), data.size()));
    const std::uint32_t first = crc32c(data.data(), split);
    ASSERT_EQ(crc32c(data.data() + split, data.size() - split, first), whole);
    ASSERT_EQ(crc32cPortable(data.data() + split, data.size() - split,
                             crc32cPortable(data.data(), split)),
              whole);
  }
}

// ---------------------------------------------------------------- record codec

TEST(MetricRecord, RoundTripsEveryFieldType) {
  Metric m("weird name with \xC3\xA9 and \n", std::numeric_limits<std::int64_t>::min());
  m.setTag("", "empty key");
  m.setTag("z", "");
  m.setTag("pair", "BTC/USD");
  m.setField("d", -0.0);
  m.setField("inf", std::numeric_limits<double>::infinity());
  m.setField("tiny", std::numeric_limits<double>::denorm_min());
  m.setField("i_min", std::numeric_limits<std::int64_t>::min());
  m.setField("i_max", std::numeric_limits<std::int64_t>::max());
  m.setField("u_max", std::numeric_limits<std::uint64_t>::max());
  m.setField("t", true);
  m.setField("f", false);
  m.setField("s", std::string(1000, 'x'));
  m.setField("empty", std::string());
  std::string bytes;
  encodeMetric(m, bytes);
  auto decoded = decodeMetric(std::as_bytes(std::span(bytes.data(), bytes.size())));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded.metric(), m);
  // Field order is kept (outputs render in it).
  ASSERT_EQ(decoded.metric().fields().size(), m.fields().size());
  for (std::size_t i = 0; i < m.fields().size(); ++i)
    EXPECT_EQ(decoded.metric().fields()[i].key, m.fields()[i].key);
  EXPECT_TRUE(std::signbit(std::get<double>(*decoded.metric().field("d"))));

  Metric nan("n", 0);
  nan.setField("v", std::nan(""));
  bytes.clear();
  encodeMetric(nan, bytes);
  auto d2 = decodeMetric(std::as_bytes(std::span(bytes.data(), bytes.size())));
  ASSERT_TRUE(d2.ok());
  EXPECT_TRUE(std::isnan(std::get<double>(*d2.metric().field("v"))));
}

TEST(MetricRecord, CompactForATrade) {
  std::string bytes;
  encodeMetric(trade(123456), bytes);
  EXPECT_LT(bytes.size(), 125u);  // its JSON line is about 200
}

TEST(MetricRecord, EveryTruncationAndTrailingByteIsAnError) {
  std::string bytes;
  encodeMetric(trade(42), bytes);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    auto d = decodeMetric(std::as_bytes(std::span(bytes.data(), len)));
    EXPECT_FALSE(d.ok()) << "prefix of " << len;
  }
  bytes.push_back('\0');
  auto d = decodeMetric(std::as_bytes(std::span(bytes.data(), bytes.size())));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "trailing bytes after the metric");
}

TEST(MetricRecord, RejectsUnknownVersionTypeAndHugeCounts) {
  std::string bytes;
  encodeMetric(trade(1), bytes);
  std::string v2 = bytes;
  v2[0] = 2;
  EXPECT_EQ(decodeMetric(std::as_bytes(std::span(v2.data(), v2.size()))).error().message,
            "unknown record version 2");
  // version, time 0, name "", 2^40 tags.
  const std::string huge = std::string("\x01\x00\x00", 3) + "\x80\x80\x80\x80\x80\x20";
  EXPECT_FALSE(decodeMetric(std::as_bytes(std::span(huge.data(), huge.size()))).ok());
  // A field of type 9.
  const std::string bad_type = std::string("\x01\x00\x00\x00\x01\x01k\x09", 8);
  EXPECT_EQ(
      decodeMetric(std::as_bytes(std::span(bad_type.data(), bad_type.size()))).error().message,
      "unknown field type 9");
}

TEST(MetricRecord, RandomBytesNeverCrash) {
  std::mt19937_64 rng(11);
  std::string base;
  encodeMetric(trade(5), base);
  for (int i = 0; i < 20000; ++i) {
    std::string b = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) b.resize(rng() % b.size());
    auto d = decodeMetric(std::as_bytes(std::span(b.data(), b.size())));
    if (d.ok()) {
      std::string again;
      encodeMetric(d.metric(), again);  // what decodes re-encodes
    }
  }
}

// ---------------------------------------------------------------- segments, ack, recovery

TEST(DiskBuffer, AppendsReadsBackInOrderAcrossSegments) {
  TempDir dir;
  testing::TestLogger log;
  auto o = optionsFor(dir.path);
  o.segment_bytes = 16 * 1024;
  DiskBuffer buffer(o, log);
  const auto in = trades(0, 5000);
  for (std::size_t i = 0; i < in.size(); i += 100) {
    ASSERT_EQ(buffer.append(std::span(in).subspan(i, 100)), 100u);
  }
  EXPECT_EQ(buffer.unread(), 5000u);
  EXPECT_GT(segmentFiles(dir.path).size(), 10u);  // rotated
  const auto out = readAll(buffer, false);
  EXPECT_EQ(out, in);
  EXPECT_EQ(buffer.unread(), 0u);
  EXPECT_EQ(buffer.damaged(), 0u);
}

TEST(DiskBuffer, AcknowledgedSegmentsAreDeletedAndNotReplayed) {
  TempDir dir;
  testing::TestLogger log;
  auto o = optionsFor(dir.path);
  o.segment_bytes = 8 * 1024;
  const auto in = trades(0, 3000);
  {
    DiskBuffer buffer(o, log);
    ASSERT_EQ(buffer.append(in), 3000u);
    const std::uint64_t full = buffer.diskBytes();
    const std::size_t files = segmentFiles(dir.path).size();
    std::vector<Metric> got;
    DiskPosition end;
    ASSERT_EQ(buffer.read(got, 1000, end), 1000u);
    // Read but not acknowledged: nothing goes.
    EXPECT_EQ(segmentFiles(dir.path).size(), files);
    buffer.acknowledge(end);
    EXPECT_LT(buffer.diskBytes(), full);
    EXPECT_LT(segmentFiles(dir.path).size(), files);
    // Read more without acknowledging: replayed after the restart.
    ASSERT_EQ(buffer.read(got, 500, end), 500u);
  }
  DiskBuffer again(o, log);
  EXPECT_EQ(again.unread(), 2000u);
  const auto out = readAll(again);
  EXPECT_EQ(out, std::vector<Metric>(in.begin() + 1000, in.end()));
  // Everything acknowledged: only the (empty) segment being written stays.
  EXPECT_EQ(segmentFiles(dir.path).size(), 1u);
}

TEST(DiskBuffer, EverySyncPolicyKeepsRecordsAcrossReopen) {
  for (auto sync : {DiskSync::kAlways, DiskSync::kBatch, DiskSync::kInterval}) {
    TempDir dir;
    testing::TestLogger log;
    auto o = optionsFor(dir.path);
    o.sync = sync;
    o.sync_interval = 10ms;
    const auto in = trades(0, 300);
    {
      DiskBuffer buffer(o, log);
      for (std::size_t i = 0; i < in.size(); i += 30)
        ASSERT_EQ(buffer.append(std::span(in).subspan(i, 30)), 30u);
      std::this_thread::sleep_for(30ms);
    }
    DiskBuffer again(o, log);
    EXPECT_EQ(readAll(again), in);
  }
}

TEST(DiskBuffer, ReadsWhatIsAppendedWhileReading) {
  TempDir dir;
  testing::TestLogger log;
  auto o = optionsFor(dir.path);
  o.segment_bytes = 4096;
  DiskBuffer buffer(o, log);
  std::vector<Metric> out;
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) buffer.append(trades(i * 50, 50));
  });
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (out.size() < 5000 && std::chrono::steady_clock::now() < deadline) {
    DiskPosition end;
    if (buffer.read(out, 64, end)) buffer.acknowledge(end);
  }
  writer.join();
  EXPECT_EQ(out, trades(0, 5000));
}

TEST(DiskBuffer, DropOldestCountsWhatItDrops) {
  TempDir dir;
  testing::TestLogger log;
  auto o = optionsFor(dir.path);
  o.max_bytes = 64 * 1024;
  o.segment_bytes = 8 * 1024;
  o.block_when_full = false;
  std::uint64_t dropped = 0;
  DiskBuffer::Listener listener;
  listener.dropped = [&](std::uint64_t n, const char* reason) {
    EXPECT_STREQ(reason, "buffer_full");
    dropped += n;
  };
  DiskBuffer buffer(o, log, listener);
  const auto in = trades(0, 10000);
  for (std::size_t i = 0; i < in.size(); i += 100)
    ASSERT_EQ(buffer.append(std::span(in).subspan(i, 100)), 100u);
  EXPECT_LE(buffer.diskBytes(), o.max_bytes);
  EXPECT_GT(dropped, 0u);
  const auto out = readAll(buffer);
  EXPECT_EQ(out.size() + dropped, in.size());
  // What is left is the newest, in order.
  EXPECT_EQ(out, std::vector<Metric>(in.end() - static_cast<std::ptrdiff_t>(out.size()), in.end()));
}

TEST(DiskBuffer, BlockWaitsForAcknowledgementThenWrites) {
  TempDir dir;
  testing::TestLogger log;
  auto o = optionsFor(dir.path);
  o.max_bytes = 32 * 1024;
  o.segment_bytes = 4 * 1024;
  DiskBuffer buffer(o, log);
  const auto in = trades(0, 3000);
  std::atomic<std::size_t> appended{0};
  std::thread writer([&] {
    for (std::size_t i = 0; i < in.size(); i += 50)
      appended += buffer.append(std::span(in).subspan(i, 50));
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_LT(appended.load(), in.size());  // blocked on the full buffer
  EXPECT_LE(buffer.diskBytes(), o.max_bytes);
  std::vector<Metric> out;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (out.size() < in.size() && std::chrono::steady_clock::now() < deadline) {
    DiskPosition end;
    if (buffer.read(out, 100, end)) buffer.acknowledge(end);
  }
  writer.join();
  EXPECT_EQ(out, in);
}

TEST(DiskBuffer, InterruptReleasesABlockedAppend) {
  TempDir dir;
  testing::TestLogger log;
  auto o = optionsFor(dir.path);
  o.max_bytes = 16 * 1024;
  o.segment_bytes = 4 * 1024;
  DiskBuffer buffer(o, log);
  std::size_t appended = 0;
  std::thread writer([&] { appended = buffer.append(trades(0, 5000)); });
  std::this_thread::sleep_for(100ms);
  buffer.interrupt();
  writer.join();
  EXPECT_GT(appended, 0u);
  EXPECT_LT(appended, 5000u);
  EXPECT_EQ(readAll(buffer), trades(0, static_cast<std::int64_t>(appended)));
}

TEST(DiskBuffer, SecondUserOfADirectoryIsRefused) {
  TempDir dir;
  testing::TestLogger log;
  DiskBuffer first(optionsFor(dir.path), log);
  try {
    DiskBuffer second(optionsFor(dir.path), log);
    FAIL() << "a second buffer opened a locked directory";
  } catch (const DiskBufferLocked& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path), std::string::npos) << e.what();
  }
}

TEST(DiskBuffer, LockIsReleasedWithTheBuffer) {
  TempDir dir;
  testing::TestLogger log;
  { DiskBuffer first(optionsFor(dir.path), log); }
  EXPECT_NO_THROW(DiskBuffer second(optionsFor(dir.path), log));
}

TEST(DiskBuffer, TornTailIsSkippedAndReported) {
  TempDir dir;
  testing::TestLogger log;
  const auto in = trades(0, 100);
  { DiskBuffer(optionsFor(dir.path), log).append(in); }
  const auto files = segmentFiles(dir.path);
  ASSERT_EQ(files.size(), 1u);
  fs::resize_file(files[0], fs::file_size(files[0]) - 5);  // the last record torn
  DiskBuffer again(optionsFor(dir.path), log);
  EXPECT_EQ(again.damaged(), 1u);
  EXPECT_TRUE(log.contains(files[0])) << "the file is named in the log";
  EXPECT_TRUE(log.contains("at byte")) << "and the offset";
  EXPECT_EQ(readAll(again), std::vector<Metric>(in.begin(), in.end() - 1));
}

// ---------------------------------------------------------------- random corruption

// Where each record of a clean buffer lies, parsed independently of the code under test.
struct RecordPlace {
  std::string file;
  std::uint64_t begin, end;
};

std::vector<RecordPlace> layout(const std::vector<std::string>& files) {
  std::vector<RecordPlace> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::uint64_t pos = 16;
    while (pos + 8 <= bytes.size()) {
      std::uint32_t len = 0;
      for (int i = 0; i < 4; ++i)
        len |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[pos + i])) << (8 * i);
      out.push_back({f, pos, pos + 8 + len});
      pos += 8 + len;
    }
  }
  return out;
}

TEST(DiskBufferCorruption, RandomDamageNeverCrashesAndLosesOnlyDamagedRecords) {
  TempDir shm("/dev/shm");
  const std::string clean = shm.path + "/clean";
  testing::TestLogger quiet;
  auto o = optionsFor(clean);
  o.segment_bytes = 6 * 1024;
  const auto in = trades(0, 400);
  {
    DiskBuffer buffer(o, quiet);
    for (std::size_t i = 0; i < in.size(); i += 40) buffer.append(std::span(in).subspan(i, 40));
  }
  const auto clean_files = segmentFiles(clean);
  ASSERT_GE(clean_files.size(), 3u);
  const auto places = layout(clean_files);
  ASSERT_EQ(places.size(), in.size());

  std::mt19937_64 rng(20261201);
  std::uint64_t cases = 0, damaged_cases = 0, lost_total = 0;
  for (int c = 0; c < 2000; ++c) {
    const std::string work = shm.path + "/case";
    fs::remove_all(work);
    fs::copy(clean, work);
    fs::remove(work + "/lock");
    // Damaged byte ranges per file (name in the copy); truncation = damage to the end.
    std::map<std::string, std::vector<std::pair<std::uint64_t, std::uint64_t>>> damage;
    const int kinds = 1 + static_cast<int>(rng() % 3);
    bool garbage_segment = false;
    for (int k = 0; k < kinds; ++k) {
      const std::string name = fs::path(clean_files[rng() % clean_files.size()]).filename();
      const std::string path = work + "/" + name;
      const std::uint64_t size = fs::file_size(path);
      switch (rng() % 5) {
        case 0:
        case 1: {  // flipped bytes
          std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
          const int flips = 1 + static_cast<int>(rng() % 3);
          for (int i = 0; i < flips; ++i) {
            const std::uint64_t at = rng() % size;
            f.seekg(static_cast<std::streamoff>(at));
            char b;
            f.read(&b, 1);
            b = static_cast<char>(b ^ static_cast<char>(1 + rng() % 255));
            f.seekp(static_cast<std::streamoff>(at));
            f.write(&b, 1);
            damage[name].push_back({at, at + 1});
          }
          break;
        }
        case 2: {  // truncated (a torn tail or a cut segment)
          const std::uint64_t cut = rng() % size;
          fs::resize_file(path, cut);
          damage[name].push_back({cut, std::numeric_limits<std::uint64_t>::max()});
          break;
        }
        case 3: {  // a run of changed bytes
          std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
          const std::uint64_t at = rng() % size;
          const std::uint64_t len = std::min<std::uint64_t>(1 + rng() % 200, size - at);
          std::string run(len, '\0');
          f.seekg(static_cast<std::streamoff>(at));
          f.read(run.data(), static_cast<std::streamsize>(len));
          for (auto& ch : run) ch = static_cast<char>(ch ^ static_cast<char>(1 + rng() % 255));
          f.seekp(static_cast<std::streamoff>(at));
          f.write(run.data(), static_cast<std::streamsize>(len));
          damage[name].push_back({at, at + len});
          break;
        }
        case 4: {  // garbage files, one named like a segment
          std::ofstream(work + "/notes.txt") << "not a segment";
          std::ofstream g(work + "/segment-00000000000000000999.cvb", std::ios::binary);
          for (int i = 0; i < 300; ++i) g.put(static_cast<char>(rng()));
          garbage_segment = true;
          break;
        }
      }
    }
    std::set<std::int64_t> expected;
    std::uint64_t lost_records = 0;
    for (std::size_t i = 0; i < places.size(); ++i) {
      const auto& p = places[i];
      bool hit = false;
      for (const auto& [b, e] : damage[fs::path(p.file).filename().string()])
        hit = hit || (b < p.end && e > p.begin);
      if (hit) {
        ++lost_records;
      } else {
        expected.insert(in[i].time());
      }
    }
    // Damage must be counted, except a cut exactly between two records (a clean end).
    bool must_count = garbage_segment;
    for (const auto& f : clean_files) {
      const std::string name = fs::path(f).filename();
      const std::uint64_t size = fs::file_size(work + "/" + name);
      bool cut_on_boundary = size == fs::file_size(f) || size == 16;
      for (const auto& p : places)
        cut_on_boundary = cut_on_boundary || (p.file == f && p.begin == size);
      if (!cut_on_boundary) must_count = true;
      for (const auto& [b, e] : damage[name]) {
        if (e - b <= 200 && b < size) must_count = true;  // flipped or overwritten bytes
      }
    }
    auto oc = o;
    oc.directory = work;
    testing::TestLogger log;
    DiskBuffer buffer(oc, log);
    const auto out = readAll(buffer);
    std::set<std::int64_t> got;
    std::int64_t last = std::numeric_limits<std::int64_t>::min();
    for (const auto& m : out) {
      // Every metric read is one of the originals, whole, in order.
      const std::int64_t i = m.time() - in[0].time();
      ASSERT_TRUE(i >= 0 && i < static_cast<std::int64_t>(in.size())) << "case " << c;
      ASSERT_EQ(m, in[static_cast<std::size_t>(i)]) << "case " << c;
      ASSERT_GT(m.time(), last) << "case " << c;
      last = m.time();
      got.insert(m.time());
    }
    ASSERT_EQ(got, expected) << "case " << c << ": only damaged records are lost";
    if (must_count) {
      ++damaged_cases;
      ASSERT_GT(buffer.damaged(), 0u) << "case " << c;
      ASSERT_TRUE(log.contains("at byte", LogLevel::kError)) << "case " << c;
    }
    lost_total += lost_records;
    ++cases;
  }
  EXPECT_EQ(cases, 2000u);
  EXPECT_GT(damaged_cases, 1000u);
  EXPECT_GT(lost_total, 0u);
}

// ---------------------------------------------------------------- a full disk

// RLIMIT_FSIZE makes writes past the limit fail with EFBIG, as a full disk fails with ENOSPC.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit l = saved_;
    l.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &l);
  }
  ~FileSizeLimit() { lift(); }
  void lift() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t old_handler_;
};

TEST(DiskBufferFull, DegradedNoCrashNothingWrittenLost) {
  for (const bool block : {false, true}) {
    TempDir dir;
    testing::TestLogger log;
    auto o = optionsFor(dir.path);
    o.segment_bytes = 1 << 20;
    o.block_when_full = block;
    std::vector<std::pair<bool, std::string>> states;
    DiskBuffer::Listener listener;
    listener.disk_state = [&](bool failing, const std::string& detail) {
      states.emplace_back(failing, detail);
    };
    DiskBuffer buffer(o, log, listener);
    std::size_t written = 0;
    {
      FileSizeLimit limit(64 * 1024);
      std::thread interrupter;
      if (block) {
        interrupter = std::thread([&] {
          std::this_thread::sleep_for(300ms);
          buffer.interrupt();
        });
      }
      for (int i = 0; i < 100; ++i) {
        const std::size_t n = buffer.append(trades(static_cast<std::int64_t>(written), 50));
        written += n;
        if (n < 50) break;
      }
      if (interrupter.joinable()) interrupter.join();
    }
    ASSERT_FALSE(states.empty());
    EXPECT_TRUE(states.front().first);
    EXPECT_NE(states.front().second.find("File too large"), std::string::npos)
        << states.front().second;
    EXPECT_TRUE(buffer.diskFailing());
    EXPECT_GT(written, 100u);
    EXPECT_LT(written, 5000u);
    const auto out = readAll(buffer);
    EXPECT_EQ(out, trades(0, static_cast<std::int64_t>(written)));
    EXPECT_EQ(buffer.damaged(), 0u);
    if (!block) {
      // The limit lifted, writing works again and says so.
      EXPECT_EQ(buffer.append(trades(100000, 10)), 10u);
      EXPECT_FALSE(buffer.diskFailing());
      EXPECT_FALSE(states.back().first);
    }
  }
}

}  // namespace
}  // namespace cvagent::runtime
