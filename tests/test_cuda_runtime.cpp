// The CUDA runtime: checking macro, caching allocator (reuse, peak
// accounting, out-of-memory message), host<->device copies, strided copy
// with dtype conversion, fill. Tests that need a GPU skip visibly without one;
// the rest run everywhere.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "tensor/cuda_allocator.h"
#include "tensor/tensor.h"
#include "tests/cuda_util.h"
#include "tests/test_util.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/check.h"
#endif

namespace sirs {
namespace {

using test::expect_close_to;
using test::expect_error;

TEST(CudaRuntime, SizeClasses) {
  EXPECT_EQ(cuda_size_class(0), 512u);
  EXPECT_EQ(cuda_size_class(1), 512u);
  EXPECT_EQ(cuda_size_class(512), 512u);
  EXPECT_EQ(cuda_size_class(513), 1024u);
  EXPECT_EQ(cuda_size_class(size_t{1} << 20), size_t{1} << 20);
  // Above 1 MiB: eight classes per power of two.
  EXPECT_EQ(cuda_size_class((size_t{1} << 20) + 1), (size_t{1} << 20) + (size_t{1} << 17));
  EXPECT_EQ(cuda_size_class(size_t{3} << 20), size_t{3} << 20);
  EXPECT_EQ(cuda_size_class((size_t{100} << 20) + 5), size_t{104} << 20);
  for (size_t n : {size_t{1000}, size_t{1} << 21, (size_t{7} << 24) + 3, size_t{123456789}}) {
    EXPECT_GE(cuda_size_class(n), n);
    EXPECT_LE(static_cast<double>(cuda_size_class(n)), 1.125 * static_cast<double>(n) + 512);
  }
}

TEST(CudaRuntime, PrecisionSetting) {
  EXPECT_EQ(parse_math_precision("fp32"), MathPrecision::FP32);
  EXPECT_EQ(parse_math_precision("tf32"), MathPrecision::TF32);
  expect_error<ValueError>([] { parse_math_precision("fp8"); }, {"fp8", "fp32", "tf32"});
  EXPECT_EQ(math_precision(), MathPrecision::FP32);  // the default
}

TEST(CudaRuntime, WithoutGpuTheCpuIsUsed) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is usable here";
  EXPECT_NE(cuda_status().find("using the CPU"), std::string::npos) << cuda_status();
  expect_error<DeviceError>([] { zeros({2, 3}, Options(DType::F32, Device::cuda())); },
                            {"cuda"});
  // The CPU path is untouched.
  EXPECT_EQ(zeros({2}, DType::F32).device().str(), "cpu");
}

#ifdef SIRS_WITH_CUDA
// SIRS_CUDNN_LOG=1 makes each cuDNN algorithm choice print a line with
// Find's candidates (a child `sirs bench` inherits the variable; this
// process never reads it, because it runs no convolution in between).
TEST(CudaRuntime, CudnnLogPrintsEachAlgorithmChoice) {
  SIRS_REQUIRE_CUDA();
  test::TempDir dir("cudnnlog");
  const test::SirsRun synth = test::run_sirs("synth --out " + dir.str() + " --images 8 --seed 1");
  ASSERT_EQ(synth.status, 0) << synth.out;
  const std::string bench = "bench --config " + dir.file("sirs.yaml") +
                            " --device cuda --batch 4 --steps 1 --warmup 0";
  ::setenv("SIRS_CUDNN_LOG", "1", 1);
  const test::SirsRun on = test::run_sirs(bench);
  ::unsetenv("SIRS_CUDNN_LOG");
  const test::SirsRun off = test::run_sirs(bench);
  ASSERT_EQ(on.status, 0) << on.out;
  ASSERT_EQ(off.status, 0) << off.out;
  for (const char* pass : {"forward", "backward-data", "backward-filter"})
    EXPECT_NE(on.out.find(std::string("sirs: cudnn conv2d ") + pass + " x ["), std::string::npos)
        << pass << " missing from:\n" << on.out;
  EXPECT_NE(on.out.find("candidates: [algo "), std::string::npos) << on.out;
  EXPECT_EQ(off.out.find("sirs: cudnn"), std::string::npos) << off.out;
}

TEST(CudaRuntime, CheckMacroNamesFileLineCallAndLibraryError) {
  expect_error<DeviceError>([] { SIRS_CUDA_CHECK(cudaErrorInvalidValue); },
                            {"test_cuda_runtime.cpp:", "cudaErrorInvalidValue",
                             cudaGetErrorString(cudaErrorInvalidValue)});
  expect_error<DeviceError>([] { SIRS_CUDA_CHECK(CUBLAS_STATUS_NOT_INITIALIZED); },
                            {"cuBLAS error", cublasGetStatusString(CUBLAS_STATUS_NOT_INITIALIZED)});
  expect_error<DeviceError>([] { SIRS_CUDA_CHECK(CUDNN_STATUS_BAD_PARAM); },
                            {"cuDNN error", cudnnGetErrorString(CUDNN_STATUS_BAD_PARAM)});
  SIRS_CUDA_CHECK(cudaSuccess);  // no throw
}
#endif

TEST(CudaRuntime, AllocatorReusesFreedBlocks) {
  SIRS_REQUIRE_CUDA();
  cuda_empty_cache(0);
  CudaMemoryStats s0 = cuda_memory_stats(0);
  { Tensor a = empty({1000, 37}, Options(DType::F32, Device::cuda())); }
  CudaMemoryStats s1 = cuda_memory_stats(0);
  EXPECT_EQ(s1.device_mallocs, s0.device_mallocs + 1);
  EXPECT_EQ(s1.cached, cuda_size_class(1000 * 37 * 4));
  // Same size class again: served from the cache, no new cudaMalloc.
  { Tensor b = empty({37, 1000}, Options(DType::F32, Device::cuda())); }
  CudaMemoryStats s2 = cuda_memory_stats(0);
  EXPECT_EQ(s2.device_mallocs, s1.device_mallocs);
  EXPECT_EQ(s2.cache_hits, s1.cache_hits + 1);
  EXPECT_EQ(s2.in_use, s0.in_use);
  cuda_empty_cache(0);
  EXPECT_EQ(cuda_memory_stats(0).cached, 0u);
}

TEST(CudaRuntime, PeakAccounting) {
  SIRS_REQUIRE_CUDA();
  cuda_reset_peak(0);
  size_t base = cuda_memory_stats(0).in_use;
  EXPECT_EQ(cuda_memory_stats(0).peak, base);
  {
    Tensor a = empty({3 << 20}, Options(DType::U8, Device::cuda()));
    Tensor b = empty({5 << 20}, Options(DType::U8, Device::cuda()));
    EXPECT_EQ(cuda_memory_stats(0).in_use, base + (size_t{8} << 20));
  }
  EXPECT_EQ(cuda_memory_stats(0).in_use, base);
  EXPECT_EQ(cuda_memory_stats(0).peak, base + (size_t{8} << 20));
}

TEST(CudaRuntime, OutOfMemoryMessage) {
  SIRS_REQUIRE_CUDA();
  expect_error<DeviceError>(
      [] { empty({int64_t{1} << 50}, Options(DType::U8, Device::cuda())); },
      {"out of memory", "cuda:0", "requested 1125899906842624 bytes", "cached", "free of"});
  // The allocator still works afterwards.
  Tensor t = ones({4}, Options(DType::F32, Device::cuda()));
  EXPECT_EQ(t.to_vector(), std::vector<double>(4, 1.0));
}

TEST(CudaRuntime, HostDeviceCopiesRoundTrip) {
  SIRS_REQUIRE_CUDA();
  // Small (direct), and large (through the pinned staging buffers, several chunks).
  for (int64_t n : {int64_t{1}, int64_t{1000}, int64_t{5'000'003}}) {
    Tensor h = test::randn32({n}, static_cast<uint64_t>(n), false);
    Tensor d = h.to(Device::cuda());
    EXPECT_TRUE(d.device().is_cuda());
    Tensor back = d.to(Device::cpu());
    EXPECT_EQ(std::memcmp(back.raw_data(), h.raw_data(), static_cast<size_t>(n) * 4), 0) << n;
    Tensor d2 = d.clone();  // device -> device
    EXPECT_EQ(d2.to_vector(), h.to_vector()) << n;
  }
}

TEST(CudaRuntime, StridedCopyAndConversionMatchCpu) {
  SIRS_REQUIRE_CUDA();
  Tensor x = mul(test::randn32({3, 5, 7}, 1, false), 40.0);  // values well beyond +-1 for the integer casts
  Tensor xd = x.to(Device::cuda());
  // Views materialised on the device: permuted, stepped slice, broadcast.
  expect_close_to(xd.permute({2, 0, 1}).contiguous(), x.permute({2, 0, 1}).contiguous(), 0, 0,
                  "permute");
  expect_close_to(xd.slice(1, 1, 5, 2).contiguous(), x.slice(1, 1, 5, 2).contiguous(), 0, 0,
                  "slice step 2");
  expect_close_to(xd.narrow(2, 3, 1).expand({3, 5, 4}).contiguous(),
                  x.narrow(2, 3, 1).expand({3, 5, 4}).contiguous(), 0, 0, "expand");
  // Every dtype pair converts exactly as on the CPU (through a permuted source).
  for (DType a : {DType::F32, DType::F64, DType::I64, DType::I32, DType::U8, DType::BF16, DType::F16}) {
    Tensor ca = x.to(a), ga = xd.to(a);
    expect_close_to(ga, ca, 0, 0, std::string("to ") + dtype_name(a));
    for (DType b : {DType::F32, DType::F64, DType::I64, DType::I32, DType::U8, DType::BF16, DType::F16})
      expect_close_to(ga.permute({1, 2, 0}).to(b), ca.permute({1, 2, 0}).to(b), 0, 0,
                      std::string(dtype_name(a)) + " -> " + dtype_name(b));
  }
  // Accumulation (beta = 1) into a strided destination, from a broadcast source.
  Tensor dst_c = x.clone(), dst_g = xd.clone();
  Tensor src = test::randn32({5, 1}, 2, false);
  view::copy_into(dst_c.transpose(1, 2).transpose(1, 2), src, 1.0);
  view::copy_into(dst_g.transpose(1, 2).transpose(1, 2), src.to(Device::cuda()), 1.0);
  expect_close_to(dst_g, dst_c, 1e-7, 0, "accumulate");
  // Fill of a strided view.
  Tensor f_c = zeros({4, 6}, DType::F64), f_g = zeros({4, 6}, Options(DType::F64, Device::cuda()));
  view::fill(f_c.slice(1, 0, 6, 3), 2.5);
  view::fill(f_g.slice(1, 0, 6, 3), 2.5);
  expect_close_to(f_g, f_c, 0, 0, "fill");
}

}  // namespace
}  // namespace sirs
