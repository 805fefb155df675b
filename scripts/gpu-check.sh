#!/usr/bin/env bash
# The GPU check: one command for a GPU machine with no network access but
# PyTorch installed. It builds sirs with CUDA, runs the CUDA tests (the
# CPU-vs-CUDA parity suite, allocator tests, the CUDA training run), the CUDA
# benchmarks, times the same ops in PyTorch on the same GPU, runs
# `sirs bench --device cuda` on a small synthetic set, and prints a compact
# table last (op, shape, ours, baseline, ratio, target, pass/fail). Aim:
# under 8 minutes on an H100/H200 with 16 cores.
#
#   scripts/gpu-check.sh [--debs DIR | --prebuilt DIR] [--out DIR] [--arch 90] [--all-tests]
#
# --debs DIR   Debian packages written by scripts/fetch-gpu-debs.sh on a
#              machine with network: unpacked (dpkg -x) into a private prefix
#              and built against (make DEPS_ROOT=...). Needed where the image
#              lacks OpenBLAS, GoogleTest, Google Benchmark, libtiff, stb,
#              yaml-cpp and nlohmann-json (the GPU machines here do).
# --prebuilt DIR  skip the build: DIR/bundle.tar.xz from scripts/gpu-bundle.sh
#              (binaries built elsewhere for x86-64-v3 + sm_90, with the Debian
#              libraries they load); saves the device minutes of a build.
# --out DIR    where logs and JSON go (default gpu-check-out).
# GPU_CHECK_SUITES="A B": run only these test suites.
# GPU_CHECK_EXTRA="cmd": a shell command run last, also with --tests-only (see run_extra).
# GPU_CHECK_TEST_SECONDS (default 300): suites not started by then are
#              reported as not run, so the benchmarks and the table still come.
# --arch N     CUDA architecture (default 90: H100/H200).
# --all-tests  run the whole test suite, not only the CUDA tests (on a GPU
#              machine the CLI tests then train and evaluate on CUDA).
# --tests-only no benchmarks, no PyTorch timing.
# --sanitize   run the tests under compute-sanitizer memcheck (illegal and
#              misaligned accesses, leaks of device memory); much slower.
#
# cuDNN and cuBLAS are taken from the CUDA toolkit when it has them, else
# from PyTorch's pip wheels (nvidia-cudnn-cu*, nvidia-cublas-cu*).
# Exit status: 0 when the build and every test passed; the table's FAIL
# marks (performance targets) do not change it.
set -uo pipefail

debs="" prebuilt="" out="gpu-check-out" arch=90 all_tests=0 tests_only=0 sanitize=0
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) debs="$2"; shift 2 ;;
    --prebuilt) prebuilt="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --arch) arch="$2"; shift 2 ;;
    --all-tests) all_tests=1; shift ;;
    --tests-only) tests_only=1; shift ;;
    --sanitize) sanitize=1; shift ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
t0=$(date +%s)
stamp() { echo "== [$(($(date +%s) - t0)) s] $*"; }
status=0

stamp "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

