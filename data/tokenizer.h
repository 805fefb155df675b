// Caption tokenizer matching the reference pipeline (DESIGN §2): lowercase,
// NLTK word_tokenize (sentence split, then the NLTKWordTokenizer / improved
// Treebank rules), drop the reference's punctuation tokens, map to vocabulary
// ids with <unk> for unknown words.
//
// The word rules are NLTK 3.8's NLTKWordTokenizer, pass by pass (starting
// quotes -> ``, ending quotes -> '', punctuation split off, final period of a
// sentence split, contractions n't 's 're 'll 've 'm 'd and cannot/gonna/...
// separated), written as plain scans over the bytes. Sentence splitting
// approximates NLTK's trained Punkt model (whose data is not shipped with
// Debian's python3-nltk): a break follows a whitespace-delimited chunk that
// ends in '?', '!' or '.', except after "..", a known abbreviation ("u.s",
// "e.g", "mr", ...), any word with an inner period, a single-letter initial,
// or a number — on lowercased text Punkt's orthographic test sees a lowercase
// next word and keeps those together too.
//
// Byte-level: ASCII letters are lowercased, other bytes are kept; bytes >= 0x80
// count as word characters (Python's \w on letters); whitespace is ASCII.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Tokenizer*'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sirs {

class Vocab;

std::string to_lower_ascii(const std::string& s);

// Punkt-like sentence split (see above); returns stripped sentences.
std::vector<std::string> sent_tokenize(const std::string& text);

// NLTKWordTokenizer rules on one sentence.
std::vector<std::string> treebank_word_tokenize(const std::string& sentence);

// sent_tokenize then treebank_word_tokenize on each sentence.
std::vector<std::string> word_tokenize(const std::string& text);

// True for the tokens the reference drops: , . : ; ? ( ) [ ] & ! * @ # $ %
bool is_dropped_punctuation(const std::string& token);

// lowercase + word_tokenize + punctuation filter: the reference's tokens.
std::vector<std::string> caption_tokens(const std::string& caption);

// Token ids (<unk> for words outside `vocab`). A caption with no token gives
// {0}: the reference collates it as an all-padding row and sets its length
// to 1, so the model sees one padding id (0).
std::vector<int64_t> encode_caption(const std::string& caption, const Vocab& vocab);

}  // namespace sirs
