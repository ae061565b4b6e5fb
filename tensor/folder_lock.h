#pragma once
// An exclusive lock on an output folder, so that two lorasum processes never write one folder
// at once. It is a kernel lock (flock) on `<dir>/.lorasum.lock`: the kernel drops it when the
// process ends, however it ends, so a killed process cannot leave the folder stuck.
#include <string>

namespace ls {

class FolderLock {
 public:
  // Creates `dir` if needed and takes its lock; throws InputError naming the folder (and the
  // holder's pid) when another process holds it.
  explicit FolderLock(const std::string& dir);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace ls
