#include "tensor/io/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "tensor/error.h"
#include "tensor/interrupt.h"

namespace ls {

namespace fs = std::filesystem;

namespace {

// Test hooks, environment variables that only the tests set. LORASUM_TEST_FAIL_WRITE=NAME
// makes creating a file named NAME fail as on a full disk; LORASUM_TEST_PAUSE_WRITE=NAME stops
// the process, saying so on stderr, once NAME is written but not yet renamed into place, so
// that a test can send a signal at exactly that point.
bool hook_names(const char* variable, const fs::path& target) {
  const char* name = std::getenv(variable);
  return name && target.filename() == name;
}

void pause_if_asked(const fs::path& target) {
  if (!hook_names("LORASUM_TEST_PAUSE_WRITE", target)) return;
  std::fprintf(stderr, "lorasum: test pause before renaming %s into place\n", target.c_str());
  std::fflush(stderr);
  for (;;) ::pause();  // the signal the test sends ends the process
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error("{}: cannot open file: {}", path, std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) input_error("{}: read error", path);
  return buffer.str();
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, std::vector<std::string_view>{bytes});
}

std::string temporary_path(const std::string& path) {
  fs::path target(path);
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::random_device entropy;
  return (dir / fmt::format(".{}.tmp{}", target.filename().string(), entropy())).string();
}

bool is_temporary_name(const std::string& name, const std::string& of) {
  static const std::regex form(R"(\.(.+)\.tmp[0-9]+)");
  std::smatch match;
  return std::regex_match(name, match, form) && (of.empty() || match[1] == of);
}

void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  fs::path target(path);
  std::string tmp = temporary_path(path);
  int fd = -1, open_errno = 0;
  TrackedTemporary tracked(tmp, [&] {
    if (hook_names("LORASUM_TEST_FAIL_WRITE", target)) {
      open_errno = ENOSPC;
      return;
    }
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    open_errno = errno;
  });
  if (fd < 0) input_error("{}: cannot create file: {}", tmp, std::strerror(open_errno));
  for (std::string_view piece : pieces) {
    const char* p = piece.data();
    size_t left = piece.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        input_error("{}: write failed: {}", path, std::strerror(err));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    input_error("{}: flush failed: {}", path, std::strerror(errno));
  }
  pause_if_asked(target);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    input_error("{}: cannot rename temporary file into place: {}", path, std::strerror(err));
  }
  // The rename itself is durable only once the folder's entry is on disk.
  sync_folder(target.has_parent_path() ? target.parent_path().string() : ".");
}

void sync_folder(const std::string& dir) {
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace ls
