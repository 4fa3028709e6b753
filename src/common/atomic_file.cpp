#include "cltci/common/atomic_file.h"

#include "cltci/common/error.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace cltci::common {
namespace fs = std::filesystem;
namespace {

void fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return;  // best effort: some filesystems refuse to open directories
  ::fsync(fd);
  ::close(fd);
}

fs::path temporary_name(const fs::path& path) {
  // pid + counter: concurrent writers of the same file (two processes of a sweep) never collide.
  static std::atomic<unsigned> counter{0};
  return path.parent_path() / ("." + path.filename().string() + ".tmp." +
                               std::to_string(::getpid()) + "." + std::to_string(counter++));
}

bool out_of_space(int error) { return error == ENOSPC || error == EFBIG || error == EDQUOT; }

// One line naming the target (the temporary is an implementation detail the user never sees).
Error write_error(const fs::path& path, int error) {
  if (out_of_space(error)) {
    return Error("no space left while writing " + path.string() + " (" + std::strerror(error) +
                 "); the previous file, if any, is unchanged");
  }
  return Error("cannot write " + path.string() + ": " + std::strerror(error));
}

}  // namespace

void write_file_atomic(const fs::path& path,
                       const std::function<void(const fs::path& temporary)>& writer) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw Error("cannot create directory " + parent.string() + ": " + ec.message());
  const fs::path temporary = temporary_name(path.has_parent_path() ? path : fs::path(".") / path);
  try {
    writer(temporary);
    fsync_path(temporary, false);
    fs::rename(temporary, path);
  } catch (const Error&) {
    fs::remove(temporary, ec);
    throw;
  } catch (const std::exception& e) {
    // Writers such as torch's archive throw their own types (c10::Error with a stack trace):
    // one line of ours instead, so that the caller's exit path is that of a runtime failure.
    fs::remove(temporary, ec);
    throw Error("cannot write " + path.string() + ": " + e.what());
  } catch (...) {
    fs::remove(temporary, ec);
    throw;
  }
  fsync_path(parent, true);
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  // Plain write(2) rather than a stream: every failure comes back here with its errno (ENOSPC,
  // EFBIG past RLIMIT_FSIZE with SIGXFSZ ignored, EDQUOT), and nothing is left to flush in a
  // destructor, where an error could only terminate the process.
  write_file_atomic(path, [&](const fs::path& temporary) {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) throw write_error(path, errno);
    std::size_t done = 0;
    while (done < contents.size()) {
      const std::size_t chunk = std::min<std::size_t>(contents.size() - done, std::size_t{1} << 30);
      const ssize_t written = ::write(fd, contents.data() + done, chunk);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        const int error = written < 0 ? errno : ENOSPC;  // 0 bytes written: the device is full
        ::close(fd);
        throw write_error(path, error);
      }
      done += static_cast<std::size_t>(written);
    }
    // Delayed allocation (NFS, some ext4 setups) reports a full disk only here.
    if (::fsync(fd) != 0) {
      const int error = errno;
      ::close(fd);
      throw write_error(path, error);
    }
    if (::close(fd) != 0) throw write_error(path, errno);
  });
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw InputError(path.string() + ": read error");
  return buffer.str();
}

}  // namespace cltci::common
