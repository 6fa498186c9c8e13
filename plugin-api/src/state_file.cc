#include "cvagent/state_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace cvagent {

namespace {

[[noreturn]] void fail(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// Closes on scope exit; the explicit close() reports the error that a deferred write may carry.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string directoryOf(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? "." : dir.string();
}

}  // namespace

std::optional<std::string> StateFile::load() const {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(errno, "cannot open state file " + path_);
  }
  std::string contents;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno, "cannot read state file " + path_);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<std::size_t>(n));
  }
  return contents;
}

void StateFile::save(std::string_view contents) {
  // A temporary file of its own per save: two savers of one file (an input and the instance that
  // replaced it on reload) never write into each other's; the last rename wins.
  std::string tmp = path_ + ".tmp.XXXXXX";
  {
    Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
    if (fd.get() < 0) fail(errno, "cannot create " + tmp);
    std::size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int error = errno;
        ::unlink(tmp.c_str());
        fail(error, "cannot write " + tmp);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || fd.close() != 0) {
      const int error = errno;
      ::unlink(tmp.c_str());
      fail(error, "cannot sync " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail(error, "cannot rename " + tmp + " to " + path_);
  }
  // The rename is durable only once the directory entry is.
  const std::string dir = directoryOf(path_);
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) fail(errno, "cannot open directory " + dir + " to sync " + path_);
  if (::fsync(dir_fd.get()) != 0) fail(errno, "cannot sync directory " + dir + " for " + path_);
}

void StateFile::remove() {
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) fail(errno, "cannot remove " + path_);
}

}  // namespace cvagent
