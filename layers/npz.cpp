// .npy object arrays and .npz archives (format in layers/npz.h).
#include "layers/npz.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "layers/zip.h"

namespace sirs {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& msg) {
  throw IOError(str_cat(what, ": ", msg));
}

// NumPy type code without byte order ("f4") -> DType; false for others.
bool dtype_of_code(const std::string& code, DType* out) {
  static const std::pair<const char*, DType> kCodes[] = {
      {"f4", DType::F32}, {"f8", DType::F64}, {"f2", DType::F16}, {"i8", DType::I64},
      {"i4", DType::I32}, {"u1", DType::U8}};
  for (const auto& c : kCodes) {
    if (code == c.first) {
      *out = c.second;
      return true;
    }
  }
  return false;
}

// The Python literal after 'key': in a header dict, up to the next
// top-level ',' or '}'.
bool header_value(const std::string& h, const std::string& key, std::string* out) {
  size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t i = h.find(':', k);
  if (i == std::string::npos) return false;
  size_t start = ++i;
  int depth = 0;
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

bool parse_shape(const std::string& text, Shape* shape) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') return false;
  shape->clear();
  std::string inner = text.substr(1, text.size() - 2);
  size_t pos = 0;
  while (pos < inner.size()) {
    size_t comma = inner.find(',', pos);
    std::string part = inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? inner.size() : comma + 1;
    size_t a = part.find_first_not_of(" L"), b = part.find_last_not_of(" L");
    if (a == std::string::npos) continue;
    part = part.substr(a, b - a + 1);
    if (part.size() > 15 || part.find_first_not_of("0123456789") != std::string::npos) return false;
    shape->push_back(std::stoll(part));
  }
  return true;
}

// Wraps raw C- or Fortran-order bytes as a C-order tensor.
Tensor tensor_from_bytes(const char* data, size_t nbytes, const Shape& shape, DType dtype,
                         bool fortran, const std::string& what) {
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && numel > (int64_t(1) << 40) / d)) fail(what, str_cat("bad shape ", shape_str(shape)));
    numel *= d;
  }
  if (static_cast<uint64_t>(numel) * dtype_size(dtype) != nbytes)
    fail(what, str_cat("shape ", shape_str(shape), " ", dtype_name(dtype), " needs ",
                       static_cast<uint64_t>(numel) * dtype_size(dtype), " data bytes, found ", nbytes));
  if (!fortran) {
    Tensor t = empty(shape, Options(dtype));
    if (nbytes > 0) std::memcpy(t.raw_data(), data, nbytes);
    return t;
  }
  // Fortran order is C order of the reversed shape, transposed back.
  Shape rev(shape.rbegin(), shape.rend()), perm;
  Tensor t = empty(rev, Options(dtype));
  if (nbytes > 0) std::memcpy(t.raw_data(), data, nbytes);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) perm.push_back(d);
  return view::contiguous(view::permute(t, perm));
}

const std::set<std::string>& allowed_globals() {
  static const std::set<std::string> kAllowed = {
      "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
      "numpy.ndarray", "numpy.dtype"};
  return kAllowed;
}

bool is_reconstruct(const PyValue& v) {
  return v.is(PyValue::Kind::Object) && (v.s == "numpy.core.multiarray._reconstruct" ||
                                         v.s == "numpy._core.multiarray._reconstruct");
}

// numpy.dtype(code, 0, 1) with BUILD state (3, byte order, ...): the code
// ("f4", "O8") and whether the data is little-endian (or byte-order-free).
std::string dtype_code(const PyValue& d, const std::string& what) {
  if (!d.is(PyValue::Kind::Object) || d.s != "numpy.dtype" || d.items.empty() || !d.items[0]->is_text())
    fail(what, str_cat("expected a numpy.dtype, got ", d.repr()));
  std::string code = d.items[0]->text();
  if (d.state && d.state->is(PyValue::Kind::Tuple) && d.state->items.size() >= 2 &&
      d.state->items[1]->is_text()) {
    std::string order = d.state->items[1]->text();
    if (order == ">" && code.size() >= 2 && code.substr(1) != "1")
      fail(what, str_cat("big-endian dtype '>", code, "' is not supported"));
  }
  return code;
}

struct ArrayState {
  Shape shape;
  std::string code;
  bool fortran = false;
  const PyValue* data = nullptr;
};

// _reconstruct(ndarray, (0,), b'b') + BUILD (version, shape, dtype, fortran, data).
ArrayState array_state(const PyValue& v, const std::string& what) {
  if (!is_reconstruct(v)) fail(what, str_cat("expected a pickled numpy array, got ", v.repr()));
  const PyValue* st = v.state.get();
  if (!st || !st->is(PyValue::Kind::Tuple) || st->items.size() != 5 ||
      !st->items[0]->is(PyValue::Kind::Int))
    fail(what, str_cat("bad numpy array state ", st ? st->repr() : "(none)"));
  ArrayState a;
  for (const PyPtr& d : st->items[1]->items) {
    if (!d->is(PyValue::Kind::Int)) fail(what, str_cat("bad array shape ", st->items[1]->repr()));
    a.shape.push_back(d->i);
  }
  if (!st->items[1]->is(PyValue::Kind::Tuple)) fail(what, str_cat("bad array shape ", st->items[1]->repr()));
  a.code = dtype_code(*st->items[2], what);
  if (!st->items[3]->is(PyValue::Kind::Bool) && !st->items[3]->is(PyValue::Kind::Int))
    fail(what, "bad fortran flag in array state");
  a.fortran = st->items[3]->i != 0;
  a.data = st->items[4].get();
  return a;
}

}  // namespace

