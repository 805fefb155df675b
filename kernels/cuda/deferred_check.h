// Deferred device checks: index range checks that run on the GPU without a
// stream synchronisation (embedding indices, cross-entropy targets,
// index_select / gather indices), reported as the CPU's typed error at the
// next point where the host waits for the device anyway.
//
// The flag. Each device has a pool of kMaxPendingChecks int32 flags in
// mapped pinned host memory (the GPU writes it over the bus, the host reads
// it as ordinary memory). cuda_checked_launch() takes a free flag, sets it
// to 0 from the host (the flag is free, so no kernel is using it) and hands
// its device address to the check kernel, which stores 1 from any thread
// that sees a bad index (device_check_fail below: a plain idempotent
// store). Good indices never touch the flag, so a checked call costs its
// kernel and nothing else on the stream: no memset, no copy, no event.
//
// The queue. After the launch the host appends an entry to the device's
// FIFO: the flag, the index tensor (its device pointer, element count and
// an owner keeping its memory alive) and the validity rule (lo <= v < hi,
// or v == an optional ignore value), plus on_bad, which throws the op's
// error. Nothing waits.
//
// Reporting. A flag is only read once its kernel is known to have
// finished: after a synchronisation of the device's stream. Every host
// synchronisation with the device does that (cuda_synchronize() and every
// device->host copy: Tensor::item, Tensor::to(cpu), to_vector;
// tensor/cuda_allocator.cpp): it takes cuda_deferred_mark() before waiting
// and calls cuda_check_deferred() after, which reads the entries
// registered before the mark in registration order (an entry registered
// by another thread during the wait may still be running: it stays
// queued). All flags 0: the entries are retired, nothing more happens. The
// first flag that reads 1 clears the device's whole queue (later results
// were computed from bad indices, and the kernels downstream only
// guarantee they stayed in bounds); the host then copies that entry's
// indices back (a plain copy on the stream, not Tensor::to, which would
// come back here), finds the first bad element exactly as the CPU does
// (smallest position, its value) and calls on_bad(pos, value, note), so
// the message is the CPU's word for word plus a note saying where and when
// it was detected. There is no poll at registration; the one exception is
// a registration that finds all kMaxPendingChecks flags in use (that many
// checked calls without a host synchronisation): it synchronises the
// stream and reads the whole queue first, so it may throw an earlier
// call's error.
//
// Memory. An entry keeps its index tensor allocated until the entry is
// read: in a training loop that synchronises once per step (loss.item())
// that is one step's indices (token ids, targets), small next to the
// activations; without any synchronisation at most kMaxPendingChecks index
// tensors. An index tensor modified in place after the call and before the
// report may be reported with its new value (or, if no bad value is left,
// as an IndexError saying so).
//
// Between the call and the report, kernels downstream run with the bad
// indices: each consumer kernel skips an out-of-range index (zeros in the
// forward, nothing added in the backward) so no memory outside its tensors
// is touched.
//
// SIRS_CUDA_SYNC_CHECKS=1 in the environment (read once) or
// set_cuda_sync_checks(true) (tensor/device.h) makes every checked call
// read the queue, then wait for its own kernel and throw at the call, as
// before: for debugging.
//
// Host part: no CUDA types, so autograd files can include it; the
// functions exist only in a build with CUDA (call them inside SIRS_IF_CUDA).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace sirs {

// Flags per device: checked calls that may wait unread before a
// registration synchronises the stream and reads them all.
constexpr int kMaxPendingChecks = 256;

// Throws the op's error for the bad element at `pos` holding `value`;
// `note` (" (checked on cuda:0 ...)") goes at the end of the message. It
// must throw; if it returns, a DeviceError is thrown instead.
using DeferredCheckError = std::function<void(int64_t pos, int64_t value, const std::string& note)>;

// One checked call: what the host needs to rebuild the CPU's error when
// its flag reads 1. Element j is valid when lo <= idx[j] < hi, or when
// has_ignore and idx[j] == ignore (cross-entropy's ignore_index).
struct DeferredIndexCheck {
  DeferredIndexCheck() = default;
  // Elements [0, n) of idx valid when lo <= idx[j] < hi (set has_ignore
  // and ignore afterwards for an ignored value).
  DeferredIndexCheck(const char* op_, const int64_t* idx_, int64_t n_, int64_t lo_, int64_t hi_,
                     std::shared_ptr<const void> owner_, DeferredCheckError on_bad_)
      : op(op_),
        idx(idx_),
        n(n_),
        lo(lo_),
        hi(hi_),
        owner(std::move(owner_)),
        on_bad(std::move(on_bad_)) {}

  const char* op = "";               // string literal, for the fallback message
  const int64_t* idx = nullptr;      // [n] on the device, contiguous
  int64_t n = 0;
  int64_t lo = 0, hi = 0;
  bool has_ignore = false;
  int64_t ignore = 0;
  std::shared_ptr<const void> owner;  // keeps idx's memory until the entry is read
  DeferredCheckError on_bad;
};

// Takes a free flag of `device` (set to 0), calls launch(flag) with its
// device address, which must queue on cuda_stream(device) a kernel that
// stores 1 there (device_check_fail) for any element of `check` that is
// not valid, and queues the entry. If launch throws, the flag goes back to
// the pool. With sync checks on, reads the pending entries first, then
// waits for this kernel and throws its error here.
void cuda_checked_launch(int device, DeferredIndexCheck check,
                         const std::function<void(int32_t* flag)>& launch);

// The registration count of `device`, taken before a host synchronisation
// with its stream and handed to cuda_check_deferred after it.
uint64_t cuda_deferred_mark(int device);

// Reads the pending entries of `device` registered before `mark` (see
// above) and throws the first one's error. Call after a
// cudaStreamSynchronize of cuda_stream(device) that began after the mark
// was taken.
void cuda_check_deferred(int device, uint64_t mark);

// Pending (unread) checks of `device`, for tests.
int cuda_pending_checks(int device);

}  // namespace sirs

// ------------------------------------------------------------ device side

#ifdef __CUDACC__
namespace sirs {

// Marks the check as failed. Every thread that finds a bad element may
// store: all store the same 1, so no atomic and no order is needed; volatile
// so that the store to host memory is always made.
__device__ __forceinline__ void device_check_fail(int32_t* flag) {
  *static_cast<volatile int32_t*>(flag) = 1;
}

}  // namespace sirs
#endif
