#include "experiments/cli/data_flags.h"

#include <map>

namespace ls::cli {

namespace {

const char* kFormatHelp =
    "How to read the data: jsonl (one {\"question\": …, \"answer\": …} object per line), text "
    "(plain text cut into --seq-len windows) or auto: a *.jsonl file is jsonl; any other file is "
    "jsonl when its first non-blank line is a JSON object (a note on stderr says so), else text";

}  // namespace

TextFormat DataFlags::resolved() const {
  const std::map<std::string, DataFormat> formats = {
      {"auto", DataFormat::automatic}, {"jsonl", DataFormat::jsonl}, {"text", DataFormat::text}};
  TextFormat f = format;
  f.data_format = formats.at(data_format);
  f.loss_on_answer_only = loss_on == "answer";
  return f;
}

void add_data_flags(CLI::App* cmd, DataFlags& flags) {
  cmd->add_option("--format", flags.data_format, kFormatHelp)
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "jsonl", "text"}));
  cmd->add_option("--question-field", flags.format.question_field, "JSONL question key")
      ->capture_default_str();
  cmd->add_option("--answer-field", flags.format.answer_field, "JSONL answer key")
      ->capture_default_str();
  cmd->add_option("--loss-on", flags.loss_on, "Count all tokens, or only the answer's (JSONL)")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "answer"}));
}

}  // namespace ls::cli