# --- dependencies -----------------------------------------------------------
make_args=(BUILD=build-gpu CUDA_ARCH="$arch" JOBS="$(nproc)")
if [ -n "$debs" ]; then
  root=/tmp/sirs-deps
  rm -rf "$root" && mkdir -p "$root"
  for f in "$debs"/*.deb; do dpkg -x "$f" "$root" || { echo "gpu-check: cannot unpack $f"; exit 1; }; done
  # Absolute symlinks (libz.so -> /lib/...) must point into the prefix.
  find "$root" -type l | while read -r l; do
    t=$(readlink "$l")
    case "$t" in /*) [ -e "$root$t" ] && ln -sfn "$root$t" "$l" ;; esac
  done
  make_args+=(DEPS_ROOT="$root")
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  stamp "unpacked $(ls "$debs"/*.deb | wc -l) packages into $root"
fi

# cuDNN, cuBLAS and the CUDA runtime: the toolkit's, or PyTorch's pip wheels'.
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
cuda_home=$(dirname "$(dirname "$(readlink -f "$nvcc" 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")")
shim=/tmp/sirs-cuda-shim
rm -rf "$shim" && mkdir -p "$shim/include" "$shim/lib"
need_shim=0
[ -e "$cuda_home/include/cudnn.h" ] && [ -e "$cuda_home/lib64/libcublas.so" ] || need_shim=1
for pkg in cudnn cublas cuda_runtime; do
  d=$(python3 -c "import nvidia.$pkg as m; print(list(m.__path__)[0])" 2>/dev/null)
  if [ -n "$d" ] && [ -d "$d/lib" ]; then
    ln -sf "$d"/include/* "$shim/include/" 2>/dev/null
    for so in "$d"/lib/lib*.so*; do
      ln -sf "$so" "$shim/lib/"
      base=$(basename "$so"); ln -sf "$so" "$shim/lib/${base%%.so*}.so"
    done
    export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d/lib"
    echo "gpu-check: $pkg from $d"
  fi
done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$cuda_home/lib64"

if [ -n "$prebuilt" ]; then
  stamp "prebuilt binaries from $prebuilt/bundle.tar.xz"
  rm -rf /tmp/sirs-prebuilt && mkdir -p /tmp/sirs-prebuilt
  tar -C /tmp/sirs-prebuilt -xJf "$prebuilt/bundle.tar.xz" || { echo "gpu-check: cannot unpack the bundle"; exit 1; }
  bin=/tmp/sirs-prebuilt/bin
  export LD_LIBRARY_PATH="/tmp/sirs-prebuilt/lib:$LD_LIBRARY_PATH"
else
  [ -x "$nvcc" ] || { echo "gpu-check: nvcc not found"; exit 1; }
  [ "$need_shim" = 1 ] && make_args+=(CUDNN_HOME="$shim")
  stamp "build (${make_args[*]})"
  if ! make -j"$(nproc)" "${make_args[@]}" all >"$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    echo "gpu-check: BUILD FAILED (log: $out/build.log)"
    exit 1
  fi
  bin=./build-gpu
fi
ldd "$bin/sirs_tests" | grep -E "not found|cudnn|cublas|cudart" || true
"$bin/sirs" --version | head -3

# --- tests ------------------------------------------------------------------
# Tests read fixtures and golden files from this tree and run the `sirs`
# next to the test binary, wherever the binaries were built.
bin=$(cd "$bin" && pwd)
export SIRS_SOURCE_DIR="$PWD" SIRS_BUILD_DIR="$bin"
# One process per suite: a crash or a hang (a kernel that never returns)
# costs that suite only, and the log still shows every other suite.
if [ -n "${GPU_CHECK_SUITES:-}" ]; then
  suites=$GPU_CHECK_SUITES
elif [ "$all_tests" = 1 ]; then
  suites=$("$bin/sirs_tests" --gtest_list_tests | grep -E '^[A-Za-z]' | tr -d '.')
else
  suites=$("$bin/sirs_tests" --gtest_list_tests | grep -E '^(Cuda|GruCell)' | tr -d '.')
fi
stamp "tests: $(echo "$suites" | wc -w) suites"
: >"$out/tests.log"
tests_deadline=$(($(date +%s) + ${GPU_CHECK_TEST_SECONDS:-300}))
for suite in $suites; do
  if [ "$(date +%s)" -ge "$tests_deadline" ]; then
    echo "gpu-check: suite $suite not run (test time budget spent)" | tee -a "$out/tests.log"
    status=1
    continue
  fi
  if [ "$sanitize" = 1 ]; then
    timeout 120 compute-sanitizer --tool memcheck --error-exitcode 99 --print-limit 10 \
      "$bin/sirs_tests" --gtest_filter="$suite.*" >>"$out/tests.log" 2>&1
  else
    timeout 120 "$bin/sirs_tests" --gtest_filter="$suite.*" >>"$out/tests.log" 2>&1
  fi
  rc=$?
  if [ $rc -ne 0 ]; then
    status=1
    echo "gpu-check: suite $suite exited $rc$([ $rc = 124 ] && echo ' (timed out)')$([ $rc = 99 ] && echo ' (compute-sanitizer found errors)')" | tee -a "$out/tests.log"
  fi
done
grep -E '^\[parity\]' "$out/tests.log" >"$out/parity.txt" || true
grep -E '^\[  FAILED  \] [A-Za-z]+\.[A-Za-z]' "$out/tests.log" | sort -u | head -60
awk '/^tests: /{p+=$2; f+=$4; s+=$6} END{printf "tests: %d passed, %d failed, %d skipped (all suites)\n", p, f, s}' "$out/tests.log" | tee -a "$out/tests.log"

# GPU_CHECK_EXTRA: one more shell command, run last with the same binaries
# ($bin) and library path, its output in $out/extra.log (a one-off probe
# without a second device session; with --tests-only it runs after the tests).
run_extra() {
  if [ -n "${GPU_CHECK_EXTRA:-}" ]; then
    stamp "extra: $GPU_CHECK_EXTRA"
    eval "$GPU_CHECK_EXTRA" 2>&1 | tee "$out/extra.log"
  fi
}

if [ "$tests_only" = 1 ]; then
  run_extra
  stamp "done: status $status (logs in $out)"
  exit $status
fi

# --- benchmarks -------------------------------------------------------------
stamp "our CUDA benchmarks"
# SIRS_CUDNN_LOG: cuDNN's algorithm choices (with Find's timings) into the log.
SIRS_CUDNN_LOG=1 timeout 150 "$bin/sirs_bench" --benchmark_filter='^cuda/' \
  --benchmark_out="$out/ours.json" --benchmark_out_format=json >"$out/bench.log" 2>&1 \
  || echo "gpu-check: benchmarks exited $? (log: $out/bench.log)"
grep '^sirs: cudnn' "$out/bench.log" >"$out/cudnn_algos.txt" || true

stamp "PyTorch on the same GPU"
timeout 100 python3 scripts/bench_torch_cuda.py --out "$out/torch.json" >"$out/torch.log" 2>&1 \
  || echo "gpu-check: PyTorch timing exited $? (log: $out/torch.log)"

stamp "sirs bench --device cuda (synthetic, whole training steps)"
rm -rf /tmp/sirs-gpu-synth
"$bin/sirs" synth --out /tmp/sirs-gpu-synth --images 64 --seed 1 >/dev/null 2>&1 &&
  timeout 60 "$bin/sirs" bench --config /tmp/sirs-gpu-synth/sirs.yaml --device cuda --steps 10 \
    --warmup 3 --json "$out/sirs_bench_cuda.json" >"$out/sirs_bench.log" 2>&1
tail -25 "$out/sirs_bench.log" 2>/dev/null

# --- the table --------------------------------------------------------------
stamp "table"
python3 scripts/gpu_table.py --ours "$out/ours.json" --torch "$out/torch.json" \
  --tests "$out/tests.log" | tee "$out/table.txt"
run_extra
stamp "done: status $status (logs in $out)"
exit $status
