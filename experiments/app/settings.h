#pragma once
// The settings record of every folder lorasum trains into (settings.json): everything that made
// the folder's contents — the job's options that change its result (the rows of its option
// table with a record key, job_options.h), the hashes of the data files, the identity of the
// base model, and a format version. A folder is reused (a finished job
// skipped, a checkpoint resumed) only when its record equals the settings of the run at hand;
// otherwise the run stops naming the settings that differ. Never silently.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "experiments/app/training.h"

namespace ls {

// 16 hex digits of a 64-bit FNV-1a hash of a file's bytes (cached per path, size and mtime).
std::string file_digest(const std::string& path);
// A float as the shortest decimal that reads back as it (0.1, not 0.10000000149011612), so
// that records read as the flags that made them.
double decimal(float f);
// The same hash of a string.
std::string text_digest(const std::string& text);

// What a trained folder is: the settings of a pretraining or adapter job.
nlohmann::json pretrain_settings(const PretrainJob& job);
// `model_id` is the base model's identity (default: read from job.model_dir).
nlohmann::json adapter_settings(const LoraJob& job, const std::string& model_id = "");
// The prepared data of `lorasum reproduce`: how they were drawn.
nlohmann::json data_settings(const nlohmann::json& source);

// A base model folder's identity: the digest of its settings record when lorasum pretrained
// it (so it is known before pretraining, for --plan), else the digest of its config and weights.
std::string model_identity(const std::string& model_dir);
// The identity a folder with this settings record has.
std::string settings_identity(const nlohmann::json& settings);

// The settings.json of `dir`, or null when there is none.
nlohmann::json read_settings(const std::string& dir);
void write_settings(const std::string& dir, const nlohmann::json& settings);
// A leaf (dotted path of object keys) where two records differ, with its value on each side;
// nullopt on a side that lacks it. Leaves of `a` first, then those only `b` has, each sorted.
struct LeafDifference {
  std::string key;
  std::optional<nlohmann::json> a, b;
};
std::vector<LeafDifference> leaf_differences(const nlohmann::json& a, const nlohmann::json& b);
// "train.lr: 0.0003 here, 5e-05 in the folder; …" for every leaf that differs ("" if none).
std::string settings_difference(const nlohmann::json& here, const nlohmann::json& there);
// Throws InputError when `dir` records settings other than `expected`, naming them and how
// to proceed; returns false when `dir` has no record.
bool check_settings(const std::string& dir, const nlohmann::json& expected);

}  // namespace ls
