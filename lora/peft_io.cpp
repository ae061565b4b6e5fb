// Reading and writing adapters in PEFT's layout: adapter_config.json + adapter_model.safetensors
// with tensors base_model.model.transformer.h.N.<module>.lora_{A,B}.weight.
#include <filesystem>

#include "lora/adapter.h"
#include "lora/factors.h"
#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/safetensors.h"

namespace ls {

// Reading checks the folder on its own (AdapterFactors::read: names, ranks, pairs, finite
// values); what is left is whether each module exists in this model with these sizes.
std::shared_ptr<LoraAdapter> LoraAdapter::load(const std::string& dir, GPT2& model) {
  AdapterFactors factors = AdapterFactors::read(dir);
  const std::string path = (std::filesystem::path(dir) / "adapter_model.safetensors").string();
  std::shared_ptr<LoraAdapter> adapter(new LoraAdapter(factors.config));
  for (auto& [module, f] : factors.modules) {
    Linear* linear = find_linear(model, module);
    if (!linear) input_error("{}: targets module {}, which this model does not have", path, module);
    if (f.in() != linear->in_features() || f.out() != linear->out_features())
      input_error(
          "{}: module {} maps {} -> {} features (lora_A {}, lora_B {}), but this "
          "model's {} maps {} -> {}",
          path, module, f.in(), f.out(), shape_to_string(f.A.shape()), shape_to_string(f.B.shape()),
          module, linear->in_features(), linear->out_features());
    auto layer = std::make_shared<LoraLayer>(linear->in_features(), linear->out_features(),
                                             factors.config, 0);
    layer->A.copy_from(f.A);
    layer->B.copy_from(f.B);
    adapter->layers_[module] = layer;
  }
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
