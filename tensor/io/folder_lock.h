#pragma once
// An exclusive lock on an output folder, so that two lorasum processes never write one folder
// at once. It is a kernel lock (flock) on `<dir>/.lorasum.lock`: the kernel drops it when the
// process ends, however it ends, so a killed process cannot leave the folder stuck.
#include <string>

namespace ls {

class FolderLock {
 public:
  static constexpr const char* kFileName = ".lorasum.lock";

  // Creates `dir` if needed and takes its lock; throws InputError naming the folder (and the
  // holder's pid) when another process holds it.
  explicit FolderLock(const std::string& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  const std::string& dir() const { return dir_; }
  // The lock file, `<dir>/.lorasum.lock`. A folder swapped in for `dir` keeps the lock held by
  // carrying a hard link to this very file (see OutputFolder::replace).
  const std::string& file() const { return file_; }

 private:
  std::string dir_, file_;
  int fd_ = -1;
};

}  // namespace ls
