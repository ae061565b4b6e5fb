// Data-parallel training over Open MPI: `mpirun -np 2 lorasum train|pretrain` takes the step a
// single process takes on the same global batch, to float rounding, with and without dropout;
// ranks given different data stop with a clear message.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "tensor/io/file_io.h"
#include "tensor/io/safetensors.h"
#include "tests/cli_runner.h"
#include "tests/tiny_setup.h"

using namespace ls;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// Two ranks on however many cores there are; as root only with Open MPI's explicit consent (CI
// runs as root). Leak checking is off for MPI's own allocations, which it keeps until exit.
const std::string kMpirun =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0 "
    "mpirun --oversubscribe --bind-to none -x ASAN_OPTIONS "
    "--mca btl_vader_single_copy_mechanism none";
const std::string kMpirun2 = kMpirun + " -np 2";

bool have_mpirun() {
  std::string reason = test::no_mpi_reason();
  if (reason.empty()) return true;
  std::printf("SKIPPED: %s\n", reason.c_str());
  return false;
}

std::string train_args(const test::TinySetup& s, const std::string& out,
                       const std::string& dropout) {
  return "train --model " + s.model() + " --data " + s.data() + " --out " + out +
         " --rank 2 --targets c_attn,c_fc --dropout " + dropout +
         " --lr 3e-3 --batch 6 --seq-len 32 --max-steps 6 --warmup 2 --seed 5 --threads 1 "
         "--no-progress";
}

// The largest |a - b| / (|b| + 1e-3) over every tensor of two safetensors files.
double max_relative_difference(const std::string& a_path, const std::string& b_path) {
  SafetensorsFile a = SafetensorsFile::open(a_path), b = SafetensorsFile::open(b_path);
  REQUIRE(a.tensors().size() == b.tensors().size());
  double worst = 0.0;
  for (const SafetensorInfo& t : a.tensors()) {
    std::vector<float> u = a.read_f32(t.name), v = b.read_f32(t.name);
    REQUIRE(u.size() == v.size());
    for (size_t i = 0; i < u.size(); ++i)
      worst = std::max(worst, std::abs(double{u[i]} - v[i]) / (std::abs(double{v[i]}) + 1e-3));
  }
  return worst;
}

// The loss column of a train_log.csv.
std::vector<double> losses(const std::string& csv) {
  std::vector<double> out;
  std::istringstream lines(read_file(csv));
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    size_t a = line.find(',');
    size_t b = line.find(',', a + 1);
    out.push_back(std::stod(line.substr(b + 1, line.find(',', b + 1) - b - 1)));
  }
  return out;
}

}  // namespace

TEST_CASE("two MPI ranks train the adapter one process trains, with and without dropout", "[mpi]") {
  if (!have_mpirun()) return;
  test::TinySetup s("mpi_train");
  for (const char* dropout : {"0", "0.2"}) {
    INFO("dropout " << dropout);
    std::string one = s.path(std::string("one_") + dropout),
                two = s.path(std::string("two_") + dropout);
    test::CliResult single = test::run_lorasum(train_args(s, one, dropout));
    REQUIRE(single.status == 0);
    test::CliResult ranks = test::run_lorasum(train_args(s, two, dropout), kMpirun2);
    INFO(ranks.err);
    REQUIRE(ranks.status == 0);
    // One report, from rank 0; the same step losses; the same factors to float rounding (the
    // ranks sum half-batch gradients in another order than one process does).
    CHECK(ranks.out.find("adapter: ") == ranks.out.rfind("adapter: "));
    std::vector<double> a = losses(one + "/train_log.csv"), b = losses(two + "/train_log.csv");
    REQUIRE(a.size() == 6);
    REQUIRE(b.size() == 6);
    for (size_t i = 0; i < a.size(); ++i) CHECK(b[i] == Approx(a[i]).epsilon(1e-5));
    CHECK(max_relative_difference(two + "/adapter_model.safetensors",
                                  one + "/adapter_model.safetensors") < 1e-3);
    CHECK(read_file(two + "/adapter_config.json") == read_file(one + "/adapter_config.json"));
  }
}

