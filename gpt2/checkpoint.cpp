#include "gpt2/checkpoint.h"

#include <cmath>
#include <filesystem>
#include <set>

#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/safetensors.h"

namespace ls {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The lorasum parameter name for a stored tensor, or "" for tensors that are skipped.
std::string canonical_name(const std::string& stored) {
  std::string name = stored.rfind("transformer.", 0) == 0 ? stored.substr(12) : stored;
  if (ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias")) return "";
  return name;
}

void check_finite(const std::vector<float>& values, const std::string& file,
                  const std::string& name) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      input_error("{}: tensor {} holds a non-finite value ({}) at element {}", file, name,
                  values[i], i);
}

}  // namespace

std::unique_ptr<GPT2> load_gpt2(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) input_error("{}: not a model folder", dir);
  std::string config_path = (fs::path(dir) / "config.json").string();
  GPT2Config config = GPT2Config::load(config_path);
  std::string path = (fs::path(dir) / "model.safetensors").string();
  SafetensorsFile file = SafetensorsFile::open(path);
  // Checked before the model is allocated, so that a config.json lying about the model's size
  // cannot make us allocate far more than the weights file holds (2 bytes a weight at least).
  double stored = 0;
  for (const SafetensorInfo& info : file.tensors())
    stored += static_cast<double>(info.end - info.begin);
  if (stored < 2 * config.parameter_count())
    input_error("{}: holds {} bytes of tensors, too few for the {:.0f} parameters {} describes",
                path, stored, config.parameter_count(), config_path);
  auto model = std::make_unique<GPT2>(config, 0, /*initialise=*/false);
  std::set<std::string> loaded;
  Tensor lm_head;
  for (const SafetensorInfo& info : file.tensors()) {
    std::string name = canonical_name(info.name);
    if (name.empty()) continue;
    std::vector<float> values = file.read_f32(info.name);
    check_finite(values, path, info.name);
    if (name == "lm_head.weight") {
      lm_head = Tensor::from(info.shape, values);
      continue;
    }
    Tensor param = model->find_parameter(name);
    if (!param.defined()) input_error("{}: unexpected tensor {} for a GPT-2", path, info.name);
    if (param.shape() != info.shape)
      input_error("{}: tensor {} has shape {}, the config needs {}", path, info.name,
                  shape_to_string(info.shape), param.shape_str());
    if (!loaded.insert(name).second) input_error("{}: tensor {} stored twice", path, name);
    std::copy(values.begin(), values.end(), param.data());
  }
  for (auto& [name, p] : model->named_parameters())
    if (!loaded.count(name)) input_error("{}: missing tensor {}", path, name);
  if (lm_head.defined() && lm_head.to_vector() != model->wte->weight().to_vector())
    input_error("{}: lm_head.weight differs from wte.weight; only tied LM heads are supported",
                path);
  return model;
}

void save_gpt2(const GPT2& model, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::vector<SafetensorView> views;
  auto params = model.named_parameters();
  for (auto& [name, p] : params) views.push_back({name, p.shape(), p.data()});
  write_safetensors((fs::path(dir) / "model.safetensors").string(), views, {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "config.json").string(), model.config().to_json());
}

}  // namespace ls
