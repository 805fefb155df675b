// Batch / group / layer norm: values against PyTorch 1.13 (training and eval
// output, running statistics after three training steps, gradients),
// gradcheck in every mode with and without affine on odd sizes and
// non-contiguous inputs, and misuse errors.
//
// Expected numbers were produced with /usr/bin/python3 (torch 1.13), with
//   seq(shape, a, b) = torch.tensor([sin(a*i + b) for i in range(numel)], float64).reshape(shape)
//   w = 1 + 0.1 * seq((C,), 1.3, 0.2),  b = 0.05 * seq((C,), 0.9, 1.0)
//   dout = seq(x.shape, 0.23, 0.5)
// and the F.batch_norm / F.group_norm / F.layer_norm call given at each test.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/norm.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

Tensor affine_weight(const Shape& s) {
  Tensor t = seq(s, 1.3, 0.2);
  std::vector<double> v = t.to_vector();
  for (double& e : v) e = 1 + 0.1 * e;
  return from_vector(v, s, DType::F64);
}

Tensor affine_bias(const Shape& s) {
  std::vector<double> v = seq(s, 0.9, 1.0).to_vector();
  for (double& e : v) e *= 0.05;
  return from_vector(v, s, DType::F64);
}

// Compares every stride-th element of got (starting at 0) with want.
// Compares every stride-th element of got with want.
void expect_near_every(const std::vector<double>& got, const std::vector<double>& want, double tol,
                     size_t stride = 1) {
  ASSERT_EQ((got.size() + stride - 1) / stride, want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got[i * stride], want[i], tol) << "element " << i * stride;
}

template <class E>
void expect_error_mentions(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected an error";
  } catch (const E& e) {
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
  }
}

}  // namespace

// ------------------------------------------------------------------ batch norm

TEST(NormBatch, RunningStatisticsOverThreeStepsAndEvalMatchPyTorch) {
  // rm = zeros(3), rv = ones(3); for k in 0..2:
  //   F.batch_norm(seq((4,3,2), 0.37, k), rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
  // then F.batch_norm(seq((4,3,2), 0.37, 3), rm, rv, w, b, training=False, eps=1e-5).
  const std::vector<std::vector<double>> want_mean = {
      {0.009638995653, 0.02370730469, 0.0253752026},
      {0.03458540889, 0.04396460817, 0.03034755277},
      {0.04948667584, 0.04031280049, 0.0100527955}};
  const std::vector<std::vector<double>> want_var = {
      {0.94972214, 0.9560049621, 0.9571013429},
      {0.9122188077, 0.9157396854, 0.9106243566},
      {0.8739891713, 0.8726509727, 0.8720295115}};
  for (DType dt : {DType::F64, DType::F32}) {
    SCOPED_TRACE(dtype_name(dt));
    const double tol = dt == DType::F64 ? 1e-9 : 2e-6;
    Tensor w = view::to_dtype(affine_weight({3}), dt), b = view::to_dtype(affine_bias({3}), dt);
    Tensor rm = zeros({3}, dt), rv = ones({3}, dt);
    for (int k = 0; k < 3; ++k) {
      Tensor y = batch_norm(seq({4, 3, 2}, 0.37, k, dt), w, b, rm, rv, true, 0.1, 1e-5);
      expect_near_every(rm.to_vector(), want_mean[k], tol);
      expect_near_every(rv.to_vector(), want_var[k], tol);
      if (k == 0)
        expect_near_every(
            y.to_vector(),
            {-0.1069625145, 0.4521594366, 0.7341730346, 1.082006058, 1.101819382, 1.051222313,
             1.124669771, 0.7033034999, -0.041409173, -0.6193603382, -1.128938472, -1.524921204,
             -1.596134705, -1.645780784, -1.727459404, -1.376489048, -0.8736804736,
             -0.3442988854, 0.4619700598, 0.9433636302, 1.086733796, 1.24032511, 1.048443775,
             0.8043488242},
            tol * 4);
    }
    Tensor y = batch_norm(seq({4, 3, 2}, 0.37, 3, dt), w, b, rm, rv, false, 0.1, 1e-5);
    expect_near_every(y.to_vector(),
                    {0.1420370554, -0.258922278, -0.6633240432, -0.9701841865, -1.071356844,
                     -1.090644449, -0.9652650832, -0.7089916055, -0.3740266076, 0.05494926878,
                     0.4536834502, 0.7893081116, 0.986842983, 1.077940891, 1.115100836,
                     0.9032842985, 0.5408530736, 0.1543353762, -0.2661576079, -0.6325779794,
                     -0.9747073554, -1.147574894, -1.089584408, -0.9578687661},
                    tol * 4);
    // Eval leaves the running statistics alone.
    expect_near_every(rm.to_vector(), want_mean[2], tol);
    expect_near_every(rv.to_vector(), want_var[2], tol);
  }
}