const Tensor& NpyArray::tensor() const {
  if (is_object_) fail(what_, "is an object array, not a numeric one");
  return tensor_;
}

Tensor NpyArray::object(int64_t i) const {
  if (!is_object_) fail(what_, "is not an object array");
  if (i < 0 || i >= num_objects())
    fail(what_, str_cat("element ", i, " out of range (", num_objects(), " elements)"));
  std::string what = str_cat(what_, " element ", i);
  ArrayState a = array_state(*objects_[static_cast<size_t>(i)], what);
  DType dtype;
  if (!dtype_of_code(a.code, &dtype)) fail(what, str_cat("unsupported element dtype '", a.code, "'"));
  if (!a.data->is(PyValue::Kind::Bytes)) fail(what, str_cat("element data is a ", a.data->type_name()));
  return tensor_from_bytes(a.data->bytes_data(), a.data->len, a.shape, dtype, a.fortran, what);
}

NpyArray NpyArray::parse(std::shared_ptr<const std::string> bytes, const std::string& what) {
  const std::string& b = *bytes;
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0)
    fail(what, "bad magic (not a .npy file)");
  auto byte = [&](size_t k) { return static_cast<uint64_t>(static_cast<unsigned char>(b[k])); };
  uint64_t header_len = 0, prefix = 0;
  if (b[6] == 1) {
    header_len = byte(8) | (byte(9) << 8);
    prefix = 10;
  } else if ((b[6] == 2 || b[6] == 3) && b.size() >= 12) {
    header_len = byte(8) | (byte(9) << 8) | (byte(10) << 16) | (byte(11) << 24);
    prefix = 12;
  } else {
    fail(what, str_cat("unsupported .npy format version ", int(b[6]), ".", int(b[7])));
  }
  if (header_len > b.size() - prefix) fail(what, str_cat("header length ", header_len, " runs past the end of the file (truncated?)"));
  std::string h = b.substr(static_cast<size_t>(prefix), static_cast<size_t>(header_len));
  std::string descr, fortran, shape_text;
  if (!header_value(h, "descr", &descr) || !header_value(h, "fortran_order", &fortran) ||
      !header_value(h, "shape", &shape_text))
    fail(what, str_cat("bad .npy header (needs descr, fortran_order, shape): ", h));
  if (descr.size() < 4 || (descr.front() != '\'' && descr.front() != '"') || descr.back() != descr.front())
    fail(what, str_cat("bad descr ", descr, " in header"));
  descr = descr.substr(1, descr.size() - 2);
  if (fortran != "False" && fortran != "True") fail(what, str_cat("bad fortran_order ", fortran));
  NpyArray out;
  out.what_ = what;
  if (!parse_shape(shape_text, &out.shape_)) fail(what, str_cat("bad shape ", shape_text, " in header"));
  size_t data_start = static_cast<size_t>(prefix + header_len);
  char order = descr[0];
  std::string code = descr.substr(1);
  if (code == "O" || code == "O8" || code == "O4") {
    if (order != '|') fail(what, str_cat("bad descr '", descr, "'"));
    out.is_object_ = true;
    PyPtr root = unpickle(bytes, what, allowed_globals(), data_start);
    ArrayState a = array_state(*root, what);
    if (a.shape != out.shape_)
      fail(what, str_cat("pickled shape ", shape_str(a.shape), " differs from the header's ", shape_str(out.shape_)));
    if (a.code.empty() || a.code[0] != 'O') fail(what, str_cat("pickled dtype '", a.code, "' in an object array"));
    if (!a.data->is(PyValue::Kind::List)) fail(what, str_cat("object array data is a ", a.data->type_name()));
    if (a.fortran && out.shape_.size() > 1) fail(what, "Fortran-order object arrays are not supported");
    if (static_cast<int64_t>(a.data->items.size()) != shape_numel(out.shape_))
      fail(what, str_cat("object array holds ", a.data->items.size(), " elements, shape says ",
                         shape_str(out.shape_)));
    out.objects_ = a.data->items;
    return out;
  }
  DType dtype;
  bool order_ok = order == '<' || ((order == '|' || order == '=') && (code == "u1"));
  if (!dtype_of_code(code, &dtype) || !order_ok)
    fail(what, str_cat("unsupported dtype '", descr, "' (<f4, <f8, <f2, <i8, <i4, |u1, |O)"));
  out.tensor_ = tensor_from_bytes(b.data() + data_start, b.size() - data_start, out.shape_, dtype,
                                  fortran == "True", what);
  return out;
}

NpyArray read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string what = str_cat("npy '", path, "'");
  if (!f) fail(what, str_cat("cannot open: ", std::strerror(errno)));
  auto bytes = std::make_shared<std::string>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) fail(what, "read error");
  return NpyArray::parse(std::move(bytes), what);
}

std::vector<std::pair<std::string, NpyArray>> read_npz(const std::string& path) {
  ZipReader zip(path);
  std::vector<std::pair<std::string, NpyArray>> out;
  for (const ZipEntry& e : zip.entries()) {
    std::string what = str_cat("npz '", path, "' entry '", e.name, "'");
    if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0)
      fail(what, "is not a .npy file");
    auto bytes = std::make_shared<const std::string>(zip.read(e));
    out.emplace_back(e.name.substr(0, e.name.size() - 4), NpyArray::parse(bytes, what));
  }
  return out;
}

}  // namespace sirs
