// torch.save zip checkpoints (format in layers/pth.h).
#include "layers/pth.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "layers/zip.h"

namespace sirs {

namespace {

constexpr int kMaxDepth = 1000;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw IOError(str_cat("torch checkpoint '", path, "': ", what));
}

bool storage_dtype(const std::string& global, DType* out) {
  static const std::pair<const char*, DType> kTypes[] = {
      {"torch.FloatStorage", DType::F32}, {"torch.DoubleStorage", DType::F64},
      {"torch.LongStorage", DType::I64},  {"torch.IntStorage", DType::I32},
      {"torch.ByteStorage", DType::U8},   {"torch.HalfStorage", DType::F16},
      {"torch.BFloat16Storage", DType::BF16}};
  for (const auto& t : kTypes) {
    if (global == t.first) {
      *out = t.second;
      return true;
    }
  }
  return false;
}

const std::set<std::string>& allowed_globals() {
  static const std::set<std::string> kAllowed = {
      "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
      "torch.FloatStorage", "torch.DoubleStorage", "torch.LongStorage", "torch.IntStorage",
      "torch.ByteStorage", "torch.HalfStorage", "torch.BFloat16Storage",
      // Known but refused with a clear message when a tensor uses them.
      "torch.BoolStorage", "torch.ShortStorage", "torch.CharStorage",
      // NumPy scalars (a best score saved as numpy.float64) stay objects.
      "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype"};
  return kAllowed;
}

bool int_tuple(const PyValue& v, Shape* out) {
  if (!v.is(PyValue::Kind::Tuple) && !v.is(PyValue::Kind::List)) return false;
  out->clear();
  for (const PyPtr& x : v.items) {
    if (!x->is(PyValue::Kind::Int)) return false;
    out->push_back(x->i);
  }
  return true;
}

class Loader {
 public:
  Loader(const std::string& path, TorchFile* out) : path_(path), zip_(path), out_(out) {}

  void run() {
    std::string pkl;
    for (const ZipEntry& e : zip_.entries()) {
      size_t slash = e.name.find('/');
      bool top = slash != std::string::npos && e.name.find('/', slash + 1) == std::string::npos;
      if (top && e.name.compare(slash, std::string::npos, "/data.pkl") == 0) {
        prefix_ = e.name.substr(0, slash + 1);
        pkl = e.name;
        break;
      }
    }
    if (pkl.empty()) fail(path_, "no '<name>/data.pkl' entry: not a torch.save checkpoint");
    if (const ZipEntry* bo = zip_.find(prefix_ + "byteorder")) {
      std::string order = zip_.read(*bo);
      if (order != "little") fail(path_, str_cat("byte order '", order, "' is not supported"));
    }
    auto data = std::make_shared<const std::string>(zip_.read(pkl));
    out_->root = unpickle(data, str_cat("torch checkpoint '", path_, "' entry '", pkl, "'"),
                          allowed_globals());
    resolve(out_->root, 0);
  }

 private:
  // Post-order: the arguments of an object are resolved before it.
  void resolve(const PyPtr& v, int depth) {
    if (depth > kMaxDepth) fail(path_, "objects nested too deeply (cyclic pickle?)");
    if (!seen_.insert(v.get()).second) return;
    for (const PyPtr& x : v->items) resolve(x, depth + 1);
    for (const auto& kv : v->dict) {
      resolve(kv.first, depth + 1);
      resolve(kv.second, depth + 1);
    }
    if (v->state) resolve(v->state, depth + 1);
    if (!v->is(PyValue::Kind::Object)) return;
    const std::string& fn = v->s;
    if (fn == "torch._utils._rebuild_tensor_v2") {
      out_->tensors[v.get()] = rebuild_tensor(*v);
    } else if (fn == "torch._utils._rebuild_parameter" ||
               fn == "torch._utils._rebuild_parameter_with_state") {
      const Tensor* t = v->items.empty() ? nullptr : out_->tensor(v->items[0].get());
      if (!t) fail(path_, str_cat(fn, " without a tensor: ", v->repr()));
      out_->tensors[v.get()] = *t;
    }
  }

