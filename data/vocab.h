// Word vocabulary in the reference JSON format (DESIGN §2):
//   {"word2idx": {"word": id, ...}, "idx2word": {"id": "word", ...}, "idx": next_id}
// ids start at 1 (0 is padding), "<unk>" is present, idx = next free id.
// build_vocab follows the public AMFMN/SIRS vocab script: tokens of every
// caption (data/tokenizer.h caption_tokens), English stopwords removed,
// words kept when seen at least `threshold` times (the script uses 5), in
// order of first appearance, "<unk>" added last.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Vocab*'
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace sirs {

class Vocab {
 public:
  static constexpr int64_t kPadId = 0;
  static constexpr const char* kUnk = "<unk>";

  // Adds `word` with the next id unless present; returns its id.
  int64_t add_word(const std::string& word);
  bool contains(const std::string& word) const { return word2idx_.count(word) != 0; }
  // The word's id, or the <unk> id (ValueError when the vocabulary has no <unk>).
  int64_t id(const std::string& word) const;
  // The word with this id (IndexError outside 1..next_id-1 or for a gap).
  const std::string& word(int64_t id) const;
  int64_t unk_id() const;
  int64_t size() const { return int64_t(word2idx_.size()); }  // words (without padding)
  int64_t next_id() const { return next_id_; }                // "idx" of the JSON

  // ValueError naming the file for missing keys, wrong types, ids < 1 or
  // >= idx, duplicate ids, word2idx/idx2word disagreeing, no <unk>.
  static Vocab load_json(const std::string& path);
  // The layout of the shipped RSITMD vocabulary file, byte for byte: Python's
  // json.dumps(d, indent=4) (keys in id order, non-ASCII as \uXXXX, no final
  // newline). Readers do not depend on the layout.
  void save_json(const std::string& path) const;
  std::string to_json() const;

 private:
  std::unordered_map<std::string, int64_t> word2idx_;
  std::vector<std::string> idx2word_ = {""};  // [next_id], [0] = padding, "" = no word
  std::vector<bool> used_ = {false};          // [next_id]
  int64_t next_id_ = 1;
};

// The reference's vocabulary from training captions (see above).
Vocab build_vocab(const std::vector<std::string>& captions, int threshold = 5,
                  bool remove_stopwords = true);

// NLTK's English stopword list (179 words, nltk_data corpora/stopwords/english).
const std::vector<std::string>& english_stopwords();
bool is_english_stopword(const std::string& word);

}  // namespace sirs
