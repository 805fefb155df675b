// Pickle reader (subset and value model in layers/pickle.h). A stack
// machine over the opcode stream: every read is bounds-checked, every pop
// checks the stack, and every error names the source, the opcode and its
// offset.
#include "layers/pickle.h"

#include <cstring>
#include <unordered_map>

#include "tensor/error.h"

namespace sirs {

namespace {

PyPtr make(PyValue::Kind k) {
  auto v = std::make_shared<PyValue>();
  v->kind = k;
  return v;
}

// UTF-8 -> code points <= 0xff -> bytes (what 'latin1' encoding does).
bool utf8_to_latin1(const std::string& s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      ++i;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
      unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      if (cp > 0xff) return false;
      out->push_back(static_cast<char>(cp));
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

class Unpickler {
 public:
  Unpickler(std::shared_ptr<const std::string> data, const std::string& what,
            const std::set<std::string>& allowed, size_t start)
      : buf_(std::move(data)), what_(what), allowed_(allowed), pos_(start), op_pos_(start) {}

  PyPtr run() {
    const std::string& d = *buf_;
    while (true) {
      if (pos_ >= d.size()) fail("pickle ends without STOP (truncated?)");
      op_pos_ = pos_;
      op_ = static_cast<unsigned char>(d[pos_++]);
      switch (op_) {
        case 0x80: take(1); break;  // PROTO
        case 0x95: take(8); break;  // FRAME: frames are only a buffering hint
        case '.': {                 // STOP
          PyPtr v = pop();
          return v;
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '0': pop(); break;                             // POP
        case '1': pop_mark(); break;                        // POP_MARK
        case '2': push(top()); break;                       // DUP
        case 'N': push(none()); break;
        case 0x88: push(boolean(true)); break;   // NEWTRUE
        case 0x89: push(boolean(false)); break;  // NEWFALSE
        case 'J': push(integer(static_cast<int32_t>(le(4)))); break;  // BININT
        case 'K': push(integer(static_cast<int64_t>(le(1)))); break;  // BININT1
        case 'M': push(integer(static_cast<int64_t>(le(2)))); break;  // BININT2
        case 0x8a: push(long_int(le(1))); break;                      // LONG1
        case 0x8b: push(long_int(le(4))); break;                      // LONG4
        case 'G': {                                                   // BINFLOAT, big-endian
          const char* p = take(8);
          uint64_t u = 0;
          for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<unsigned char>(p[k]);
          auto v = make(PyValue::Kind::Float);
          std::memcpy(&v->f, &u, 8);
          push(v);
          break;
        }
        case 'X': push(str(le(4))); break;     // BINUNICODE
        case 0x8c: push(str(le(1))); break;    // SHORT_BINUNICODE
        case 0x8d: push(str(le(8))); break;    // BINUNICODE8
        case 'B': push(bytes(le(4))); break;   // BINBYTES
        case 'C': push(bytes(le(1))); break;   // SHORT_BINBYTES
        case 0x8e: push(bytes(le(8))); break;  // BINBYTES8
        case 'T': push(bytes(le(4))); break;   // BINSTRING (Python 2 str)
        case 'U': push(bytes(le(1))); break;   // SHORT_BINSTRING
        case ')': push(make(PyValue::Kind::Tuple)); break;  // EMPTY_TUPLE
        case 't': {                                         // TUPLE
          auto v = make(PyValue::Kind::Tuple);
          v->items = pop_mark();
          push(v);
          break;
        }
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          size_t n = op_ - 0x84u;
          if (stack_.size() < n + floor()) fail("stack underflow");
          auto v = make(PyValue::Kind::Tuple);
          v->items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(v);
          break;
        }
        case ']': push(make(PyValue::Kind::List)); break;  // EMPTY_LIST
        case 'l': {                                        // LIST
          auto v = make(PyValue::Kind::List);
          v->items = pop_mark();
          push(v);
          break;
        }
        case 'a': {  // APPEND
          PyPtr x = pop();
          list_of(top())->items.push_back(x);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<PyPtr> xs = pop_mark();
          auto& items = list_of(top())->items;
          items.insert(items.end(), xs.begin(), xs.end());
          break;
        }
        case '}': push(make(PyValue::Kind::Dict)); break;  // EMPTY_DICT
        case 'd': {                                        // DICT
          std::vector<PyPtr> xs = pop_mark();
          auto v = make(PyValue::Kind::Dict);
          set_items(v.get(), xs);
          push(v);
          break;
        }
        case 's': {  // SETITEM
          PyPtr val = pop();
          PyPtr key = pop();
          set_items(dict_of(top()), {key, val});
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<PyPtr> xs = pop_mark();
          set_items(dict_of(top()), xs);
          break;
        }
        case 'c': {  // GLOBAL "module\nname\n"
          std::string module = line(), name = line();
          push(global(module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          PyPtr name = pop(), module = pop();
          if (!name->is(PyValue::Kind::Str) || !module->is(PyValue::Kind::Str))
            fail("STACK_GLOBAL needs two strings");
          push(global(module->s + "." + name->s));
          break;
        }
        case 'R': case 0x81: {  // REDUCE, NEWOBJ
          PyPtr args = pop();
          PyPtr callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'b': {  // BUILD
          PyPtr st = pop();
          PyPtr obj = top();
          if (obj->is(PyValue::Kind::Object)) {
            obj->state = st;
          } else if (!obj->is(PyValue::Kind::Dict)) {
            // OrderedDict keeps instance attributes (torch's _metadata) in
            // its state; nothing else takes one.
            fail(str_cat("BUILD on a ", obj->type_name()));
          }
          break;
        }
        case 'Q': {  // BINPERSID
          auto v = make(PyValue::Kind::Persistent);
          v->items.push_back(pop());
          push(v);
          break;
        }
        case 'q': memo_[static_cast<uint32_t>(le(1))] = top(); break;  // BINPUT
        case 'r': memo_[static_cast<uint32_t>(le(4))] = top(); break;  // LONG_BINPUT
        case 0x94: memo_[static_cast<uint32_t>(memo_.size())] = top(); break;  // MEMOIZE
        case 'h': push(memo_get(le(1))); break;  // BINGET
        case 'j': push(memo_get(le(4))); break;  // LONG_BINGET
        default:
          fail(str_cat("unsupported pickle opcode 0x", hex(op_),
                       (op_ >= 0x20 && op_ < 0x7f) ? str_cat(" '", static_cast<char>(op_), "'") : ""));
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw IOError(str_cat(what_, ": ", msg, " (pickle offset ", op_pos_, ")"));
  }
  static std::string hex(unsigned v) {
    const char* d = "0123456789abcdef";
    return std::string{d[(v >> 4) & 15], d[v & 15]};
  }

  const char* take(uint64_t n) {
    if (n > buf_->size() - pos_) fail("unexpected end of pickle data (truncated?)");
    const char* p = buf_->data() + pos_;
    pos_ += static_cast<size_t>(n);
    return p;
  }
  uint64_t le(int n) {
    const char* p = take(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(p[k]);
    return v;
  }
  std::string line() {
    size_t nl = buf_->find('\n', pos_);
    if (nl == std::string::npos) fail("unterminated GLOBAL name");
    std::string s = buf_->substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return s;
  }

  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(PyPtr v) { stack_.push_back(std::move(v)); }
  PyPtr pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    PyPtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  const PyPtr& top() const {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<PyPtr> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyPtr> xs(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return xs;
  }
  PyValue* list_of(const PyPtr& v) const {
    if (!v->is(PyValue::Kind::List)) fail(str_cat("APPEND to a ", v->type_name()));
    return v.get();
  }
  PyValue* dict_of(const PyPtr& v) const {
    if (!v->is(PyValue::Kind::Dict)) fail(str_cat("SETITEM on a ", v->type_name()));
    return v.get();
  }
  void set_items(PyValue* d, const std::vector<PyPtr>& xs) const {
    if (xs.size() % 2 != 0) fail("odd number of dict items");
    for (size_t k = 0; k < xs.size(); k += 2) {
      bool replaced = false;
      if (xs[k]->is_text() || xs[k]->is(PyValue::Kind::Int)) {
        for (auto& kv : d->dict) {
          if (kv.first->kind == xs[k]->kind && kv.first->i == xs[k]->i &&
              kv.first->text() == xs[k]->text()) {
            kv.second = xs[k + 1];
            replaced = true;
            break;
          }
        }
      }
      if (!replaced) d->dict.emplace_back(xs[k], xs[k + 1]);
    }
  }
  PyPtr memo_get(uint64_t k) const {
    auto it = memo_.find(static_cast<uint32_t>(k));
    if (it == memo_.end()) fail(str_cat("memo key ", k, " was never stored"));
    return it->second;
  }

  PyPtr none() { return make(PyValue::Kind::None); }
  PyPtr boolean(bool b) {
    auto v = make(PyValue::Kind::Bool);
    v->i = b;
    return v;
  }
  PyPtr integer(int64_t i) {
    auto v = make(PyValue::Kind::Int);
    v->i = i;
    return v;
  }
  PyPtr long_int(uint64_t n) {
    if (n > 8) fail(str_cat("integer of ", n, " bytes does not fit 64 bits"));
    const char* p = take(n);
    uint64_t u = 0;
    for (int k = static_cast<int>(n) - 1; k >= 0; --k) u = (u << 8) | static_cast<unsigned char>(p[k]);
    if (n > 0 && n < 8 && (static_cast<unsigned char>(p[n - 1]) & 0x80)) u |= ~uint64_t(0) << (8 * n);
    int64_t i;
    std::memcpy(&i, &u, 8);
    return integer(i);
  }
  PyPtr str(uint64_t n) {
    const char* p = take(n);
    auto v = make(PyValue::Kind::Str);
    v->s.assign(p, static_cast<size_t>(n));
    return v;
  }
  PyPtr bytes(uint64_t n) {
    take(n);
    auto v = make(PyValue::Kind::Bytes);
    v->buf = buf_;
    v->off = pos_ - static_cast<size_t>(n);
    v->len = static_cast<size_t>(n);
    return v;
  }
  PyPtr global(const std::string& name) {
    if (name != "collections.OrderedDict" && name != "_codecs.encode" && !allowed_.count(name))
      fail(str_cat("unknown global '", name, "' (not part of a state dict / array this reader understands)"));
    auto v = make(PyValue::Kind::Global);
    v->s = name;
    return v;
  }
  PyPtr reduce(const PyPtr& callable, const PyPtr& args) {
    if (!callable->is(PyValue::Kind::Global)) fail(str_cat("REDUCE of a ", callable->type_name()));
    if (!args->is(PyValue::Kind::Tuple)) fail(str_cat("REDUCE of ", callable->s, " with a ", args->type_name()));
    if (callable->s == "collections.OrderedDict") {
      auto d = make(PyValue::Kind::Dict);
      if (args->items.size() == 1 && args->items[0]->is(PyValue::Kind::List)) {
        // Python 2: OrderedDict([[key, value], ...]).
        for (const PyPtr& kv : args->items[0]->items) {
          bool pair = (kv->is(PyValue::Kind::List) || kv->is(PyValue::Kind::Tuple)) && kv->items.size() == 2;
          if (!pair) fail("OrderedDict item is not a pair");
          set_items(d.get(), kv->items);
        }
      } else if (!args->items.empty()) {
        fail("OrderedDict with unexpected arguments");
      }
      return d;
    }
    if (callable->s == "_codecs.encode") {
      // Python 3 bytes under protocol 2: _codecs.encode(text, 'latin1').
      if (args->items.size() != 2 || !args->items[0]->is(PyValue::Kind::Str) ||
          !args->items[1]->is(PyValue::Kind::Str) ||
          (args->items[1]->s != "latin1" && args->items[1]->s != "latin-1"))
        fail("_codecs.encode other than (str, 'latin1')");
      auto own = std::make_shared<std::string>();
      if (!utf8_to_latin1(args->items[0]->s, own.get())) fail("_codecs.encode: text is not latin-1");
      auto v = make(PyValue::Kind::Bytes);
      v->len = own->size();
      v->buf = std::move(own);
      return v;
    }
    auto v = make(PyValue::Kind::Object);
    v->s = callable->s;
    v->items = args->items;
    return v;
  }

  std::shared_ptr<const std::string> buf_;
  std::string what_;
  const std::set<std::string>& allowed_;
  size_t pos_, op_pos_;
  unsigned op_ = 0;
  std::vector<PyPtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, PyPtr> memo_;
};

}  // namespace

std::string PyValue::text() const {
  if (kind == Kind::Str) return s;
  if (kind == Kind::Bytes) return std::string(bytes_data(), len);
  return std::string();
}

const PyValue* PyValue::get(const std::string& key) const {
  if (kind != Kind::Dict) return nullptr;
  for (const auto& kv : dict)
    if (kv.first->is(Kind::Str) && kv.first->s == key) return kv.second.get();
  return nullptr;
}

std::string PyValue::type_name() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::Str: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global " + s;
    case Kind::Object: return "object " + s;
    case Kind::Persistent: return "persistent id";
  }
  return "?";
}

std::string PyValue::repr(int depth) const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return i ? "True" : "False";
    case Kind::Int: return std::to_string(i);
    case Kind::Float: return str_cat(f);
    case Kind::Str: return "'" + (s.size() > 60 ? s.substr(0, 60) + "..." : s) + "'";
    case Kind::Bytes: return str_cat("<", len, " bytes>");
    case Kind::Global: return s;
    default: break;
  }
  if (depth <= 0) return "<" + type_name() + ">";
  std::string out;
  auto seq = [&](const std::vector<PyPtr>& xs) {
    for (size_t k = 0; k < xs.size() && k < 8; ++k) out += (k ? ", " : "") + xs[k]->repr(depth - 1);
    if (xs.size() > 8) out += ", ...";
  };
  switch (kind) {
    case Kind::Tuple: out = "("; seq(items); return out + ")";
    case Kind::List: out = "["; seq(items); return out + "]";
    case Kind::Object: out = s + "("; seq(items); return out + ")";
    case Kind::Persistent: out = "persistent("; seq(items); return out + ")";
    case Kind::Dict:
      out = "{";
      for (size_t k = 0; k < dict.size() && k < 8; ++k)
        out += (k ? ", " : "") + dict[k].first->repr(depth - 1) + ": " + dict[k].second->repr(depth - 1);
      if (dict.size() > 8) out += ", ...";
      return out + "}";
    default: return "?";
  }
}

PyPtr unpickle(std::shared_ptr<const std::string> data, const std::string& what,
               const std::set<std::string>& allowed_globals, size_t start) {
  if (start > data->size()) throw IOError(str_cat(what, ": pickle starts past the end of the data"));
  return Unpickler(std::move(data), what, allowed_globals, start).run();
}

}  // namespace sirs
