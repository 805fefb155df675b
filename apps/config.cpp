// The run configuration: schema table, YAML reading, --set overrides,
// validation and the effective configuration. See apps/config.h.
#include "apps/config.h"

// GCC 12 reports false dangling-pointer warnings inside yaml-cpp's node templates.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <unistd.h>

#include "layers/safetensors.h"
#include "tensor/device.h"
#include "tensor/error.h"

namespace sirs::app {
namespace {

enum class Kind { kInt, kFloat, kBool, kString, kPath, kEnum, kPair };

struct Key {
  const char* name;  // dotted
  Kind kind;
  const char* def;   // YAML text of the default ("" = empty string / none)
  const char* help;
  const char* choices = "";  // kEnum: "a|b|c"
  double min = -1e300;       // kInt / kFloat
};

// Reference keys first (the public SIRS option files), then ours ("(ours)").
// A key the reference reads but sirs has no use for is accepted and noted.
const std::vector<Key>& schema() {
  static const std::vector<Key> keys = {
      {"model.name", Kind::kString, "SIRS", "model name (informational)"},
      {"model.backbone", Kind::kEnum, "resnet18", "image encoder", "resnet18|resnet50"},
      {"model.resnet_width", Kind::kInt, "64", "(ours) ResNet base width (64 = torchvision)", "", 1},
      {"model.num_classes", Kind::kInt, "15", "segmentation classes incl. Background", "", 2},
      {"model.embed.embed_dim", Kind::kInt, "512", "joint embedding size", "", 1},
      {"model.decoder", Kind::kBool, "true", "segmentation decoder present"},
      {"model.decoder_semantic_kernel", Kind::kInt, "1", "(ours) decoder.semantic_branch kernel (1|3)", "", 1},
      {"model.SSA", Kind::kBool, "true", "semantic-guided spatial attention (needs the decoder)"},
      {"model.SSA.use", Kind::kBool, "true", "same as model.SSA when SSA is written as a section"},
      {"model.SSA.downsample", Kind::kEnum, "averagePooling", "SSA mask downsampling",
       "averagePooling|maxPooling|interpolation|None"},
      {"model.SSA.normalization", Kind::kEnum, "None", "SSA normalisation", "batchNorm|groupNorm|None"},
      {"model.VFM", Kind::kBool, "true", "adaptive multi-scale weighting (AMW) over four scales"},
      {"model.VFM.use", Kind::kBool, "true", "same as model.VFM when VFM is written as a section"},
      {"model.VFM.sample", Kind::kEnum, "mean", "AMW pooling", "mean|max"},
      {"model.seq2vec.arch", Kind::kString, "skipthoughts", "text encoder (skip-thoughts uni-skip only)"},
      {"model.seq2vec.type", Kind::kString, "BayesianUniSkip", "skip-thoughts variant (informational)"},
      {"model.seq2vec.dir_st", Kind::kPath, "", "skip-thoughts weights folder (use model.init / sirs convert)"},
      {"model.seq2vec.dropout", Kind::kFloat, "0.25", "GRU dropout", "", 0},
      {"model.seq2vec.fixed_emb", Kind::kBool, "false", "frozen word embeddings (not supported: must be false)"},
      {"model.seq2vec.word_dim", Kind::kInt, "620", "(ours) word embedding size", "", 1},
      {"model.seq2vec.hidden_dim", Kind::kInt, "2400", "(ours) GRU hidden size", "", 1},
      {"model.image_size", Kind::kInt, "256", "(ours) network input size (training crop / eval resize)", "", 32},
      {"model.init", Kind::kPath, "", "(ours) weights to start from: a sirs checkpoint, a torchvision ResNet (.pth / .safetensors) or a reference .pth.tar"},
      {"dataset.datatype", Kind::kString, "rsitmd", "dataset name (rsitmd | rsicd | ucm | synthetic)"},
      {"dataset.data_split", Kind::kEnum, "scene", "train/val split of each fold: all (validate on the test split) | trainval (random 80/20) | scene (80/20 per scene)",
       "all|trainval|scene|scene_guided"},
      {"dataset.data_path", Kind::kPath, "", "folder with {train,test}_caps.txt and _filename.txt"},
      {"dataset.image_path", Kind::kPath, "", "folder with the images"},
      {"dataset.vocab_path", Kind::kPath, "", "vocabulary JSON"},
      {"dataset.batch_size", Kind::kInt, "32", "training batch (captions; >= 2)", "", 2},
      {"dataset.batch_size_val", Kind::kInt, "32", "evaluation batch", "", 1},
      {"dataset.workers", Kind::kInt, "2", "loader threads (0: in the training thread)", "", 0},
      {"dataset.mask_path", Kind::kPath, "", "(ours) folder with mask_<name>.png ('' = no segmentation)"},
      {"dataset.augment", Kind::kBool, "true", "(ours) random resize/rotation/crop for training"},
      {"dataset.shuffle", Kind::kBool, "true", "(ours) shuffle the training captions each epoch"},
      {"dataset.resize", Kind::kInt, "278", "(ours) training resize before the random crop", "", 32},
      {"dataset.max_rotation", Kind::kFloat, "90", "(ours) random rotation range [0, x] degrees", "", 0},
      {"dataset.train_fraction", Kind::kFloat, "0.8", "(ours) share of the training images per fold", "", 0},
      {"optim.epochs", Kind::kInt, "35", "training epochs", "", 1},
      {"optim.lr", Kind::kFloat, "0.0002", "Adam learning rate", "", 0},
      {"optim.lr_decay_param", Kind::kFloat, "0.7", "lr factor every lr_update_epoch epochs", "", 0},
      {"optim.lr_update_epoch", Kind::kInt, "20", "decay at the start of epoch e when e % n == n - 1", "", 1},
      {"optim.grad_clip", Kind::kFloat, "0", "max gradient L2 norm (0: none), applied after backward", "", 0},
      {"optim.max_violation", Kind::kBool, "false", "hardest negative only in the triplet loss"},
      {"optim.margin", Kind::kFloat, "0.2", "triplet margin", "", 0},
      {"optim.resume", Kind::kPath, "", "checkpoint to resume from (also --resume)"},
      {"optim.loss_weight", Kind::kPair, "[80, 20]", "[segmentation, retrieval] loss weights"},
      {"optim.last_num_epochs_val", Kind::kInt, "10", "evaluations averaged per fold in the report", "", 1},
      {"logs.eval_step", Kind::kInt, "1", "validate every n epochs", "", 1},
      {"logs.print_freq", Kind::kInt, "10", "log a line every n steps", "", 1},
      {"logs.ckpt_save_path", Kind::kPath, "checkpoint", "run folder: <path>/<experiment_name>/fold<k>/"},
      {"logs.logger_name", Kind::kPath, "logs", "text log folder (the log is also in the run folder)"},
      {"k_fold.experiment_name", Kind::kString, "sirs", "name of the run folder"},
      {"k_fold.nums", Kind::kInt, "1", "folds to train", "", 1},
      {"k_fold.current_num", Kind::kInt, "0", "first fold", "", 0},
      {"runtime.device", Kind::kEnum, "auto", "(ours) cpu | cuda (auto: cuda when usable)", "auto|cpu|cuda"},
      {"runtime.threads", Kind::kInt, "0", "(ours) CPU threads (0: all cores)", "", 0},
      {"runtime.seed", Kind::kInt, "0", "(ours) seed of the initialisation, dropout, shuffling, augmentation and splits", "", 0},
      {"runtime.precision", Kind::kEnum, "fp32", "(ours) matmul precision", "fp32|tf32"},
  };
  return keys;
}

const Key* find_key(const std::string& name) {
  for (const Key& k : schema())
    if (name == k.name) return &k;
  return nullptr;
}

// Flattens a YAML mapping into dotted keys. A mapping under a key that the
// schema also knows as a scalar (model.SSA, model.VFM) is flattened too.
void flatten(const YAML::Node& n, const std::string& prefix, std::map<std::string, YAML::Node>& out,
             const std::string& where) {
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string key = prefix.empty() ? it->first.as<std::string>()
                                     : prefix + "." + it->first.as<std::string>();
    // A copy (a Node is a handle): `it->` yields a temporary pair, so a
    // reference to its member dangles after this line (ASan: stack-use-after-scope).
    const YAML::Node v = it->second;
    if (v.IsMap()) {
      bool known_prefix = false;
      for (const Key& k : schema())
        if (std::string(k.name).rfind(key + ".", 0) == 0) known_prefix = true;
      SIRS_CHECK(known_prefix, ValueError, where, ": unknown section '", key, "'");
      flatten(v, key, out, where);
    } else {
      SIRS_CHECK(find_key(key) != nullptr, ValueError, where, ": unknown key '", key,
                 "' (sirs train --help lists the keys)");
      out[key] = v;
    }
  }
}

std::string dir_of(const std::string& path) {
  size_t s = path.find_last_of('/');
  if (s == std::string::npos) return ".";
  return s == 0 ? "/" : path.substr(0, s);
}

std::string resolve(const std::string& p, const std::string& base) {
  if (p.empty() || p[0] == '/') return p;
  if (base.empty() || base == ".") return p;
  return base + "/" + p;
}

std::string cwd() {
  char buf[4096];
  if (getcwd(buf, sizeof buf)) return buf;
  return ".";
}

struct Value {
  YAML::Node node;
  std::string where;  // file or "--set ..."
  std::string base;   // folder for relative paths
};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

RunConfig parse_config(const std::string& text, const std::string& source,
                       const std::string& base_dir, const std::vector<std::string>& sets) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ValueError(str_cat(source, ": not valid YAML: ", e.what()));
  }
  std::map<std::string, YAML::Node> flat;
  if (doc && !doc.IsNull()) {
    SIRS_CHECK(doc.IsMap(), ValueError, source, ": the top level must be a mapping of sections");
    flatten(doc, "", flat, source);
  }
  std::map<std::string, Value> vals;
  for (auto& [k, v] : flat) vals[k] = Value{v, source, base_dir};
  const std::string here = cwd();
  for (const std::string& s : sets) {
    size_t eq = s.find('=');
    SIRS_CHECK(eq != std::string::npos && eq > 0, ValueError, "--set '", s,
               "': expected section.key=value");
    std::string key = s.substr(0, eq);
    SIRS_CHECK(find_key(key) != nullptr, ValueError, "--set '", s, "': unknown key '", key,
               "' (sirs train --help lists the keys)");
    YAML::Node v;
    try {
      v = YAML::Load(s.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      throw ValueError(str_cat("--set '", s, "': bad value: ", e.what()));
    }
    vals[key] = Value{v, "--set " + s, here};
  }

  // Typed access with the default when absent.
  auto node_of = [&](const Key& k, std::string* where, std::string* base) {
    auto it = vals.find(k.name);
    // `key:` with no value, as the reference's files write data_split, keeps the default.
    if (it == vals.end() || it->second.node.IsNull()) {
      *where = str_cat(source, " (default)");
      *base = base_dir;
      return YAML::Load(k.def);
    }
    *where = it->second.where;
    *base = it->second.base;
    return it->second.node;
  };
  auto bad = [](const Key& k, const std::string& where, const std::string& what) {
    return ValueError(str_cat(where, ": ", k.name, ": ", what));
  };
  auto get_scalar = [&](const Key& k, std::string* where, std::string* base) {
    YAML::Node n = node_of(k, where, base);
    if (n.IsNull()) return std::string();
    if (!n.IsScalar()) throw bad(k, *where, "expected a single value");
    return n.Scalar();
  };
  auto get_int = [&](const char* name) -> int64_t {
    const Key& k = *find_key(name);
    std::string where, base, s = get_scalar(k, &where, &base);
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0') throw bad(k, where, str_cat("expected an integer, got '", s, "'"));
    if (double(v) < k.min)
      throw bad(k, where, str_cat("must be >= ", int64_t(k.min), ", got ", v));
    return v;
  };
  auto get_float = [&](const char* name) -> double {
    const Key& k = *find_key(name);
    std::string where, base, s = get_scalar(k, &where, &base);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') throw bad(k, where, str_cat("expected a number, got '", s, "'"));
    if (!std::isfinite(v)) throw bad(k, where, str_cat("must be finite, got '", s, "'"));
    if (v < k.min) throw bad(k, where, str_cat("must be >= ", k.min, ", got ", v));
    return v;
  };
  auto get_bool = [&](const char* name) -> bool {
    const Key& k = *find_key(name);
    std::string where, base, s = get_scalar(k, &where, &base);
    for (const char* t : {"true", "True", "TRUE", "yes", "on", "1"})
      if (s == t) return true;
    for (const char* f : {"false", "False", "FALSE", "no", "off", "0"})
      if (s == f) return false;
    throw bad(k, where, str_cat("expected true or false, got '", s, "'"));
  };
  auto get_string = [&](const char* name) -> std::string {
    const Key& k = *find_key(name);
    std::string where, base;
    return get_scalar(k, &where, &base);
  };
  auto get_path = [&](const char* name) -> std::string {
    const Key& k = *find_key(name);
    std::string where, base, s = get_scalar(k, &where, &base);
    // The reference writes "no file" as `resume: False` (or None).
    for (const char* none : {"False", "false", "None", "none", "null"})
      if (s == none) return std::string();
    return resolve(s, base);
  };
  auto get_enum = [&](const char* name) -> std::string {
    const Key& k = *find_key(name);
    std::string where, base, s = get_scalar(k, &where, &base);
    std::string choices = k.choices;
    std::stringstream ss(choices);
    std::string c;
    while (std::getline(ss, c, '|'))
      if (c == s) return s;
    throw bad(k, where, str_cat("expected one of ", choices, ", got '", s, "'"));
  };

  RunConfig c;
  c.source = source;
  c.model_name = get_string("model.name");
  SirsConfig& m = c.model;
  m.backbone = get_enum("model.backbone");
  m.resnet_width = get_int("model.resnet_width");
  m.num_classes = get_int("model.num_classes");
  m.embed_dim = get_int("model.embed.embed_dim");
  m.decoder = get_bool("model.decoder");
  m.decoder_semantic_kernel = get_int("model.decoder_semantic_kernel");
  m.ssa = vals.count("model.SSA.use") ? get_bool("model.SSA.use") : get_bool("model.SSA");
  m.ssa_downsample = get_enum("model.SSA.downsample");
  m.ssa_normalization = get_enum("model.SSA.normalization");
  m.vfm = vals.count("model.VFM.use") ? get_bool("model.VFM.use") : get_bool("model.VFM");
  m.vfm_sample = get_enum("model.VFM.sample");
  m.gru_dropout = get_float("model.seq2vec.dropout");
  SIRS_CHECK(m.gru_dropout < 1, ValueError, source, ": model.seq2vec.dropout must be < 1, got ",
             m.gru_dropout);
  SIRS_CHECK(!get_bool("model.seq2vec.fixed_emb"), ValueError, source,
             ": model.seq2vec.fixed_emb: frozen word embeddings are not supported (set false)");
  std::string arch = get_string("model.seq2vec.arch");
  SIRS_CHECK(arch == "skipthoughts", ValueError, source,
             ": model.seq2vec.arch: only 'skipthoughts' is implemented, got '", arch, "'");
  get_string("model.seq2vec.type");
  get_path("model.seq2vec.dir_st");
  m.word_dim = get_int("model.seq2vec.word_dim");
  m.hidden_dim = get_int("model.seq2vec.hidden_dim");
  m.image_size = get_int("model.image_size");
  c.init = get_path("model.init");

  c.datatype = get_string("dataset.datatype");
  c.data_split = get_enum("dataset.data_split");
  if (c.data_split == "scene_guided") c.data_split = "scene";
  c.data_path = get_path("dataset.data_path");
  c.image_path = get_path("dataset.image_path");
  c.vocab_path = get_path("dataset.vocab_path");
  c.mask_path = get_path("dataset.mask_path");
  c.batch_size = get_int("dataset.batch_size");
  c.batch_size_val = get_int("dataset.batch_size_val");
  c.workers = int(get_int("dataset.workers"));
  c.augment = get_bool("dataset.augment");
  c.shuffle = get_bool("dataset.shuffle");
  c.resize = int(get_int("dataset.resize"));
  c.max_rotation = get_float("dataset.max_rotation");
  c.train_fraction = get_float("dataset.train_fraction");
  SIRS_CHECK(c.train_fraction > 0 && c.train_fraction <= 1, ValueError, source,
             ": dataset.train_fraction must be in (0, 1], got ", c.train_fraction);
  SIRS_CHECK(!c.augment || c.resize >= m.image_size, ValueError, source,
             ": dataset.resize (", c.resize, ") must be >= model.image_size (", m.image_size,
             ") when dataset.augment is on");

  c.epochs = get_int("optim.epochs");
  c.lr = get_float("optim.lr");
  c.lr_decay_param = get_float("optim.lr_decay_param");
  c.lr_update_epoch = get_int("optim.lr_update_epoch");
  c.grad_clip = get_float("optim.grad_clip");
  c.max_violation = get_bool("optim.max_violation");
  c.margin = get_float("optim.margin");
  c.resume = get_path("optim.resume");
  {
    const Key& k = *find_key("optim.loss_weight");
    std::string where, base;
    YAML::Node n = node_of(k, &where, &base);
    if (!n.IsSequence() || n.size() != 2)
      throw bad(k, where, "expected [segmentation, retrieval], e.g. [80, 20]");
    try {
      c.loss_weight.ss = n[0].as<double>();
      c.loss_weight.ir = n[1].as<double>();
    } catch (const YAML::Exception&) {
      throw bad(k, where, "expected two numbers");
    }
    if (!(c.loss_weight.ss >= 0 && c.loss_weight.ir >= 0 && std::isfinite(c.loss_weight.ss) &&
          std::isfinite(c.loss_weight.ir)))
      throw bad(k, where, "weights must be finite and >= 0");
  }
  c.last_num_epochs_val = get_int("optim.last_num_epochs_val");

  c.eval_step = get_int("logs.eval_step");
  c.print_freq = get_int("logs.print_freq");
  c.ckpt_save_path = get_path("logs.ckpt_save_path");
  c.logger_name = get_path("logs.logger_name");

  c.experiment_name = get_string("k_fold.experiment_name");
  SIRS_CHECK(!c.experiment_name.empty() && c.experiment_name.find('/') == std::string::npos,
             ValueError, source, ": k_fold.experiment_name must be a non-empty name without '/'");
  c.k_fold_nums = get_int("k_fold.nums");
  c.k_fold_current_num = get_int("k_fold.current_num");

  std::string dev = get_enum("runtime.device");
  if (dev == "auto") {
    dev = cuda_available() ? "cuda" : "cpu";
  } else if (dev == "cuda") {
    SIRS_CHECK(cuda_available(), ValueError, source,
               ": runtime.device is cuda but no GPU is usable (", cuda_status(),
               "); use runtime.device=cpu");
  }
  c.device = dev;
  c.threads = int(get_int("runtime.threads"));
  c.seed = uint64_t(get_int("runtime.seed"));
  c.precision = get_enum("runtime.precision");

  SirsConfig probe = m;
  probe.vocab_size = 1;
  try {
    probe.validate();
  } catch (const Error& e) {
    throw ValueError(str_cat(source, ": ", e.what()));
  }

  // The effective configuration, every key in schema order.
  auto scalar_text = [&](const Key& k) -> YAML::Node {
    std::string where, base;
    if (k.kind == Kind::kPath) return YAML::Node(get_path(k.name));
    return node_of(k, &where, &base);
  };
  std::vector<std::pair<std::vector<std::string>, YAML::Node>> entries;
  for (const Key& k : schema()) {
    std::string name = k.name;
    if (name == "model.SSA" || name == "model.VFM") continue;
    YAML::Node v;
    if (name == "model.SSA.use") v = YAML::Node(m.ssa);
    else if (name == "model.VFM.use") v = YAML::Node(m.vfm);
    else if (name == "runtime.device") v = YAML::Node(c.device);
    else v = scalar_text(k);
    std::vector<std::string> parts;
    std::stringstream ss(name);
    std::string p;
    while (std::getline(ss, p, '.')) parts.push_back(p);
    entries.emplace_back(parts, v);
  }
  // Emits entries [lo, hi) that share their first `depth` parts, as nested maps.
  std::function<void(YAML::Emitter&, size_t, size_t, size_t, bool)> emit =
      [&](YAML::Emitter& em, size_t lo, size_t hi, size_t depth, bool skip_unhashed) {
        em << YAML::BeginMap;
        size_t i = lo;
        while (i < hi) {
          const std::string& head = entries[i].first[depth];
          size_t j = i;
          while (j < hi && entries[j].first[depth] == head) ++j;
          if (!(skip_unhashed && depth == 0 && (head == "runtime" || head == "logs"))) {
            em << YAML::Key << head << YAML::Value;
            if (entries[i].first.size() == depth + 1) em << entries[i].second;
            else emit(em, i, j, depth + 1, skip_unhashed);
          }
          i = j;
        }
        em << YAML::EndMap;
      };
  YAML::Emitter em;
  emit(em, 0, entries.size(), 0, false);
  c.yaml = std::string(em.c_str()) + "\n";
  // Hash over everything but runtime and logs (what shapes the model and data).
  YAML::Emitter eh;
  emit(eh, 0, entries.size(), 0, true);
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)fnv1a(eh.c_str()));
  c.hash = buf;
  return c;
}

RunConfig load_config(const std::string& path, const std::vector<std::string>& sets) {
  std::ifstream f(path, std::ios::binary);
  SIRS_CHECK(f.good(), IOError, "cannot read config file '", path, "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), path, dir_of(path), sets);
}

void save_config(const RunConfig& cfg, const std::string& path) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    SIRS_CHECK(f.good(), IOError, "cannot write '", tmp, "'");
    f << "# effective configuration of this run (sirs train), from " << cfg.source << "\n"
      << cfg.yaml;
    SIRS_CHECK(f.good(), IOError, "cannot write '", tmp, "'");
  }
  SIRS_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, IOError, "cannot rename '", tmp,
             "' to '", path, "'");
}

std::string config_schema_help() {
  std::string s;
  const char* kinds[] = {"int", "float", "bool", "string", "path", "enum", "[a, b]"};
  for (const Key& k : schema()) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-30s %-7s %-16s %s%s%s\n", k.name, kinds[int(k.kind)],
                  (std::string(k.def).empty() ? "''" : k.def), k.help,
                  k.kind == Kind::kEnum ? "; one of " : "", k.choices);
    s += line;
  }
  return s;
}

}  // namespace sirs::app
