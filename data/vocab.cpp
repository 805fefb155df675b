// Vocabulary JSON I/O and the reference vocabulary builder (see data/vocab.h).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Vocab*'
#include "data/vocab.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "data/tokenizer.h"
#include "tensor/error.h"

namespace sirs {

namespace {

// NLTK english stopwords (nltk_data corpora/stopwords/english), in file order.
const char* const kEnglishStopwords[] = {
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've",
    "you'll", "you'd", "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself",
    "she", "she's", "her", "hers", "herself", "it", "it's", "its", "itself", "they", "them",
    "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "that'll",
    "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has",
    "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or",
    "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against",
    "between", "into", "through", "during", "before", "after", "above", "below", "to", "from",
    "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once",
    "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more",
    "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than",
    "too", "very", "s", "t", "can", "will", "just", "don", "don't", "should", "should've", "now",
    "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "aren't", "couldn", "couldn't", "didn",
    "didn't", "doesn", "doesn't", "hadn", "hadn't", "hasn", "hasn't", "haven", "haven't", "isn",
    "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't", "needn", "needn't", "shan",
    "shan't", "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won", "won't",
    "wouldn", "wouldn't"};

// A JSON string literal as Python's json.dumps writes it (ensure_ascii).
std::string py_json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', /*ensure_ascii=*/true);
}

}  // namespace

const std::vector<std::string>& english_stopwords() {
  static const std::vector<std::string> words(std::begin(kEnglishStopwords),
                                              std::end(kEnglishStopwords));
  return words;
}

bool is_english_stopword(const std::string& word) {
  static const std::unordered_set<std::string> set(std::begin(kEnglishStopwords),
                                                   std::end(kEnglishStopwords));
  return set.count(word) != 0;
}

int64_t Vocab::add_word(const std::string& word) {
  auto it = word2idx_.find(word);
  if (it != word2idx_.end()) return it->second;
  const int64_t id = next_id_++;
  word2idx_.emplace(word, id);
  idx2word_.push_back(word);
  used_.push_back(true);
  return id;
}

int64_t Vocab::unk_id() const {
  auto it = word2idx_.find(kUnk);
  SIRS_CHECK(it != word2idx_.end(), ValueError, "Vocab: no '", kUnk, "' in a vocabulary of ",
             size(), " words");
  return it->second;
}

int64_t Vocab::id(const std::string& word) const {
  auto it = word2idx_.find(word);
  return it != word2idx_.end() ? it->second : unk_id();
}

const std::string& Vocab::word(int64_t id) const {
  SIRS_CHECK(id >= 1 && id < next_id_ && used_[size_t(id)], IndexError, "Vocab::word: id ", id,
             " is not in the vocabulary (ids 1..", next_id_ - 1, ")");
  return idx2word_[size_t(id)];
}

