#pragma once
// A folder lorasum writes as the output of a run (an adapter, a model): never one of the run's
// inputs, held by one process at a time, and replaced as a whole or not at all, so that it can
// never pair new weights with an old config.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tensor/interrupt.h"
#include "tensor/io/folder_lock.h"

namespace ls {

// Whether `path` is `folder` or lies inside it, and whether two paths name one file or folder,
// after resolving ".", "..", a trailing "/" and symlinks.
bool is_within(const std::string& path, const std::string& folder);
bool same_path(const std::string& a, const std::string& b);

// Removes what killed lorasum processes left in the held folder and next to it: files and
// folders with lorasum's temporary names (.NAME.tmpDIGITS). Holding the lock means that no live
// lorasum process is writing them, but for the staging folder of a subfolder (a run folder's
// base model), whose writer holds the subfolder's lock: that one is removed only under it.
void remove_stale_temporaries(const FolderLock& held);
// Removes the staging folders `.X.tmpN` in `folder` whose writer is gone: each under the lock of
// its folder X, so that one a live process is filling stays (a run folder's seedN/ holds the
// job folders, and so their staging folders, each written by its own process).
void remove_stale_staging(const std::string& folder);

class OutputFolder {
 public:
  // Throws InputError naming `flag` and the folder when `dir` is, or contains, one of `inputs`
  // (files or folders, compared after resolving ".", ".." and symlinks); when it holds anything
  // but an earlier output of lorasum (replacing it removes what it holds); or when another process
  // holds it. Otherwise takes its lock for the object's lifetime and removes the temporaries a
  // killed lorasum process left in it and next to it. `interrupt_hint`: what the interrupt
  // message advises doing with what the folder keeps.
  OutputFolder(const std::string& dir, const std::vector<std::string>& inputs,
               const std::string& flag = "--out", const std::string& interrupt_hint = "");
  // A folder this object made that still holds nothing but the lock (the run failed before
  // writing anything) is removed again, so that a refused run leaves no trace.
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::string& dir() const { return lock_.dir(); }

  // Fills a new staging folder next to dir() through `write` (every file of the output), puts
  // it on disk, and swaps it for dir() in one atomic rename; the old contents are removed after
  // the swap. If `write` throws or the process is stopped before the swap, dir() is unchanged.
  void replace(const std::function<void(const std::string& staging)>& write);

 private:
  std::filesystem::path real_;  // dir() with symlinks resolved: the staging folder's sibling
  bool made_;                   // dir() did not exist before
  FolderLock lock_;
  KeptOnInterrupt kept_;
};

}  // namespace ls
