#pragma once
// Pieces shared by the data generators: a portable seeded picker, word tables written as
// '|'-separated strings, {placeholder} templates, and exact number formatting.
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "experiments/datagen/datagen.h"

namespace ls::datagen {

// Draws from splitmix64 (tensor/random.h): tiny, fast, and identical everywhere (unlike
// <random>'s distributions).
class Picker {
 public:
  explicit Picker(uint64_t seed) : state_(seed) {}
  uint64_t next();
  int below(int n);           // uniform in [0, n)
  int range(int lo, int hi);  // uniform in [lo, hi]
  bool chance(int percent);   // true with probability percent / 100
  template <typename List>
  const auto& pick(const List& list) {
    return list[below(static_cast<int>(std::size(list)))];
  }

 private:
  uint64_t state_;
};

// A list of alternatives written as one "a|b|c" string, which keeps word tables compact.
class Choices {
 public:
  Choices(std::string_view alternatives, char separator = '|');
  const std::string& pick(Picker& rng) const { return rng.pick(items_); }
  const std::vector<std::string>& all() const { return items_; }
  size_t size() const { return items_.size(); }
  const std::string& operator[](size_t i) const { return items_[i]; }

 private:
  std::vector<std::string> items_;
};

// Values for the {key} placeholders of a template.
class Vars {
 public:
  void set(std::string_view key, std::string value);
  const std::string* find(std::string_view key) const;
  const std::string& get(std::string_view key) const;  // logic_error when missing

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Appends `tmpl` to `out`, replacing each {key} by whatever `resolve(key, out)` appends.
template <typename Resolve>
void expand(std::string& out, std::string_view tmpl, Resolve&& resolve) {
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find('{', pos);
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find('}', open);
    out.append(tmpl.substr(pos, open - pos));
    resolve(tmpl.substr(open + 1, close - open - 1), out);
    pos = close + 1;
  }
  if (pos < tmpl.size()) out.append(tmpl.substr(pos));
}

// `tmpl` with every {key} replaced from `vars`.
std::string fill(std::string_view tmpl, const Vars& vars);

std::string capitalize(std::string text);
std::string join_list(const std::vector<std::string>& items);  // "a, b and c"
std::string with_commas(int64_t n);                            // 1234567 -> "1,234,567"
// num / den rounded half away from zero to `places` decimals, in exact integer arithmetic.
std::string decimal(int64_t num, int64_t den, int places);
std::string dollars(int64_t cents);  // 123456 -> "$1,234.56"

// One random example per call; generate_qa removes repeated questions.
QAExample make_math_example(Picker& rng);
QAExample make_medicine_example(Picker& rng);
QAExample make_finance_example(Picker& rng);

}  // namespace ls::datagen
