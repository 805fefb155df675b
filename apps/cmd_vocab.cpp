// sirs vocab: the reference's vocabulary from caption files (data/vocab.h
// build_vocab: stopwords removed, words seen at least --threshold times, in
// order of first appearance, <unk> last).
#include <cstdio>
#include <string>
#include <vector>

#include "apps/args.h"
#include "apps/command.h"
#include "data/precomp.h"
#include "data/vocab.h"

namespace {

int cmd_vocab(int argc, char** argv) {
  sirs::app::Args a("vocab",
                    "Builds a vocabulary JSON (reference format) from caption files, one caption per line,\n"
                    "as the reference's vocabulary script: tokens of every caption, English stopwords\n"
                    "removed, words kept when seen at least --threshold times, in order of first\n"
                    "appearance, <unk> added last.");
  a.repeated("captions", "FILE", "caption file (e.g. precomp/train_caps.txt)", true)
      .required("out", "FILE", "output vocabulary JSON")
      .integer("threshold", "N", "minimum count of a kept word", 5, 1)
      .flag("keep-stopwords", "do not remove English stopwords");
  if (auto rc = a.parse(argc, argv)) return *rc;
  std::vector<std::string> captions;
  for (const std::string& f : a.get_all("captions")) {
    sirs::app::check_path("captions", f);
    std::vector<std::string> lines = sirs::read_text_lines(f);
    captions.insert(captions.end(), lines.begin(), lines.end());
  }
  const int threshold = int(a.get_int("threshold"));
  sirs::Vocab v = sirs::build_vocab(captions, threshold, !a.get_flag("keep-stopwords"));
  v.save_json(a.get("out"));
  std::printf("%zu captions from %zu file(s): %lld words (with <unk>, threshold %d) -> %s\n", captions.size(),
              a.get_all("captions").size(), static_cast<long long>(v.size()), threshold, a.get("out").c_str());
  return 0;
}

}  // namespace

SIRS_COMMAND("vocab", "build a vocabulary JSON from caption files", cmd_vocab);