  Tensor rebuild_tensor(const PyValue& v) {
    std::string call = v.repr(3);
    if (v.items.size() < 6 || v.items.size() > 7) fail(path_, str_cat("unexpected arguments in ", call));
    const PyValue& pers = *v.items[0];
    if (!pers.is(PyValue::Kind::Persistent)) fail(path_, str_cat("tensor without a storage: ", call));
    Shape size, stride;
    if (!v.items[1]->is(PyValue::Kind::Int) || !int_tuple(*v.items[2], &size) ||
        !int_tuple(*v.items[3], &stride) || size.size() != stride.size())
      fail(path_, str_cat("bad offset, size or stride in ", call));
    int64_t offset = v.items[1]->i;
    const Tensor& storage = load_storage(*pers.items[0]);
    // The view must stay inside the storage.
    int64_t last = offset;
    bool empty_view = false;
    for (size_t d = 0; d < size.size(); ++d)
      if (size[d] == 0) empty_view = true;
    for (size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0 || stride[d] < 0) fail(path_, str_cat("negative size or stride in ", call));
      if (empty_view || size[d] == 1 || stride[d] == 0) continue;
      if (size[d] - 1 > (storage.numel() - last) / stride[d])
        fail(path_, str_cat("tensor view ", call, " reaches past its storage of ", storage.numel(), " elements"));
      last += (size[d] - 1) * stride[d];
    }
    if (offset < 0 || (!empty_view && last >= storage.numel()))
      fail(path_, str_cat("tensor view ", call, " reaches past its storage of ", storage.numel(), " elements"));
    if (empty_view) return empty(size, Options(storage.dtype()));
    return view::clone(view::as_strided(storage, size, stride, offset));
  }

  const Tensor& load_storage(const PyValue& pid) {
    // ('storage', torch.FloatStorage, key, location, numel)
    bool ok = pid.is(PyValue::Kind::Tuple) && pid.items.size() == 5 && pid.items[0]->is_text() &&
              pid.items[0]->text() == "storage" && pid.items[1]->is(PyValue::Kind::Global) &&
              pid.items[2]->is_text() && pid.items[4]->is(PyValue::Kind::Int);
    if (!ok) fail(path_, str_cat("unsupported persistent id ", pid.repr(3)));
    std::string key = pid.items[2]->text();
    auto it = storages_.find(key);
    if (it != storages_.end()) return it->second;
    DType dtype;
    if (!storage_dtype(pid.items[1]->s, &dtype))
      fail(path_, str_cat("storage '", key, "': ", pid.items[1]->s, " is not supported"));
    int64_t numel = pid.items[4]->i;
    std::string name = prefix_ + "data/" + key;
    const ZipEntry* e = zip_.find(name);
    if (!e) fail(path_, str_cat("storage entry '", name, "' is missing"));
    if (numel < 0 || static_cast<uint64_t>(numel) > e->size ||
        e->size != static_cast<uint64_t>(numel) * dtype_size(dtype))
      fail(path_, str_cat("entry '", name, "' holds ", e->size, " bytes, the pickle says ", numel,
                          " x ", dtype_name(dtype)));
    Tensor t = empty({numel}, Options(dtype));
    if (numel > 0) zip_.read_into(*e, t.raw_data());
    return storages_.emplace(key, t).first->second;
  }

  std::string path_;
  ZipReader zip_;
  TorchFile* out_;
  std::string prefix_;
  std::set<const PyValue*> seen_;
  std::unordered_map<std::string, Tensor> storages_;
};

}  // namespace

const Tensor* TorchFile::tensor(const PyValue* v) const {
  auto it = tensors.find(v);
  return it == tensors.end() ? nullptr : &it->second;
}

NamedTensors TorchFile::state_dict(const PyValue* dict, const std::string& what) const {
  if (!dict || !dict->is(PyValue::Kind::Dict))
    fail(path, str_cat(what, " is a ", dict ? dict->type_name() : "missing value", ", not a state dict"));
  NamedTensors out;
  out.reserve(dict->dict.size());
  for (const auto& kv : dict->dict) {
    if (!kv.first->is(PyValue::Kind::Str)) fail(path, str_cat(what, ": key ", kv.first->repr(), " is not a string"));
    const Tensor* t = tensor(kv.second.get());
    if (!t) fail(path, str_cat(what, ": '", kv.first->s, "' is a ", kv.second->type_name(), ", not a tensor"));
    out.emplace_back(kv.first->s, *t);
  }
  return out;
}

TorchFile load_torch(const std::string& path) {
  if (!is_zip_file(path)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, str_cat("cannot open: ", std::strerror(errno)));
    unsigned char head[512] = {0};
    ssize_t n = ::pread(fd, head, sizeof(head), 0);
    ::close(fd);
    if (n >= 2 && head[0] == 0x80 && head[1] <= 5)
      fail(path, "legacy (pre-1.6) torch.save format; re-save it with PyTorch >= 1.6: "
                 "torch.save(torch.load(path), path)");
    if (n >= 262 && std::memcmp(head + 257, "ustar", 5) == 0)
      fail(path, "legacy tar torch.save format; re-save it with PyTorch >= 1.6: "
                 "torch.save(torch.load(path), path)");
    fail(path, "not a torch.save zip checkpoint");
  }
  TorchFile f;
  f.path = path;
  Loader(path, &f).run();
  return f;
}

NamedTensors load_pth(const std::string& path) {
  TorchFile f = load_torch(path);
  return f.state_dict(f.root.get(), "the saved object");
}

}  // namespace sirs
