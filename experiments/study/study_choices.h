#pragma once
// The choices of the study's code that lorasum can switch on (experiments/README.md, "The
// study's choices"). Their names are read once, where they come in (--study-choices, a
// results.json); the code asks for a choice by its enumerator, so a misspelt one does not build.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace ls {

// In the order of experiments/README.md.
enum class StudyChoice : uint8_t {
  aligned_labels,
  eval_overlap,
  merged_subsample,
  discarded_lm_head,
  shared_init,
  cproj_untransposed,
  half_scale,
};

// "aligned-labels", "eval-overlap", …: the names of the enumerators above, in their order.
const std::vector<std::string>& study_choice_names();

// A set of study choices.
class StudyChoices {
 public:
  StudyChoices() = default;
  StudyChoices(std::initializer_list<StudyChoice> choices);
  static StudyChoices all();
  // "none", "all", or comma-separated names; InputError names an unknown one and `source`
  // (the flag or file the list came from).
  static StudyChoices parse(const std::string& list, const std::string& source = "--study-choices");

  bool has(StudyChoice c) const { return (bits_ >> static_cast<unsigned>(c)) & 1u; }
  bool empty() const { return bits_ == 0; }
  bool operator==(const StudyChoices& o) const { return bits_ == o.bits_; }
  // The names of the choices on, in the order of study_choice_names.
  std::vector<std::string> names() const;
  // "none", "all" or the names joined by commas.
  std::string label() const;

 private:
  uint32_t bits_ = 0;
};

// The configurations of --ablation: none, each choice alone, and all.
std::vector<StudyChoices> ablation_configurations();

}  // namespace ls
