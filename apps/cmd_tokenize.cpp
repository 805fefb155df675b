// sirs tokenize: captions on standard input -> the reference's tokens (or
// vocabulary ids), one line per caption (data/tokenizer.h, data/vocab.h).
#include <cstdio>
#include <iostream>
#include <string>

#include "apps/args.h"
#include "apps/command.h"
#include "data/tokenizer.h"
#include "data/vocab.h"

namespace {

int cmd_tokenize(int argc, char** argv) {
  sirs::app::Args a("tokenize",
                    "Reads captions from standard input, one per line, and prints one line per caption:\n"
                    "the tokens the model sees (lowercase, NLTK word_tokenize rules, punctuation dropped),\n"
                    "<unk> for words outside the vocabulary, separated by single spaces. With --ids, the\n"
                    "vocabulary ids instead (0 alone for a caption with no token, as the reference pads it).");
  a.required("vocab", "FILE", "vocabulary JSON (reference format)").flag("ids", "print ids instead of tokens");
  a.epilog("example:\n  echo 'Many planes are parked near the terminal.' | sirs tokenize --vocab vocab.json");
  if (auto rc = a.parse(argc, argv)) return *rc;
  sirs::app::check_path("vocab", a.get("vocab"));
  const sirs::Vocab vocab = sirs::Vocab::load_json(a.get("vocab"));
  const bool ids = a.get_flag("ids");
  std::string line, out;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.clear();
    if (ids) {
      for (int64_t id : sirs::encode_caption(line, vocab)) {
        if (!out.empty()) out += ' ';
        out += std::to_string(id);
      }
    } else {
      for (const std::string& t : sirs::caption_tokens(line)) {
        if (!out.empty()) out += ' ';
        out += vocab.contains(t) ? t : std::string(sirs::Vocab::kUnk);
      }
    }
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return 0;
}

}  // namespace

SIRS_COMMAND("tokenize", "print the tokens (or ids) of captions read from stdin", cmd_tokenize);
