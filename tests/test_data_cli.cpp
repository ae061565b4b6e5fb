// How eval and train read data files: the format is decided from the content or by --format,
// never from the name alone, and examples that lose tokens to the context are reported.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "gpt2/bpe/tokenizer.h"
#include "tensor/io/file_io.h"
#include "tests/cli_expect.h"
#include "tests/tiny_setup.h"

using namespace ls;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;
using test::expect_refused;

namespace {

std::string q(const std::string& s) { return test::quoted(s); }

struct Eval {
  test::CliResult run;
  nlohmann::json result;  // {"perplexity", "tokens", "mean_nll"} when it succeeded
};

Eval eval(const test::TinySetup& s, const std::string& file, const std::string& extra = "") {
  Eval e{test::run_lorasum("eval --json --model " + q(s.model()) + " --data " + q(file) + extra),
         nullptr};
  INFO("eval " << file << extra << "\nstderr: " << e.run.err);
  REQUIRE(e.run.status == 0);
  e.result = nlohmann::json::parse(e.run.out);
  return e;
}

// Counted tokens of QA examples with every token counted: the whole formatted example
// "Question: q\nAnswer: a<|endoftext|>" less its first token, which nothing predicts.
int64_t qa_tokens(const Tokenizer& tok,
                  const std::vector<std::pair<std::string, std::string>>& qa) {
  int64_t n = 0;
  for (const auto& [question, answer] : qa)
    n += tok.encode("Question: " + question + "\nAnswer:").size() + tok.encode(" " + answer).size();
  return n;  // + 1 for <|endoftext|>, - 1 for the first token, per example
}

}  // namespace

TEST_CASE("a QA file is read as QA whatever its name, --format text reads it as text",
          "[cli][data]") {
  test::TinySetup s("data_format");
  Tokenizer tok = Tokenizer::load(s.model());
  std::string qa =
      "{\"question\": \"What is 1 plus 2?\", \"answer\": \"3\"}\n"
      "\n"
      "{\"question\": \"What is 4 plus 5?\", \"answer\": \"9\"}\n";
  int64_t expected = qa_tokens(tok, {{"What is 1 plus 2?", "3"}, {"What is 4 plus 5?", "9"}});
  std::string json_name = s.write("qa.json", qa), upper = s.write("QA.JSONL", qa);

  Eval by_name = eval(s, upper);
  CHECK(by_name.result["tokens"] == expected);
  CHECK(by_name.run.err.empty());  // the name and the content agree: nothing to say

  Eval by_content = eval(s, json_name);
  CHECK(by_content.result["tokens"] == expected);
  CHECK(by_content.result["perplexity"] == by_name.result["perplexity"]);
  CHECK_THAT(by_content.run.err, Contains("note: " + json_name + ": read as QA JSONL"));

  // As text: one window of every token, each but the first predicted once.
  int64_t text_tokens = static_cast<int64_t>(tok.encode(qa).size()) - 1;
  Eval as_text = eval(s, upper, " --format text");
  CHECK(as_text.result["tokens"] == text_tokens);
  CHECK(as_text.run.err.empty());
  CHECK(eval(s, json_name, " --format text").result["tokens"] == text_tokens);

  // Plain text is text by content too; --format jsonl insists, naming the line.
  std::string story = s.write("story.txt", "Once upon a time.\n{not json}\n");
  CHECK(eval(s, story).result["tokens"] ==
        static_cast<int64_t>(tok.encode("Once upon a time.\n{not json}\n").size()) - 1);
  expect_refused("eval --model " + q(s.model()) + " --data " + q(story) + " --format jsonl",
                 {story + ":1: not valid JSON"});
  test::CliResult r =
      test::run_lorasum("eval --model " + q(s.model()) + " --data " + q(story) + " --format yaml");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, StartsWith("--format: yaml not in {auto,jsonl,text}"));
}

TEST_CASE("answers past the context are an error, not a perplexity of 1 or a zero loss",
          "[cli][data]") {
  test::TinySetup s("data_context");
  Tokenizer tok = Tokenizer::load(s.model());
  // 'z' never occurs in the tokenizer's training text: 100 of them are 100 tokens, so these
  // answers start past the micro model's 64 positions.
  std::string long_q(100, 'z');
  std::string late_line = "{\"question\": \"" + long_q + "\", \"answer\": \"7\"}\n";
  std::string late = s.write("late.jsonl", late_line + late_line);
  std::string adapter = s.path("adapter");

  expect_refused("eval --model " + q(s.model()) + " --data " + q(late) + " --loss-on answer",
                 {late + ": no token to count", "past the first 64 tokens"});
  expect_refused("train --model " + q(s.model()) + " --data " + q(late) + " --out " + q(adapter) +
                     " --loss-on answer --max-steps 1 --no-progress",
                 {late + ": no token to count"});
  CHECK_FALSE(fs::exists(adapter));

  // One answer in reach: it alone counts, and the other two examples are reported.
  std::string mixed =
      s.write("mixed.jsonl", late_line + late_line + "{\"question\": \"q\", \"answer\": \"7\"}\n");
  Eval e = eval(s, mixed, " --loss-on answer --seq-len 1000");
  CHECK(e.result["tokens"] == static_cast<int64_t>(tok.encode(" 7").size()) + 1);  // + <|eot|>
  CHECK_THAT(e.run.err, Contains("note: 2 of 3 examples in " + mixed +
                                 " were truncated to 64 tokens (2 of them keep no answer token"));

  // Counting every token, the long examples still count their first 64.
  e = eval(s, mixed);
  int64_t short_tokens = qa_tokens(tok, {{"q", "7"}});
  CHECK(e.result["tokens"] == 2 * 64 + short_tokens);
  CHECK_THAT(e.run.err,
             Contains("note: 2 of 3 examples in " + mixed + " were truncated to 64 tokens\n"));

  test::CliResult r =
      test::run_lorasum("train --model " + q(s.model()) + " --data " + q(mixed) + " --out " +
                        q(adapter) + " --loss-on answer --max-steps 1 --no-progress");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK_THAT(r.err, Contains("note: 2 of 3 examples in " + mixed));
}
