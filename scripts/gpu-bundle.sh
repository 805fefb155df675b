#!/usr/bin/env bash
# Builds sirs here for a GPU machine (portable x86-64-v3 host code, CUDA
# sm_90 + PTX) and packs the three binaries with the shared libraries they
# load from Debian packages (OpenBLAS, libtiff, yaml-cpp, stb, Google
# Benchmark, ...) into DIR/bundle.tar.xz (default .gpu-bundle, ignored by
# git). On the GPU machine `scripts/gpu-check.sh --prebuilt DIR` runs them
# without building there; cuDNN, cuBLAS and the CUDA runtime are the GPU
# machine's own (its toolkit or PyTorch's wheels), not packed.
#   scripts/gpu-bundle.sh [DIR]
set -euo pipefail
dir=${1:-.gpu-bundle}
build="build-dev"
make -j"$(nproc)" BUILD=$build ARCH_FLAGS=-march=x86-64-v3 \
  $build/sirs $build/sirs_tests $build/sirs_bench
stage="$dir/stage"
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib"
for b in sirs sirs_tests sirs_bench; do
  cp "$build/$b" "$stage/bin/"
  strip "$stage/bin/$b"
done
# Every library the binaries load except glibc, the compiler runtime and
# CUDA's (those the GPU machine has in matching versions).
ldd "$build/sirs_tests" "$build/sirs_bench" | awk '/=> \//{print $3}' | sort -u |
  grep -v -E '/(libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\+\+)\.so|ld-linux|cuda|cudnn|cublas|cudart' |
  while read -r lib; do cp -L "$lib" "$stage/lib/"; done
tar -C "$stage" -cJf "$dir/bundle.tar.xz" .
rm -rf "$stage"
ls -la "$dir/bundle.tar.xz"
