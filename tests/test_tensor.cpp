// Tensor basics: creation, views and strides, copies, dtypes, printing,
// random streams and the error messages of misuse.
#include <gtest/gtest.h>

#include <cmath>

#include "tensor/tensor.h"

using namespace sirs;

TEST(Tensor, CreationAndMetadata) {
  Tensor t = zeros({2, 3, 4});
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  EXPECT_EQ(full({2}, 3.5, DType::F64).to_vector(), (std::vector<double>{3.5, 3.5}));
  EXPECT_EQ(arange(5).to_vector(), (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(1, 2, 0.25).to_vector(), (std::vector<double>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(ones({2, 2}, DType::I64).to_vector(), (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(scalar_tensor(7).item(), 7.0);
}

TEST(Tensor, ViewsShareStorageAndStrides) {
  Tensor t = arange(24).reshape({2, 3, 4});
  Tensor p = t.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.storage().get(), t.storage().get());
  // p[1, 1, 2] = t[1, 2, 1] = 12 + 8 + 1
  Tensor c = p.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector()[1 * 6 + 1 * 3 + 2], 21.0);

  Tensor n = t.narrow(2, 1, 2);  // [2, 3, 2]
  EXPECT_EQ(n.offset(), 1);
  EXPECT_EQ(n.to_vector(), (std::vector<double>{1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}));
  Tensor s = t.slice(1, 0, 3, 2);  // rows 0 and 2
  EXPECT_EQ(s.shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(s.to_vector()[4], 8.0);
  EXPECT_EQ(t.select(0, 1).shape(), (Shape{3, 4}));
  EXPECT_EQ(t.select(0, -1).to_vector()[0], 12.0);

  Tensor e = arange(3).reshape({3, 1}).expand({3, 4});
  EXPECT_EQ(e.strides(), (Shape{1, 0}));
  EXPECT_EQ(e.to_vector(), (std::vector<double>{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
  EXPECT_EQ(e.unsqueeze(0).shape(), (Shape{1, 3, 4}));
  EXPECT_EQ(zeros({1, 3, 1}).squeeze().shape(), (Shape{3}));
  EXPECT_EQ(zeros({1, 3, 1}).squeeze(2).shape(), (Shape{1, 3}));
  EXPECT_EQ(t.flatten(1).shape(), (Shape{2, 12}));
  EXPECT_EQ(t.reshape({-1, 4}).shape(), (Shape{6, 4}));
}

TEST(Tensor, ReshapeViewsWhenPossibleAndCopiesOtherwise) {
  Tensor t = arange(12).reshape({3, 4});
  Tensor v = t.view({2, 6});
  EXPECT_EQ(v.storage().get(), t.storage().get());
  Tensor tt = t.transpose(0, 1);  // [4, 3] non-contiguous
  EXPECT_THROW(tt.view({12}), ShapeError);
  Tensor r = tt.reshape({12});
  EXPECT_NE(r.storage().get(), t.storage().get());
  EXPECT_EQ(r.to_vector()[1], 4.0);
  // Splitting a dim of a transposed view is still a view.
  Tensor sp = tt.view({2, 2, 3});
  EXPECT_EQ(sp.storage().get(), t.storage().get());
}

TEST(Tensor, CloneAndDtypeConversion) {
  Tensor t = from_vector({1.5, -2.7, 3.2}, {3});
  Tensor c = t.clone();
  EXPECT_NE(c.storage().get(), t.storage().get());
  EXPECT_EQ(t.to(DType::I64).to_vector(), (std::vector<double>{1, -2, 3}));
  EXPECT_EQ(t.to(DType::F64).dtype(), DType::F64);
  Tensor b = t.to(DType::BF16);
  EXPECT_EQ(b.dtype(), DType::BF16);
  EXPECT_NEAR(b.to_vector()[1], -2.7, 0.02);
  Tensor h = t.to(DType::F16);
  EXPECT_NEAR(h.to_vector()[2], 3.2, 0.002);
  EXPECT_EQ(from_vector({300}, {1}).to(DType::U8).dtype(), DType::U8);
  // Floating -> integer: truncate into int64, then wrap (defined, and the
  // same on CUDA: tests/test_cuda_runtime.cpp).
  EXPECT_EQ(from_vector({-1.5, 300.7, 255.9, -256.2}, {4}).to(DType::U8).to_vector(),
            (std::vector<double>{255, 44, 255, 0}));
  EXPECT_EQ(from_vector({-1.5, 300.7}, {2}, DType::F32).to(DType::I32).to_vector(),
            (std::vector<double>{-1, 300}));
  EXPECT_EQ(from_vector({-3.0}, {1}).to(DType::BF16).to(DType::U8).to_vector(),
            (std::vector<double>{253}));
}

TEST(Tensor, HalfAndBFloat16Rounding) {
  EXPECT_EQ(Half::from_float(1.0f).bits, 0x3c00);
  EXPECT_EQ(Half::from_float(65504.0f).bits, 0x7bff);
  EXPECT_EQ(Half::from_float(1e6f).bits, 0x7c00);  // overflow to inf
  EXPECT_EQ(Half::from_float(-2.0f).bits, 0xc000);
  EXPECT_FLOAT_EQ(Half{0x0001}.to_float(), 5.9604645e-08f);  // smallest subnormal
  EXPECT_EQ(Half::from_float(5.9604645e-08f).bits, 0x0001);
  EXPECT_FLOAT_EQ(Half{0x3555}.to_float(), 0.33325195f);
  EXPECT_EQ(BFloat16::from_float(1.0f).bits, 0x3f80);
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties to even.
  EXPECT_EQ(BFloat16::from_float(1.00390625f).bits, 0x3f80);
  EXPECT_EQ(BFloat16::from_float(1.01171875f).bits, 0x3f82);
}

TEST(Tensor, RandomStreamsAreSeeded) {
  Generator g1(42), g2(42), g3(43);
  Tensor a = rand({1000}, {}, &g1), b = rand({1000}, {}, &g2), c = rand({1000}, {}, &g3);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), c.to_vector());
  // Draws advance the stream: the next draw differs from the first.
  EXPECT_NE(rand({1000}, {}, &g1).to_vector(), a.to_vector());

  Generator g(7);
  std::vector<double> u = rand({20000}, DType::F64, &g).to_vector();
  double mean = 0;
  for (double v : u) {
    ASSERT_GE(v, 0.0);
    ASSERT_LT(v, 1.0);
    mean += v;
  }
  EXPECT_NEAR(mean / u.size(), 0.5, 0.01);

  std::vector<double> z = randn({20000}, DType::F64, &g).to_vector();
  double m = 0, sq = 0;
  for (double v : z) m += v;
  m /= z.size();
  for (double v : z) sq += (v - m) * (v - m);
  EXPECT_NEAR(m, 0.0, 0.03);
  EXPECT_NEAR(std::sqrt(sq / z.size()), 1.0, 0.03);

  std::vector<double> bern = bernoulli({20000}, 0.3, DType::F64, &g).to_vector();
  double ones_count = 0;
  for (double v : bern) ones_count += v;
  EXPECT_NEAR(ones_count / bern.size(), 0.3, 0.015);

  std::vector<double> ri = randint(-3, 4, {5000}, DType::I64, &g).to_vector();
  std::vector<int> hist(7, 0);
  for (double v : ri) {
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 4);
    hist[static_cast<int>(v) + 3]++;
  }
  for (int h : hist) EXPECT_GT(h, 600);
}

TEST(Tensor, GeneratorStateRoundTrips) {
  Generator g(99);
  rand({10}, {}, &g);
  uint64_t seed = g.seed(), off = g.offset();
  Tensor next = randn({17}, {}, &g);
  Generator h;
  h.set_state(seed, off);
  EXPECT_EQ(randn({17}, {}, &h).to_vector(), next.to_vector());
}

TEST(Tensor, PrintingIsReadable) {
  Tensor t = from_vector({1, 2.5, -3, 4}, {2, 2});
  std::string s = t.str();
  EXPECT_NE(s.find("[[1, 2.5],"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=[2, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("dtype=float32"), std::string::npos) << s;
  Tensor big = arange(100);
  EXPECT_NE(big.str().find("..."), std::string::npos);
  EXPECT_EQ(Tensor().str(), "Tensor(undefined)");
}

TEST(Tensor, MisuseThrowsTypedErrorsNamingShapes) {
  Tensor t = zeros({2, 3});
  try {
    t.reshape({4, 2});
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(t.permute({0, 0}), ShapeError);
  EXPECT_THROW(t.narrow(1, 2, 2), IndexError);
  EXPECT_THROW(t.size(5), IndexError);
  EXPECT_THROW(t.expand({4, 3}), ShapeError);
  EXPECT_THROW(t.data<double>(), DTypeError);
  EXPECT_THROW(t.item(), ShapeError);
  EXPECT_THROW(Device::parse("gpu0"), ValueError);
  EXPECT_THROW(Tensor().shape(), ValueError);
  EXPECT_THROW(bernoulli({2}, 1.5), ValueError);
  EXPECT_EQ(Device::parse("cuda:1").str(), "cuda:1");
}

TEST(Tensor, CudaRoundTripWhenAvailable) {
  if (!cuda_available()) GTEST_SKIP() << "no usable CUDA device: " << cuda_status();
  Tensor t = arange(10, DType::F32);
  Tensor d = t.to(Device::cuda(0));
  EXPECT_TRUE(d.device().is_cuda());
  EXPECT_EQ(d.to(Device::cpu()).to_vector(), t.to_vector());
  EXPECT_EQ(full({3}, 2.0, Options(DType::F32, Device::cuda(0))).to_vector(),
            (std::vector<double>{2, 2, 2}));
}