TEST(NormBatch, TrainingGradientsMatchPyTorch) {
  // x = seq((4,3,2), 0.37, 0); F.batch_norm(x, None, None, w, b, training=True, eps=1e-5)
  Tensor x = seq({4, 3, 2}, 0.37, 0).set_requires_grad();
  Tensor w = affine_weight({3}).set_requires_grad(), b = affine_bias({3}).set_requires_grad();
  Tensor y = batch_norm(x, w, b, Tensor(), Tensor(), true);
  y.backward(seq({4, 3, 2}, 0.23, 0.5));
  expect_near_every(x.grad().to_vector(),
                  {0.6771669288, 0.8359235441, 1.157920399, 1.263706705, 1.242528179, 1.268429942,
                   1.120031754, 1.072755958, 1.146241356, 0.9766181935, 0.8993324283, 0.6810966573,
                   0.1023193152, -0.2312588966, -0.5226878813, -0.8662847751, -0.9202896844,
                   -1.201669891, -1.739604585, -1.837334019, -1.650081546, -1.505432451,
                   -1.15591391, -0.813513721},
                  1e-8);
  expect_near_every(w.grad().to_vector(), {1.236959229, 1.058285702, 1.552728878}, 1e-8);
  expect_near_every(b.grad().to_vector(), {0.5124709281, -0.003960518937, -0.5195685939}, 1e-8);
}

TEST(NormBatch, RunningStatsUpdateThroughStridedViews) {
  // Every other element of a [6] buffer holds the statistics.
  Tensor rm_buf = zeros({6}, DType::F64), rv_buf = ones({6}, DType::F64);
  Tensor rm = view::slice(rm_buf, 0, 0, 6, 2), rv = view::slice(rv_buf, 0, 0, 6, 2);
  batch_norm(seq({4, 3, 2}, 0.37, 0), Tensor(), Tensor(), rm, rv, true);
  std::vector<double> m = rm_buf.to_vector(), v = rv_buf.to_vector();
  expect_near_every(m, {0.009638995653, 0.02370730469, 0.0253752026}, 1e-9, 2);
  expect_near_every(v, {0.94972214, 0.9560049621, 0.9571013429}, 1e-9, 2);
  EXPECT_EQ(m[1], 0.0);
  EXPECT_EQ(v[3], 1.0);
}

TEST(NormBatch, GradcheckTrainAndEvalWithAndWithoutAffine) {
  Generator gen(31);
  // [B, C, H, W] with odd sizes, non-contiguous (permuted from [3, 5, 2, 3]).
  Tensor x4 = randn({3, 5, 2, 3}, DType::F64, &gen).permute({0, 3, 2, 1}).set_requires_grad();
  const int64_t C = x4.size(1);  // 3
  Tensor x2 = randn({5, 3}, DType::F64, &gen).set_requires_grad();  // [B, C]
  Tensor w = uniform({C}, 0.5, 1.5, DType::F64, &gen).set_requires_grad();
  Tensor b = randn({C}, DType::F64, &gen).set_requires_grad();
  Tensor rm = randn({C}, DType::F64, &gen), rv = uniform({C}, 0.5, 2.0, DType::F64, &gen);
  for (bool training : {true, false}) {
    for (const Tensor& x : {x4, x2}) {
      SCOPED_TRACE(str_cat(training ? "train " : "eval ", shape_str(x.shape())));
      // Running stats are given in both modes; in training they are only updated.
      Tensor rmc = view::clone(rm), rvc = view::clone(rv);
      expect_gradcheck(
          [&](const std::vector<Tensor>& in) {
            return batch_norm(in[0], in[1], in[2], rmc, rvc, training, 0.1, 1e-3);
          },
          {x, w, b});
      expect_gradcheck(
          [&](const std::vector<Tensor>& in) {
            return batch_norm(in[0], Tensor(), Tensor(), rmc, rvc, training, 0.1, 1e-3);
          },
          {x});
    }
  }
  // Training without running statistics.
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        return batch_norm(in[0], in[1], Tensor(), Tensor(), Tensor(), true);
      },
      {x4, w});
}

