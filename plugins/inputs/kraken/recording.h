#pragma once
// Recordings of raw frames, for offline development and backtests. One JSON object per line:
//   {"receive_time":1795962600123456789,"frame":"{\"channel\":\"heartbeat\"}"}
// `frame` is the frame exactly as received, as a JSON string (control characters escaped, other
// bytes as they came).

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace cvagent::inputs::kraken {

class Recorder {
 public:
  // Appends to `path`; throws std::runtime_error naming the file when it cannot be opened.
  explicit Recorder(const std::string& path);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void write(std::int64_t receive_ns, std::string_view frame);
  void flush();

 private:
  std::FILE* file_ = nullptr;
  std::string line_;
};

// The JSON-lines text of one recorded frame, without the newline.
void appendRecordLine(std::int64_t receive_ns, std::string_view frame, std::string& out);

// Reads a recording line back. False (with `error`) when the line is not a recording line.
bool parseRecordLine(std::string_view line, std::int64_t& receive_ns, std::string& frame,
                     std::string& error);

}  // namespace cvagent::inputs::kraken
