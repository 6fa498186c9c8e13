#pragma once
// The firing state of processors.alert on disk: one text file, replaced atomically (write to a
// temporary file, fsync, rename, fsync the directory), so a crash leaves the old or the new state,
// never half of one.

#include <cstdint>
#include <string>
#include <vector>

namespace cvagent::processors::alert {

struct SnapshotSeries {
  std::string key;  // metric name and tags, as the processor builds it
  bool active = false;
  bool fired_up = true;
  std::int64_t last_fired = 0;
  std::int64_t latest = 0;
  std::int64_t last_seen_wall = 0;
  double last_value = 0;
  bool has_value = false;
};

struct SnapshotRule {
  std::string id;
  std::string fingerprint;  // the rule's options: state carries over only to the same rule
  std::vector<SnapshotSeries> series;
};

bool writeSnapshot(const std::string& path, const std::vector<SnapshotRule>& rules,
                   std::string& error);
// A missing file is no error (first start): `rules` is left empty.
bool readSnapshot(const std::string& path, std::vector<SnapshotRule>& rules, std::string& error);

}  // namespace cvagent::processors::alert
