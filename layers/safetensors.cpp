// safetensors reader and writer (format in layers/safetensors.h). The
// reader trusts nothing: it checks the header length against the file size,
// parses the JSON, checks every entry's dtype, shape and byte range and that
// the ranges tile the buffer, and only then allocates and reads.
#include "layers/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace sirs {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors I/O assumes a little-endian host"
#endif

namespace {

using OrderedJson = nlohmann::ordered_json;

// The reference implementation refuses headers above 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError(str_cat("safetensors '", path, "': ", what));
}

void read_exact(int fd, const std::string& path, void* dst, uint64_t n, uint64_t offset,
                const char* what) {
  char* p = static_cast<char*>(dst);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, 1u << 30));
    ssize_t r = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(path, str_cat("read error in ", what, ": ", std::strerror(errno)));
    if (r == 0) fail(path, str_cat("unexpected end of file in ", what));
    p += r;
    n -= static_cast<uint64_t>(r);
    offset += static_cast<uint64_t>(r);
  }
}

void write_all(int fd, const std::string& path, const void* src, size_t n) {
  const char* p = static_cast<const char*>(src);
  while (n > 0) {
    ssize_t w = ::write(fd, p, std::min<size_t>(n, 1u << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(path, str_cat("write error: ", std::strerror(errno)));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

uint64_t get_offset(const std::string& path, const std::string& name, const OrderedJson& v) {
  if (!v.is_number_unsigned())
    fail(path, str_cat("tensor '", name, "': data_offsets must be non-negative integers"));
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& name, const OrderedJson& v) {
  if (!v.is_object()) fail(path, str_cat("tensor '", name, "': entry is not a JSON object"));
  for (auto it = v.begin(); it != v.end(); ++it)
    if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
      fail(path, str_cat("tensor '", name, "': unexpected field '", it.key(), "'"));
  Entry e;
  e.name = name;
  auto dt = v.find("dtype");
  if (dt == v.end() || !dt->is_string()) fail(path, str_cat("tensor '", name, "': no dtype string"));
  if (!parse_safetensors_dtype(dt->get<std::string>(), &e.dtype))
    fail(path, str_cat("tensor '", name, "': unsupported dtype '", dt->get<std::string>(),
                       "' (F32, F64, I64, I32, U8, BF16, F16)"));
  auto sh = v.find("shape");
  if (sh == v.end() || !sh->is_array()) fail(path, str_cat("tensor '", name, "': no shape array"));
  // numel * itemsize, refusing anything that could overflow.
  uint64_t nbytes = dtype_size(e.dtype);
  bool zero = false;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned())
      fail(path, str_cat("tensor '", name, "': shape entries must be non-negative integers"));
    uint64_t n = d.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(path, str_cat("tensor '", name, "': dimension ", n, " too large"));
    e.shape.push_back(static_cast<int64_t>(n));
    if (n == 0) zero = true;
    else if (!zero && nbytes > std::numeric_limits<uint64_t>::max() / 2 / n)
      fail(path, str_cat("tensor '", name, "': shape ", shape_str(e.shape), " is too large"));
    else if (!zero) nbytes *= n;
  }
  if (zero) nbytes = 0;
  auto off = v.find("data_offsets");
  if (off == v.end() || !off->is_array() || off->size() != 2)
    fail(path, str_cat("tensor '", name, "': data_offsets must be [begin, end]"));
  e.begin = get_offset(path, name, (*off)[0]);
  e.end = get_offset(path, name, (*off)[1]);
  if (e.end < e.begin)
    fail(path, str_cat("tensor '", name, "': data_offsets [", e.begin, ", ", e.end,
                       "] end before begin"));
  if (e.end - e.begin != nbytes)
    fail(path, str_cat("tensor '", name, "': ", dtype_name(e.dtype), " shape ", shape_str(e.shape),
                       " needs ", nbytes, " bytes but data_offsets [", e.begin, ", ", e.end,
                       "] hold ", e.end - e.begin));
  return e;
}

}  // namespace

const char* safetensors_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::U8: return "U8";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
  }
  return "?";
}

