// A per-op wall-clock profile of training steps (`sirs bench`). Off by
// default; while off every hook is one relaxed atomic load.
//
// Forward: record() (autograd/engine.cpp) calls on_record(name) when an op
// attaches its backward; the time since the previous op's record (or since
// mark()) is charged to that op, so glue code between ops counts towards the
// next op. Only ops that record (inputs requiring grad) are seen. Backward:
// each node's apply() is timed under "<name> backward". Not thread-safe
// against concurrent graph building (one training step at a time).
//
//   profiler::set_enabled(true); profiler::reset();
//   ... steps ...
//   for (auto& e : profiler::table()) ...
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CliEval*'
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace sirs::profiler {

bool enabled();
void set_enabled(bool on);
// CUDA work is asynchronous: with a device set (>= 0), every clock reading
// of the profiler first waits for that device's stream, so each op is
// charged the time its kernels took. -1 (the default) never waits. The waits
// slow a step down: time steps unprofiled, then profile separate steps.
void set_sync_device(int device);
// Clears the table and sets the mark to now.
void reset();
// Sets the mark to now (call before a step's forward and before the optimizer).
void mark();
// Charges (now - mark) to `name` and moves the mark; no-op when disabled.
void on_record(const char* name);
// Adds one call of `ms` milliseconds to `name`; moves the mark to now.
void add(const std::string& name, double ms);

struct Entry {
  std::string op;
  int64_t calls = 0;
  double ms = 0;  // total
};
// Entries by descending total time.
std::vector<Entry> table();

// Times its scope under `name` when the profiler is enabled.
class ScopedTimer {
 public:
  explicit ScopedTimer(std::string name);
  ~ScopedTimer();
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  bool on_;
  std::string name_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace sirs::profiler
