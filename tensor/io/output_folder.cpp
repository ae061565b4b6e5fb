#include "tensor/io/output_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tensor/error.h"
#include "tensor/io/file_io.h"

namespace ls {

namespace fs = std::filesystem;

namespace {

// `path` absolute, with ".", ".." and the symlinks of its existing part resolved.
fs::path resolved(const std::string& path) {
  fs::path p = fs::weakly_canonical(fs::absolute(path));
  return p.filename().empty() ? p.parent_path() : p;  // "a/b/" names the folder b
}

bool contains(const fs::path& folder, const fs::path& path) {
  return std::mismatch(folder.begin(), folder.end(), path.begin(), path.end()).first ==
         folder.end();
}

// An output written into one of its own inputs would destroy that input when swapped in.
void require_apart(const std::string& dir, const std::vector<std::string>& inputs,
                   const std::string& flag) {
  for (const std::string& input : inputs)
    if (is_within(input, dir))
      input_error("{} {} is, or contains, the input {}; write the output to another folder", flag,
                  dir, input);
}

// Replacing a folder removes what it holds, so only a new or empty folder or an earlier output
// of lorasum (its lock file and no subfolders) may be replaced.
void require_replaceable(const std::string& dir, const std::string& flag) {
  if (!fs::exists(dir)) return;
  if (!fs::is_directory(dir)) input_error("{} {} is a file, not a folder", flag, dir);
  bool ours = fs::exists(fs::path(dir) / FolderLock::kFileName);
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    bool folder = fs::is_directory(entry.symlink_status());
    std::string held = folder ? "the folder " + name : name + " and no " + FolderLock::kFileName;
    if (folder || !ours)
      input_error(
          "{} {} is not a folder lorasum wrote (it holds {}); lorasum replaces its "
          "output folder as a whole, so name a new or empty folder",
          flag, dir, held);
  }
}

const std::string& checked(const std::string& dir, const std::vector<std::string>& inputs,
                           const std::string& flag) {
  require_apart(dir, inputs, flag);
  require_replaceable(dir, flag);
  return dir;
}

// Temporaries named like lorasum's own (of `of`, when given) in `folder`.
void remove_temporaries(const fs::path& folder, const std::string& of = "") {
  for (const fs::directory_entry& entry : fs::directory_iterator(folder))
    if (is_temporary_name(entry.path().filename().string(), of)) fs::remove_all(entry.path());
}

// Removes `staging`, a staging folder of the folder `dir`, under dir's lock; leaves it while
// another process holds that lock (a folder without a lock file is nobody's).
void remove_unless_locked(const fs::path& staging, const fs::path& dir) {
  int fd = ::open((dir / FolderLock::kFileName).c_str(), O_RDONLY | O_CLOEXEC);
  bool held_elsewhere = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0;
  std::error_code error;
  if (!held_elsewhere) fs::remove_all(staging, error);
  if (fd >= 0) ::close(fd);  // and with it the lock
  if (error) throw fs::filesystem_error("cannot remove a stale temporary", staging, error);
}

// The temporaries in a held folder, but for the staging folder `.X.tmpN` of a subfolder X that
// another process is writing: that one belongs to X's writer, who holds X's lock, not this
// folder's (a run folder holds job folders, each written by its own process). It is removed
// only under X's lock.
void remove_own_temporaries(const fs::path& folder) {
  for (const fs::directory_entry& entry : fs::directory_iterator(folder))
    if (!entry.is_directory() && is_temporary_name(entry.path().filename().string()))
      fs::remove(entry.path());
  remove_stale_staging(folder.string());
}

// Exchanges the two folders in one atomic rename. A file system without RENAME_EXCHANGE gets
// two renames: never a mix of old and new files, though `dir` is briefly absent.
void swap_in(const std::string& staging, const fs::path& dir) {
  if (renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) return;
  if (errno != EINVAL && errno != ENOSYS)
    input_error("{}: cannot swap the new contents into place: {}", dir.string(),
                std::strerror(errno));
  std::string old = temporary_path(dir.string());
  fs::rename(dir, old);
  fs::rename(staging, dir);
  fs::rename(old, staging);  // removed with the staging folder
}

}  // namespace

bool is_within(const std::string& path, const std::string& folder) {
  return contains(resolved(folder), resolved(path));
}

bool same_path(const std::string& a, const std::string& b) { return resolved(a) == resolved(b); }

void remove_stale_staging(const std::string& folder) {
  for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !is_temporary_name(name)) continue;
    std::string of = name.substr(1, name.rfind(".tmp") - 1);  // .X.tmpN → X
    remove_unless_locked(entry.path(), fs::path(folder) / of);
  }
}

void remove_stale_temporaries(const FolderLock& held) {
  fs::path dir = resolved(held.dir());
  remove_own_temporaries(dir);
  remove_temporaries(dir.parent_path(), dir.filename().string());
}

OutputFolder::OutputFolder(const std::string& dir, const std::vector<std::string>& inputs,
                           const std::string& flag, const std::string& interrupt_hint)
    : real_(resolved(checked(dir, inputs, flag))),
      made_(!fs::exists(real_)),
      lock_(dir),
      kept_(dir, interrupt_hint) {
  remove_stale_temporaries(lock_);
}

OutputFolder::~OutputFolder() {
  std::error_code error;
  fs::directory_iterator first(real_, error), end;
  bool only_lock = !error && first != end && first->path().filename() == FolderLock::kFileName &&
                   std::next(first) == end;
  if (made_ && only_lock) {
    fs::remove(lock_.file(), error);
    fs::remove(real_, error);
  }
}

void OutputFolder::replace(const std::function<void(const std::string& staging)>& write) {
  std::string path = temporary_path(real_.string());
  TrackedTemporary staging(path, [&] { fs::create_directory(path); });
  try {
    write(path);
    // A hard link to the held lock file keeps the folder locked, for every process, across
    // the swap.
    fs::create_hard_link(lock_.file(), fs::path(path) / FolderLock::kFileName);
    sync_folder(path);
    swap_in(path, real_);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(path, ignored);
    throw;
  }
  sync_folder(real_.parent_path().string());
  std::error_code ignored;  // the old contents; a leftover is removed by the next run
  fs::remove_all(path, ignored);
}

}  // namespace ls
