#include "tensor/io/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "tensor/error.h"

namespace ls {

namespace {

// The pid the holder wrote into the lock file, for the message ("" when unreadable).
std::string holder_pid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

FolderLock::FolderLock(const std::string& dir) : dir_(dir), file_(dir + "/" + kFileName) {
  std::filesystem::create_directories(dir);
  fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) input_error("{}: cannot open the folder lock: {}", file_, std::strerror(errno));
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    std::string pid = holder_pid(fd_);
    ::close(fd_);
    fd_ = -1;
    input_error("{} is in use by another lorasum process{}; wait for it to finish or stop it", dir,
                pid.empty() ? "" : " (pid " + pid + ")");
  }
  std::string me = std::to_string(getpid());
  // The pid is only for other processes' messages; the lock holds whether or not it is written.
  if (ftruncate(fd_, 0) == 0) (void)!pwrite(fd_, me.data(), me.size(), 0);
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace ls
