// Training on CUDA follows training on the CPU: a tiny SIRS (ResNet-18
// width 8 CNN, skip-thoughts GRU, decoder with SSA and AMW — every op family
// of the engine) trained for 20 Adam steps from the same initial weights on
// the same batch, on both devices. The loss trajectories must agree step by
// step; the first step's outputs are compared first so a failure points at
// forward or backward. Skips visibly without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "layers/optim.h"
#include "models/losses.h"
#include "models/sirs.h"
#include "tests/cuda_util.h"

namespace sirs {
namespace {

SirsConfig tiny() {
  SirsConfig c;
  c.resnet_width = 8;
  c.num_classes = 3;
  c.embed_dim = 16;
  c.vocab_size = 24;
  c.word_dim = 8;
  c.hidden_dim = 16;
  c.gru_dropout = 0;  // dropout draws would differ in order between devices only if buggy; keep the run exact
  c.image_size = 32;
  return c;
}

struct Data {
  Tensor images, tokens, lengths, masks;
  Data to(Device d) const { return {images.to(d), tokens.to(d), lengths.to(d), masks.to(d)}; }
};

Data make_data(int64_t B) {
  Generator g(7);
  Data d;
  d.images = randn({B, 3, 32, 32}, DType::F32, &g);
  d.tokens = randint(1, 25, {B, 6}, DType::I64, &g);
  d.lengths = randint(2, 7, {B}, DType::I64, &g);
  for (int64_t i = 0; i < B; ++i)
    for (int64_t t = d.lengths.data<int64_t>()[i]; t < 6; ++t) d.tokens.data<int64_t>()[i * 6 + t] = 0;
  d.masks = randint(0, 3, {B, 32, 32}, DType::I64, &g);
  return d;
}

TEST(CudaTraining, TinySirsLossTrajectoryMatchesCpu) {
  SIRS_REQUIRE_CUDA();
  const SirsConfig cfg = tiny();
  Generator g1(11), g2(11);
  SirsModel cpu(cfg, &g1), gpu(cfg, &g2);
  gpu.to(Device::cuda());
  const Data dc = make_data(8), dg = dc.to(Device::cuda());
  AdamOptions ao;
  ao.lr = 1e-3;
  Adam opt_c(cpu.parameters(), ao), opt_g(gpu.parameters(), ao);

  for (int step = 0; step < 20; ++step) {
    opt_c.zero_grad();
    opt_g.zero_grad();
    SirsOutput oc = cpu.forward(dc.images, dc.tokens, dc.lengths);
    SirsOutput og = gpu.forward(dg.images, dg.tokens, dg.lengths);
    SirsLoss lc = sirs_loss(oc, dc.masks, Tensor());
    SirsLoss lg = sirs_loss(og, dg.masks, Tensor());
    if (step == 0) {
      test::expect_close_to(og.sims, oc.sims, 1e-4, 1e-5, "step 0 sims");
      test::expect_close_to(og.seg_logits, oc.seg_logits, 1e-4, 1e-5, "step 0 seg logits");
      test::expect_close_to(og.text_vec, oc.text_vec, 1e-4, 1e-5, "step 0 text vectors");
    }
    const double c_ir = lc.ir.item(), g_ir = lg.ir.item(), c_ss = lc.ss.item(), g_ss = lg.ss.item();
    std::printf("[trajectory] step %2d  loss_ir cpu %.6f cuda %.6f   loss_ss cpu %.6f cuda %.6f\n",
                step, c_ir, g_ir, c_ss, g_ss);
    // fp32 rounding differences grow with the steps; 1e-3 relative over 20
    // steps is far below any real divergence (a wrong gradient moves the
    // loss by percent within a few steps).
    EXPECT_NEAR(g_ir, c_ir, 1e-3 * std::fabs(c_ir) + 1e-5) << "retrieval loss, step " << step;
    EXPECT_NEAR(g_ss, c_ss, 1e-3 * std::fabs(c_ss) + 1e-5) << "segmentation loss, step " << step;
    lc.total.backward();
    lg.total.backward();
    if (step == 0) {
      auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
      ASSERT_EQ(pc.size(), pg.size());
      for (size_t i = 0; i < pc.size(); ++i)
        if (pc[i].second.grad().defined())
          test::expect_close_to(pg[i].second.grad(), pc[i].second.grad(), 1e-3, 1e-5,
                                "step 0 gradient of " + pc[i].first);
    }
    opt_c.step();
    opt_g.step();
  }
}

}  // namespace
}  // namespace sirs
