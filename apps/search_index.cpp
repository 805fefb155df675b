// The `sirs index` file format (see apps/search_index.h).
#include "apps/search_index.h"

#include <cmath>
#include <cstring>

#include "layers/safetensors.h"

namespace sirs::app {

namespace {
constexpr const char* kFormat = "sirs-index-1";
}

void save_index(const std::string& path, const SearchIndex& index) {
  const int64_t n = index.size(), e = index.embed_dim;
  SIRS_CHECK(e > 0, ValueError, "save_index: embed_dim must be positive, got ", e);
  SIRS_CHECK(int64_t(index.descriptors.size()) == n * e, ValueError, "save_index: ",
             index.descriptors.size(), " descriptor values for ", n, " images of ", e,
             " dimensions");
  size_t longest = 1;
  for (const std::string& s : index.names) {
    SIRS_CHECK(!s.empty(), ValueError, "save_index: empty image name");
    SIRS_CHECK(s.find('\0') == std::string::npos, ValueError, "save_index: NUL in name");
    longest = std::max(longest, s.size());
  }
  Tensor names = zeros({n, int64_t(longest)}, DType::U8);
  uint8_t* p = names.data<uint8_t>();
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(p + i * int64_t(longest), index.names[size_t(i)].data(), index.names[size_t(i)].size());
  Tensor desc = from_data(index.descriptors.data(), {n, e});
  std::map<std::string, std::string> meta = index.metadata;
  meta["format"] = kFormat;
  meta["embed_dim"] = std::to_string(e);
  meta["images"] = std::to_string(n);
  save_safetensors(path, {{"descriptors", desc}, {"names", names}}, meta);
}

SearchIndex load_index(const std::string& path) {
  SafetensorsFile f = load_safetensors(path);
  auto fmt = f.metadata.find("format");
  SIRS_CHECK(fmt != f.metadata.end() && fmt->second == kFormat, IOError, "index ", path,
             ": not a sirs index (metadata \"format\" is not \"", kFormat,
             "\"; write one with `sirs index`)");
  const Tensor& desc = f.at("descriptors");
  const Tensor& names = f.at("names");
  SIRS_CHECK(desc.dtype() == DType::F32 && desc.dim() == 2, IOError, "index ", path,
             ": \"descriptors\" must be F32 [N, E], got ", dtype_name(desc.dtype()), " ",
             shape_str(desc.shape()));
  SIRS_CHECK(names.dtype() == DType::U8 && names.dim() == 2 && names.shape()[0] == desc.shape()[0],
             IOError, "index ", path, ": \"names\" must be U8 [", desc.shape()[0], ", L], got ",
             dtype_name(names.dtype()), " ", shape_str(names.shape()));
  SearchIndex out;
  const int64_t n = desc.shape()[0], e = desc.shape()[1], l = names.shape()[1];
  SIRS_CHECK(e > 0, IOError, "index ", path, ": embed dimension 0");
  auto ed = f.metadata.find("embed_dim");
  SIRS_CHECK(ed != f.metadata.end() && ed->second == std::to_string(e), IOError, "index ", path,
             ": metadata embed_dim does not match the descriptors ", shape_str(desc.shape()));
  out.embed_dim = e;
  out.metadata = f.metadata;
  Tensor dc = view::contiguous(desc);
  const float* d = dc.data<float>();
  out.descriptors.assign(d, d + n * e);
  for (int64_t i = 0; i < n * e; ++i)
    SIRS_CHECK(std::isfinite(out.descriptors[size_t(i)]), IOError, "index ", path,
               ": non-finite descriptor value of image ", i / e);
  Tensor nc = view::contiguous(names);
  const uint8_t* p = nc.data<uint8_t>();
  out.names.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const char* s = reinterpret_cast<const char*>(p + i * l);
    out.names.emplace_back(s, strnlen(s, size_t(l)));
    SIRS_CHECK(!out.names.back().empty(), IOError, "index ", path, ": image ", i, " has no name");
  }
  return out;
}

}  // namespace sirs::app
