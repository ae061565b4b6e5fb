#include "tensor/distributed.h"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <vector>

#include "tensor/error.h"

#ifdef LORASUM_HAVE_MPI
#include <mpi.h>
#endif

namespace ls::world {

namespace {

int first_set(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* value = std::getenv(name)) return std::max(1, std::atoi(value));
  return 1;
}

}  // namespace

// Open MPI's mpirun, then the variables of MPICH's launchers and of Slurm's srun.
int launched_size() { return first_set({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}); }
int local_size() {
  return first_set({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"});
}

#ifdef LORASUM_HAVE_MPI

namespace {

struct World {
  int rank = 0, size = 1;
  bool mpi = false;
};

// MPI only when a launcher started us: a plain `lorasum train` stays a plain process.
const World& world() {
  static const World w = [] {
    World w;
    if (launched_size() == 1) return w;
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED,
                    &provided);  // only this thread calls MPI
    std::atexit([] { MPI_Finalize(); });
    MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w.size);
    w.mpi = true;
    return w;
  }();
  return w;
}

// MPI counts are ints; larger buffers go in pieces.
template <typename T>
void sum_in_pieces(T* values, int64_t count, MPI_Datatype type) {
  if (!world().mpi) return;
  constexpr int64_t kPiece = int64_t{1} << 30;
  for (int64_t done = 0; done < count; done += kPiece) {
    int n = static_cast<int>(std::min(kPiece, count - done));
    MPI_Allreduce(MPI_IN_PLACE, values + done, n, type, MPI_SUM, MPI_COMM_WORLD);
  }
}

}  // namespace

int rank() { return world().rank; }
int size() { return world().size; }
void sum(float* values, int64_t count) { sum_in_pieces(values, count, MPI_FLOAT); }
void sum(double* values, int64_t count) { sum_in_pieces(values, count, MPI_DOUBLE); }

void require_same(uint64_t digest, const std::string& what) {
  if (!world().mpi) return;
  std::vector<uint64_t> all(static_cast<size_t>(size()));
  MPI_Gather(&digest, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  if (!is_root()) return;
  for (size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      input_error(
          "rank {} of {} has other {} than rank 0 (digest {:016x} against {:016x}); "
          "every rank must be started with the same files and flags",
          r, all.size(), what, all[r], all[0]);
}

void abort_all(int status) {
  if (world().mpi) MPI_Abort(MPI_COMM_WORLD, status);
  std::exit(status);
}

#else  // a build without MPI: a world of one

int rank() { return 0; }
int size() {
  if (launched_size() > 1)
    input_error(
        "started as one of {} MPI ranks, but this lorasum was built without MPI "
        "(install libopenmpi-dev and rebuild)",
        launched_size());
  return 1;
}
void sum(float*, int64_t) {}
void sum(double*, int64_t) {}
void require_same(uint64_t, const std::string&) {}
void abort_all(int status) { std::exit(status); }

#endif

}  // namespace ls::world
