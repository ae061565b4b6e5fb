#include "lora/factors.h"

#include <cmath>
#include <filesystem>
#include <regex>

#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/safetensors.h"
#include "tensor/ops.h"

namespace ls {

Tensor LowRank::dense() const {
  Tensor out = Tensor::zeros({this->out(), in()});
  ops::gemm(out, B, A, {.alpha = scale});
  return out;
}

LowRank LowRank::random(int64_t out, int64_t in, int64_t r, Rng& rng) {
  Tensor A = rand_normal({r, in}, 0.0f, 1.0f, rng);
  return {A, rand_normal({out, r}, 0.0f, 1.0f, rng), 1.0f};
}

ModulePlace module_place(const std::string& name) {
  static const std::regex block(R"(h\.(\d+)\.(.+))");
  std::smatch m;
  if (std::regex_match(name, m, block)) return {std::stoll(m[1].str()), m[2].str()};
  return {-1, name};
}

bool module_order(const std::string& a, const std::string& b) {
  ModulePlace pa = module_place(a), pb = module_place(b);
  return std::tie(pa.layer, pa.kind) < std::tie(pb.layer, pb.kind);
}

int64_t AdapterFactors::rank() const {
  int64_t r = 0;
  for (auto& [name, f] : modules) r = std::max(r, f.rank());
  return r;
}

AdapterFactors AdapterFactors::of(const LoraAdapter& adapter, std::string name) {
  AdapterFactors out{std::move(name), adapter.config(), {}};
  for (auto& [module, layer] : adapter.layers())
    out.modules[module] = {layer->A.detach(), layer->B.detach(), layer->weight * layer->scaling};
  return out;
}

AdapterFactors AdapterFactors::read(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) input_error("{}: not an adapter folder", dir);
  AdapterFactors out{dir, LoraConfig::load((fs::path(dir) / "adapter_config.json").string()), {}};
  std::string path = (fs::path(dir) / "adapter_model.safetensors").string();
  SafetensorsFile file = SafetensorsFile::open(path);
  // PEFT names: [base_model.model.][transformer.]<module>.lora_<A|B>[.<adapter name>].weight
  static const std::regex peft(
      R"((?:base_model\.model\.)?(?:transformer\.)?(.+)\.lora_([AB])(?:\.[^.]+)?\.weight)");
  const int64_t r = out.config.r;
  std::map<std::string, std::map<char, Tensor>> found;
  for (const SafetensorInfo& info : file.tensors()) {
    std::smatch m;
    if (!std::regex_match(info.name, m, peft))
      input_error(
          "{}: tensor {} is not a LoRA factor (expected ...<module>.lora_A.weight or "
          "lora_B.weight)",
          path, info.name);
    char factor = m[2].str()[0];
    if (info.shape.size() != 2)
      input_error(
          "{}: tensor {} has shape {}, expected a matrix (lora_A [r, in], lora_B "
          "[out, r])",
          path, info.name, shape_to_string(info.shape));
    Shape expected = factor == 'A' ? Shape{r, info.shape[1]} : Shape{info.shape[0], r};
    if (info.shape != expected)
      input_error("{}: tensor {} has shape {}, expected {} (r = {} in adapter_config.json)", path,
                  info.name, shape_to_string(info.shape), shape_to_string(expected), r);
    std::vector<float> values = file.read_f32(info.name);
    for (float v : values)
      if (!std::isfinite(v)) input_error("{}: tensor {} holds a non-finite value", path, info.name);
    if (!found[m[1].str()].emplace(factor, Tensor::from(info.shape, values)).second)
      input_error("{}: tensor {} appears twice", path, info.name);
  }
  if (found.empty()) input_error("{}: holds no LoRA tensors", path);
  for (auto& [module, pair] : found) {
    for (char factor : {'A', 'B'})
      if (!pair.count(factor))
        input_error("{}: module {} has no lora_{} tensor", path, module, factor);
    out.modules[module] = {pair['A'], pair['B'], out.config.scaling()};
  }
  return out;
}

void AdapterFactors::save(const std::string& dir) const {
  namespace fs = std::filesystem;
  LS_CHECK(!modules.empty(), "saving an adapter with no modules");
  LoraConfig c;
  c.r = rank();
  c.alpha = static_cast<float>(c.r);
  c.dropout = 0.0f;
  c.use_rslora = false;
  c.base_model = config.base_model;
  c.target_modules.clear();
  std::vector<Tensor> keep;  // the padded tensors the views point into
  std::vector<SafetensorView> views;
  for (auto& [module, f] : modules) {
    c.target_modules.push_back(module);
    Tensor A = Tensor::zeros({c.r, f.in()}), B = Tensor::zeros({f.out(), c.r});
    A.slice(0, 0, f.rank()).copy_from(f.A);
    B.slice(1, 0, f.rank()).copy_from(ops::scale(f.B, f.scale));
    keep.insert(keep.end(), {A, B});
    views.push_back({LoraAdapter::peft_name(module, 'A'), A.shape(), A.data()});
    views.push_back({LoraAdapter::peft_name(module, 'B'), B.shape(), B.data()});
  }
  fs::create_directories(dir);
  write_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), views,
                    {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "adapter_config.json").string(), c.to_json());
}

std::shared_ptr<LoraAdapter> AdapterFactors::to_adapter(GPT2& model) const {
  LoraConfig c;
  c.r = rank();
  c.alpha = static_cast<float>(c.r);
  c.dropout = 0.0f;
  c.target_modules.clear();
  for (auto& [module, f] : modules) c.target_modules.push_back(module);
  auto adapter = LoraAdapter::create(model, c, 0);
  for (auto& [module, layer] : adapter->layers()) {
    const LowRank& f = modules.at(module);
    if (layer->A.size(1) != f.in() || layer->B.size(0) != f.out())
      input_error("{}: module {} is [{}, {}] (out, in) here but [{}, {}] in the model", name,
                  module, f.out(), f.in(), layer->B.size(0), layer->A.size(1));
    layer->A = f.A.contiguous().clone();
    layer->B = f.B.contiguous().clone();
    layer->scaling = f.scale;
  }
  return adapter;
}

}  // namespace ls
