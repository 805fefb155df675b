// One main for every bench/bench_<op>.cpp.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