bool parse_safetensors_dtype(const std::string& s, DType* out) {
  for (DType t : {DType::F32, DType::F64, DType::I64, DType::I32, DType::U8, DType::BF16,
                  DType::F16}) {
    if (s == safetensors_dtype_name(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  for (const auto& e : tensors)
    if (e.first == name) return e.second;
  throw IOError(str_cat("safetensors '", path, "': no tensor named '", name, "'"));
}

SafetensorsFile load_safetensors(const std::string& path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) fail(path, str_cat("cannot open: ", std::strerror(errno)));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) fail(path, str_cat("cannot stat: ", std::strerror(errno)));
  uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) fail(path, str_cat("file of ", file_size, " bytes is too short for a header"));

  unsigned char len_bytes[8];
  read_exact(f.fd, path, len_bytes, 8, 0, "header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > file_size - 8)
    fail(path, str_cat("header length ", header_len, " exceeds the ", file_size - 8,
                       " bytes after the length field (truncated or not safetensors)"));
  if (header_len > kMaxHeaderBytes)
    fail(path, str_cat("header length ", header_len, " exceeds the ", kMaxHeaderBytes, " byte limit"));
  std::string text(static_cast<size_t>(header_len), '\0');
  read_exact(f.fd, path, &text[0], header_len, 8, "header");
  const uint64_t data_start = 8 + header_len, buffer_size = file_size - data_start;

  // Parse, noticing repeated top-level keys (JSON parsers keep only one).
  std::set<std::string> keys;
  std::string duplicate;
  OrderedJson j;
  try {
    j = OrderedJson::parse(text, [&](int depth, OrderedJson::parse_event_t ev, OrderedJson& v) {
      if (ev == OrderedJson::parse_event_t::key && depth == 1 && v.is_string() &&
          !keys.insert(v.get<std::string>()).second && duplicate.empty())
        duplicate = v.get<std::string>();
      return true;
    });
  } catch (const nlohmann::json::exception& e) {
    fail(path, str_cat("header is not valid JSON: ", e.what()));
  }
  if (!duplicate.empty()) fail(path, str_cat("tensor '", duplicate, "' appears more than once"));
  if (!j.is_object()) fail(path, "header is not a JSON object");

  SafetensorsFile out;
  out.path = path;
  std::vector<Entry> entries;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) fail(path, "__metadata__ is not a JSON object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) fail(path, str_cat("__metadata__ key '", m.key(), "' is not a string"));
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, it.key(), *it));
  }
  // The ranges must tile [0, buffer_size) in order.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  uint64_t expect = 0;
  for (const Entry& e : entries) {
    if (e.end > buffer_size)
      fail(path, str_cat("tensor '", e.name, "': data_offsets [", e.begin, ", ", e.end,
                         "] outside the ", buffer_size, "-byte data buffer"));
    if (e.begin < expect)
      fail(path, str_cat("tensor '", e.name, "': data_offsets [", e.begin, ", ", e.end,
                         "] overlap the previous tensor (ending at ", expect, ")"));
    if (e.begin > expect)
      fail(path, str_cat("tensor '", e.name, "': data_offsets [", e.begin, ", ", e.end,
                         "] leave a hole after byte ", expect));
    expect = e.end;
  }
  if (expect != buffer_size)
    fail(path, str_cat("tensors cover ", expect, " bytes of a ", buffer_size, "-byte data buffer"));

  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, Options(e.dtype));
    if (e.end > e.begin)
      read_exact(f.fd, path, t.raw_data(), e.end - e.begin, data_start + e.begin,
                 str_cat("tensor '", e.name, "'").c_str());
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  OrderedJson header = OrderedJson::object();
  if (!metadata.empty()) {
    OrderedJson m = OrderedJson::object();
    for (const auto& kv : metadata) m[kv.first] = kv.second;
    header["__metadata__"] = m;
  }
  std::set<std::string> names;
  std::vector<Tensor> host;  // contiguous CPU copies, in order
  uint64_t offset = 0;
  for (const auto& e : tensors) {
    const std::string& name = e.first;
    SIRS_CHECK(!name.empty() && name != "__metadata__", ValueError, "save_safetensors '", path,
               "': invalid tensor name '", name, "'");
    SIRS_CHECK(names.insert(name).second, ValueError, "save_safetensors '", path, "': tensor '",
               name, "' given more than once");
    SIRS_CHECK(e.second.defined(), ValueError, "save_safetensors '", path, "': tensor '", name,
               "' is undefined");
    Tensor t = view::contiguous(view::to_device(e.second, Device::cpu()));
    uint64_t nbytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", safetensors_dtype_name(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    host.push_back(t);
  }
  std::string text = header.dump();
  // Pad with spaces so the buffer starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(text.size() >> (8 * i));

  // Unique per process and call, so concurrent saves never share a temporary.
  static std::atomic<uint64_t> counter{0};
  std::string tmp = str_cat(path, ".tmp.", ::getpid(), ".", counter++);
  Fd f;
  f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f.fd < 0) fail(path, str_cat("cannot create '", tmp, "': ", std::strerror(errno)));
  try {
    write_all(f.fd, path, len_bytes, 8);
    write_all(f.fd, path, text.data(), text.size());
    for (const Tensor& t : host)
      write_all(f.fd, path, t.raw_data(), static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
    if (::fsync(f.fd) != 0) fail(path, str_cat("fsync failed: ", std::strerror(errno)));
    int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) fail(path, str_cat("close failed: ", std::strerror(errno)));
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      fail(path, str_cat("rename from '", tmp, "' failed: ", std::strerror(errno)));
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable.
  size_t slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  Fd d;
  d.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d.fd >= 0) ::fsync(d.fd);
}

}  // namespace sirs
