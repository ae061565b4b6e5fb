#pragma once
// The flags of an option table (experiments/app/job_options.h), each setting its row's member
// of one job, with the row's help, checks and the job's starting value as the default shown.
#include <CLI/CLI.hpp>

#include "experiments/app/comma_list.h"
#include "experiments/app/job_options.h"
#include "experiments/app/pretrain_dose.h"
#include "experiments/cli/checks.h"

namespace ls::cli {

namespace detail {

inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& item : comma_items(text))
    if (!item.empty()) out.push_back(item);
  return out;
}

// An option read as T (CLI11 refuses text that is not a T), handed to the row as `convert` says.
template <class T, class Job, class Convert>
CLI::Option* typed(CLI::App* cmd, const JobOption<Job>& o, Job& job, Convert convert) {
  // The last of a repeated flag counts: a flag added to a --plan command line overrides it.
  return cmd
      ->add_option_function<T>(
          o.flag, [&o, &job, convert](const T& v) { o.set(job, convert(v)); }, o.help)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

template <class Job>
CLI::Option* add_one(CLI::App* cmd, const JobOption<Job>& o, Job& job) {
  auto plain = [](const auto& v) { return nlohmann::json(v); };
  switch (o.kind) {
    case OptionKind::integer:
      return typed<int64_t>(cmd, o, job, plain);
    case OptionKind::count:
      return typed<uint64_t>(cmd, o, job, plain);
    case OptionKind::real:
      return typed<float>(cmd, o, job, plain);
    case OptionKind::real64:
      return typed<double>(cmd, o, job, plain);
    case OptionKind::list:
      return typed<std::string>(
          cmd, o, job, [](const std::string& v) { return nlohmann::json(split_commas(v)); });
    case OptionKind::tokens:
      return typed<std::string>(cmd, o, job, [&o](const std::string& v) {
        return nlohmann::json(parse_token_count(v, o.flag));
      });
    case OptionKind::on_off:
      return cmd->add_flag_callback(
          o.flag, [&o, &job] { o.set(job, true); }, o.help);
    default:
      return typed<std::string>(cmd, o, job, plain);
  }
}

inline void add_checks(CLI::App* cmd, CLI::Option* opt, const OptionCheck& c,
                       const std::vector<std::string>& choices) {
  if (!std::isinf(c.low) || !std::isinf(c.high))
    opt->check(in_range(c.low, c.high, c.low_open));
  else if (c.finite)
    opt->check(kFinite);
  if (*c.zero_means) opt->check(nonzero(c.zero_means));
  if (!choices.empty()) opt->check(CLI::IsMember(choices));
  if (*c.excludes) opt->excludes(cmd->get_option(c.excludes));
}

}  // namespace detail

// A flag for each row of `table`, setting `job` (which must outlive the parse); the rows' values
// in `job` as it is now are the defaults the help shows.
template <class Job>
void add_option_flags(CLI::App* cmd, const OptionTable<Job>& table, Job& job) {
  for (const JobOption<Job>& o : table) {
    CLI::Option* opt = detail::add_one(cmd, o, job);
    nlohmann::json value = o.get(job);
    if (o.kind != OptionKind::on_off && !value.is_null()) opt->default_str(option_text(value));
    detail::add_checks(cmd, opt, o.check, o.choices);
  }
}

}  // namespace ls::cli
