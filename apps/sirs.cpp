// build/sirs: the command line. Each subcommand lives in apps/cmd_<name>.cpp
// and registers itself (apps/command.h); this file prints the help and
// dispatches.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "apps/command.h"
#include "tensor/device.h"

namespace sirs::app {

std::vector<Command>& commands() {
  static std::vector<Command> list;
  return list;
}

CommandRegistration::CommandRegistration(const char* name, const char* summary, CommandFn run) {
  std::vector<Command>& list = commands();
  list.push_back(Command{name, summary, run});
  std::sort(list.begin(), list.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
}

}  // namespace sirs::app

namespace {

constexpr const char* kVersion = "0.1.0";

void print_help() {
  std::printf(
      "sirs %s — joint image–text retrieval and segmentation for remote-sensing imagery\n"
      "\n"
      "usage: sirs [--help] [--version] <command> [options]\n"
      "\n",
      kVersion);
  const auto& cmds = sirs::app::commands();
  if (!cmds.empty()) {
    std::printf("commands (sirs <command> --help for each):\n");
    for (const auto& c : cmds) std::printf("  %-10s %s\n", c.name.c_str(), c.summary.c_str());
    std::printf("\n");
  }
  std::printf(
      "options:\n"
      "  -h, --help     show this help and exit\n"
      "  -V, --version  print the version, the build configuration and CUDA status\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help();
    return 0;
  }
  std::string a = argv[1];
  if (a == "-h" || a == "--help" || a == "help") {
    print_help();
    return 0;
  }
  if (a == "-V" || a == "--version") {
    std::printf("sirs %s\n%s\n", kVersion, sirs::cuda_status().c_str());
    return 0;
  }
  for (const auto& c : sirs::app::commands()) {
    if (c.name != a) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sirs %s: error: %s\n", c.name.c_str(), e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "sirs: unknown command or option '%s' (try 'sirs --help')\n", argv[1]);
  return 2;
}
