#include "experiments/datagen/datagen_common.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/random.h"

namespace ls::datagen {

uint64_t Picker::next() { return splitmix64(state_); }

int Picker::below(int n) {
  LS_CHECK(n > 0, "below({})", n);
  // Multiply-shift maps 64 random bits onto [0, n) without modulo's skew toward small values.
  auto wide = static_cast<unsigned __int128>(next()) * static_cast<unsigned>(n);
  return static_cast<int>(wide >> 64);
}

int Picker::range(int lo, int hi) { return lo + below(hi - lo + 1); }

bool Picker::chance(int percent) { return below(100) < percent; }

Choices::Choices(std::string_view alternatives, char separator) {
  size_t pos = 0;
  while (true) {
    size_t bar = alternatives.find(separator, pos);
    items_.emplace_back(alternatives.substr(pos, bar - pos));
    if (bar == std::string_view::npos) break;
    pos = bar + 1;
  }
}

void Vars::set(std::string_view key, std::string value) {
  for (auto& [k, v] : items_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::string(key), std::move(value));
}

const std::string* Vars::find(std::string_view key) const {
  for (const auto& [k, v] : items_)
    if (k == key) return &v;
  return nullptr;
}

const std::string& Vars::get(std::string_view key) const {
  const std::string* value = find(key);
  LS_CHECK(value != nullptr, "template placeholder {{{}}} has no value", key);
  return *value;
}

std::string fill(std::string_view tmpl, const Vars& vars) {
  std::string out;
  expand(out, tmpl, [&](std::string_view key, std::string& o) { o += vars.get(key); });
  return out;
}

std::string capitalize(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 32);
  return text;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string decimal(int64_t num, int64_t den, int places) {
  LS_CHECK(den > 0, "decimal({}, {})", num, den);
  int64_t scale = 1;
  for (int i = 0; i < places; ++i) scale *= 10;
  int64_t magnitude = num < 0 ? -num : num;
  int64_t scaled = (2 * magnitude * scale + den) / (2 * den);  // rounds half up
  std::string out =
      fmt::format("{}{}", num < 0 && scaled != 0 ? "-" : "", with_commas(scaled / scale));
  if (places > 0) out += fmt::format(".{:0{}}", scaled % scale, places);
  return out;
}

std::string dollars(int64_t cents) {
  std::string sign = cents < 0 ? "-" : "";
  int64_t magnitude = cents < 0 ? -cents : cents;
  return fmt::format("{}${}.{:02}", sign, with_commas(magnitude / 100), magnitude % 100);
}

namespace {

struct Domain {
  const char* name;
  QAExample (*make)(Picker&);
};
constexpr Domain kDomains[] = {
    {"math", make_math_example},
    {"medicine", make_medicine_example},
    {"finance", make_finance_example},
};

}  // namespace

const std::vector<std::string>& domains() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Domain& d : kDomains) out.emplace_back(d.name);
    return out;
  }();
  return names;
}

std::vector<QAExample> generate_qa(const std::string& domain, int count, uint64_t seed) {
  const Domain* found = nullptr;
  for (const Domain& d : kDomains)
    if (domain == d.name) found = &d;
  if (found == nullptr)
    input_error("unknown QA domain '{}' (expected one of: {})", domain, fmt::join(domains(), ", "));
  if (count < 0) input_error("QA example count must be non-negative, got {}", count);

  Picker rng(seed);
  std::vector<QAExample> out;
  out.reserve(count);
  std::unordered_set<std::string> seen;
  // Each domain can make far more than 10^5 distinct questions, so repeats are rare; the cap
  // only turns an impossible request into an error instead of an endless loop.
  int64_t attempts_left = 20 * static_cast<int64_t>(count) + 1000;
  while (static_cast<int>(out.size()) < count) {
    if (attempts_left-- == 0)
      input_error("domain '{}' could not produce {} distinct examples", domain, count);
    QAExample example = found->make(rng);
    if (seen.insert(example.question).second) out.push_back(std::move(example));
  }
  return out;
}

QASplit generate_qa_split(const std::string& domain, int train_count, int test_count,
                          uint64_t seed) {
  if (train_count < 0 || test_count < 0)
    input_error("split sizes must be non-negative, got {} and {}", train_count, test_count);
  std::vector<QAExample> all = generate_qa(domain, train_count + test_count, seed);
  QASplit split;
  split.train.assign(std::make_move_iterator(all.begin()),
                     std::make_move_iterator(all.begin() + train_count));
  split.test.assign(std::make_move_iterator(all.begin() + train_count),
                    std::make_move_iterator(all.end()));
  return split;
}

void write_jsonl(const std::string& path, const std::vector<QAExample>& examples) {
  std::string out;
  for (const QAExample& e : examples) {
    nlohmann::ordered_json line = {{"question", e.question}, {"answer", e.answer}};
    out += line.dump();
    out += '\n';
  }
  write_file_atomic(path, out);
}

std::vector<QAExample> read_jsonl(const std::string& path) {
  std::vector<QAExample> out;
  std::istringstream in(read_file(path));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      out.push_back({j.at("question").get<std::string>(), j.at("answer").get<std::string>()});
    } catch (const nlohmann::json::exception& e) {
      input_error("{}:{}: expected {{\"question\": ..., \"answer\": ...}}: {}", path, number,
                  e.what());
    }
  }
  return out;
}

}  // namespace ls::datagen
