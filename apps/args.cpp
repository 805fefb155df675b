// apps/args.h: the shared subcommand argument parser.
#include "apps/args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <filesystem>
#include <stdexcept>

#include "tensor/error.h"

namespace sirs::app {

namespace {

std::string fmt_double(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

bool parse_int(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

bool parse_double(const std::string& s, double* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

}  // namespace

Args::Args(std::string command, std::string description)
    : command_(std::move(command)), description_(std::move(description)) {}

Args::Spec& Args::add(const std::string& name) {
  if (name.empty() || name == "help" || find(name) != nullptr)
    throw std::logic_error("Args: option --" + name + " declared twice or reserved");
  specs_.push_back(Spec{});
  specs_.back().name = name;
  return specs_.back();
}

Args::Spec* Args::find(const std::string& name) {
  for (Spec& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

const Args::Spec& Args::spec(const std::string& name) const {
  for (const Spec& s : specs_)
    if (s.name == name) return s;
  throw std::logic_error("Args: sirs " + command_ + " has no option --" + name);
}

Args& Args::value(const std::string& name, const std::string& metavar, const std::string& help,
                  const std::string& default_value) {
  Spec& s = add(name);
  s.metavar = metavar;
  s.help = help;
  s.default_value = default_value;
  return *this;
}

Args& Args::required(const std::string& name, const std::string& metavar, const std::string& help) {
  value(name, metavar, help);
  specs_.back().required = true;
  return *this;
}

Args& Args::integer(const std::string& name, const std::string& metavar, const std::string& help,
                    int64_t default_value, int64_t min, int64_t max) {
  value(name, metavar, help, std::to_string(default_value));
  Spec& s = specs_.back();
  s.kind = Kind::kInt;
  s.imin = min;
  s.imax = max;
  return *this;
}

Args& Args::number(const std::string& name, const std::string& metavar, const std::string& help,
                   double default_value, double min, double max) {
  value(name, metavar, help, fmt_double(default_value));
  Spec& s = specs_.back();
  s.kind = Kind::kFloat;
  s.fmin = min;
  s.fmax = max;
  return *this;
}

Args& Args::repeated(const std::string& name, const std::string& metavar, const std::string& help,
                     bool at_least_once) {
  value(name, metavar, help);
  specs_.back().repeated = true;
  specs_.back().required = at_least_once;
  return *this;
}

Args& Args::flag(const std::string& name, const std::string& help) {
  Spec& s = add(name);
  s.help = help;
  s.kind = Kind::kFlag;
  return *this;
}

Args& Args::epilog(const std::string& text) {
  epilog_ = text;
  return *this;
}

std::string Args::help() const {
  std::ostringstream o;
  o << "usage: sirs " << command_;
  for (const Spec& s : specs_) {
    std::string part = "--" + s.name + (s.kind == Kind::kFlag ? "" : " " + s.metavar);
    if (s.repeated) part += "...";
    o << ' ' << (s.required ? part : "[" + part + "]");
  }
  o << "\n\n" << description_ << "\n\noptions:\n";
  std::vector<std::string> left;
  size_t width = std::string("-h, --help").size();
  for (const Spec& s : specs_) {
    left.push_back("--" + s.name + (s.kind == Kind::kFlag ? "" : " " + s.metavar));
    width = std::max(width, left.back().size());
  }
  for (size_t k = 0; k < specs_.size(); ++k) {
    const Spec& s = specs_[k];
    o << "  " << left[k] << std::string(width + 2 - left[k].size(), ' ') << s.help;
    if (s.required) o << " (required)";
    else if (!s.default_value.empty()) o << " (default " << s.default_value << ")";
    if (s.repeated) o << " (repeatable)";
    o << '\n';
  }
  o << "  -h, --help" << std::string(width + 2 - 10, ' ') << "show this help and exit\n";
  if (!epilog_.empty()) o << '\n' << epilog_ << (epilog_.back() == '\n' ? "" : "\n");
  return o.str();
}

int Args::usage_error(const std::string& message) const {
  std::fprintf(stderr, "sirs %s: error: %s\n(try 'sirs %s --help')\n", command_.c_str(), message.c_str(),
               command_.c_str());
  return 2;
}

std::optional<int> Args::parse(int argc, char** argv) {
  for (Spec& s : specs_) s.values.clear();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(help().c_str(), stdout);
      return 0;
    }
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      return usage_error("unexpected argument '" + a + "' (options are written --name value)");
    }
    std::string name = a.substr(2), val;
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      val = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    Spec* s = find(name);
    if (s == nullptr) return usage_error("unknown option '--" + name + "'");
    if (s->kind == Kind::kFlag) {
      if (inline_value) return usage_error("option '--" + name + "' takes no value");
      if (!s->values.empty()) return usage_error("option '--" + name + "' given twice");
      s->values.push_back("1");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc || std::string(argv[i + 1]).compare(0, 2, "--") == 0)
        return usage_error("option '--" + name + "' needs a value (" + s->metavar + ")");
      val = argv[++i];
    }
    if (!s->repeated && !s->values.empty()) return usage_error("option '--" + name + "' given twice");
    if (s->kind == Kind::kInt) {
      int64_t v = 0;
      if (!parse_int(val, &v)) return usage_error("option '--" + name + "' needs an integer, got '" + val + "'");
      if (v < s->imin || v > s->imax) {
        std::string range = s->imax == std::numeric_limits<int64_t>::max()
                                ? ">= " + std::to_string(s->imin)
                                : "in [" + std::to_string(s->imin) + ", " + std::to_string(s->imax) + "]";
        return usage_error("option '--" + name + "' must be " + range + ", got " + val);
      }
    } else if (s->kind == Kind::kFloat) {
      double v = 0;
      if (!parse_double(val, &v)) return usage_error("option '--" + name + "' needs a number, got '" + val + "'");
      if (v < s->fmin || v > s->fmax)
        return usage_error("option '--" + name + "' must be in [" + fmt_double(s->fmin) + ", " +
                           fmt_double(s->fmax) + "], got " + val);
    }
    s->values.push_back(val);
  }
  for (const Spec& s : specs_)
    if (s.required && s.values.empty()) return usage_error("missing required option '--" + s.name + "'");
  return std::nullopt;
}

bool Args::given(const std::string& name) const { return !spec(name).values.empty(); }

std::string Args::get(const std::string& name) const {
  const Spec& s = spec(name);
  return s.values.empty() ? s.default_value : s.values.back();
}

int64_t Args::get_int(const std::string& name) const {
  const Spec& s = spec(name);
  if (s.kind != Kind::kInt) throw std::logic_error("Args: --" + name + " is not an integer option");
  int64_t v = 0;
  parse_int(get(name), &v);
  return v;
}

double Args::get_double(const std::string& name) const {
  const Spec& s = spec(name);
  if (s.kind != Kind::kFloat && s.kind != Kind::kInt)
    throw std::logic_error("Args: --" + name + " is not a number option");
  double v = 0;
  parse_double(get(name), &v);
  return v;
}

bool Args::get_flag(const std::string& name) const {
  const Spec& s = spec(name);
  if (s.kind != Kind::kFlag) throw std::logic_error("Args: --" + name + " is not a flag");
  return !s.values.empty();
}

std::vector<std::string> Args::get_all(const std::string& name) const { return spec(name).values; }

void check_path(const std::string& option, const std::string& path, bool want_dir) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  const std::string what = "--" + option + " " + path + ": ";
  if (!std::filesystem::exists(st)) throw IOError(what + "no such " + (want_dir ? "folder" : "file"));
  if (want_dir && !std::filesystem::is_directory(st)) throw IOError(what + "is not a folder");
  if (!want_dir && std::filesystem::is_directory(st)) throw IOError(what + "is a folder, not a file");
}

}  // namespace sirs::app
