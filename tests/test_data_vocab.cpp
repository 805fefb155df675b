// Vocabulary: the reference RSITMD JSON (from SIRS_SAMPLES_DIR, skipped when
// absent) read, rebuilt from the sample captions and written back byte for
// byte; malformed JSON files refused with the file named.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Vocab*'
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/precomp.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "tensor/error.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;
namespace fs = std::filesystem;

namespace {

// Whole-file comparison that reports the first difference, not 40 kB of JSON.
void expect_same_text(const std::string& got, const std::string& want) {
  if (got == want) return;
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  auto around = [&](const std::string& s) { return s.substr(i < 40 ? 0 : i - 40, 80); };
  ADD_FAILURE() << "texts differ at byte " << i << " (sizes " << got.size() << " vs "
                << want.size() << ")\n got: ..." << around(got) << "...\nwant: ..."
                << around(want) << "...";
}

std::string load_error(const std::string& path) {
  try {
    Vocab::load_json(path);
  } catch (const ValueError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ValueError for " << path;
  return "";
}

}  // namespace

TEST(VocabJson, ReadsReferenceFile) {
  SKIP_WITHOUT_SAMPLES();
  Vocab v = Vocab::load_json(rsitmd_dir() + "/vocab/rsitmd_splits_vocab.json");
  EXPECT_EQ(v.next_id(), 1350);
  EXPECT_EQ(v.size(), 1349);
  EXPECT_EQ(v.id("baseball"), 1);
  EXPECT_EQ(v.id("field"), 2);
  EXPECT_EQ(v.word(5), "amusement");
  EXPECT_EQ(v.unk_id(), 1349);
  EXPECT_EQ(v.id("no-such-word-here"), 1349);
  EXPECT_THROW(v.word(0), IndexError);
  EXPECT_THROW(v.word(1350), IndexError);
}

TEST(VocabJson, WritesReferenceFileByteForByte) {
  SKIP_WITHOUT_SAMPLES();
  const std::string path = rsitmd_dir() + "/vocab/rsitmd_splits_vocab.json";
  expect_same_text(Vocab::load_json(path).to_json(), slurp(path));
}

TEST(VocabBuild, ReproducesReferenceVocabulary) {
  // The reference file is what the public script gives for the RSITMD
  // train + test captions with threshold 5 (checked with NLTK in Python too).
  SKIP_WITHOUT_SAMPLES();
  std::vector<std::string> caps;
  for (const char* f : {"/precomp/train_caps.txt", "/precomp/test_caps.txt"})
    for (const auto& line : read_text_lines(rsitmd_dir() + f)) caps.push_back(line);
  Vocab built = build_vocab(caps, 5);
  const std::string path = rsitmd_dir() + "/vocab/rsitmd_splits_vocab.json";
  EXPECT_EQ(built.size(), 1349);
  expect_same_text(built.to_json(), slurp(path));
}

TEST(VocabBuild, ThresholdStopwordsOrderAndUnk) {
  Vocab v = build_vocab({"The plane is on the runway.", "Two planes, one runway!",
                         "A plane near the runway and a boat"},
                        2);
  // "plane" and "runway" (first seen in that order) reach 2; stopwords dropped.
  EXPECT_EQ(v.size(), 3);
  EXPECT_EQ(v.id("plane"), 1);
  EXPECT_EQ(v.id("runway"), 2);
  EXPECT_EQ(v.unk_id(), 3);
  EXPECT_EQ(v.next_id(), 4);
  EXPECT_EQ(v.id("the"), 3);  // a stopword is unknown
  Vocab all = build_vocab({"the the plane"}, 1, /*remove_stopwords=*/false);
  EXPECT_EQ(all.id("the"), 1);
  EXPECT_THROW(build_vocab({"x"}, 0), ValueError);
}

TEST(VocabBuild, StopwordList) {
  EXPECT_EQ(english_stopwords().size(), 179u);
  EXPECT_TRUE(is_english_stopword("the"));
  EXPECT_TRUE(is_english_stopword("wouldn't"));
  EXPECT_FALSE(is_english_stopword("plane"));
}

TEST(VocabJson, RoundTripWithNonAscii) {
  TempDir t{"vocab_test"};
  Vocab v;
  v.add_word("caf\xC3\xA9");
  v.add_word("quote\"d");
  v.add_word(Vocab::kUnk);
  const std::string p = (t.path / "v.json").string();
  v.save_json(p);
  // Produced by Python: json.dumps(d, indent=4) of the same dict.
  EXPECT_EQ(slurp(p),
            "{\n    \"word2idx\": {\n        \"caf\\u00e9\": 1,\n        \"quote\\\"d\": 2,\n"
            "        \"<unk>\": 3\n    },\n    \"idx2word\": {\n        \"1\": \"caf\\u00e9\",\n"
            "        \"2\": \"quote\\\"d\",\n        \"3\": \"<unk>\"\n    },\n    \"idx\": 4\n}");
  Vocab r = Vocab::load_json(p);
  EXPECT_EQ(r.id("caf\xC3\xA9"), 1);
  EXPECT_EQ(r.word(2), "quote\"d");
  EXPECT_EQ(r.next_id(), 4);
}

TEST(VocabJson, MalformedFilesRefused) {
  TempDir t{"vocab_test"};
  const std::string ok_i2w = "\"idx2word\": {\"1\": \"a\", \"2\": \"<unk>\"}";
  const std::string ok_w2i = "\"word2idx\": {\"a\": 1, \"<unk>\": 2}";
  struct Bad {
    std::string json, expect;
  } cases[] = {
      {"{" + ok_w2i + ", \"idx\": 3}", "missing key \"idx2word\""},
      {"{" + ok_i2w + ", \"idx\": 3}", "missing key \"word2idx\""},
      {"{" + ok_w2i + ", " + ok_i2w + "}", "missing key \"idx\""},
      {"[1, 2]", "top level is not an object"},
      {"{\"word2idx\": {\"a\": 1, \"<unk>\": 2}, \"idx2word\": {\"1\": \"b\", \"2\": \"<unk>\"}, "
       "\"idx\": 3}",
       "idx2word[\"1\"] = \"b\" disagrees with word2idx"},
      {"{\"word2idx\": {\"a\": 1, \"<unk>\": 1}, " + ok_i2w + ", \"idx\": 3}",
       "id 1 is used by both"},
      {"{\"word2idx\": {\"a\": 0, \"<unk>\": 2}, " + ok_i2w + ", \"idx\": 3}",
       "word2idx[\"a\"] = 0 is outside 1..idx-1"},
      {"{" + ok_w2i + ", " + ok_i2w + ", \"idx\": 2}", "word2idx[\"<unk>\"] = 2 is outside"},
      {"{\"word2idx\": {\"a\": 1, \"b\": 2}, \"idx2word\": {\"1\": \"a\", \"2\": \"b\"}, \"idx\": 3}",
       "no \"<unk>\""},
      {"{" + ok_w2i + ", \"idx2word\": {\"1\": \"a\"}, \"idx\": 3}",
       "idx2word has 1 entries but word2idx has 2"},
      {"{" + ok_w2i + ", \"idx2word\": {\"x\": \"a\", \"2\": \"<unk>\"}, \"idx\": 3}",
       "idx2word key \"x\""},
      {"{\"word2idx\": {", "not valid JSON"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string p = t.write("bad" + std::to_string(i++) + ".json", c.json);
    const std::string msg = load_error(p);
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.json << "\n -> " << msg;
  }
  EXPECT_THROW(Vocab::load_json((t.path / "missing.json").string()), IOError);
}