Vocab Vocab::load_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(str_cat("Vocab::load_json: cannot open ", path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(str_cat("Vocab::load_json: ", path, ": not valid JSON: ", e.what()));
  }
  auto where = [&](const std::string& what) { return str_cat("Vocab::load_json: ", path, ": ", what); };
  if (!j.is_object()) throw ValueError(where("top level is not an object"));
  for (const char* key : {"word2idx", "idx2word", "idx"})
    if (!j.contains(key)) throw ValueError(where(str_cat("missing key \"", key, "\"")));
  const auto& w2i = j["word2idx"];
  const auto& i2w = j["idx2word"];
  if (!w2i.is_object()) throw ValueError(where("\"word2idx\" is not an object"));
  if (!i2w.is_object()) throw ValueError(where("\"idx2word\" is not an object"));
  if (!j["idx"].is_number_integer()) throw ValueError(where("\"idx\" is not an integer"));
  const int64_t next = j["idx"].get<int64_t>();
  if (next < 1 || next > (int64_t(1) << 31)) throw ValueError(where(str_cat("\"idx\" = ", next, " is out of range")));

  Vocab v;
  v.next_id_ = next;
  v.idx2word_.assign(size_t(next), "");
  v.used_.assign(size_t(next), false);
  for (auto it = w2i.begin(); it != w2i.end(); ++it) {
    if (!it.value().is_number_integer())
      throw ValueError(where(str_cat("word2idx[\"", it.key(), "\"] is not an integer")));
    const int64_t id = it.value().get<int64_t>();
    if (id < 1 || id >= next)
      throw ValueError(where(str_cat("word2idx[\"", it.key(), "\"] = ", id,
                                     " is outside 1..idx-1 = 1..", next - 1)));
    if (v.used_[size_t(id)])
      throw ValueError(where(str_cat("id ", id, " is used by both \"", v.idx2word_[size_t(id)],
                                     "\" and \"", it.key(), "\"")));
    v.used_[size_t(id)] = true;
    v.idx2word_[size_t(id)] = it.key();
    v.word2idx_.emplace(it.key(), id);
  }
  if (i2w.size() != w2i.size())
    throw ValueError(where(str_cat("idx2word has ", i2w.size(), " entries but word2idx has ",
                                   w2i.size())));
  for (auto it = i2w.begin(); it != i2w.end(); ++it) {
    int64_t id = -1;
    try {
      size_t used = 0;
      id = std::stoll(it.key(), &used);
      if (used != it.key().size()) id = -1;
    } catch (const std::exception&) {
      id = -1;
    }
    if (id < 1 || id >= next || !it.value().is_string())
      throw ValueError(where(str_cat("idx2word key \"", it.key(),
                                     "\" is not an id in 1..idx-1 with a string word")));
    const std::string w = it.value().get<std::string>();
    if (!v.used_[size_t(id)] || v.idx2word_[size_t(id)] != w)
      throw ValueError(where(str_cat("idx2word[\"", it.key(), "\"] = \"", w,
                                     "\" disagrees with word2idx (",
                                     v.used_[size_t(id)] ? "\"" + v.idx2word_[size_t(id)] + "\"" : "no word",
                                     " has id ", id, ")")));
  }
  if (!v.contains(kUnk)) throw ValueError(where(str_cat("no \"", kUnk, "\" in word2idx")));
  return v;
}

std::string Vocab::to_json() const {
  // Python's json.dumps(d, indent=4): one entry per line, ",\n" between
  // entries, ": " after keys, no final newline; an empty dict is "{}".
  std::ostringstream os;
  auto dict = [&](bool ids_as_keys) {
    bool first = true;
    for (int64_t id = 1; id < next_id_; ++id) {
      if (!used_[size_t(id)]) continue;
      os << (first ? "{\n" : ",\n") << "        ";
      if (ids_as_keys)
        os << "\"" << id << "\": " << py_json_string(idx2word_[size_t(id)]);
      else
        os << py_json_string(idx2word_[size_t(id)]) << ": " << id;
      first = false;
    }
    os << (first ? "{}" : "\n    }");
  };
  os << "{\n    \"word2idx\": ";
  dict(false);
  os << ",\n    \"idx2word\": ";
  dict(true);
  os << ",\n    \"idx\": " << next_id_ << "\n}";
  return os.str();
}

void Vocab::save_json(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IOError(str_cat("Vocab::save_json: cannot create ", path));
  out << to_json();
  out.close();
  if (!out) throw IOError(str_cat("Vocab::save_json: write error on ", path));
}

Vocab build_vocab(const std::vector<std::string>& captions, int threshold, bool remove_stopwords) {
  SIRS_CHECK(threshold >= 1, ValueError, "build_vocab: threshold must be >= 1, got ", threshold);
  std::unordered_map<std::string, int64_t> counts;
  std::vector<std::string> order;  // first appearance, as Python's Counter keeps it
  for (const auto& c : captions) {
    for (auto& t : caption_tokens(c)) {
      if (remove_stopwords && is_english_stopword(t)) continue;
      auto it = counts.find(t);
      if (it == counts.end()) {
        counts.emplace(t, 1);
        order.push_back(std::move(t));
      } else {
        ++it->second;
      }
    }
  }
  Vocab v;
  for (const auto& w : order)
    if (counts[w] >= threshold) v.add_word(w);
  v.add_word(Vocab::kUnk);
  return v;
}

}  // namespace sirs
