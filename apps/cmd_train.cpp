// sirs train --config FILE [--set section.key=value]... [--resume CKPT]
//
// OMP_WAIT_POLICY: OpenMP threads that spin after a parallel region starve
// the OpenBLAS GEMM that follows (docs/PERF.md). libgomp reads the variable
// once, when it starts (before main), so setting it later has no effect:
// when it is unset, `sirs train` re-executes itself once (/proc/self/exe)
// with OMP_WAIT_POLICY=passive in the environment. A value the user set is
// kept as is.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "apps/command.h"
#include "apps/config.h"
#include "apps/train.h"

namespace {

std::atomic<bool> g_stop{false};

void on_sigint(int) {
  g_stop.store(true);
  // A second Ctrl-C ends the process at once.
  signal(SIGINT, SIG_DFL);
}

void usage(std::FILE* f) {
  std::fprintf(f,
               "usage: sirs train --config FILE [--set section.key=value]... [--resume CKPT]\n"
               "\n"
               "Trains SIRS jointly for retrieval and segmentation (DESIGN section 4), with the\n"
               "k-fold loop, validation every logs.eval_step epochs and the reference's report.\n"
               "Run folder: <logs.ckpt_save_path>/<k_fold.experiment_name>/ with config.yaml,\n"
               "report.json and fold<k>/{last,best}.safetensors, train.log, metrics.jsonl.\n"
               "\n"
               "options:\n"
               "  --config FILE         YAML configuration (relative paths resolve against its folder)\n"
               "  --set KEY=VALUE       override one key, e.g. --set optim.lr=1e-4 (repeatable)\n"
               "  --resume CKPT         continue from a checkpoint (last.safetensors) exactly\n"
               "  -h, --help            this help\n"
               "\n"
               "Ctrl-C writes last.safetensors and exits with status 130; a NaN or infinite loss\n"
               "stops with status 1 and keeps the last good checkpoint.\n"
               "\n"
               "configuration keys (section.key  type  default  meaning):\n%s",
               sirs::app::config_schema_help().c_str());
}

int cmd_train(int argc, char** argv) {
  std::string config, resume;
  std::vector<std::string> sets;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sirs train: error: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (a == "--config" || a == "--set" || a == "--resume") {
      const char* v = value(a.c_str());
      if (v == nullptr) return 2;
      (a == "--config" ? config : a == "--resume" ? resume : (sets.emplace_back(), sets.back())) = v;
    } else if (a.rfind("--config=", 0) == 0) {
      config = a.substr(9);
    } else if (a.rfind("--set=", 0) == 0) {
      sets.push_back(a.substr(6));
    } else if (a.rfind("--resume=", 0) == 0) {
      resume = a.substr(9);
    } else {
      std::fprintf(stderr, "sirs train: error: unknown option '%s' (try 'sirs train --help')\n",
                   a.c_str());
      return 2;
    }
  }
  if (config.empty()) {
    std::fprintf(stderr, "sirs train: error: --config FILE is required (try 'sirs train --help')\n");
    return 2;
  }
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    std::vector<char*> args;
    args.push_back(const_cast<char*>("sirs"));
    for (int i = 0; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    execv("/proc/self/exe", args.data());
    // exec failed: carry on with the spinning policy.
  }
  sirs::app::RunConfig cfg = sirs::app::load_config(config, sets);
  if (!resume.empty() && access(resume.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "sirs train: error: cannot read checkpoint '%s' (--resume)\n",
                 resume.c_str());
    return 1;
  }
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, nullptr);
  sirs::app::TrainOptions opt;
  opt.resume = resume;
  opt.out = stderr;
  opt.tty = isatty(fileno(stderr)) != 0;
  opt.stop = &g_stop;
  std::fprintf(stderr, "sirs train: %s (device %s, run folder %s/%s)\n", config.c_str(),
               cfg.device.c_str(), cfg.ckpt_save_path.c_str(), cfg.experiment_name.c_str());
  return sirs::app::run_training(cfg, opt);
}

}  // namespace

SIRS_COMMAND("train", "train SIRS from a YAML configuration (k-fold, checkpoints, resume)",
             cmd_train);
