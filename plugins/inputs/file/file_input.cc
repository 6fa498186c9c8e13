#include "file_input.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace cvagent::inputs::file {

namespace {
class TrackingEmitter final : public Emitter {
 public:
  TrackingEmitter(Emitter& next, DeliveryHandle delivery)
      : next_(next), delivery_(std::move(delivery)) {}
  void emit(Metric&& metric) override {
    metric.setDelivery(delivery_);
    next_.emit(std::move(metric));
  }

 private:
  Emitter& next_;
  DeliveryHandle delivery_;
};
}  // namespace

void FileInputOptions::describe(Schema<FileInputOptions>& s) {
  s.option("path", &FileInputOptions::path, "File to read metrics from.")
      .required()
      .example("metrics.jsonl");
  s.option("format", &FileInputOptions::format,
           "json: one JSON metric per line ({\"name\",\"tags\",\"fields\",\"time\"}); influx: "
           "line protocol.");
  s.option("tail", &FileInputOptions::tail,
           "true: follow the file, emitting lines as they are appended (a truncated or replaced "
           "file is read again from its start); false: read the whole file at every gather.");
  s.option("from_beginning", &FileInputOptions::from_beginning,
           "With tail and no saved position: start at the beginning of the file rather than at "
           "its end.");
  s.option("remember_position", &FileInputOptions::remember_position,
           "With tail: keep the position in the agent's state directory once what was read is "
           "delivered, so a restart or reload resumes there instead of reading the file again.");
}

bool FilePosition::load(std::uint64_t& inode, std::int64_t& offset) const {
  std::FILE* f = std::fopen(state_file_.c_str(), "r");
  if (!f) return false;
  unsigned long long i = 0;
  long long o = 0;
  const bool ok = std::fscanf(f, "%llu %lld", &i, &o) == 2;
  std::fclose(f);
  inode = i;
  offset = o;
  return ok;
}

void FilePosition::save(std::uint64_t inode, std::int64_t offset) {
  std::lock_guard lock(mu_);
  // Write then rename: a crash leaves the old position or the new one, never half a file.
  const std::string tmp = state_file_ + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return;
  std::fprintf(f, "%llu %lld\n", static_cast<unsigned long long>(inode),
               static_cast<long long>(offset));
  const bool ok = std::fclose(f) == 0;
  if (ok) std::rename(tmp.c_str(), state_file_.c_str());
}

FileInput::FileInput(const FileInputOptions& options, PluginContext& context)
    : options_(options),
      context_(context),
      format_(options.format),
      lines_(context.counter("file_lines_total", "Lines read by inputs.file")),
      bad_lines_(
          context.counter("file_bad_lines_total", "Lines inputs.file could not parse (skipped)")) {
  if (options_.tail && options_.remember_position) {
    position_ = std::make_shared<FilePosition>(context.stateDir() + "/position");
  }
}

FileInput::~FileInput() {
  if (file_) std::fclose(file_);
}

void FileInput::openFile() {
  struct stat st {};
  if (file_) {
    // Rotated (another inode) or truncated (shorter than where we were): start over.
    if (::stat(options_.path.c_str(), &st) == 0 && (st.st_ino != inode_ || st.st_size < offset_)) {
      context_.logger().info("{} was replaced or truncated; reading it from the start",
                             options_.path);
      std::fclose(file_);
      file_ = nullptr;
    } else {
      return;
    }
  }
  file_ = std::fopen(options_.path.c_str(), "rb");
  if (!file_) {
    throw std::runtime_error("cannot open " + options_.path + ": " + std::strerror(errno));
  }
  if (::fstat(fileno(file_), &st) == 0) inode_ = st.st_ino;
  offset_ = 0;
  line_number_ = 0;
  partial_.clear();
  std::uint64_t saved_inode = 0;
  std::int64_t saved_offset = 0;
  if (first_open_ && position_ && position_->load(saved_inode, saved_offset) &&
      saved_inode == inode_ && saved_offset <= static_cast<std::int64_t>(st.st_size)) {
    offset_ = saved_offset;
    context_.logger().info("resuming {} at byte {}", options_.path, offset_);
  } else if (first_open_ && !options_.from_beginning) {
    std::fseek(file_, 0, SEEK_END);
    offset_ = std::ftell(file_);
  }
  first_open_ = false;
}

void FileInput::handleLine(std::string_view line, Emitter& out) {
  ++line_number_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return;
  lines_.inc();
  Metric metric;
  std::string error;
  if (!codec::parse(format_, line, metric, error, context_.clock().nowNanos())) {
    bad_lines_.inc();
    bad_line_log_.warn(context_.logger(), "{}:{}: skipped a line: {}", options_.path, line_number_,
                       error);
    return;
  }
  out.emit(std::move(metric));
}

void FileInput::readNewLines(Emitter& out) {
  std::fseek(file_, offset_, SEEK_SET);
  char buffer[1 << 16];
  while (!stopping_) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file_);
    if (n == 0) break;
    std::string_view chunk(buffer, n);
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        partial_.append(chunk);
        break;
      }
      if (partial_.empty()) {
        handleLine(chunk.substr(0, nl), out);
      } else {
        partial_.append(chunk.substr(0, nl));
        handleLine(partial_, out);
        partial_.clear();
      }
      chunk.remove_prefix(nl + 1);
    }
  }
  // Only whole lines count as read: a partial last line is read again once it is complete.
  offset_ = std::ftell(file_) - static_cast<std::int64_t>(partial_.size());
  partial_.clear();
  std::clearerr(file_);
}

void FileInput::gather(Emitter& out) {
  stopping_ = false;
  if (!options_.tail && file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  openFile();
  if (!options_.tail) {
    offset_ = 0;
    line_number_ = 0;
  }
  if (!position_) {
    readNewLines(out);
  } else {
    // Every metric of this gather carries one delivery handle; when the last is stored, the
    // position after this gather is saved.
    auto reached = std::make_shared<std::pair<std::uint64_t, std::int64_t>>();
    auto delivery = std::make_shared<Delivery>(
        [position = position_, reached](bool) { position->save(reached->first, reached->second); });
    TrackingEmitter tracked(out, delivery);
    readNewLines(tracked);
    *reached = {inode_, offset_};
  }
  context_.setHealth(HealthState::kOk, "");
}

}  // namespace cvagent::inputs::file
