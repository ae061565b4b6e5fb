#include "experiments/app/job_options.h"

#include <fmt/format.h>

#include "experiments/app/option_rows.h"

namespace ls {

namespace {

using namespace option_rows;

const char* kFormatHelp =
    "How to read the data: jsonl (one {\"question\": …, \"answer\": …} object per line), text "
    "(plain text cut into --seq-len windows) or auto: a *.jsonl file is jsonl; any other file is "
    "jsonl when its first non-blank line is a JSON object (a note on stderr says so), else text";

const char* data_format_name(DataFormat f) {
  return f == DataFormat::jsonl ? "jsonl" : f == DataFormat::text ? "text" : "auto";
}

DataFormat parse_data_format(const std::string& name) {
  return name == "jsonl"  ? DataFormat::jsonl
         : name == "text" ? DataFormat::text
                          : DataFormat::automatic;
}

}  // namespace

std::string pointer_of(const std::string& key) {
  std::string pointer = "/" + key;
  for (char& c : pointer)
    if (c == '.') c = '/';
  return pointer;
}

std::string option_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{}", value.get<double>());
  if (!value.is_array()) return value.dump();
  std::vector<std::string> items;
  for (const json& item : value) items.push_back(option_text(item));
  return fmt::format("{}", fmt::join(items, ","));
}

const OptionTable<TextFormat>& text_format_options() {
  using T = TextFormat;
  static const OptionTable<T> table = {
      choice<T>(
          "--format", "data_format", kFormatHelp, {"auto", "jsonl", "text"},
          [](auto& f) -> auto& { return f.data_format; }, data_format_name, parse_data_format),
      row<T>(
          "--question-field", "question_field", "JSONL question key", OptionKind::text,
          [](auto& f) -> auto& { return f.question_field; }),
      row<T>(
          "--answer-field", "answer_field", "JSONL answer key", OptionKind::text,
          [](auto& f) -> auto& { return f.answer_field; }),
      choice<T>(
          "--loss-on", "loss_on", "Count all tokens, or only the answer's (JSONL)",
          {"all", "answer"}, [](auto& f) -> auto& { return f.loss_on_answer_only; },
          [](bool answer) { return answer ? "answer" : "all"; },
          [](const std::string& name) { return name == "answer"; }),
  };
  return table;
}

}  // namespace ls
