#include "snapshot_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cvagent/state_file.h"
#include "cvagent/text.h"

namespace cvagent::processors::alert {

namespace {

constexpr std::string_view kHeader = "cvagent-alert-state 1";

// Tab-separated lines: the SDK's escaping (cvagent/text.h), shared with the other state files.
std::string escape(std::string_view text) {
  std::string out;
  appendTsvEscaped(text, out);
  return out;
}

std::string unescape(std::string_view text) {
  std::string out;
  if (!unescapeTsv(text, out)) out.assign(text);  // a damaged field is kept as written
  return out;
}

bool parseInt(std::string_view text, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parseDouble(std::string_view text, double& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> splitTabs(std::string_view line) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = line.find('\t', start);
    parts.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return parts;
}

}  // namespace

bool writeSnapshot(const std::string& path, const std::vector<SnapshotRule>& rules,
                   std::string& error) {
  std::string text(kHeader);
  text += '\n';
  for (const auto& rule : rules) {
    text += "rule\t" + escape(rule.id) + "\t" + escape(rule.fingerprint) + "\n";
    for (const auto& s : rule.series) {
      fmt::format_to(std::back_inserter(text), "series\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                     escape(s.key), s.active ? 1 : 0, s.fired_up ? 1 : 0, s.last_fired, s.latest,
                     s.last_seen_wall, s.last_value, s.has_value ? 1 : 0);
    }
  }
  // Atomic and durable (own temporary file, fsync, rename, directory fsync): the SDK's state file.
  try {
    StateFile(path).save(text);
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

bool readSnapshot(const std::string& path, std::vector<SnapshotRule>& rules, std::string& error) {
  rules.clear();
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return true;
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    error = path + " is not an alert state file of this version";
    return false;
  }
  std::size_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    const auto parts = splitTabs(line);
    const auto bad = [&] {
      error = fmt::format("{}:{}: malformed line", path, number);
      rules.clear();
      return false;
    };
    if (parts[0] == "rule" && parts.size() == 3) {
      rules.push_back({unescape(parts[1]), unescape(parts[2]), {}});
    } else if (parts[0] == "series" && parts.size() == 9 && !rules.empty()) {
      SnapshotSeries s;
      std::int64_t flag = 0;
      s.key = unescape(parts[1]);
      if (!parseInt(parts[2], flag)) return bad();
      s.active = flag != 0;
      if (!parseInt(parts[3], flag)) return bad();
      s.fired_up = flag != 0;
      if (!parseInt(parts[4], s.last_fired) || !parseInt(parts[5], s.latest) ||
          !parseInt(parts[6], s.last_seen_wall) || !parseDouble(parts[7], s.last_value) ||
          !parseInt(parts[8], flag)) {
        return bad();
      }
      s.has_value = flag != 0;
      rules.back().series.push_back(std::move(s));
    } else if (!line.empty()) {
      return bad();
    }
  }
  return true;
}

}  // namespace cvagent::processors::alert