TEST_CASE("two MPI ranks pretrain the model one process pretrains", "[mpi]") {
  if (!have_mpirun()) return;
  test::TinySetup s("mpi_pretrain");
  std::string corpus = s.write("corpus.txt", read_file(s.data()));
  auto args = [&](const std::string& out) {
    return "pretrain --data " + corpus + " --out " + out +
           " --vocab-size 300 --n-layer 2 "
           "--n-head 2 --n-embd 32 --n-positions 32 --batch 4 --seq-len 32 --max-steps 4 "
           "--warmup 1 --threads 1 --no-progress";
  };
  REQUIRE(test::run_lorasum(args(s.path("one"))).status == 0);
  test::CliResult ranks = test::run_lorasum(args(s.path("two")), kMpirun2);
  INFO(ranks.err);
  REQUIRE(ranks.status == 0);
  CHECK(max_relative_difference(s.path("two/model.safetensors"), s.path("one/model.safetensors")) <
        1e-3);
  CHECK(read_file(s.path("two/vocab.json")) == read_file(s.path("one/vocab.json")));
}

TEST_CASE("MPI ranks given different data stop with a message naming the rank", "[mpi]") {
  if (!have_mpirun()) return;
  test::TinySetup s("mpi_disagree");
  std::string other = s.write("other.jsonl", "{\"question\": \"Who?\", \"answer\": \"Them.\"}\n");
  std::string out = s.path("adapter");
  std::string rank0 = std::string(LORASUM_BINARY) + " " + train_args(s, out, "0");
  std::string rank1 = rank0;
  rank1.replace(rank1.find(s.data()), s.data().size(), other);
  // MPMD: one command line per rank.
  test::CliResult r = test::run_shell(kMpirun + " -np 1 " + rank0 + " : -np 1 " + rank1);
  CHECK(r.status == 2);
  CHECK_THAT(r.err,
             Contains("rank 1 of 2 has other training data, parameters or settings than rank 0"));
  CHECK_FALSE(fs::exists(out + "/adapter_model.safetensors"));
}

TEST_CASE("commands other than training refuse to run under mpirun", "[mpi]") {
  if (!have_mpirun()) return;
  test::CliResult r = test::run_lorasum("reproduce --preset smoke --out /nonexistent", kMpirun2);
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("'reproduce' runs in one process"));
}

TEST_CASE("a two-rank training stopped mid-run resumes to the adapter of an unbroken run",
          "[mpi]") {
  if (!have_mpirun()) return;
  test::TinySetup s("mpi_resume");
  std::string whole = s.path("whole"), broken = s.path("broken");
  auto args = [&](const std::string& out) {
    return "train --model " + s.model() + " --data " + s.data() + " --out " + out +
           " --rank 2 --dropout 0.1 --lr 1e-3 --batch 6 --seq-len 32 --epochs 200 --warmup 5 "
           "--checkpoint-every 5 --seed 9 --threads 1 --resume --no-progress";
  };
  REQUIRE(test::run_lorasum(args(whole), kMpirun2).status == 0);
  // Interrupt mpirun (it passes SIGINT on to the ranks) once the first checkpoint is there.
  // The run goes on until the signal lands, so it is long (200 epochs of 8 steps, ~1,600 after
  // the first checkpoint): with 40 epochs a loaded machine once let it finish first, leaving no
  // checkpoint to resume from.
  std::string checkpoint = broken + "/checkpoint.safetensors";
  test::CliResult stopped =
      test::run_shell("{ " + kMpirun2 + " " + LORASUM_BINARY + " " + args(broken) +
                      " & pid=$!; "
                      "while [ ! -e " +
                      checkpoint +
                      " ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done; "
                      "kill -INT $pid; wait $pid; }");
  INFO(stopped.err);
  REQUIRE(fs::exists(checkpoint));
  CHECK_FALSE(fs::exists(broken + "/adapter_model.safetensors"));
  test::CliResult resumed = test::run_lorasum(args(broken), kMpirun2);
  INFO(resumed.err);
  REQUIRE(resumed.status == 0);
  CHECK(losses(broken + "/train_log.csv") == losses(whole + "/train_log.csv"));
  CHECK(max_relative_difference(broken + "/adapter_model.safetensors",
                                whole + "/adapter_model.safetensors") == 0.0);
}
