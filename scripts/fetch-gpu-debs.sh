#!/usr/bin/env bash
# Downloads (no install) the Debian packages sirs builds and runs against,
# runtime libraries included, into DIR (default .gpu-debs, ignored by git),
# for a GPU machine that has no network and none of them installed:
# scripts/gpu-check.sh --debs DIR unpacks them into a private prefix there.
# Run on a Debian bookworm machine with network (any of ours).
#   scripts/fetch-gpu-debs.sh [DIR]
set -euo pipefail
dir=${1:-.gpu-debs}
mkdir -p "$dir"
# -dev packages the build needs, and the shared libraries the binaries load
# that a non-Debian image may lack (from ldd of build/sirs_tests and
# build/sirs_bench, mapped to packages with dpkg -S).
pkgs="libopenblas-pthread-dev libopenblas0-pthread libopenblas-dev libgfortran5 libquadmath0
      libgtest-dev libgmock-dev libbenchmark-dev libbenchmark1debian
      libtiff-dev libtiff6 libtiffxx6 libdeflate0 libjbig0 libjpeg62-turbo liblerc4 libwebp7 libzstd1 liblzma5
      libstb-dev libstb0 libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev zlib1g-dev zlib1g"
cd "$dir"
apt-get download $pkgs
ls -1 *.deb | wc -l | xargs echo "debs in $dir:"
du -sh .
