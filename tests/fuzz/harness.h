#pragma once
// What each fuzz target checks, shared by the libFuzzer programs (fuzz_<reader>.cpp) and by
// tests/test_fuzz_regressions.cpp, which replays the seed corpus and every input a fuzzer once
// crashed on. A reader given arbitrary bytes must either accept them or throw InputError; any
// other exception, a broken invariant (thrown as std::logic_error), a crash, a hang or a
// sanitizer report is a bug.
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gpt2/bpe/bpe_trainer.h"
#include "gpt2/checkpoint.h"
#include "gpt2/training/data.h"
#include "lora/config.h"
#include "lora/factors.h"
#include "tensor/error.h"
#include "tensor/io/safetensors.h"

namespace ls::fuzz {

namespace fs = std::filesystem;

// The readers take paths, so each input is written to a file in a folder of this process's
// own, removed when the process exits.
inline const fs::path& scratch() {
  struct Dir {
    fs::path path = fs::temp_directory_path() / ("lorasum_fuzz_" + std::to_string(getpid()));
    Dir() { fs::create_directories(path); }
    ~Dir() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  };
  static const Dir dir;
  return dir.path;
}

inline std::string put(const std::string& name, std::string_view bytes) {
  std::string path = (scratch() / name).string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

inline void require(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("fuzz invariant broken: ") + what);
}

// Runs `read`; InputError is the clean way to refuse the input.
template <typename Read>
void refused_or_read(Read&& read) {
  try {
    read();
  } catch (const InputError&) {
  }
}

// A small tokenizer trained once, for the targets that need one.
inline const Tokenizer& sample_tokenizer() {
  static const Tokenizer tokenizer = train_bpe(
      "The quick brown fox jumps over the lazy dog. Question: what is 12 + 30?\nAnswer: 42.\n"
      "Ünïcödé text, 日本語, emoji 😀 and tabs\tand  double  spaces; it's the fox's den.",
      300);
  return tokenizer;
}

// safetensors: every tensor the header lists lies inside the data buffer and converts to as
// many floats as its shape has elements. The same bytes as a PEFT adapter's weights (with a
// fixed adapter_config.json, r = 2) read to modules whose factors fit together.
inline void safetensors(std::string_view bytes) {
  static const fs::path adapter = [] {
    fs::path dir = scratch() / "adapter";
    fs::create_directories(dir);
    LoraConfig config;
    config.r = 2;
    put("adapter/adapter_config.json", config.to_json());
    return dir;
  }();
  refused_or_read([&] {
    put("adapter/adapter_model.safetensors", bytes);
    for (const auto& [module, f] : AdapterFactors::read(adapter.string()).modules)
      require(f.rank() == 2 && f.B.size(1) == 2 && f.A.numel() == 2 * f.in(), "factors of rank r");
  });
  std::string path = put("input.safetensors", bytes);
  refused_or_read([&] {
    SafetensorsFile file = SafetensorsFile::open(path);
    uint64_t header = 0;
    std::memcpy(&header, bytes.data(), sizeof header);  // open() checked it fits
    for (const SafetensorInfo& t : file.tensors()) {
      require(t.begin <= t.end && t.end <= bytes.size() - 8 - header, "tensor inside the buffer");
      if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16" && t.dtype != "F64") continue;
      size_t count = 1;
      for (int64_t dim : t.shape) count *= static_cast<size_t>(dim);
      require(file.read_f32(t.name).size() == count, "one float per element");
    }
  });
}

// config.json, loaded alone and with a fixed small weights file (a config that lies about the
// model's size must not make load_gpt2 allocate it), and adapter_config.json.
inline void configs(std::string_view bytes) {
  static const fs::path model = [] {
    fs::path dir = scratch() / "model";
    GPT2Config micro = GPT2Config::preset("micro");
    save_gpt2(GPT2(micro), dir.string());
    return dir;
  }();
  std::string path = put("config.json", bytes);
  refused_or_read([&] {
    GPT2Config c = GPT2Config::load(path);
    require(c.n_layer > 0 && c.n_head > 0 && c.n_embd % c.n_head == 0, "usable dimensions");
    fs::copy_file(path, model / "config.json", fs::copy_options::overwrite_existing);
    load_gpt2(model.string());
  });
  refused_or_read([&] {
    LoraConfig c = LoraConfig::load(path);
    require(c.r > 0 && std::isfinite(c.scaling()), "a usable rank and scaling");
  });
}

// vocab.json and merges.txt, the input split at its first NUL byte. A tokenizer that loads
// must encode and decode without losing a byte.
inline void bpe_files(std::string_view bytes) {
  size_t split = std::min(bytes.find('\0'), bytes.size());
  fs::path dir = scratch() / "tokenizer";
  fs::create_directories(dir);
  put("tokenizer/vocab.json", bytes.substr(0, split));
  put("tokenizer/merges.txt", bytes.substr(std::min(split + 1, bytes.size())));
  refused_or_read([&] {
    Tokenizer tokenizer = Tokenizer::load(dir.string());
    std::string text = "Question: it's 12 + 30?\nAnswer: 42 ünï 😀<|endoftext|>\xff";
    require(tokenizer.decode(tokenizer.encode(text)) == text, "encode then decode");
  });
}

// Arbitrary bytes encode to ids in range that decode back to the same bytes, twice the same
// (the second time from the word cache); the bytes read as int32 ids decode or are refused.
inline void tokenizer(std::string_view bytes) {
  const Tokenizer& tok = sample_tokenizer();
  std::vector<int> ids = tok.encode(bytes);
  for (int id : ids) require(id >= 0 && id < tok.vocab_size(), "ids in the vocabulary");
  require(tok.decode(ids) == bytes, "encode then decode");
  require(tok.encode(bytes) == ids, "the cache changes nothing");
  std::vector<int> raw(bytes.size() / sizeof(int));
  if (!raw.empty()) std::memcpy(raw.data(), bytes.data(), raw.size() * sizeof(int));
  refused_or_read([&] { tok.decode(raw); });
}

// Training data: the bytes as a JSONL QA file and as plain text.
inline void data(std::string_view bytes) {
  const Tokenizer& tok = sample_tokenizer();
  std::string jsonl = put("data.jsonl", bytes), text = put("data.txt", bytes);
  refused_or_read([&] {
    for (const Example& ex : load_qa_jsonl(jsonl, tok, {"question", "answer", true}))
      require(!ex.tokens.empty() && ex.tokens.back() == tok.eot_id() &&
                  ex.loss_start <= static_cast<int64_t>(ex.tokens.size()),
              "an example ends with <|endoftext|> after its prompt");
  });
  refused_or_read([&] {
    for (const Example& ex : load_plain_text(text, tok, 16))
      require(ex.tokens.size() >= 2 && ex.tokens.size() <= 17, "windows of 2..seq_len+1 tokens");
  });
}

using Target = void (*)(std::string_view);
inline const std::vector<std::pair<std::string, Target>> kTargets = {{"safetensors", safetensors},
                                                                     {"configs", configs},
                                                                     {"bpe_files", bpe_files},
                                                                     {"tokenizer", tokenizer},
                                                                     {"data", data}};

}  // namespace ls::fuzz

// The libFuzzer entry point of a fuzz_<reader>.cpp program.
#define LORASUM_FUZZ_TARGET(reader)                                         \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    ls::fuzz::reader({reinterpret_cast<const char*>(data), size});          \
    return 0;                                                               \
  }