TEST(NormBatch, Errors) {
  Tensor x = zeros({4, 3, 5});
  expect_error_mentions<ShapeError>(
      [&] { batch_norm(zeros({4}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
      {"batch_norm", "[4]"});
  expect_error_mentions<ShapeError>(
      [&] { batch_norm(x, ones({4}), Tensor(), Tensor(), Tensor(), true); },
      {"batch_norm", "weight", "[3]", "[4]", "[4, 3, 5]"});
  expect_error_mentions<ShapeError>(
      [&] { batch_norm(x, Tensor(), zeros({2}), Tensor(), Tensor(), true); }, {"bias", "[2]"});
  expect_error_mentions<ShapeError>(
      [&] { batch_norm(x, Tensor(), Tensor(), zeros({5}), ones({3}), true); },
      {"running_mean", "[5]"});
  expect_error_mentions<ValueError>(
      [&] { batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); },
      {"batch_norm", "eval", "running_mean"});
  expect_error_mentions<ValueError>(
      [&] { batch_norm(x, Tensor(), Tensor(), zeros({3}), Tensor(), false); }, {"running_var"});
  expect_error_mentions<ValueError>(
      [&] { batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); },
      {"more than one value"});
  EXPECT_THROW(batch_norm(x, ones({3}, DType::F64), Tensor(), Tensor(), Tensor(), true),
               DTypeError);
}

// ------------------------------------------------------------------ group norm

TEST(NormGroup, OneGroupPerChannelMatchesPyTorch) {
  // x = seq((2,128,3), 0.37, 0.1); F.group_norm(x, 128, w, b, eps=1e-5) as SIRS uses;
  // values at every 17th element of out and dx, every 7th of dw and db.
  Tensor x = seq({2, 128, 3}, 0.37, 0.1).set_requires_grad();
  Tensor w = affine_weight({128}).set_requires_grad(), b = affine_bias({128}).set_requires_grad();
  Tensor y = group_norm(x, 128, w, b);
  y.backward(seq({2, 128, 3}, 0.23, 0.5));
  expect_near_every(y.to_vector(),
                  {-1.244553591, 1.259841429, -0.03070656428, -1.252846814, 1.22720293,
                   0.06256496048, -1.307326282, 1.265187513, -0.004843257368, -1.192221114,
                   1.201398782, 0.03735464991, -1.373709429, 1.298449976, 0.04014488671,
                   -1.141576517, 1.151147464, 0.004675265881, -1.418223707, 1.348157084,
                   0.08003211976, -1.122159577, 1.095913167, 0.05818857499, -1.111887647,
                   1.117640097, 0.008381175448, -1.451377842, 1.36700507, 0.09320978097,
                   -1.110283442, 1.074792603, 0.0001990430907, -1.443057595, 1.393349624,
                   0.09925079076, -1.142855379, 1.05758023, 0.0239817871, -1.408843129,
                   1.386050522, 0.07624719162, -1.190563047, 1.077311862, 0.06992123486,
                   -1.372728832},
                  1e-8, 17);
  expect_near_every(x.grad().to_vector(),
                  {-0.001740017156, 0.03285461947, 0.06387925647, 0.02815219925, 0.01636038912,
                   0.0466075966, 0.04230449156, -0.009278159895, 0.007840877917, 0.02266816587,
                   -0.0261591314, -0.03953496168, -0.01157365414, -0.02943179981, -0.06796513057,
                   -0.03725207313, -0.006913826781, -0.03690515221, -0.04539018069, 0.01882420024,
                   0.0145068373, -0.01326260199, 0.02694223552, 0.06075777902, 0.0230845701,
                   0.01897396898, 0.06181901401, 0.05457233487, -0.002630807404, 0.02284344085,
                   0.03628904055, -0.02165462458, -0.03596587715, 0.001397757042, -0.031513253,
                   -0.0706639155, -0.03729757032, -0.01171091282, -0.05823652616, -0.06340919275,
                   0.0131657046, -0.001126495844, -0.03067259628, 0.02613423538, 0.0608624082,
                   0.01741493145},
                  1e-7, 17);
  expect_near_every(w.grad().to_vector(),
                  {0.1565177491, 0.1102072945, 0.1763686818, 0.1015027327, 0.189830726,
                   0.3163387921, 0.1935155338, 0.9291738249, 0.1865956987, 0.965554375,
                   0.169341204, 0.8392435579, 0.1428031918, 0.5803906222, 0.1087405084,
                   0.2130789919, 0.06970274104, 0.1819765244, 0.02955983762},
                  1e-8, 7);
  expect_near_every(b.grad().to_vector(),
                  {4.572381279, -3.010171295, -5.278808686, 1.771339759, 5.69450694, -0.434952101,
                   -5.796581558, -0.9253904424, 5.579410803, 2.234767324, -5.054955306,
                   -3.421064918, 4.252099329, 4.418948163, -3.215059976, -5.173458873,
                   2.000951949, 5.643042547, -0.6766419613},
                  1e-8, 7);
}

TEST(NormGroup, SixteenGroupsMatchPyTorch) {
  // x = seq((2,32,3), 0.37, 0.1); F.group_norm(x, 16, w, b, eps=1e-5);
  // every 17th of out and dx, every 7th of dw and db.
  Tensor x = seq({2, 32, 3}, 0.37, 0.1).set_requires_grad();
  Tensor w = affine_weight({32}).set_requires_grad(), b = affine_bias({32}).set_requires_grad();
  Tensor y = group_norm(x, 16, w, b);
  y.backward(seq({2, 32, 3}, 0.23, 0.5));
  expect_near_every(y.to_vector(),
                  {-1.84040192, 1.77641587, 0.9307305338, 0.2700094689, -0.1698478664,
                   -0.7377096522, -1.912876758, 1.785949156, 0.8194729658, 0.2783366119,
                   -0.2418161829, -0.9205162277},
                  1e-8, 17);
  expect_near_every(x.grad().to_vector(),
                  {0.08910944014, 0.2704291253, 0.05670379094, -0.003068388855, -0.04581994376,
                   0.02777300975, 0.3125365733, 0.04407316559, 0.005250711289, -0.1283415535,
                   0.09530132216, -0.08059945689},
                  1e-8, 17);
  expect_near_every(w.grad().to_vector(),
                  {0.4324788613, 0.02886401006, -0.168348861, -0.5420586692, -1.426060693}, 1e-8,
                  7);
  expect_near_every(b.grad().to_vector(),
                  {-0.1871324376, -0.2037636894, 0.1393131474, 0.2364577177, -0.08382121825},
                  1e-8, 7);
  // float32 forward agrees.
  Tensor y32 = group_norm(seq({2, 32, 3}, 0.37, 0.1, DType::F32), 16,
                          view::to_dtype(w.detach(), DType::F32),
                          view::to_dtype(b.detach(), DType::F32));
  expect_near_every(y32.to_vector(), [&] {
    std::vector<double> v = y.to_vector(), s;
    for (size_t i = 0; i < v.size(); i += 17) s.push_back(v[i]);
    return s;
  }(), 1e-5, 17);
}

TEST(NormGroup, Gradcheck) {
  Generator gen(41);
  // [B, C, H, W] = [2, 6, 3, 5], non-contiguous (a transposed [2, 6, 5, 3]).
  Tensor x = randn({2, 6, 5, 3}, DType::F64, &gen).transpose(2, 3).set_requires_grad();
  Tensor x3 = randn({3, 4, 7}, DType::F64, &gen).set_requires_grad();
  Tensor w = uniform({6}, 0.5, 1.5, DType::F64, &gen).set_requires_grad();
  Tensor b = randn({6}, DType::F64, &gen).set_requires_grad();
  for (int64_t G : {1, 2, 3, 6}) {
    SCOPED_TRACE(str_cat("groups ", G));
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return group_norm(in[0], G, in[1], in[2], 1e-3); },
        {x, w, b});
  }
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) { return group_norm(in[0], 2, Tensor(), Tensor(), 1e-3); },
      {x3});
}

