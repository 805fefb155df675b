// build/sirs: the command line. Subcommands (train, test, infer, index,
// query, bench, synth, convert) arrive with the apps issue (#6).
#include <cstdio>
#include <cstring>
#include <string>

#include "tensor/device.h"
#include "tensor/storage.h"

namespace {

constexpr const char* kVersion = "0.1.0";

void print_help() {
  std::printf(
      "sirs %s — joint image–text retrieval and segmentation for remote-sensing imagery\n"
      "\n"
      "usage: sirs [--help] [--version]\n"
      "\n"
      "options:\n"
      "  -h, --help     show this help and exit\n"
      "  -V, --version  print the version, the build configuration and CUDA status\n",
      kVersion);
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
  std::fprintf(stderr, "sirs: unknown command or option '%s' (try 'sirs --help')\n", argv[1]);
  return 2;
}
