// `reproduce --plan --format shell|parallel|slurm`: the plan as a command a line, as a bash script
// that runs it through GNU parallel, or as a bash script that submits it to Slurm as dependent
// batch jobs. Every script ends with `reproduce --evaluate-only`, which evaluates what the jobs
// trained and trains nothing itself.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiments/study/plan.h"
#include "gpt2/training/data.h"
#include "tensor/error.h"

namespace ls {

namespace {

// Ends a here-document of commands; no command is a line of just this word.
constexpr const char* kEnd = "LORASUM_END";

// What each stage is, as both scripts say it above its commands.
constexpr const char* kPretrainStage = "The base model, which every adapter job trains on.";
constexpr const char* kEvaluateStage =
    "The evaluation: every job is done, so reproduce trains nothing (with\n# --evaluate-only it "
    "names a job that is not done instead of training it).";

std::string job_count(size_t n) { return fmt::format("{} adapter job{}", n, n == 1 ? "" : "s"); }

// Numbers the stages a script has (no pretraining when the base model is there).
class Stages {
 public:
  std::string next(const std::string& what) { return fmt::format("\n# {}. {}\n", ++count_, what); }

 private:
  int count_ = 0;
};

// The plan's estimate line; a plan with nothing to train says so, rather than nothing at all.
std::string estimate_line(const Plan& plan) {
  return plan.estimate ? plan.estimate->line() + "\n"
                       : "# every job is finished: nothing to train\n# estimated total: 0 s on "
                         "this machine\n";
}

// The comment that opens both scripts: what they are, how to run them, the plan's estimate.
std::string script_head(const Plan& plan, const std::string& usage) {
  return "#!/usr/bin/env bash\n# lorasum reproduce, stage by stage: the base model (unless it "
         "is there), the\n# adapter jobs, the evaluation.\n" +
         usage + estimate_line(plan) + "set -euo pipefail\n";
}

// The note on the folder the plan was made in: the relative paths of its commands start there.
constexpr const char* kWorkdirNote = "  # where the plan was made: the paths below start there\n";

// --- shell: a command a line, pretraining first, then the estimate.

std::string shell_text(const Plan& plan) {
  std::string text;
  if (plan.pretrain) text += *plan.pretrain + "\n";
  for (const std::string& job : plan.jobs) text += job + "\n";
  return text + estimate_line(plan);
}

// --- parallel: the stages in order, the adapter jobs through GNU parallel.

std::string parallel_script(const Plan& plan) {
  for (const std::string& job : plan.jobs)
    if (job.find('\n') != std::string::npos)
      input_error(
          "a job's paths hold a line break, so it cannot be one line of GNU parallel's "
          "input; use --format shell or slurm, or other paths:\n{}",
          job);
  std::string s = script_head(
      plan, fmt::format("# Run it with bash, e.g. `JOBS=4 bash plan.sh`. JOBS: adapter jobs at "
                        "once (default {}, as\n# reproduce would run them on the machine that "
                        "made the plan); THREADS: threads of each\n# (default: the cores over "
                        "JOBS). The results are the same bits for any JOBS and THREADS.\n",
                        plan.workers));
  std::string logs = shell_quoted(plan.run_dir + "/logs");
  s += "cd " + shell_quoted(plan.workdir) + kWorkdirNote;
  s += fmt::format("JOBS=${{JOBS:-{}}}\n", plan.workers);
  s += "THREADS=${THREADS:-$(( JOBS < $(nproc) ? $(nproc) / JOBS : 1 ))}\n";
  s += "mkdir -p " + logs + "\n";
  Stages stages;
  if (plan.pretrain) s += stages.next(kPretrainStage) + *plan.pretrain + "\n";
  if (!plan.jobs.empty()) {
    s += stages.next(fmt::format(
        "The {}, JOBS at once: one a line, each run with --threads appended.\n# The first "
        "failure stops the others (they keep their checkpoints); the joblog lists each.",
        job_count(plan.jobs.size())));
    s += fmt::format(
        "parallel --halt now,fail=1 -j \"$JOBS\" --joblog {}/parallel.joblog "
        "eval {{}} --threads \"$THREADS\" <<'{}'\n",
        logs, kEnd);
    for (const std::string& job : plan.jobs) s += job + "\n";
    s += std::string(kEnd) + "\n";
  }
  return s + stages.next(kEvaluateStage) + plan.evaluate + "\n";
}

// --- slurm: one batch job per stage, each starting once the one before succeeded (the
// evaluation once it ended).

// A Slurm time limit for a stage estimated at `seconds` here: three times that, at least 10
// minutes, in whole minutes ("D-HH:MM:SS").
std::string slurm_time(double seconds) {
  auto minutes = static_cast<int64_t>(std::ceil(std::max(3.0 * seconds, 600.0) / 60.0));
  int64_t days = minutes / (24 * 60), hours = minutes / 60 % 24;
  std::string hms = fmt::format("{:02}:{:02}:00", hours, minutes % 60);
  return days > 0 ? fmt::format("{}-{}", days, hms) : hms;
}

// The editable resources of one stage: <STAGE>_CPUS, _MEM, _TIME.
std::string stage_resources(const std::string& stage, int cpus, const std::string& time) {
  return fmt::format("{0}_CPUS={1}\n{0}_MEM=8G\n{0}_TIME={2}\n", stage, cpus, time);
}

// The submitting part of a Slurm script, stage by stage: each stage's batch script goes to
// sbatch in a here-document, its id to a variable, and it starts once the stage before ended:
// well (afterok; for an array, every task), or in any way for the evaluation (`after` afterany),
// which then names the job that failed rather than waiting forever for it.
class SlurmStages {
 public:
  // `id`: the variable for the job id (also the job's name); `stage`: the prefix of its
  // resource variables; `options`: more sbatch options; `body`: the batch script's commands.
  std::string submit(const std::string& id, const std::string& stage, const std::string& options,
                     const std::string& body, const char* after_kind = "afterok") {
    std::string after =
        last_.empty() ? "" : fmt::format(" --dependency={}:\"${}\"", after_kind, last_);
    std::string text = fmt::format(
        "{0}=$(submit --job-name=lorasum-{0}{1} {2} \\\n"
        "    --cpus-per-task=\"${3}_CPUS\" --mem=\"${3}_MEM\" --time=\"${3}_TIME\" <<'{4}'\n"
        "#!/usr/bin/env bash\nset -euo pipefail\n{5}{4}\n)\n",
        id, after, options, stage, kEnd, body);
    last_ = id;
    ids_ += fmt::format(" {0} ${0}", id);
    return text;
  }
  // The script's last line: the ids it submitted.
  std::string report() const { return "echo \"submitted:" + ids_ + "\"\n"; }

