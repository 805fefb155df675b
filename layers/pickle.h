// A reader for the subset of Python's pickle format that checkpoints use:
// torch.save's data.pkl (protocol 2), NumPy object arrays (np.save of a list
// of arrays; Python 2 pickles included) and the small option dicts saved
// beside a model. It builds a tree of PyValues and never runs anything:
//
//   - containers: dict (and collections.OrderedDict), list, tuple;
//   - scalars: None, bool, int (up to 64 bits), float, str (UTF-8), bytes;
//     Python 2 byte strings (BINSTRING, SHORT_BINSTRING) read as Bytes, as
//     numpy.load(encoding='latin1') would hand their raw bytes on;
//   - GLOBAL / STACK_GLOBAL name a callable: it must be in the caller's
//     allow-list (anything else is an IOError naming it); REDUCE / NEWOBJ
//     of it and a later BUILD give an Object {callable, args, state} that the
//     caller interprets (torch._utils._rebuild_tensor_v2, numpy's
//     _reconstruct, ...). collections.OrderedDict() becomes a Dict and
//     _codecs.encode(str, 'latin1') (how Python 3 pickles bytes with
//     protocol 2) becomes Bytes;
//   - BINPERSID gives a Persistent value holding the persistent id (torch's
//     ('storage', <Storage class>, key, location, numel) tuple).
//
// Opcodes: PROTO, FRAME, STOP, MARK, POP, POP_MARK, DUP, NONE, NEWTRUE,
// NEWFALSE, BININT, BININT1, BININT2, LONG1, LONG4, BINFLOAT, BINUNICODE,
// SHORT_BINUNICODE, BINUNICODE8, BINBYTES, SHORT_BINBYTES, BINBYTES8,
// BINSTRING, SHORT_BINSTRING, EMPTY_TUPLE, TUPLE, TUPLE1, TUPLE2, TUPLE3,
// EMPTY_LIST, LIST, APPEND, APPENDS, EMPTY_DICT, DICT, SETITEM, SETITEMS,
// GLOBAL, STACK_GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID, BINPUT,
// LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET. Any other opcode is an IOError
// naming it and its offset. A pickle can build cyclic containers (a list
// appended to itself); repr() is depth-limited and the readers built on this
// (layers/pth.h, layers/npz.h) limit the depth they walk.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace sirs {

struct PyValue;
using PyPtr = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Object, Persistent };
  Kind kind = Kind::None;
  int64_t i = 0;  // Int, Bool (0/1)
  double f = 0;   // Float
  // Str: UTF-8 text. Global: "module.name". Object: its callable's "module.name".
  std::string s;
  // Bytes: the raw bytes, a view into the pickle's buffer (kept alive here).
  std::shared_ptr<const std::string> buf;
  size_t off = 0, len = 0;
  // Tuple, List: elements. Object: the arguments. Persistent: {pid}.
  std::vector<PyPtr> items;
  std::vector<std::pair<PyPtr, PyPtr>> dict;  // Dict, insertion order
  PyPtr state;                                // Object: BUILD's state (or null)

  bool is(Kind k) const { return kind == k; }
  bool is_text() const { return kind == Kind::Str || kind == Kind::Bytes; }
  // Str or Bytes as a std::string of bytes (empty for other kinds).
  std::string text() const;
  const char* bytes_data() const { return buf->data() + off; }
  // Dict lookup by str key (nullptr when absent or not a Dict).
  const PyValue* get(const std::string& key) const;
  // "int", "dict", "object torch._utils._rebuild_tensor_v2", ...
  std::string type_name() const;
  // A short Python-like rendering for messages (containers abbreviated).
  std::string repr(int depth = 2) const;
};

// Parses the pickle that starts at data[start] (up to its STOP). `what` names the source in
// errors ("'model.pth' entry 'archive/data.pkl'"). A GLOBAL outside
// allowed_globals ("module.name") is an IOError naming it;
// collections.OrderedDict and _codecs.encode are always understood.
PyPtr unpickle(std::shared_ptr<const std::string> data, const std::string& what,
               const std::set<std::string>& allowed_globals, size_t start = 0);

}  // namespace sirs
