#pragma once
// The options of the training jobs as one table each: a row is a flag, the job member it sets,
// its key in the settings record (settings.h), its help and its allowed values. The CLI flags
// (experiments/cli/option_flags.h), the settings record and the job's command line (for --plan)
// are all read off these tables, so an option added to a table reaches all three.
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "experiments/app/training.h"

namespace ls {

// How a flag's text reads as a value.
enum class OptionKind {
  integer,  // int64
  count,    // uint64 (seeds)
  real,     // float
  real64,   // double
  text,     // any string
  choice,   // one of JobOption::choices
  list,     // comma-separated strings, an array in the record
  tokens,   // a token count as parse_token_count reads it ("32M")
  on_off,   // a flag without a value: present is true
};

// The values a flag takes (checked by the CLI before the job sees them).
struct OptionCheck {
  double low = -std::numeric_limits<double>::infinity();
  double high = std::numeric_limits<double>::infinity();
  bool low_open = false;  // low itself is refused
  bool finite = false;    // NaN and infinity refused (implied by a limit)
  // Not "": 0 is refused, for this reason.
  const char* zero_means = "";
  const char* excludes = "";  // a flag that cannot go with this one
};

template <class Job>
struct JobOption {
  std::string flag;  // "--lr"
  std::string key;   // "train.lr" in the settings record; "" when it does not change the result
  std::string help;
  OptionKind kind = OptionKind::text;
  std::vector<std::string> choices;  // the names of a choice
  OptionCheck check;
  // The value as the record holds it (null: unset, no flag); and back into the job.
  std::function<nlohmann::json(const Job&)> get;
  std::function<void(Job&, const nlohmann::json&)> set;
};
template <class Job>
using OptionTable = std::vector<JobOption<Job>>;

// The data options: --format, --question-field, --answer-field, --loss-on.
const OptionTable<TextFormat>& text_format_options();
// Every option of a `lorasum train` job but its files (--model, --data, --eval-data, --out).
const OptionTable<LoraJob>& lora_job_options();
// Every option of a `lorasum pretrain` job but its files (--data, --out).
const OptionTable<PretrainJob>& pretrain_job_options();
// The jobs the CLI starts from: each option's default.
LoraJob default_lora_job();
PretrainJob default_pretrain_job();

// "/train/lr" for "train.lr".
std::string pointer_of(const std::string& key);
// A value as its flag takes it: strings as they are, numbers shortest, lists joined by commas.
std::string option_text(const nlohmann::json& value);

// The record's part for the table's options: each key's value, nested at its dots.
template <class Job>
nlohmann::json options_record(const OptionTable<Job>& table, const Job& job) {
  nlohmann::json record = nlohmann::json::object();
  for (const JobOption<Job>& o : table)
    if (!o.key.empty()) record[nlohmann::json::json_pointer(pointer_of(o.key))] = o.get(job);
  return record;
}

// The flags that give `job`, as words: every option with a value (a switch when on).
template <class Job>
std::vector<std::string> option_words(const OptionTable<Job>& table, const Job& job) {
  std::vector<std::string> words;
  for (const JobOption<Job>& o : table) {
    nlohmann::json value = o.get(job);
    if (value.is_null() || value == false || value == "") continue;
    words.push_back(o.flag);
    if (o.kind != OptionKind::on_off) words.push_back(option_text(value));
  }
  return words;
}

}  // namespace ls
