// Reading and writing adapters in PEFT's layout: adapter_config.json + adapter_model.safetensors
// with tensors base_model.model.transformer.h.N.<module>.lora_{A,B}.weight.
#include <cmath>
#include <filesystem>
#include <set>

#include "gpt2/safetensors.h"
#include "lora/adapter.h"
#include "tensor/error.h"
#include "tensor/file_io.h"

namespace ls {

namespace {

struct ParsedName {
  std::string module;
  char factor = 0;
};

// "base_model.model.[transformer.]<module>.lora_A[.<adapter>].weight" -> module and factor.
ParsedName parse_peft_name(const std::string& name, const std::string& path) {
  std::string rest = name;
  for (const char* prefix : {"base_model.model.", "transformer."})
    if (rest.rfind(prefix, 0) == 0) rest = rest.substr(std::string(prefix).size());
  for (char factor : {'A', 'B'}) {
    std::string marker = std::string(".lora_") + factor + ".";
    size_t at = rest.find(marker);
    if (at != std::string::npos && rest.size() >= 7 &&
        rest.compare(rest.size() - 7, 7, ".weight") == 0)
      return {rest.substr(0, at), factor};
  }
  input_error("{}: tensor {} is not a LoRA factor (expected ...<module>.lora_A.weight or "
              "lora_B.weight)", path, name);
}

}  // namespace

std::shared_ptr<LoraAdapter> LoraAdapter::load(const std::string& dir, GPT2& model) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) input_error("{}: not an adapter folder", dir);
  LoraConfig config = LoraConfig::load((fs::path(dir) / "adapter_config.json").string());
  std::string path = (fs::path(dir) / "adapter_model.safetensors").string();
  SafetensorsFile file = SafetensorsFile::open(path);
  std::shared_ptr<LoraAdapter> adapter(new LoraAdapter(config));
  std::set<std::pair<std::string, char>> seen;
  for (const SafetensorInfo& info : file.tensors()) {
    ParsedName parsed = parse_peft_name(info.name, path);
    Linear* linear = find_linear(model, parsed.module);
    if (!linear)
      input_error("{}: tensor {} targets module {}, which this model does not have", path,
                  info.name, parsed.module);
    Shape expected = parsed.factor == 'A' ? Shape{config.r, linear->in_features()}
                                          : Shape{linear->out_features(), config.r};
    if (info.shape != expected)
      input_error("{}: tensor {} has shape {}, expected {} (r = {} for this model)", path,
                  info.name, shape_to_string(info.shape), shape_to_string(expected), config.r);
    if (!seen.insert({parsed.module, parsed.factor}).second)
      input_error("{}: tensor {} appears twice", path, info.name);
    std::vector<float> values = file.read_f32(info.name);
    for (float v : values)
      if (!std::isfinite(v)) input_error("{}: tensor {} holds a non-finite value", path, info.name);
    auto& layer = adapter->layers_[parsed.module];
    if (!layer)
      layer = std::make_shared<LoraLayer>(linear->in_features(), linear->out_features(), config, 0);
    (parsed.factor == 'A' ? layer->A : layer->B).copy_from(Tensor::from(info.shape, values));
  }
  if (adapter->layers_.empty()) input_error("{}: holds no LoRA tensors", path);
  for (auto& [module, layer] : adapter->layers_)
    for (char factor : {'A', 'B'})
      if (!seen.count({module, factor}))
        input_error("{}: module {} has no lora_{} tensor", path, module, factor);
  return adapter;
}

void LoraAdapter::save(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::vector<SafetensorView> views;
  for (auto& [name, t] : named_parameters()) views.push_back({name, t.shape(), t.data()});
  write_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), views,
                    {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "adapter_config.json").string(), config_.to_json());
}

}  // namespace ls
