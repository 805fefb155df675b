// The image index of `sirs index` / `sirs query`: one descriptor per image
// (DESIGN §3: d_i = mean_k v_hat_k[i], so that the score of a caption t is
// s_i = t_hat . d_i, the model's similarity) stored as a safetensors file:
//
//   "descriptors"  F32 [N, E]   row i = image i
//   "names"        U8  [N, L]   image file names, NUL-padded to L bytes
//   __metadata__   format "sirs-index-1", config_hash, embed_dim,
//                  image_dir, mask_dir (where the predicted masks are)
//
// A query is ONE matrix-vector product s = D t_hat followed by a partial
// sort for the top k (rank_descriptors, header-only so the bench can use it).
//
// Bench: make build/sirs_bench && OMP_WAIT_POLICY=passive ./build/sirs_bench --benchmark_filter=query
#pragma once

#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/error.h"

namespace sirs::app {

struct SearchIndex {
  std::vector<std::string> names;  // [N]
  std::vector<float> descriptors;  // [N, E] row-major
  int64_t embed_dim = 0;
  std::map<std::string, std::string> metadata;  // config_hash, image_dir, mask_dir, ...
  int64_t size() const { return int64_t(names.size()); }
};

struct Hit {
  int64_t index = 0;
  float score = 0;
};

// Scores of every row of desc [n, e] against q [e] (one sgemv), then the k
// best in descending score order (ties: lower index first). scores, when
// given, receives all n scores.
inline std::vector<Hit> rank_descriptors(const float* desc, int64_t n, int64_t e, const float* q,
                                         int64_t k, std::vector<float>* scores = nullptr) {
  std::vector<float> local;
  std::vector<float>& s = scores != nullptr ? *scores : local;
  s.assign(size_t(n), 0.0f);
  if (n > 0 && e > 0)
    cblas_sgemv(CblasRowMajor, CblasNoTrans, int(n), int(e), 1.0f, desc, int(e), q, 1, 0.0f,
                s.data(), 1);
  k = std::max<int64_t>(0, std::min(k, n));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = i;
  auto better = [&](int64_t a, int64_t b) {
    return s[size_t(a)] > s[size_t(b)] || (s[size_t(a)] == s[size_t(b)] && a < b);
  };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), better);
  std::vector<Hit> hits(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) hits[size_t(i)] = {idx[size_t(i)], s[size_t(idx[size_t(i)])]};
  return hits;
}

// Writes the index (atomic, layers/safetensors.h). ValueError for
// inconsistent sizes or an empty name.
void save_index(const std::string& path, const SearchIndex& index);
// Reads and validates an index: IOError naming the file for a missing,
// corrupt or foreign file (wrong format tag, missing tensor, shapes that do
// not agree, non-finite descriptors).
SearchIndex load_index(const std::string& path);

}  // namespace sirs::app
