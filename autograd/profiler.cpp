// Per-op profile (see autograd/profiler.h).
#include "autograd/profiler.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "tensor/device.h"

namespace sirs::profiler {

namespace {
using Clock = std::chrono::steady_clock;
std::atomic<bool> g_on{false};
std::mutex g_mu;
std::map<std::string, Entry> g_table;
Clock::time_point g_mark = Clock::now();
std::atomic<int> g_sync_device{-1};

// Now, after the GPU (when one is being profiled) has finished what was queued.
Clock::time_point now_synced() {
  int d = g_sync_device.load(std::memory_order_relaxed);
  if (d >= 0) cuda_synchronize(d);
  return Clock::now();
}

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

void add_locked(const std::string& name, double ms) {
  Entry& e = g_table[name];
  e.op = name;
  e.calls += 1;
  e.ms += ms;
}
}  // namespace

bool enabled() { return g_on.load(std::memory_order_relaxed); }
void set_enabled(bool on) { g_on.store(on); }
void set_sync_device(int device) { g_sync_device.store(device); }

void reset() {
  std::lock_guard<std::mutex> lk(g_mu);
  g_table.clear();
  g_mark = Clock::now();
}

void mark() {
  const Clock::time_point now = enabled() ? now_synced() : Clock::now();
  std::lock_guard<std::mutex> lk(g_mu);
  g_mark = now;
}

void on_record(const char* name) {
  if (!enabled()) return;
  const Clock::time_point now = now_synced();
  std::lock_guard<std::mutex> lk(g_mu);
  add_locked(name, ms_since(g_mark, now));
  g_mark = now;
}

void add(const std::string& name, double ms) {
  std::lock_guard<std::mutex> lk(g_mu);
  add_locked(name, ms);
  g_mark = Clock::now();
}

std::vector<Entry> table() {
  std::lock_guard<std::mutex> lk(g_mu);
  std::vector<Entry> out;
  for (const auto& kv : g_table) out.push_back(kv.second);
  std::stable_sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.ms > b.ms; });
  return out;
}

ScopedTimer::ScopedTimer(std::string name) : on_(enabled()) {
  if (on_) {
    name_ = std::move(name);
    t0_ = now_synced();
  }
}

ScopedTimer::~ScopedTimer() {
  if (on_) add(name_, ms_since(t0_, now_synced()));
}

}  // namespace sirs::profiler
