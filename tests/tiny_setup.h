#pragma once
// A temporary folder with a micro GPT-2 (and its BPE tokenizer) and a small QA data set, for
// tests that run the lorasum program on real files.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/checkpoint.h"

namespace ls::test {

class TinySetup {
 public:
  // `name` keeps the folders of different tests apart; the pid, of concurrent runs.
  explicit TinySetup(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() /
             fmt::format("lorasum_{}_{}", name, getpid())) {
    std::filesystem::remove_all(dir_);
    std::string text;
    for (int i = 0; i < 48; ++i)
      text += fmt::format("{{\"question\": \"What is {} plus {}?\", \"answer\": \"{}\"}}\n", i,
                          2 * i + 1, 3 * i + 1);
    write("train.jsonl", text);
    train_bpe(text, 300).save(model());
    save_gpt2(GPT2(GPT2Config::preset("micro"), 1), model());
  }
  ~TinySetup() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TinySetup(const TinySetup&) = delete;
  TinySetup& operator=(const TinySetup&) = delete;

  std::string path(const std::string& relative) const { return (dir_ / relative).string(); }
  std::string model() const { return path("model"); }  // config, weights, tokenizer
  std::string data() const { return path("train.jsonl"); }

  // Writes raw bytes (no temp-and-rename: tests build deliberately broken files).
  std::string write(const std::string& relative, std::string_view bytes) const {
    std::string p = path(relative);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

  // A copy of the model folder to break one file of.
  std::string copy_model(const std::string& relative) const {
    std::filesystem::copy(model(), path(relative),
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
    return path(relative);
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace ls::test
