#include "feed_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cvagent/text.h"

namespace cvagent::inputs::rss {
namespace {

constexpr std::string_view kHeader = "# cvagent inputs.rss state v1";

// One record per line, "kind<TAB>value"; tabs, newlines and backslashes in values are escaped.
std::string escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  appendTsvEscaped(v, out);
  return out;
}

}  // namespace

void SeenKeys::touch(const std::string& key, std::size_t max_keys) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    order_.splice(order_.end(), order_, it->second);
  } else {
    order_.push_back(key);
    index_.emplace(key, std::prev(order_.end()));
  }
  while (max_keys > 0 && order_.size() > max_keys) {
    index_.erase(order_.front());
    order_.pop_front();
  }
}

bool StateFile::load(const std::string& path, std::map<std::string, FeedState>& out,
                     std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return true;  // first run
  std::string line;
  std::size_t line_no = 0;
  FeedState* current = nullptr;
  std::string value;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos || !unescapeTsv(std::string_view(line).substr(tab + 1), value)) {
      error = path + ":" + std::to_string(line_no) + ": malformed line";
      return false;
    }
    const std::string_view kind = std::string_view(line).substr(0, tab);
    if (kind == "feed") {
      current = &out[value];
    } else if (current == nullptr) {
      error = path + ":" + std::to_string(line_no) + ": record before any 'feed' line";
      return false;
    } else if (kind == "etag") {
      current->etag = value;
    } else if (kind == "modified") {
      current->last_modified = value;
    } else if (kind == "seen") {
      current->seen.touch(value, 0);
    } else {
      error = path + ":" + std::to_string(line_no) + ": unknown record '" + std::string(kind) + "'";
      return false;
    }
  }
  return true;
}

bool StateFile::save(const std::string& path, const std::map<std::string, FeedState>& feeds,
                     std::string& error) {
  std::string text(kHeader);
  text += '\n';
  for (const auto& [url, state] : feeds) {
    text += "feed\t" + escape(url) + "\n";
    if (!state.etag.empty()) text += "etag\t" + escape(state.etag) + "\n";
    if (!state.last_modified.empty()) text += "modified\t" + escape(state.last_modified) + "\n";
    for (const auto& key : state.seen.keys()) text += "seen\t" + escape(key) + "\n";
  }
  const std::filesystem::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    error = "cannot flush " + tmp + ": " + std::strerror(errno);
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace cvagent::inputs::rss