TEST(NormGroup, Errors) {
  expect_error_mentions<ValueError>(
      [&] { group_norm(zeros({2, 6, 4}), 4, Tensor(), Tensor()); },
      {"group_norm", "C = 6", "groups = 4"});
  expect_error_mentions<ShapeError>([&] { group_norm(zeros({6}), 3, Tensor(), Tensor()); },
                                    {"group_norm", "[6]"});
  expect_error_mentions<ShapeError>(
      [&] { group_norm(zeros({2, 6, 4}), 3, ones({3}), Tensor()); },
      {"group_norm", "weight", "[6]", "[3]"});
  expect_error_mentions<ShapeError>(
      [&] { group_norm(zeros({2, 6, 4}), 3, Tensor(), ones({2, 3})); }, {"bias", "[2, 3]"});
}

// ------------------------------------------------------------------ layer norm

TEST(NormLayer, MatchesPyTorch) {
  // x = seq((2,3,4), 0.37, 0.1); w = 1 + 0.1 * seq((3,4), 1.3, 0.2); b = 0.05 * seq((3,4), 0.9, 1)
  // F.layer_norm(x, (3,4), w, b, eps=1e-5)
  Tensor x = seq({2, 3, 4}, 0.37, 0.1).set_requires_grad();
  Tensor w = affine_weight({3, 4}).set_requires_grad();
  Tensor b = affine_bias({3, 4}).set_requires_grad();
  Tensor y = layer_norm(x, {3, 4}, w, b);
  y.backward(seq({2, 3, 4}, 0.23, 0.5));
  expect_near_every(y.to_vector(),
                  {-0.3067960828, 0.3186733906, 0.7746510987, 0.9392777599, 1.019888369,
                   1.047595093, 0.7889683577, 0.2644988554, -0.2912230175, -0.9062245882,
                   -1.646758622, -2.167865011, -1.413952381, -1.516067403, -1.266355072,
                   -0.8637160188, -0.4899792719, -0.03146680565, 0.5174653283, 0.8991062493,
                   1.039724821, 1.118057845, 1.115065296, 0.8444140639},
                  1e-8);
  expect_near_every(x.grad().to_vector(),
                  {-0.2085184877, -0.05324613982, -0.07295920721, -0.1998663806, -0.146048243,
                   0.1131346296, 0.2697839678, 0.1843732611, 0.07679798623, 0.09718491571,
                   0.07658019237, -0.1372164945, 0.4569302951, 0.123962107, -0.08588499846,
                   -0.1449198464, -0.2233679124, -0.3800793687, -0.4156801901, -0.2079473812,
                   0.05430692468, 0.1707139116, 0.2338315061, 0.4181349528},
                  1e-8);
  expect_near_every(w.grad().to_vector(),
                  {0.004652154119, 0.6498765588, 1.279467753, 1.63592511, 1.557120459,
                   1.033979357, 0.2144833668, -0.647427158, -1.280207359, -1.489446807,
                   -1.225876228, -0.6028511171},
                  1e-8);
  expect_near_every(b.grad().to_vector(),
                  {0.3612946827, 0.3254683571, 0.2725005212, 0.2051808432, 0.1270548625,
                   0.04223725679, -0.04480486743, -0.1294872443, -0.2073498893, -0.2742919941,
                   -0.3267879048, -0.3620728084},
                  1e-8);
  // F.layer_norm(seq((3,5), 0.37, 0.1), (5,), eps=1e-5), no affine.
  expect_near_every(layer_norm(seq({3, 5}, 0.37, 0.1), {5}, Tensor(), Tensor()).to_vector(),
                  {-1.641773211, -0.5816385397, 0.2944385671, 0.8678851834, 1.061088, 1.255773605,
                   0.8066202926, 0.1312009203, -0.6790696682, -1.51452515, 1.795624004,
                   -0.007592768955, -0.9563033093, -0.9221040955, 0.09037616927},
                  1e-8);
}

