// NumPy arrays beyond layers/npy.h: object arrays and .npz archives, as the
// published skip-thoughts release ships them.
//
// .npy: "\x93NUMPY", version 1.0 / 2.0 / 3.0, a Python-literal header dict
// {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the data.
//   - numeric descr: '<f4' '<f8' '<f2' '<i8' '<i4' '|u1' ('|' or '=' byte
//     order also accepted for one-byte types); Fortran order is read and
//     returned in C order;
//   - '|O' (object array): the data is a pickle (layers/pickle.h) of the
//     array, numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')
//     followed by BUILD with the state (version, shape, dtype, is_fortran,
//     data); for an object array `data` is the list of elements, for a
//     numeric array the raw bytes; dtypes are numpy.dtype(<'f4'>, 0, 1) with
//     the BUILD state (3, <byte order>, ...). Python 2 pickles (BINSTRING raw
//     data, numpy.load(encoding='latin1')) and Python 3 ones (protocol 2 or
//     3) are both read. Only elements that are numeric ndarrays are
//     supported; they are converted when asked for (object(i)), so a large
//     table costs the file plus its parse tree, not a second copy.
// .npz: a zip archive (layers/zip.h) of "<name>.npy" entries.
// Every problem is an IOError naming the file (and the entry or element).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/pickle.h"
#include "tensor/tensor.h"

namespace sirs {

class NpyArray {
 public:
  const Shape& shape() const { return shape_; }
  bool is_object() const { return is_object_; }
  // A numeric array as a CPU tensor (IOError for an object array).
  const Tensor& tensor() const;
  // An object array's elements (flattened, C order).
  int64_t num_objects() const { return static_cast<int64_t>(objects_.size()); }
  // Element i as a CPU tensor; IOError when it is not a numeric ndarray.
  Tensor object(int64_t i) const;

  // Parses a whole .npy image; `what` names it in errors.
  static NpyArray parse(std::shared_ptr<const std::string> bytes, const std::string& what);

 private:
  std::string what_;
  Shape shape_;
  bool is_object_ = false;
  Tensor tensor_;
  std::vector<PyPtr> objects_;
};

NpyArray read_npy(const std::string& path);
// Entries in archive order, names without the ".npy" suffix.
std::vector<std::pair<std::string, NpyArray>> read_npz(const std::string& path);

}  // namespace sirs
