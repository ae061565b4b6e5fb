#pragma once
// The makers of the option tables' rows (job_options.h), for the files that define tables.
#include <type_traits>

#include "experiments/app/job_options.h"
#include "experiments/app/settings.h"

namespace ls::option_rows {

using nlohmann::json;

// A row for a plain member, reached by `field` (a generic lambda: const or not, as the job).
template <class Job, class Field>
JobOption<Job> row(const char* flag, const char* key, const char* help, OptionKind kind,
                   Field field, OptionCheck check = {}) {
  JobOption<Job> o{flag, key, help, kind, {}, check, nullptr, nullptr};
  o.get = [field](const Job& j) -> json {
    const auto& value = field(j);
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, float>)
      return decimal(value);  // 0.1 as the flag gave it, not 0.10000000149011612
    else
      return value;
  };
  o.set = [field](Job& j, const json& v) { field(j) = v.get<std::decay_t<decltype(field(j))>>(); };
  return o;
}

// A row for an enum member, by the names `name_of` gives and `parse` reads.
template <class Job, class Field, class Name, class Parse>
JobOption<Job> choice(const char* flag, const char* key, const char* help,
                      std::vector<std::string> names, Field field, Name name_of, Parse parse) {
  JobOption<Job> o{flag, key, help, OptionKind::choice, std::move(names), {}, nullptr, nullptr};
  o.get = [field, name_of](const Job& j) -> json { return name_of(field(j)); };
  o.set = [field, parse](Job& j, const json& v) { field(j) = parse(v.get<std::string>()); };
  return o;
}

// The rows of `inner`, for the part of an Outer job that `part` reaches, keys under `prefix`.
template <class Outer, class Inner, class Part>
void append_nested(OptionTable<Outer>& out, const OptionTable<Inner>& inner,
                   const std::string& prefix, Part part) {
  for (const JobOption<Inner>& o : inner) {
    JobOption<Outer> n{
        o.flag, o.key.empty() ? "" : prefix + o.key, o.help, o.kind, o.choices, o.check, nullptr,
        nullptr};
    n.get = [get = o.get, part](const Outer& j) { return get(part(j)); };
    n.set = [set = o.set, part](Outer& j, const json& v) { set(part(j), v); };
    out.push_back(std::move(n));
  }
}

constexpr double kInf = std::numeric_limits<double>::infinity();
inline const OptionCheck kPositive{0, kInf, true};
inline const OptionCheck kAtLeast0{0, kInf};
inline const OptionCheck kAtLeast1{1, kInf};

}  // namespace ls::option_rows
