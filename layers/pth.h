// PyTorch checkpoints written by torch.save (zip format, PyTorch >= 1.6):
//
//   <prefix>/data.pkl      the pickled object (protocol 2), layers/pickle.h
//   <prefix>/data/<key>    one raw little-endian storage per key
//   <prefix>/version, <prefix>/byteorder (newer PyTorch; "big" is refused)
//
// A tensor is pickled as torch._utils._rebuild_tensor_v2(storage,
// storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
// (wrapped in _rebuild_parameter(...) for an nn.Parameter), the storage as
// the persistent id ('storage', torch.<Type>Storage, key, location, numel).
// Storages: Float, Double, Long, Int, Byte, Half, BFloat16. Each tensor is
// returned as its own contiguous CPU copy (tensors that shared a storage in
// PyTorch get equal values, not shared memory). The location ("cpu",
// "cuda:0") is ignored: everything loads to the CPU.
//
// The legacy format (torch.save before 1.6 or _use_new_zipfile_serialization
// =False: a bare pickle stream, or a tar archive) is detected and refused
// with an IOError saying to re-save with PyTorch >= 1.6. Every problem is
// an IOError naming the file (and the zip entry or dict key).
#pragma once

#include <map>
#include <string>

#include "layers/module.h"  // NamedTensors
#include "layers/pickle.h"
#include "tensor/tensor.h"

namespace sirs {

// The object torch.load would return, as a PyValue tree whose tensor
// objects are resolved through tensor().
struct TorchFile {
  std::string path;
  PyPtr root;
  std::map<const PyValue*, Tensor> tensors;
  // The tensor a tree node stands for, or nullptr when it is not a tensor.
  const Tensor* tensor(const PyValue* v) const;
  // A dict node whose values are all tensors (a state dict) as name ->
  // tensor in the dict's order. IOError naming `what` and the first key
  // that is not a string or whose value is not a tensor.
  NamedTensors state_dict(const PyValue* dict, const std::string& what) const;
};

// Reads any torch.save zip file whose pickle uses only the state-dict
// subset (dicts, lists, tuples, scalars, strings, tensors; NumPy scalars
// are accepted and left as objects).
TorchFile load_torch(const std::string& path);

// A checkpoint holding a state dict (the root object is a dict of tensors,
// e.g. torch.save(model.state_dict(), path)).
NamedTensors load_pth(const std::string& path);

}  // namespace sirs
