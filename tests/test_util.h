// Helpers shared by the test files: temporary folders, the RSITMD sample
// folder, value comparisons, gradient checks and error-message checks.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"

#ifndef SIRS_SOURCE_DIR
#define SIRS_SOURCE_DIR "."
#endif
#ifndef SIRS_BUILD_DIR
#define SIRS_BUILD_DIR "build"
#endif
#ifndef SIRS_SAMPLES_DIR
#define SIRS_SAMPLES_DIR ""
#endif

namespace sirs::test {

// sin(a*i + b) over the elements: smooth, tie-free test inputs.
inline Tensor seq(const Shape& s, double a, double b, DType dt = DType::F64) {
  std::vector<double> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(a * static_cast<double>(i) + b);
  return from_vector(v, s, dt);
}

// A float64 N(0,1) leaf that requires grad, from its own seed.
inline Tensor leaf(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return randn(s, DType::F64, &g).set_requires_grad();
}

inline Tensor f64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s, DType::F64); }
inline Tensor i64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s, DType::I64); }

// The real RSITMD samples (../shared/samples/rsitmd; never copied into the
// project). SIRS_SAMPLES_DIR in the environment overrides the build default.
inline std::string rsitmd_dir() {
  const char* env = std::getenv("SIRS_SAMPLES_DIR");
  return std::string(env != nullptr && *env != '\0' ? env : SIRS_SAMPLES_DIR) + "/rsitmd";
}

// The source tree and the build folder the tests were built for; the
// environment variables of the same names override them (tests run from a
// copy, e.g. prebuilt binaries on a GPU machine: scripts/gpu-check.sh).
inline std::string source_dir() {
  const char* env = std::getenv("SIRS_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : SIRS_SOURCE_DIR;
}
inline std::string build_dir() {
  const char* env = std::getenv("SIRS_BUILD_DIR");
  return env != nullptr && *env != '\0' ? env : SIRS_BUILD_DIR;
}

// `<build_dir>/sirs ARGS` through the shell (ARGS are shell words), stderr
// folded into stdout: the exit status (128 + the signal when killed) and
// everything it printed.
struct SirsRun {
  int status = -1;
  std::string out;
};
inline SirsRun run_sirs(const std::string& args) {
  const std::string cmd = build_dir() + "/sirs " + args + " 2>&1";
  SirsRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return r;
}

// tests/fixtures/<name> (written by scripts/gen_import_fixtures.py).
inline std::string fixture(const std::string& name) {
  return source_dir() + "/tests/fixtures/" + name;
}

// The whole file as bytes ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A fresh folder under /tmp, removed with everything in it at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag = "test") {
    std::string tmpl = "/tmp/sirs_" + tag + "_XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path.string(); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  // Writes bytes to name (creating sub-folders) and returns the full path.
  std::string write(const std::string& name, const std::string& bytes) const {
    std::filesystem::path p = path / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
};

inline void expect_all_near(const std::vector<double>& got, const std::vector<double>& want,
                            double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

inline void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                             const std::vector<Tensor>& inputs) {
  GradcheckResult r = gradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << r.report;
}

// fn must throw ErrT whose message contains every one of parts.
template <class ErrT, class F>
void expect_error(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception";
  } catch (const ErrT& e) {
    std::string msg = e.what();
    for (const std::string& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

}  // namespace sirs::test

#define SKIP_WITHOUT_SAMPLES()                                                              \
  if (!std::filesystem::is_directory(::sirs::test::rsitmd_dir()))                        \
  GTEST_SKIP() << "RSITMD samples not found at " << ::sirs::test::rsitmd_dir()           \
               << " (set SIRS_SAMPLES_DIR to the folder holding rsitmd/)"
