// safetensors files (https://github.com/huggingface/safetensors format):
//
//   [8 bytes] N, unsigned little-endian
//   [N bytes] JSON: {"<name>": {"dtype": "F32", "shape": [2, 3],
//                               "data_offsets": [begin, end]}, ...,
//                    "__metadata__": {"<key>": "<value>", ...}}  (optional)
//   [rest]    the byte buffer; offsets are relative to its start, row-major,
//             little-endian, and the tensors cover it exactly (no holes, no
//             overlap).
//
// Dtypes: F32, F64, I64, I32, U8, BF16, F16. The loader validates the whole
// header against the file size before it allocates any tensor; every
// problem is an IOError naming the file and the tensor or key at fault.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "layers/module.h"  // NamedTensors
#include "tensor/tensor.h"

namespace sirs {

struct SafetensorsFile {
  // In file (data offset) order; a file written by save_safetensors keeps
  // the order it was given. CPU tensors.
  NamedTensors tensors;
  std::map<std::string, std::string> metadata;  // "__metadata__"
  // The tensor called name, or IOError naming the file and the name.
  const Tensor& at(const std::string& name) const;
  std::string path;
};

// Writes tensors (any device, any strides: stored contiguous) in the given
// order. Atomic: writes "<path>.tmp.<pid>.<n>" in the same folder, fsyncs it,
// renames it over path, then fsyncs the folder; on failure the temporary
// file is removed and path is untouched. Names must be non-empty, unique,
// and not "__metadata__" (ValueError).
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

SafetensorsFile load_safetensors(const std::string& path);

// "F32" <-> DType::F32 ...; the parse returns false for an unknown string.
const char* safetensors_dtype_name(DType t);
bool parse_safetensors_dtype(const std::string& s, DType* out);

}  // namespace sirs
