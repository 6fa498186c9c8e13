#pragma once
// What the input remembers between polls and restarts: per feed the validators for conditional
// GET and the keys of the items already emitted (most recently seen first out of the bound).

#include <cstddef>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cvagent::inputs::rss {

class SeenKeys {
 public:
  bool contains(const std::string& key) const { return index_.count(key) > 0; }
  // Adds or refreshes `key` as the most recent; drops the oldest beyond `max_keys`.
  void touch(const std::string& key, std::size_t max_keys);
  std::size_t size() const { return order_.size(); }
  // Oldest first.
  const std::list<std::string>& keys() const { return order_; }

 private:
  std::list<std::string> order_;
  std::unordered_map<std::string, std::list<std::string>::iterator> index_;
};

struct FeedState {
  std::string etag;
  std::string last_modified;
  SeenKeys seen;
};

class StateFile {
 public:
  // Missing file: empty state. A corrupt file: false with `error` (the caller starts empty).
  static bool load(const std::string& path, std::map<std::string, FeedState>& out,
                   std::string& error);
  // Writes a temporary file next to `path`, fsyncs it and renames it over `path`.
  static bool save(const std::string& path, const std::map<std::string, FeedState>& feeds,
                   std::string& error);
};

}  // namespace cvagent::inputs::rss
