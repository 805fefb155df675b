// Training progress on the terminal: on a TTY one line redrawn in place
// (fold, epoch, a bar, step, loss parts, images/s, ETA of the run); otherwise
// a plain line every `print_freq` steps and at the end of each epoch, so logs
// and pipes stay readable.
//
//   Progress p(stderr, isatty(2), 10);
//   p.begin_epoch("fold 0 epoch 3/20", 40 /*batches*/, remaining_batches_after);
//   p.step(12, "loss 1.23 ss 0.50 ir 0.10", 45.2 /*img/s*/);
//   p.end_epoch("epoch 3: loss 1.10 mR 45.1");
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace sirs::app {

class Progress {
 public:
  Progress(std::FILE* out, bool tty, int64_t print_freq);
  // total: batches in this epoch; later: batches in the epochs after it
  // (for the ETA); first: batches of this epoch already done (resume).
  void begin_epoch(const std::string& title, int64_t total, int64_t later, int64_t first = 0);
  // `done` batches of this epoch finished; `parts` e.g. "loss 1.2 ss 0.4 ir 0.1".
  void step(int64_t done, const std::string& parts, double images_per_s);
  // Clears the bar and prints one line.
  void end_epoch(const std::string& summary);
  // A message line that does not garble the bar.
  void note(const std::string& line);

  // "1:02:03" / "2:03".
  static std::string format_seconds(double s);

 private:
  std::FILE* out_;
  bool tty_;
  int64_t print_freq_;
  std::string title_;
  int64_t total_ = 0, later_ = 0, first_ = 0;
  bool bar_shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sirs::app
