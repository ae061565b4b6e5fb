#include "experiments/study/parallel_jobs.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <system_error>
#include <thread>

#include "experiments/bench/bench.h"
#include "lora/lora.h"
#include "nn/optim.h"
#include "tensor/error.h"
#include "tensor/interrupt.h"
#include "tensor/io/file_io.h"
#include "tensor/io/progress.h"
#include "tensor/parallel.h"

namespace ls {

namespace {

// The child: dies with its parent (a SIGKILLed reproduce leaves no job running on), writes
// its output to the log, and becomes this program again with the job's arguments. Only
// async-signal-safe calls between fork and exec.
[[noreturn]] void become_job(const char* log, char* const* argv, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(143);
  int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(127);
  execv("/proc/self/exe", argv);
  _exit(127);
}

pid_t start(const ChildJob& job) {
  std::filesystem::create_directories(std::filesystem::path(job.log).parent_path());
  std::vector<std::string> words = {"lorasum"};
  words.insert(words.end(), job.args.begin(), job.args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) input_error("cannot start {}: {}", job.name, std::strerror(errno));
  if (pid == 0) become_job(job.log.c_str(), argv.data(), parent);
  return pid;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  return fmt::format("killed by signal {}", WTERMSIG(status));
}

// The last `count` lines of a log.
std::string log_tail(const std::string& path, size_t count) {
  if (!std::filesystem::exists(path)) return "(no log was written)\n";
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  size_t first = lines.size() > count ? lines.size() - count : 0;
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

struct Running {
  size_t index;
  std::unique_ptr<ForwardedChild> forwarded;
};

}  // namespace

void run_child_jobs(const std::vector<ChildJob>& jobs, int workers, bool progress) {
  ProgressBar bar(fmt::format("adapter jobs, {} at once", workers),
                  static_cast<int64_t>(jobs.size()), progress);
  std::map<pid_t, Running> running;
  size_t next = 0, done = 0;
  int failed_status = 0;
  const ChildJob* failed = nullptr;
  while (true) {
    while (!failed && next < jobs.size() && running.size() < static_cast<size_t>(workers)) {
      pid_t pid = start(jobs[next]);
      running[pid] = {next++, std::make_unique<ForwardedChild>(pid)};
    }
    if (running.empty()) break;
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0 && errno == EINTR) continue;
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "waitpid");
    auto found = running.find(pid);
    if (found == running.end()) continue;
    const ChildJob& job = jobs[found->second.index];
    running.erase(found);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (!failed) failed = &job, failed_status = status;
      continue;
    }
    bar.update(static_cast<int64_t>(++done), job.name);
  }
  if (failed)
    input_error("{} failed ({}); the end of its log, {}:\n{}", failed->name,
                exit_text(failed_status), failed->log, log_tail(failed->log, 12));
  bar.finish(fmt::format("{} jobs", done));
}

double step_seconds(const GPT2Config& config, const LoraConfig* lora, int64_t batch, int64_t seq,
                    int steps) {
  GPT2 model(config, 0);
  model.set_requires_grad(!lora);
  std::shared_ptr<LoraAdapter> adapter;
  if (lora) {
    adapter = LoraAdapter::create(model, *lora, 1);
    adapter->attach(model);
  }
  AdamW opt(lora ? adapter->parameters() : model.parameters(), {});
  model.set_training(true);
  auto ids = random_ids(batch * seq, config.vocab_size, 1);
  auto targets = random_ids(batch * seq, config.vocab_size, 2);
  auto step = [&] { train_step(model, opt, ids, targets, batch, seq); };
  return time_it("step", steps, step).median_ms / 1000.0;
}

WorkerChoice measure_job_workers(const GPT2Config& model, const LoraConfig& lora, int64_t batch,
                                 int64_t seq) {
  constexpr int kSteps = 9;
  constexpr double kSlowStep = 0.5;  // seconds; GPT-2 Small takes several
  int cores = num_threads();
  seq = std::min(seq, model.n_positions);
  if (cores < 2) return {};
  double together = step_seconds(model, &lora, batch, seq, kSteps);
  if (together > kSlowStep) return {};
  std::vector<double> each(cores);
  std::vector<std::thread> threads;
  for (int i = 0; i < cores; ++i)
    threads.emplace_back([&, i] {
      tbb::task_arena one_thread(1);
      one_thread.execute([&] { each[i] = step_seconds(model, &lora, batch, seq, kSteps); });
    });
  for (std::thread& t : threads) t.join();
  double rate = 0.0;  // steps per second of all the single-thread jobs together
  for (double s : each) rate += 1.0 / s;
  double speedup = rate * together;
  return {speedup > 1.1 ? cores : 1, speedup, true};
}

}  // namespace ls
