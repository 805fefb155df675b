// Deferred device checks (contract and design: kernels/cuda/deferred_check.h).
//
// Per device: a pinned host array of kMaxPendingChecks slots (pos, value),
// a free list of those slots, a pool of reusable events, and the FIFO of
// pending entries. One mutex guards all devices' queues; an entry's on_bad
// runs after the lock is released (it builds a message and throws).
// Like the stream and handles (context.cu), the queues are never destroyed:
// pinned memory and events would be freed after the driver's own teardown.
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
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "tensor/device.h"

namespace sirs {

namespace {

constexpr unsigned long long kNoBad = ~0ULL;

struct Slot {
  unsigned long long pos, value;
};

struct Entry {
  int slot;
  cudaEvent_t done;  // recorded after the copy into the slot
  DeferredCheckError on_bad;
};

struct DeviceChecks {
  Slot* slots = nullptr;  // [kMaxPendingChecks], pinned
  std::vector<int> free_slots;
  std::vector<cudaEvent_t> free_events;
  std::deque<Entry> pending;
};

std::mutex g_mutex;
std::vector<DeviceChecks*>* g_devices = new std::vector<DeviceChecks*>();  // never freed

// -1: not read yet; 0 / 1: off / on.
std::atomic<int> g_sync_checks{-1};

// The queue of `device`, created on first use. Caller holds g_mutex and
// has made `device` current (cuda_stream does with several GPUs).
DeviceChecks& checks_of(int device) {
  if (g_devices->size() <= static_cast<size_t>(device))
    g_devices->resize(static_cast<size_t>(device) + 1, nullptr);
  DeviceChecks*& d = (*g_devices)[static_cast<size_t>(device)];
  if (!d) {
    auto fresh = std::make_unique<DeviceChecks>();
    void* p = nullptr;
    SIRS_CUDA_CHECK(cudaHostAlloc(&p, sizeof(Slot) * kMaxPendingChecks, cudaHostAllocPortable));
    fresh->slots = static_cast<Slot*>(p);
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

void recycle(DeviceChecks& d, const Entry& e) {
  d.free_slots.push_back(e.slot);
  d.free_events.push_back(e.done);
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

// Reads pending entries of `device` in order: the first `must_wait` ones
// waiting for their copy, the rest only while finished. Returns with the
// first bad entry's on_bad moved into *bad (and the queue cleared), or
// with *bad empty. Caller holds g_mutex.
void read_pending(DeviceChecks& d, size_t must_wait, DeferredCheckError* bad, int64_t* pos,
                  int64_t* value) {
  for (size_t k = 0; !d.pending.empty(); ++k) {
    Entry& e = d.pending.front();
    if (k < must_wait) {
      SIRS_CUDA_CHECK(cudaEventSynchronize(e.done));
    } else {
      cudaError_t s = cudaEventQuery(e.done);
      if (s == cudaErrorNotReady) {
        cudaGetLastError();  // "not ready" is no error; keep it from being reported later
        return;
      }
      SIRS_CUDA_CHECK(s);
    }
    Slot got = d.slots[e.slot];
    recycle(d, e);
    if (got.pos != kNoBad) {
      *bad = std::move(e.on_bad);
      *pos = static_cast<int64_t>(got.pos);
      *value = static_cast<int64_t>(got.value);
      d.pending.pop_front();
      // Later checks ran on data this error invalidates: drop them.
      for (const Entry& rest : d.pending) recycle(d, rest);
      d.pending.clear();
      return;
    }
    d.pending.pop_front();
  }
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

void cuda_defer_check(const int64_t* record, int device, DeferredCheckError on_bad) {
  cudaStream_t stream = cuda_stream(device);  // makes `device` current with several GPUs
  if (cuda_sync_checks()) {
    // Debugging mode: earlier entries first (in order), then this one, read
    // back at once (a stream synchronisation).
    cuda_check_deferred(device, true);
    Slot got{};
    SIRS_CUDA_CHECK(
        cudaMemcpyAsync(&got, record, sizeof got, cudaMemcpyDeviceToHost, stream));
    SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (got.pos != kNoBad)
      fire(on_bad, static_cast<int64_t>(got.pos), static_cast<int64_t>(got.value),
           str_cat(" (checked on cuda:", device, ")"));
    return;
  }
  DeferredCheckError bad;
  int64_t pos = 0, value = 0;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    DeviceChecks& d = checks_of(device);
    // Retire what has finished; when the queue is still full, wait for its
    // oldest entry (the slot pool has kMaxPendingChecks slots).
    size_t must_wait = d.pending.size() >= static_cast<size_t>(kMaxPendingChecks)
                           ? d.pending.size() - kMaxPendingChecks + 1
                           : 0;
    read_pending(d, must_wait, &bad, &pos, &value);
    if (!bad) {
      Entry e;
      e.slot = d.free_slots.back();
      if (d.free_events.empty()) {
        cudaEvent_t ev;
        SIRS_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
        d.free_events.push_back(ev);
      }
      e.done = d.free_events.back();
      SIRS_CUDA_CHECK(cudaMemcpyAsync(&d.slots[e.slot], record, sizeof(Slot),
                                      cudaMemcpyDeviceToHost, stream));
      SIRS_CUDA_CHECK(cudaEventRecord(e.done, stream));
      d.free_slots.pop_back();
      d.free_events.pop_back();
      e.on_bad = std::move(on_bad);
      d.pending.push_back(std::move(e));
    }
  }
  // An earlier call's error; this call's check is not queued (its result
  // is invalid anyway: it ran after the bad one).
  if (bad) fire(bad, pos, value, deferred_note(device));
}

void cuda_check_deferred(int device, bool wait) {
  DeferredCheckError bad;
  int64_t pos = 0, value = 0;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    DeviceChecks* d = find_checks(device);
    if (!d || d->pending.empty()) return;
    read_pending(*d, wait ? d->pending.size() : 0, &bad, &pos, &value);
  }
  if (bad) fire(bad, pos, value, deferred_note(device));
}

int cuda_pending_checks(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  DeviceChecks* d = find_checks(device);
  return d ? static_cast<int>(d->pending.size()) : 0;
}

}  // namespace sirs
