// A small argument parser shared by the `sirs` subcommands.
//
//   sirs <cmd> --key value --key=value --flag --multi a --multi b
//
// Each option is declared once with its help line; parse() then checks the
// command line: unknown options, missing values, values that are not numbers
// or are out of range, options given twice (unless declared repeated),
// missing required options and stray positional arguments are usage errors
// ("sirs <cmd>: error: ..." naming the option, exit status 2). `--help` /
// `-h` prints the generated help on stdout (exit status 0).
//
//   Args a("synth", "writes the synthetic dataset");
//   a.required("out", "DIR", "output folder");
//   a.integer("images", "N", "number of images", 1000, 1);
//   a.flag("ids", "print ids instead of tokens");
//   if (auto rc = a.parse(argc, argv)) return *rc;
//   std::string out = a.get("out");
//   int64_t n = a.get_int("images");
//
// Asking for an option that was never declared is a programming error
// (std::logic_error).
//
// Tested through the binary: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CliTools*'
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace sirs::app {

class Args {
 public:
  // `command`: the subcommand name (messages say "sirs <command>: ...");
  // `description`: a paragraph shown under the usage line of --help.
  Args(std::string command, std::string description);

  // --name VALUE, optional; get() returns default_value when absent.
  Args& value(const std::string& name, const std::string& metavar, const std::string& help,
              const std::string& default_value = "");
  // --name VALUE that must be given.
  Args& required(const std::string& name, const std::string& metavar, const std::string& help);
  // --name N, an integer in [min, max].
  Args& integer(const std::string& name, const std::string& metavar, const std::string& help,
                int64_t default_value, int64_t min = std::numeric_limits<int64_t>::min(),
                int64_t max = std::numeric_limits<int64_t>::max());
  // --name X, a finite number in [min, max].
  Args& number(const std::string& name, const std::string& metavar, const std::string& help,
               double default_value, double min = -std::numeric_limits<double>::max(),
               double max = std::numeric_limits<double>::max());
  // --name VALUE, may be given several times (get_all keeps the order).
  Args& repeated(const std::string& name, const std::string& metavar, const std::string& help,
                 bool at_least_once = false);
  // --name, no value.
  Args& flag(const std::string& name, const std::string& help);
  // Free text appended to --help (examples, notes).
  Args& epilog(const std::string& text);

  // Parses argv[1 .. argc-1] (argv[0] is the subcommand name). Returns
  // nullopt when the command should go on, else the exit status to return:
  // 0 after --help, 2 after a usage error (already printed to stderr).
  std::optional<int> parse(int argc, char** argv);

  // Was --name on the command line?
  bool given(const std::string& name) const;
  // The value (or the default; "" for an absent option without one).
  std::string get(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  bool get_flag(const std::string& name) const;
  // Every value of a repeated option, in command-line order.
  std::vector<std::string> get_all(const std::string& name) const;

  // Prints "sirs <command>: error: <message>" and the --help hint to stderr;
  // returns 2, so a command can `return a.usage_error("...")`.
  int usage_error(const std::string& message) const;
  // The text --help prints.
  std::string help() const;
  const std::string& command() const { return command_; }

 private:
  enum class Kind { kString, kInt, kFloat, kFlag };
  struct Spec {
    std::string name, metavar, help, default_value;
    Kind kind = Kind::kString;
    bool required = false, repeated = false;
    int64_t imin = 0, imax = 0;
    double fmin = 0, fmax = 0;
    std::vector<std::string> values;  // as given
  };
  Spec& add(const std::string& name);
  Spec* find(const std::string& name);
  const Spec& spec(const std::string& name) const;

  std::string command_, description_, epilog_;
  std::vector<Spec> specs_;
};

// IOError "--<option> <path>: no such file" (or "is a folder", "is not a
// folder" for want_dir) before a reader gets a path it would misreport.
void check_path(const std::string& option, const std::string& path, bool want_dir = false);

}  // namespace sirs::app
