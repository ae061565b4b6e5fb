#pragma once
// Cleaning up after SIGINT and SIGTERM. A file or folder that is being written under a
// temporary name is tracked while it exists; when one of the two signals arrives, every tracked
// path is removed, one line on stderr says what was kept, and the process exits with the
// conventional status (130 for SIGINT, 143 for SIGTERM).
#include <functional>
#include <string>

namespace ls {

// Installs the signal handlers. The handler only wakes a cleanup thread (a handler may run no
// code that takes locks); that thread removes the tracked paths and ends the process. Call once,
// from main, before any output is written.
void install_interrupt_cleanup();

// A temporary path tracked for removal on interrupt from the moment it is made: `make` runs with
// the tracking lock held, so an interrupt sees the path either not yet made or made and tracked,
// never made and untracked. The destructor stops tracking; removing the path on an ordinary error
// stays the owner's job.
class TrackedTemporary {
 public:
  TrackedTemporary(std::string path, const std::function<void()>& make);
  ~TrackedTemporary();
  TrackedTemporary(const TrackedTemporary&) = delete;
  TrackedTemporary& operator=(const TrackedTemporary&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process that gets the same signal when this process is interrupted, and is waited
// for (it cleans up after itself) before this process exits; for as long as the object lives.
class ForwardedChild {
 public:
  explicit ForwardedChild(int pid);
  ~ForwardedChild();
  ForwardedChild(const ForwardedChild&) = delete;
  ForwardedChild& operator=(const ForwardedChild&) = delete;

 private:
  int pid_;
};

// An output folder named in the interrupt message ("kept in DIR: its files", then "(hint)" when
// it holds anything and a hint is given), for as long as the object lives.
class KeptOnInterrupt {
 public:
  explicit KeptOnInterrupt(std::string dir, const std::string& hint = "");
  ~KeptOnInterrupt();
  KeptOnInterrupt(const KeptOnInterrupt&) = delete;
  KeptOnInterrupt& operator=(const KeptOnInterrupt&) = delete;

 private:
  std::string dir_;
};

}  // namespace ls
