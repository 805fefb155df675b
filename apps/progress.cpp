// Training progress (apps/progress.h).
#include "apps/progress.h"

#include <cmath>

namespace sirs::app {

Progress::Progress(std::FILE* out, bool tty, int64_t print_freq)
    : out_(out), tty_(tty), print_freq_(print_freq < 1 ? 1 : print_freq) {}

void Progress::begin_epoch(const std::string& title, int64_t total, int64_t later, int64_t first) {
  title_ = title;
  total_ = total;
  later_ = later;
  first_ = first;
  start_ = std::chrono::steady_clock::now();
}

std::string Progress::format_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int64_t t = int64_t(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(t / 3600),
                  (long long)(t / 60 % 60), (long long)(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(t / 60), (long long)(t % 60));
  return buf;
}

void Progress::step(int64_t done, const std::string& parts, double images_per_s) {
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t here = done - first_;
  const double per = here > 0 ? el / double(here) : NAN;
  const double eta = per * double(total_ - done + later_);
  if (tty_) {
    const int width = 24;
    int fill = total_ > 0 ? int(double(width) * double(done) / double(total_)) : 0;
    std::string bar(size_t(fill), '#');
    bar.resize(size_t(width), '.');
    std::fprintf(out_, "\r\033[K%s [%s] %lld/%lld %s %.1f img/s ETA %s", title_.c_str(),
                 bar.c_str(), (long long)done, (long long)total_, parts.c_str(), images_per_s,
                 format_seconds(eta).c_str());
    bar_shown_ = true;
  } else if (done % print_freq_ == 0 || done == total_) {
    std::fprintf(out_, "%s step %lld/%lld %s %.1f img/s ETA %s\n", title_.c_str(), (long long)done,
                 (long long)total_, parts.c_str(), images_per_s, format_seconds(eta).c_str());
  }
  std::fflush(out_);
}

void Progress::note(const std::string& line) {
  if (bar_shown_) std::fprintf(out_, "\r\033[K");
  bar_shown_ = false;
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void Progress::end_epoch(const std::string& summary) { note(summary); }

}  // namespace sirs::app
