// .npy writer and reader (format in layers/npy.h). Reading goes through
// layers/npz.h's NpyArray, the one .npy parser, which checks the header and
// the data size against the file size before allocating.
#include "layers/npy.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "layers/npz.h"

namespace sirs {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error ".npy I/O assumes a little-endian host"
#endif

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError(str_cat("npy '", path, "': ", what));
}

const char* descr_of(DType t) {
  switch (t) {
    case DType::F32: return "<f4";
    case DType::F64: return "<f8";
    case DType::I64: return "<i8";
    case DType::I32: return "<i4";
    case DType::U8: return "|u1";
    default: return nullptr;
  }
}

}  // namespace

void save_npy(const std::string& path, const Tensor& tensor) {
  SIRS_CHECK(tensor.defined(), ValueError, "save_npy '", path, "': undefined tensor");
  const char* descr = descr_of(tensor.dtype());
  SIRS_CHECK(descr != nullptr, DTypeError, "save_npy '", path, "': unsupported dtype ",
             dtype_name(tensor.dtype()));
  Tensor t = view::contiguous(view::to_device(tensor, Device::cpu()));
  // Python tuple syntax: (), (5,), (2, 3).
  std::string shape = "(";
  for (int64_t d = 0; d < t.dim(); ++d) shape += str_cat(d > 0 ? ", " : "", t.size(d));
  shape += t.dim() == 1 ? ",)" : ")";
  std::string header =
      str_cat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", shape, ", }");
  // magic(6) + version(2) + length(2) + header + '\n' is a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  SIRS_CHECK(header.size() <= 65535, IOError, "save_npy '", path, "': header too long for version 1.0");
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) fail(path, str_cat("cannot create: ", std::strerror(errno)));
  const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  f.write(magic, 8);
  char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  f.write(len, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(static_cast<const char*>(t.raw_data()),
          static_cast<std::streamsize>(t.numel() * static_cast<int64_t>(dtype_size(t.dtype()))));
  f.close();
  if (!f) fail(path, "write failed");
}

// One .npy parser in the project: layers/npz.cpp's NpyArray (which also
// reads the object arrays of the skip-thoughts release).
Tensor load_npy(const std::string& path) {
  NpyArray a = read_npy(path);
  if (a.is_object()) fail(path, "an object array (pickled Python objects), not numeric data");
  return a.tensor();
}

}  // namespace sirs
