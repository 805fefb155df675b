// Deferred device checks (contract and design: kernels/cuda/deferred_check.h).
//
// Per device: kMaxPendingChecks int32 flags in mapped pinned host memory, a
// free list of them, and the FIFO of pending entries, each with the
// sequence number of its registration (for cuda_deferred_mark). One mutex
// guards all devices' queues. Nothing that waits for the device, copies
// indices back, runs on_bad or frees an index tensor runs under it.
// Like the stream and handles (context.cu), the queues are never destroyed:
// pinned memory would be freed after the driver's own teardown.
//
// A flag goes back to the free list only when its kernel has finished
// (read after a stream synchronisation) or never ran (the launch threw),
// so the host's reset to 0 never races with a kernel's store of 1.
//
// Tests: make test GTEST_FILTER='CudaDeferred*:CudaIndex*:CudaEmbedding*:CudaCrossEntropy*'
#include "kernels/cuda/deferred_check.h"

#include <cuda_runtime.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "tensor/device.h"

namespace sirs {

namespace {

struct Entry {
  int slot = -1;
  uint64_t seq = 0;  // registration number on its device
  DeferredIndexCheck check;
};

struct DeviceChecks {
  volatile int32_t* host_flags = nullptr;  // [kMaxPendingChecks], mapped pinned
  int32_t* dev_flags = nullptr;            // the same flags' device addresses
  std::vector<int> free_slots;
  std::deque<Entry> pending;
  uint64_t registered = 0;  // entries queued so far: the next entry's seq
};

std::mutex g_mutex;
std::vector<DeviceChecks*>* g_devices = new std::vector<DeviceChecks*>();  // never freed

// -1: not read yet; 0 / 1: off / on.
std::atomic<int> g_sync_checks{-1};

// The queue of `device`, created on first use. Caller holds g_mutex and
// has made `device` current (cuda_stream does with several GPUs), so the
// flags are mapped into that device's address space. The object never
// moves or dies, so a pointer to it stays valid after the lock is released.
DeviceChecks& checks_of(int device) {
  if (g_devices->size() <= static_cast<size_t>(device))
    g_devices->resize(static_cast<size_t>(device) + 1, nullptr);
  DeviceChecks*& d = (*g_devices)[static_cast<size_t>(device)];
  if (!d) {
    auto fresh = std::make_unique<DeviceChecks>();
    void* host = nullptr;
    SIRS_CUDA_CHECK(cudaHostAlloc(&host, sizeof(int32_t) * kMaxPendingChecks,
                                  cudaHostAllocMapped | cudaHostAllocPortable));
    std::memset(host, 0, sizeof(int32_t) * kMaxPendingChecks);
    void* dev = nullptr;
    SIRS_CUDA_CHECK(cudaHostGetDevicePointer(&dev, host, 0));
    fresh->host_flags = static_cast<volatile int32_t*>(host);
    fresh->dev_flags = static_cast<int32_t*>(dev);
    for (int i = kMaxPendingChecks - 1; i >= 0; --i) fresh->free_slots.push_back(i);
    d = fresh.release();
  }
  return *d;
}

// The queue of `device` if it exists. Caller holds g_mutex.
DeviceChecks* find_checks(int device) {
  if (device < 0 || static_cast<size_t>(device) >= g_devices->size()) return nullptr;
  return (*g_devices)[static_cast<size_t>(device)];
}

std::string deferred_note(int device) {
  return str_cat(" (checked on cuda:", device,
                 " without waiting; reported at a later synchronisation, so an earlier call"
                 " caused it; SIRS_CUDA_SYNC_CHECKS=1 reports it at the call)");
}

[[noreturn]] void fire(const DeferredCheckError& on_bad, int64_t pos, int64_t value,
                       const std::string& note) {
  on_bad(pos, value, note);
  throw DeviceError(str_cat("a device check found element ", pos, " = ", value, " invalid", note));
}

// A check whose flag read 1: copies its indices back (on the stream, after
// everything queued; not through cuda_copy, which would come back to the
// queue), finds the first invalid element by the CPU's rule and throws its
// error.
[[noreturn]] void report(const DeferredIndexCheck& c, int device, const std::string& note) {
  std::vector<int64_t> host(static_cast<size_t>(c.n > 0 ? c.n : 0));
  if (!host.empty()) {
    cudaStream_t stream = cuda_stream(device);
    SIRS_CUDA_CHECK(cudaMemcpyAsync(host.data(), c.idx, host.size() * sizeof(int64_t),
                                    cudaMemcpyDeviceToHost, stream));
    SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  for (int64_t j = 0; j < c.n; ++j) {
    int64_t v = host[static_cast<size_t>(j)];
    if (c.has_ignore && v == c.ignore) continue;
    if (v < c.lo || v >= c.hi) fire(c.on_bad, j, v, note);
  }
  throw IndexError(str_cat(c.op, ": a device check found an index outside [", c.lo, ", ", c.hi,
                           "), but none of the ", c.n,
                           " indices is outside it when read back (changed in place since the "
                           "call?)",
                           note));
}

// Takes `slot` back into the free list unless released; for the window
// between taking a flag and queuing its entry.
struct SlotHold {
  DeviceChecks* d;
  int slot;
  ~SlotHold() {
    if (slot < 0) return;
    std::lock_guard<std::mutex> lock(g_mutex);
    d->free_slots.push_back(slot);
  }
};

// Waits for the stream of `device` and reads the entries queued before the
// wait.
void synchronize_and_check(int device, cudaStream_t stream) {
  uint64_t mark = cuda_deferred_mark(device);
  SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
  cuda_check_deferred(device, mark);
}

}  // namespace

bool cuda_sync_checks() {
  int v = g_sync_checks.load();
  if (v < 0) {
    const char* env = std::getenv("SIRS_CUDA_SYNC_CHECKS");
    int from_env = env && *env && std::strcmp(env, "0") != 0 ? 1 : 0;
    // A set_cuda_sync_checks racing with this first read wins.
    g_sync_checks.compare_exchange_strong(v, from_env);
    v = g_sync_checks.load();
  }
  return v == 1;
}

void set_cuda_sync_checks(bool on) { g_sync_checks.store(on ? 1 : 0); }

void cuda_checked_launch(int device, DeferredIndexCheck check,
                         const std::function<void(int32_t* flag)>& launch) {
  cudaStream_t stream = cuda_stream(device);  // makes `device` current with several GPUs
  const bool sync = cuda_sync_checks();
  // Debugging mode: earlier entries (queued before it was turned on) first,
  // in order.
  if (sync && cuda_pending_checks(device) > 0) synchronize_and_check(device, stream);
  SlotHold hold{nullptr, -1};
  for (;;) {
    uint64_t mark = 0;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      DeviceChecks& d = checks_of(device);
      hold.d = &d;
      if (!d.free_slots.empty()) {
        hold.slot = d.free_slots.back();
        d.free_slots.pop_back();
        d.host_flags[hold.slot] = 0;
        break;
      }
      mark = d.registered;
    }
    // Every flag is in use (kMaxPendingChecks checked calls without a host
    // synchronisation): wait for their kernels and read them, which may
    // throw an earlier call's error.
    SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
    cuda_check_deferred(device, mark);
  }
  // The 0 must be in memory before the kernel can store its 1. The launch
  // itself ends in a write the GPU sees only after this one on x86; the
  // fence makes it so on every host.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  launch(hold.d->dev_flags + hold.slot);
  if (sync) {
    SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (hold.d->host_flags[hold.slot] != 0)
      report(check, device, str_cat(" (checked on cuda:", device, ")"));
    return;  // hold frees the flag
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  Entry e;
  e.slot = hold.slot;
  e.seq = hold.d->registered++;
  e.check = std::move(check);
  hold.d->pending.push_back(std::move(e));
  hold.slot = -1;  // the queue owns the flag now
}

uint64_t cuda_deferred_mark(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  DeviceChecks* d = find_checks(device);
  return d ? d->registered : 0;
}

void cuda_check_deferred(int device, uint64_t mark) {
  // Declared before the lock: retired entries release their index
  // tensors (the allocator's lock) after g_mutex is released.
  std::vector<Entry> done;
  std::optional<Entry> bad;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    DeviceChecks* d = find_checks(device);
    if (!d) return;
    while (!d->pending.empty() && d->pending.front().seq < mark) {
      Entry e = std::move(d->pending.front());
      d->pending.pop_front();
      d->free_slots.push_back(e.slot);
      if (d->host_flags[e.slot] != 0) {
        bad = std::move(e);
        // Later checks before the mark ran on data this error invalidates:
        // drop them (their kernels have finished, so their flags are free).
        // Entries queued after the mark (another thread's, maybe still
        // running) stay.
        while (!d->pending.empty() && d->pending.front().seq < mark) {
          d->free_slots.push_back(d->pending.front().slot);
          done.push_back(std::move(d->pending.front()));
          d->pending.pop_front();
        }
        break;
      }
      done.push_back(std::move(e));
    }
  }
  done.clear();
  if (bad) report(bad->check, device, deferred_note(device));
}

int cuda_pending_checks(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  DeviceChecks* d = find_checks(device);
  return d ? static_cast<int>(d->pending.size()) : 0;
}

}  // namespace sirs
