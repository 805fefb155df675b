// Deferred device checks: index range checks that run on the GPU without a
// stream synchronisation (embedding indices, cross-entropy targets,
// index_select / gather indices), reported as the CPU's typed error at the
// next point where the host waits for the device anyway.
//
// The record. A check kernel writes a 3-word record in device memory,
// reset to all ones (cudaMemsetAsync 0xFF) before it runs:
//   pos         smallest position j of a bad element, all ones when none
//               (an unsigned atomicMin: order-independent, so it names the
//               CPU's first bad element);
//   value       the bad element's value idx[pos] (written by the last block
//               of the grid, device_check_finish below);
//   blocks_done a ticket counter for finding that last block.
//
// The queue. cuda_defer_check() enqueues, on the device's stream, a copy of
// (pos, value) into a pinned host slot and a CUDA event after it, and
// appends (slot, event, on_bad) to the device's list; nothing waits. The
// device buffer holding the record may go back to the caching allocator
// right after: the allocator is stream-ordered (all work runs on the one
// stream, kernels/cuda/context.h), so the next user of the block queues
// behind the copy.
//
// Reporting. cuda_check_deferred(device, wait) reads finished entries in
// registration order (wait = true: waits for each). The first one with a
// bad element clears the device's whole list (later results were computed
// from bad indices, and the kernels downstream only guarantee they stayed
// in bounds) and calls its on_bad, which throws the op's error with a note
// saying where and when it was detected. It runs with wait = true after
// every host synchronisation with the device: cuda_synchronize() and every
// device->host copy (Tensor::item, Tensor::to(cpu), to_vector:
// tensor/cuda_allocator.cpp); with wait = false at each new registration (a
// cheap poll); and a registration beyond kMaxPendingChecks waits on the
// oldest entries.
//
// Between the call and the report, kernels downstream run with the bad
// indices: each consumer kernel skips an out-of-range index (zeros in the
// forward, nothing added in the backward) so no memory outside its tensors
// is touched.
//
// SIRS_CUDA_SYNC_CHECKS=1 in the environment (read once) or
// set_cuda_sync_checks(true) (tensor/device.h) makes every registration
// wait for its record and throw at the call, as before: for debugging.
//
// Host part: no CUDA types, so autograd files can include it; the
// functions exist only in a build with CUDA (call them inside SIRS_IF_CUDA).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace sirs {

// Words of a check record: pos, value, blocks_done (int64 each).
constexpr int kCheckRecordWords = 3;
// Registrations that may wait unread per device before the oldest is
// waited for.
constexpr int kMaxPendingChecks = 256;

// Throws the op's error for the bad element at `pos` holding `value`;
// `note` (" (checked on cuda:0 ...)") goes at the end of the message. It
// must throw; if it returns, a DeviceError is thrown instead.
using DeferredCheckError = std::function<void(int64_t pos, int64_t value, const std::string& note)>;

// Queues the read of `record` ([kCheckRecordWords] int64 on `device`,
// written by a kernel already queued on cuda_stream(device)). Before that it
// polls the queue (cuda_check_deferred(device, false)), which may throw an
// earlier call's error. With sync checks on it waits and throws this call's
// error here.
void cuda_defer_check(const int64_t* record, int device, DeferredCheckError on_bad);

// Reports the first pending bad check of `device` (see above). wait = false
// only reads the entries whose copy has finished (stops at the first
// unfinished one).
void cuda_check_deferred(int device, bool wait);

// Pending (unread) checks of `device`, for tests.
int cuda_pending_checks(int device);

}  // namespace sirs

// ------------------------------------------------------------ device side

#ifdef __CUDACC__
#include <cuda_runtime.h>

namespace sirs {

// Records element j as bad: the record keeps the smallest such j. The fence
// makes the atomic visible before this thread's block reports done.
__device__ __forceinline__ void device_check_bad(int64_t* record, int64_t j) {
  atomicMin(reinterpret_cast<unsigned long long*>(record), static_cast<unsigned long long>(j));
  __threadfence();
}

// Every block of the check kernel calls this once, with all its threads,
// after its last device_check_bad (no thread may have returned early). The
// last block to arrive (ticket counting from all ones, so the first ticket
// is 0) sees the final pos and copies idx[pos] into value: the
// "last block" pattern (a threadfence reduction), which saves a second
// launch or a second read back.
__device__ __forceinline__ void device_check_finish(int64_t* record, const int64_t* idx) {
  __syncthreads();
  if (threadIdx.x != 0) return;
  __threadfence();
  auto* words = reinterpret_cast<unsigned long long*>(record);
  unsigned long long ticket = atomicAdd(&words[2], 1ULL) + 1ULL;  // all ones + 1 wraps to 0
  if (ticket != gridDim.x - 1ULL) return;
  unsigned long long pos = atomicAdd(&words[0], 0ULL);  // read at the L2, after every block's min
  if (pos != ~0ULL) record[1] = idx[pos];
}

}  // namespace sirs
#endif
