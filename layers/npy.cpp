// .npy writer and reader (format in layers/npy.h). The reader parses only
// the three keys NumPy writes, in any order, and checks the data size
// against the file size before allocating.
#include "layers/npy.h"

#include <cerrno>
#include <cstring>
#include <fstream>

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

bool dtype_of(const std::string& d, DType* out) {
  for (DType t : {DType::F32, DType::F64, DType::I64, DType::I32, DType::U8}) {
    if (d == descr_of(t) || (t == DType::U8 && d == "<u1")) {
      *out = t;
      return true;
    }
  }
  return false;
}

// The text after "'key':" up to the next top-level ',' or '}' (a tuple's
// commas are inside parentheses).
bool dict_value(const std::string& h, const std::string& key, std::string* out) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t colon = h.find(':', k);
  if (colon == std::string::npos) return false;
  size_t i = colon + 1, depth = 0, start = i;
  for (; i < h.size(); ++i) {
    char c = h[i];
    if (c == '(') ++depth;
    else if (c == ')') --depth;
    else if ((c == ',' || c == '}') && depth == 0) break;
  }
  std::string v = h.substr(start, i - start);
  size_t a = v.find_first_not_of(" \t"), b = v.find_last_not_of(" \t");
  *out = a == std::string::npos ? "" : v.substr(a, b - a + 1);
  return true;
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

Tensor load_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, str_cat("cannot open: ", std::strerror(errno)));
  f.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(f.tellg());
  f.seekg(0);
  unsigned char pre[10];
  if (file_size < 10 || !f.read(reinterpret_cast<char*>(pre), 10)) fail(path, "file too short");
  if (std::memcmp(pre, "\x93NUMPY", 6) != 0) fail(path, "bad magic (not a .npy file)");
  uint64_t header_len = 0, prefix = 0;
  if (pre[6] == 1) {
    header_len = pre[8] | (static_cast<uint64_t>(pre[9]) << 8);
    prefix = 10;
  } else if (pre[6] == 2 || pre[6] == 3) {
    unsigned char more[2];
    if (!f.read(reinterpret_cast<char*>(more), 2)) fail(path, "file too short");
    header_len = pre[8] | (static_cast<uint64_t>(pre[9]) << 8) |
                 (static_cast<uint64_t>(more[0]) << 16) | (static_cast<uint64_t>(more[1]) << 24);
    prefix = 12;
  } else {
    fail(path, str_cat("unsupported format version ", int(pre[6]), ".", int(pre[7])));
  }
  if (header_len > file_size - prefix) fail(path, str_cat("header length ", header_len, " exceeds the file"));
  std::string h(static_cast<size_t>(header_len), '\0');
  if (!f.read(&h[0], static_cast<std::streamsize>(header_len))) fail(path, "truncated header");

  std::string descr, fortran, shape_text;
  if (!dict_value(h, "descr", &descr) || !dict_value(h, "fortran_order", &fortran) ||
      !dict_value(h, "shape", &shape_text))
    fail(path, str_cat("header lacks descr, fortran_order or shape: ", h));
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"'))
    fail(path, str_cat("bad descr ", descr));
  descr = descr.substr(1, descr.size() - 2);
  DType dtype;
  if (!dtype_of(descr, &dtype))
    fail(path, str_cat("unsupported dtype '", descr, "' (<f4, <f8, <i8, <i4, |u1)"));
  if (fortran != "False") fail(path, str_cat("fortran_order ", fortran, " is not supported"));
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')')
    fail(path, str_cat("bad shape ", shape_text));
  Shape shape;
  uint64_t numel = 1;
  std::string inner = shape_text.substr(1, shape_text.size() - 2);
  size_t pos = 0;
  while (pos < inner.size()) {
    size_t comma = inner.find(',', pos);
    std::string part = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? inner.size() : comma + 1;
    size_t a = part.find_first_not_of(' ');
    if (a == std::string::npos) continue;
    part = part.substr(a, part.find_last_not_of(' ') - a + 1);
    if (part.empty() || part.size() > 18 || part.find_first_not_of("0123456789") != std::string::npos)
      fail(path, str_cat("bad shape ", shape_text));
    int64_t d = std::stoll(part);
    shape.push_back(d);
    if (d != 0 && numel > (file_size / static_cast<uint64_t>(d))) numel = file_size + 1;
    else numel *= static_cast<uint64_t>(d);
  }
  uint64_t data_start = prefix + header_len;
  uint64_t nbytes = numel * dtype_size(dtype);
  if (numel > file_size)
    fail(path, str_cat("shape ", shape_str(shape), " is larger than the file"));
  if (nbytes != file_size - data_start)
    fail(path, str_cat("shape ", shape_str(shape), " ", descr, " needs ", nbytes,
                       " data bytes, the file holds ", file_size - data_start));
  Tensor t = empty(shape, Options(dtype));
  if (nbytes > 0 && !f.read(static_cast<char*>(t.raw_data()), static_cast<std::streamsize>(nbytes)))
    fail(path, "truncated data");
  return t;
}

}  // namespace sirs
