#include "recording.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace cvagent::inputs::kraken {

void appendRecordLine(std::int64_t receive_ns, std::string_view frame, std::string& out) {
  fmt::format_to(std::back_inserter(out), "{{\"receive_time\":{},\"frame\":\"", receive_ns);
  for (char c : frame) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  out += "\"}";
}

bool parseRecordLine(std::string_view line, std::int64_t& receive_ns, std::string& frame,
                     std::string& error) {
  // One parser per thread: replaying as fast as possible must not allocate per line.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(line.data(), line.size()).get(doc)) {
    error = simdjson::error_message(e);
    return false;
  }
  std::string_view text;
  if (doc["receive_time"].get_int64().get(receive_ns) || doc["frame"].get_string().get(text)) {
    error = "a recording line needs receive_time (integer) and frame (string)";
    return false;
  }
  frame.assign(text);
  return true;
}

Recorder::Recorder(const std::string& path) : file_(std::fopen(path.c_str(), "ab")) {
  if (!file_) {
    throw std::runtime_error(
        fmt::format("cannot open recording file {}: {}", path, std::strerror(errno)));
  }
}

Recorder::~Recorder() {
  if (file_) std::fclose(file_);
}

void Recorder::write(std::int64_t receive_ns, std::string_view frame) {
  line_.clear();
  appendRecordLine(receive_ns, frame, line_);
  line_ += '\n';
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

void Recorder::flush() { std::fflush(file_); }

}  // namespace cvagent::inputs::kraken
