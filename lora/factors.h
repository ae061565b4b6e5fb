#pragma once
// LoRA updates as bare factors, ΔW = scale · B·A in the [out, in] orientation, with no model
// attached. Composition and similarity work on these: they can be read from a PEFT folder
// without loading the base model, taken from an adapter in memory, and written back as PEFT.
#include <map>
#include <string>

#include "lora/adapter.h"
#include "tensor/random.h"

namespace ls {

struct LowRank {
  Tensor A;            // [r, in]
  Tensor B;            // [out, r]
  float scale = 1.0f;  // user weight · LoRA scaling
  int64_t rank() const { return A.size(0); }
  int64_t in() const { return A.size(1); }
  int64_t out() const { return B.size(0); }
  Tensor dense() const;  // scale · B·A, [out, in]
  // Factors with independent standard normal entries and scale 1.
  static LowRank random(int64_t out, int64_t in, int64_t r, Rng& rng);
};

// Where a module sits in GPT-2: "h.3.attn.c_attn" -> layer 3, kind "attn.c_attn"; a name
// outside the blocks has layer -1 and is its own kind.
struct ModulePlace {
  int64_t layer = -1;
  std::string kind;
};
ModulePlace module_place(const std::string& name);
// Orders module names by layer number, then kind ("h.2…" before "h.10…").
bool module_order(const std::string& a, const std::string& b);

struct AdapterFactors {
  std::string name;   // the folder, or a label, for messages
  LoraConfig config;  // as read; the scale of each module already includes its scaling
  std::map<std::string, LowRank> modules;  // module full name -> factors

  int64_t rank() const;  // the largest module rank

  // The adapter's layers with their current weight (DIR@SCALE) folded into the scale.
  static AdapterFactors of(const LoraAdapter& adapter, std::string name = "adapter");
  // A PEFT folder, checked for consistency (names, shapes against r, finite values) but not
  // against a model.
  static AdapterFactors read(const std::string& dir);
  // Writes a PEFT folder: r = the largest module rank (smaller modules zero-padded), each
  // scale folded into B so that lora_alpha = r (scaling 1, no rsLoRA), and target_modules =
  // the explicit module names.
  void save(const std::string& dir) const;
  // An adapter on `model` whose layers hold exactly these factors and scales (weight 1), to
  // attach and evaluate without a round trip through files; InputError when a module is not
  // in the model or has another shape.
  std::shared_ptr<LoraAdapter> to_adapter(GPT2& model) const;
};

}  // namespace ls
