#pragma once
// The output folder of a training job (train, pretrain) and whether it already holds the job.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpt2/training/trainer.h"
#include "tensor/io/output_folder.h"

namespace ls {

// With --resume: true when `out` holds this job finished (its `result` file, a matching
// record and no checkpoint); throws when the checkpoint's or the folder's settings differ from
// the job's; false when there is something (or nothing yet) to train.
bool finished_before(const std::string& out, const std::string& result,
                     const nlohmann::json& settings);

// The job's output folder, held by rank 0 alone: under mpirun the other ranks train the same
// steps but write nothing (nullptr there). Refuses a folder holding an interrupted run's
// checkpoint unless `t` resumes it or forces a new start.
std::unique_ptr<OutputFolder> output_folder(const std::string& dir,
                                            const std::vector<std::string>& inputs,
                                            const TrainOptions& t);

}  // namespace ls
