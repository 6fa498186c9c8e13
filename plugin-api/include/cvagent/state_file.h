#pragma once
// A small file of plugin state (a read position, dedup keys) that must survive restarts, crashes
// and power cuts. Get one from PluginContext::stateFile("name") so it lives in the instance's state
// directory.
//
// save() is atomic and durable: it writes a temporary file beside it (`<path>.tmp.XXXXXX`), fsyncs
// it, renames it over `<path>` and fsyncs the directory, so after a crash the file holds the
// previous contents or the new ones, never a mix, and a save that returned survives a power cut.
// Errors are thrown (std::system_error naming the file), never ignored: a plugin that cannot keep
// its state must say so.
//
// Saves to one file from several threads or objects are safe (each writes its own temporary file;
// the last rename wins) but unordered: serialize them if the order matters. A save costs two fsyncs
// (milliseconds on a disk): save when the state changed, at most every second or so on a hot path,
// and once more when stopping.

#include <optional>
#include <string>
#include <string_view>

namespace cvagent {

class StateFile {
 public:
  explicit StateFile(std::string path) : path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // The saved contents, or nullopt when nothing was saved yet (no file). Throws std::system_error
  // when the file exists but cannot be read.
  std::optional<std::string> load() const;

  // Replaces the contents atomically and durably (see above). Throws std::system_error; the
  // previous contents are then still in place.
  void save(std::string_view contents);

  // Removes the saved state (no error when there is none). Throws std::system_error otherwise.
  void remove();

 private:
  std::string path_;
};

}  // namespace cvagent
