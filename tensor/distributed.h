#pragma once
// Data parallelism over MPI. A process that mpirun (or srun) started is one rank of a world of
// processes; without a launcher, or in a build without MPI, the world is this process alone
// and every call below is cheap and local. MPI starts on first use and finishes at exit.
#include <cstdint>
#include <string>

namespace ls::world {

// The world size a launcher announced in the environment (1 without one). Reads no MPI state,
// so a command can refuse to run under mpirun before anything starts.
int launched_size();
// How many of those ranks run on this machine (1 without a launcher).
int local_size();

int rank();
int size();
inline bool is_root() { return rank() == 0; }

// Element-wise sum over every rank, in place (MPI_Allreduce).
void sum(float* values, int64_t count);
void sum(double* values, int64_t count);

// Stops with InputError on rank 0, naming the first rank whose digest differs from its own;
// the other ranks go on and are ended by rank 0's exit. `what` names what the digest covers.
void require_same(uint64_t digest, const std::string& what);

// Ends every rank with this exit status (MPI_Abort); a lone process just exits.
[[noreturn]] void abort_all(int status);

}  // namespace ls::world
