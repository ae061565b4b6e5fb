#include "experiments/app/settings.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <tuple>

#include "experiments/app/job_options.h"
#include "tensor/error.h"
#include "tensor/hash.h"
#include "tensor/io/file_io.h"

namespace ls {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Bumped whenever what a job writes or how its record reads changes, so that an older folder is
// never mistaken for a new one.
constexpr int kFormatVersion = 3;

void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j;
  }
}

}  // namespace

double decimal(float f) { return std::stod(fmt::format("{}", f)); }

std::string text_digest(const std::string& text) {
  return fmt::format("{:016x}", fnv1a(text.data(), text.size()));
}

std::string file_digest(const std::string& path) {
  static std::mutex lock;
  static std::map<std::tuple<std::string, uintmax_t, int64_t>, std::string> cache;
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) input_error("{}: cannot read ({})", path, ec.message());
  int64_t mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  auto key = std::make_tuple(fs::absolute(path).string(), size, mtime);
  std::lock_guard<std::mutex> guard(lock);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  return cache[key] = text_digest(read_file(path));
}

json pretrain_settings(const PretrainJob& job) {
  json record = options_record(pretrain_job_options(), job);
  record.update(
      {{"format", kFormatVersion}, {"kind", "pretrain"}, {"corpus", file_digest(job.corpus)}});
  return record;
}

json adapter_settings(const LoraJob& job, const std::string& model_id) {
  json data = json::array();
  for (const std::string& f : job.data) data.push_back(file_digest(f));
  json record = options_record(lora_job_options(), job);
  record.update({{"format", kFormatVersion},
                 {"kind", "adapter"},
                 {"base_model", model_id.empty() ? model_identity(job.model_dir) : model_id},
                 {"data", data},
                 {"eval_data", job.eval_data.empty() ? "" : file_digest(job.eval_data)}});
  return record;
}

json data_settings(const json& source) {
  return {{"format", kFormatVersion}, {"kind", "data"}, {"source", source}};
}

std::string settings_identity(const json& settings) { return text_digest(settings.dump()); }

std::string model_identity(const std::string& model_dir) {
  json record = read_settings(model_dir);
  if (!record.is_null()) return "pretrained:" + settings_identity(record);
  return "weights:" + file_digest(model_dir + "/config.json") +
         file_digest(model_dir + "/model.safetensors");
}

json read_settings(const std::string& dir) {
  std::string path = dir + "/settings.json";
  if (!fs::exists(path)) return nullptr;
  json j = json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    input_error(
        "{}: not a lorasum settings record (not a JSON object); remove the folder or "
        "choose another",
        path);
  return j;
}

void write_settings(const std::string& dir, const json& settings) {
  write_file_atomic(dir + "/settings.json", settings.dump(2) + "\n");
}

std::vector<LeafDifference> leaf_differences(const json& a, const json& b) {
  std::map<std::string, json> left, right;
  flatten(a, "", left);
  flatten(b, "", right);
  std::vector<LeafDifference> out;
  for (const auto& [key, value] : left) {
    auto found = right.find(key);
    if (found == right.end())
      out.push_back({key, value, std::nullopt});
    else if (found->second != value)
      out.push_back({key, value, found->second});
  }
  for (const auto& [key, value] : right)
    if (!left.count(key)) out.push_back({key, std::nullopt, value});
  return out;
}

std::string settings_difference(const json& here, const json& there) {
  std::vector<std::string> parts;
  for (const LeafDifference& d : leaf_differences(here, there))
    parts.push_back(fmt::format("{}: {} here, {} in the folder", d.key,
                                d.a ? d.a->dump() : "absent", d.b ? d.b->dump() : "(absent)"));
  return fmt::format("{}", fmt::join(parts, "; "));
}

bool check_settings(const std::string& dir, const json& expected) {
  json found = read_settings(dir);
  if (found.is_null()) return false;
  if (found != expected)
    input_error(
        "{} was made with other settings ({}); choose another output folder or remove "
        "this one",
        dir, settings_difference(expected, found));
  return true;
}

}  // namespace ls