TEST(NormLayer, Gradcheck) {
  Generator gen(51);
  // Non-contiguous [3, 5, 4] (a permuted [4, 3, 5]).
  Tensor x = randn({4, 3, 5}, DType::F64, &gen).permute({1, 2, 0}).set_requires_grad();
  Tensor w = uniform({5, 4}, 0.5, 1.5, DType::F64, &gen).set_requires_grad();
  Tensor b = randn({5, 4}, DType::F64, &gen).set_requires_grad();
  Tensor w1 = uniform({4}, 0.5, 1.5, DType::F64, &gen).set_requires_grad();
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) { return layer_norm(in[0], {5, 4}, in[1], in[2], 1e-3); },
      {x, w, b});
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) { return layer_norm(in[0], {4}, in[1], Tensor(), 1e-3); },
      {x, w1});
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) {
        return layer_norm(in[0], {3, 5, 4}, Tensor(), Tensor());
      },
      {x});
}

TEST(NormLayer, Errors) {
  expect_error_mentions<ShapeError>(
      [&] { layer_norm(zeros({2, 3, 4}), {3}, Tensor(), Tensor()); },
      {"layer_norm", "[3]", "[2, 3, 4]"});
  expect_error_mentions<ShapeError>([&] { layer_norm(zeros({4}), {2, 4}, Tensor(), Tensor()); },
                                    {"layer_norm"});
  expect_error_mentions<ShapeError>([&] { layer_norm(zeros({4}), {}, Tensor(), Tensor()); },
                                    {"layer_norm"});
  expect_error_mentions<ShapeError>(
      [&] { layer_norm(zeros({2, 3, 4}), {3, 4}, ones({4}), Tensor()); },
      {"weight", "[3, 4]", "[4]"});
}
