// Per-op profile (see autograd/profiler.h).
#include "autograd/profiler.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

namespace sirs::profiler {

namespace {
using Clock = std::chrono::steady_clock;
std::atomic<bool> g_on{false};
std::mutex g_mu;
std::map<std::string, Entry> g_table;
Clock::time_point g_mark = Clock::now();

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

void reset() {
  std::lock_guard<std::mutex> lk(g_mu);
  g_table.clear();
  g_mark = Clock::now();
}

void mark() {
  std::lock_guard<std::mutex> lk(g_mu);
  g_mark = Clock::now();
}

void on_record(const char* name) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lk(g_mu);
  const Clock::time_point now = Clock::now();
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
    t0_ = Clock::now();
  }
}

ScopedTimer::~ScopedTimer() {
  if (on_) add(name_, ms_since(t0_, Clock::now()));
}

}  // namespace sirs::profiler