 private:
  std::string last_, ids_;
};

std::string slurm_script(const Plan& plan) {
  size_t n = plan.jobs.size();
  std::string s = script_head(
      plan,
      "# Submit it with `bash plan.sh` where sbatch runs; each stage starts once the one "
      "before\n# succeeded, the evaluation once the jobs ended: it names a job that failed. To "
      "recover,\n# make the plan again and submit it: it lists only the unfinished jobs. "
      "Partition and\n# account come from sbatch's environment (SBATCH_PARTITION, "
      "SBATCH_ACCOUNT).\n");
  const PlanEstimate none;
  const PlanEstimate& e = plan.estimate ? *plan.estimate : none;
  double longest_job =
      e.job_seconds.empty() ? 0.0 : *std::max_element(e.job_seconds.begin(), e.job_seconds.end());
  s += fmt::format(
      "\n# Resources of each stage: edit to fit the cluster. Time limits: three times the "
      "estimate\n# on the {} cores of the machine that made the plan, at least 10 minutes; the "
      "evaluation's\n# is a guess. Logs go to $LOGS.\n",
      plan.cores);
  if (plan.pretrain) s += stage_resources("PRETRAIN", plan.cores, slurm_time(e.pretrain_seconds));
  if (n > 0)
    s += stage_resources("JOB", plan.cores, slurm_time(longest_job)) +
         "JOB_TASKS=1  # ranks of each adapter job: above 1, srun runs it data-parallel (MPI)\n";
  s += stage_resources("EVAL", plan.cores, "01:00:00");
  s += "WORKDIR=" + shell_quoted(plan.workdir) + kWorkdirNote;
  s += "LOGS=" + shell_quoted(plan.run_dir + "/logs/slurm") + "\n";
  s += "\ncd \"$WORKDIR\"\nmkdir -p \"$LOGS\"\n";
  s += "\n# sbatch with the batch script on stdin; prints the new job's id (without "
       "\";cluster\").\nsubmit() {\n  local id\n  id=$(sbatch --parsable "
       "--chdir=\"$WORKDIR\" \"$@\")\n  echo \"${id%%;*}\"\n}\n";
  std::string threads = "--threads \"${SLURM_CPUS_PER_TASK:-0}\"";
  Stages stages;
  SlurmStages slurm;
  if (plan.pretrain)
    s += stages.next(kPretrainStage) + slurm.submit("pretrain", "PRETRAIN",
                                                    "--output=\"$LOGS/pretrain-%j.log\"",
                                                    *plan.pretrain + " " + threads + "\n");
  if (n > 0) {
    std::string list;
    for (const std::string& job : plan.jobs) list += "  " + shell_quoted(job) + "\n";
    s += stages.next(fmt::format(
        "The {}, an array task each: task i runs the i-th command, over\n# JOB_TASKS MPI ranks "
        "of JOB_CPUS threads each when JOB_TASKS > 1.",
        job_count(n)));
    s += slurm.submit(
        "adapters", "JOB",
        // A failed pretraining cancels the array, rather than leaving it pending forever.
        fmt::format("--array=0-{} --ntasks=\"$JOB_TASKS\" --kill-on-invalid-dep=yes "
                    "--output=\"$LOGS/adapter-%A_%a.log\"",
                    n - 1),
        "jobs=(\n" + list +
            ")\nlaunch=\"\"\n[ \"${SLURM_NTASKS:-1}\" -gt 1 ] && launch=\"srun \"\n" +
            "eval \"$launch${jobs[$SLURM_ARRAY_TASK_ID]}\" " + threads + "\n");
  }
  s += stages.next(kEvaluateStage) + slurm.submit("evaluate", "EVAL",
                                                  "--output=\"$LOGS/evaluate-%j.log\"",
                                                  plan.evaluate + "\n", "afterany");
  return s + slurm.report();
}

}  // namespace

PlanFormat parse_plan_format(const std::string& name) {
  if (name == "shell") return PlanFormat::shell;
  if (name == "parallel") return PlanFormat::parallel;
  if (name == "slurm") return PlanFormat::slurm;
  input_error("--format {}: expected shell, parallel or slurm", name);
}

std::string evaluate_command(const ReproduceOptions& o, const std::string& run_dir) {
  const ReproduceOptions defaults;
  std::vector<std::string> words = {o.binary, "reproduce", "--preset", o.preset,
                                    "--out",  run_dir,     "--seeds",  std::to_string(o.seeds)};
  auto add = [&words](bool given, const char* flag, const std::string& value = "") {
    if (!given) return;
    words.push_back(flag);
    if (!value.empty()) words.push_back(value);
  };
  add(!o.model_dir.empty(), "--model", o.model_dir);
  add(!o.data_dir.empty(), "--data", o.data_dir);
  add(!o.general.empty(), "--general", o.general);
  add(o.hparams != defaults.hparams, "--hparams", o.hparams);
  add(o.lr > 0.0f, "--lr", fmt::format("{}", o.lr));
  add(!o.choices.empty(), "--study-choices", o.choices.label());
  add(o.batching != defaults.batching, "--batching", batching_name(o.batching));
  add(o.ablation, "--ablation");
  add(!o.only.empty(), "--only", o.only);
  add(o.max_steps > 0, "--max-steps", std::to_string(o.max_steps));
  add(o.eval_limit > 0, "--eval-limit", std::to_string(o.eval_limit));
  add(o.precision != defaults.precision, "--precision", precision_name(o.precision));
  add(!o.progress, "--no-progress");
  // Not --jobs (nothing trains) nor --force (it would redo what the jobs just did). A flag
  // that changes the jobs, were it missed here, would give other folder digests, so
  // --evaluate-only would refuse rather than evaluate other jobs.
  words.push_back("--evaluate-only");
  return shell_command(words);
}

std::string plan_text(const Plan& plan, PlanFormat format) {
  switch (format) {
    case PlanFormat::shell:
      return shell_text(plan);
    case PlanFormat::parallel:
      return parallel_script(plan);
    case PlanFormat::slurm:
      return slurm_script(plan);
  }
  return "";
}

}  // namespace ls
