#include "tensor/interrupt.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

namespace ls {

namespace {

namespace fs = std::filesystem;

struct Registry {
  std::mutex mutex;
  std::set<std::string> temporaries;
  std::vector<std::pair<std::string, std::string>> kept;  // folder, what to do with it
  std::set<int> children;
};

// Never destroyed: the cleanup thread may still need it while static objects are torn down.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

// Runs `change` on the registry with its lock held.
template <typename Change>
void with_registry(Change change) {
  Registry& r = registry();
  std::lock_guard<std::mutex> hold(r.mutex);
  change(r);
}

int wake_fd = -1;  // write end of the pipe the cleanup thread waits on

void on_signal(int sig) {
  int saved = errno;
  unsigned char byte = static_cast<unsigned char>(sig);
  (void)!write(wake_fd, &byte, 1);
  errno = saved;
}

// The folder's visible entries, sorted: what the user finds there after the interrupt.
std::string listing(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error))
    if (std::string name = entry.path().filename().string(); name[0] != '.') names.push_back(name);
  std::sort(names.begin(), names.end());
  return names.empty() ? "nothing" : fmt::format("{}", fmt::join(names, ", "));
}

[[noreturn]] void clean_up_and_exit(int sig) {
  Registry& r = registry();
  r.mutex.lock();  // held until _exit, so that no new temporary is made after the sweep
  for (int pid : r.children) kill(pid, sig);
  for (int pid : r.children) waitpid(pid, nullptr, 0);
  for (const std::string& path : r.temporaries) {
    std::error_code error;
    fs::remove_all(path, error);
  }
  std::string message =
      fmt::format("lorasum: interrupted by {}; removed the files it had not finished",
                  sig == SIGINT ? "SIGINT" : "SIGTERM");
  for (const auto& [dir, hint] : r.kept) {
    std::string held = listing(dir);
    message += fmt::format("; kept in {}: {}", dir, held);
    if (held != "nothing" && !hint.empty()) message += " (" + hint + ")";
  }
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  _exit(128 + sig);
}

}  // namespace

void install_interrupt_cleanup() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  wake_fd = fds[1];
  std::thread([wait_fd = fds[0]] {
    unsigned char sig = 0;
    while (read(wait_fd, &sig, 1) != 1) {
    }  // only EINTR returns early
    clean_up_and_exit(sig);
  }).detach();
  struct sigaction action = {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

TrackedTemporary::TrackedTemporary(std::string path, const std::function<void()>& make)
    : path_(std::move(path)) {
  Registry& r = registry();
  std::lock_guard<std::mutex> hold(r.mutex);
  r.temporaries.insert(path_);
  try {
    make();
  } catch (...) {
    r.temporaries.erase(path_);
    throw;
  }
}

TrackedTemporary::~TrackedTemporary() {
  with_registry([&](Registry& r) { r.temporaries.erase(path_); });
}

KeptOnInterrupt::KeptOnInterrupt(std::string dir, const std::string& hint) : dir_(std::move(dir)) {
  with_registry([&](Registry& r) { r.kept.emplace_back(dir_, hint); });
}

KeptOnInterrupt::~KeptOnInterrupt() {
  with_registry([&](Registry& r) {
    r.kept.erase(std::find_if(r.kept.begin(), r.kept.end(),
                              [&](const auto& entry) { return entry.first == dir_; }));
  });
}

ForwardedChild::ForwardedChild(int pid) : pid_(pid) {
  with_registry([&](Registry& r) { r.children.insert(pid_); });
}

ForwardedChild::~ForwardedChild() {
  with_registry([&](Registry& r) { r.children.erase(pid_); });
}

}  // namespace ls
