#include "snapshot_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

bool writeAll(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
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
  const std::filesystem::path target(path);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  const bool written = writeAll(fd, text);
  const int write_errno = errno;
  const bool synced = written && ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!written || !synced || !closed) {
    error = "cannot write " + tmp + ": " + std::strerror(written ? errno : write_errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    return false;
  }
  // The rename itself is durable only once the directory is synced.
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
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
