// Caption tokenizer (see data/tokenizer.h). Each pass below is one
// substitution of NLTK 3.8's NLTKWordTokenizer, in the same order, quoted
// as the regular expression it implements; written as scans because
// std::regex is far too slow for a whole dataset.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Tokenizer*'
#include "data/tokenizer.h"

#include <cctype>
#include <cstring>

#include "data/vocab.h"

namespace sirs {

namespace {

bool is_ws(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}
bool is_word(char ch) {
  auto u = static_cast<unsigned char>(ch);
  return u >= 0x80 || std::isalnum(u) || ch == '_';
}
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
char lower(char ch) { return ch >= 'A' && ch <= 'Z' ? char(ch - 'A' + 'a') : ch; }

bool has_non_ascii(const std::string& s) {
  for (char ch : s)
    if (static_cast<unsigned char>(ch) >= 0x80) return true;
  return false;
}

bool starts_with_at(const std::string& s, size_t i, const char* lit) {
  size_t n = std::strlen(lit);
  return i + n <= s.size() && s.compare(i, n, lit) == 0;
}
bool starts_with_icase(const std::string& s, size_t i, const char* lit) {
  size_t n = std::strlen(lit);
  if (i + n > s.size()) return false;
  for (size_t k = 0; k < n; ++k)
    if (lower(s[i + k]) != lower(lit[k])) return false;
  return true;
}

// Length of the UTF-8 sequence at s[i] when it is one of `alts`, else 0.
size_t match_any(const std::string& s, size_t i, std::initializer_list<const char*> alts) {
  for (const char* a : alts)
    if (starts_with_at(s, i, a)) return std::strlen(a);
  return 0;
}

// Surrounds every character from the ASCII set `chars` with spaces.
std::string pad_chars(const std::string& s, const char* chars) {
  if (s.find_first_of(chars) == std::string::npos) return s;
  std::string out;
  out.reserve(s.size() + 8);
  for (char ch : s) {
    if (std::strchr(chars, ch) != nullptr && ch != '\0') {
      out += ' ';
      out += ch;
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

// Surrounds every occurrence of the (multi-byte) strings in `alts` with spaces.
std::string pad_seqs(const std::string& s, std::initializer_list<const char*> alts) {
  if (!has_non_ascii(s)) return s;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t n = match_any(s, i, alts);
    if (n > 0) {
      out += ' ';
      out.append(s, i, n);
      out += ' ';
      i += n;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// Replaces non-overlapping occurrences of `from` (left to right) by `to`.
std::string replace_all(const std::string& s, const char* from, const char* to) {
  if (s.find(from) == std::string::npos) return s;
  std::string out;
  const size_t n = std::strlen(from);
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, n, from) == 0) {
      out += to;
      i += n;
    } else {
      out += s[i++];
    }
  }
  return out;
}

const std::initializer_list<const char*> kOpenQuotes = {"\xC2\xAB", "\xE2\x80\x9C", "\xE2\x80\x98",
                                                        "\xE2\x80\x9E"};  // « “ ‘ „
const std::initializer_list<const char*> kCloseQuotes = {"\xC2\xBB", "\xE2\x80\x9D",
                                                         "\xE2\x80\x99"};  // » ” ’

// ([^\.])(\.)(CLOSERS*)\s*$ -> \1 \2<sep>\3 : the sentence-final period.
// A match can only use the last '.', since '.' is neither a closer nor
// whitespace; the closers run is greedy and the rest must be whitespace.
std::string split_final_period(const std::string& s, bool unicode_closers_and_space,
                               const char* sep) {
  size_t p = s.rfind('.');
  if (p == std::string::npos || p == 0 || s[p - 1] == '.') return s;
  size_t i = p + 1;
  while (i < s.size()) {
    size_t n = 0;
    if (std::strchr("])}>\"'", s[i]) != nullptr && s[i] != '\0') n = 1;
    else if (unicode_closers_and_space && s[i] == ' ') n = 1;
    else if (unicode_closers_and_space) n = match_any(s, i, kCloseQuotes);
    if (n == 0) break;
    i += n;
  }
  const size_t closers_end = i;
  for (; i < s.size(); ++i)
    if (!is_ws(s[i])) return s;
  return s.substr(0, p) + " ." + sep + s.substr(p + 1, closers_end - p - 1) + " ";
}

// \b(A)(B)\b (or (?=\s) when `need_space_after`), case-insensitive -> " A B ";
// with `leading_space` the pattern is " (A)(B)\b" instead.
std::string split_contraction(const std::string& s, const char* a, const char* b,
                              bool need_space_after, bool leading_space) {
  std::string out;
  const size_t na = std::strlen(a), nb = std::strlen(b);
  for (size_t i = 0; i < s.size();) {
    bool ok;
    size_t start = i;
    if (leading_space) {
      ok = s[i] == ' ';
      start = i + 1;
    } else {
      ok = is_word(s[i]) && (i == 0 || !is_word(s[i - 1]));
    }
    ok = ok && starts_with_icase(s, start, a) && starts_with_icase(s, start + na, b);
    if (ok) {
      size_t end = start + na + nb;
      if (need_space_after) ok = end < s.size() && is_ws(s[end]);
      else ok = (end == s.size() || !is_word(s[end])) && is_word(s[end - 1]);
      if (ok) {
        out += ' ';
        out.append(s, start, na);
        out += ' ';
        out.append(s, start + na, nb);
        out += ' ';
        i = end;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

bool is_number_token(const std::string& w) {
  // Punkt's "##number##" type: -?[.,]?\d[\d,.-]*
  size_t i = 0;
  if (i < w.size() && w[i] == '-') ++i;
  if (i < w.size() && (w[i] == '.' || w[i] == ',')) ++i;
  if (i >= w.size() || !is_digit(w[i])) return false;
  for (++i; i < w.size(); ++i)
    if (!is_digit(w[i]) && w[i] != ',' && w[i] != '.' && w[i] != '-') return false;
  return true;
}

// Whether a chunk ending in '.' closes a sentence (see tokenizer.h).
bool period_ends_sentence(const std::string& chunk) {
  if (chunk.size() >= 2 && chunk[chunk.size() - 2] == '.') return false;  // ".." ellipsis
  std::string w = chunk.substr(0, chunk.size() - 1);
  size_t b = 0;
  while (b < w.size() && std::strchr("\"'([{`", w[b]) != nullptr && w[b] != '\0') ++b;
  w = w.substr(b);
  if (w.empty()) return true;
  static const char* const kAbbreviations[] = {"mr", "mrs", "ms", "dr", "prof", "st", "jr",
                                               "sr", "vs", "inc", "ltd", "co", "corp"};
  for (const char* a : kAbbreviations)
    if (w == a) return false;
  if (w.find('.') != std::string::npos) return false;                 // u.s, e.g, a.m
  if (w.size() == 1 && std::isalpha(static_cast<unsigned char>(w[0]))) return false;  // initial
  if (is_number_token(w)) return false;
  return true;
}

}  // namespace

std::string to_lower_ascii(const std::string& s) {
  std::string out = s;
  for (auto& ch : out) ch = lower(ch);
  return out;
}

std::vector<std::string> sent_tokenize(const std::string& text) {
  std::vector<std::string> sentences;
  std::string current;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n && is_ws(text[i])) ++i;
  while (i < n) {
    size_t e = i;
    while (e < n && !is_ws(text[e])) ++e;
    std::string chunk = text.substr(i, e - i);
    size_t next = e;
    while (next < n && is_ws(text[next])) ++next;
    current.append(chunk);
    bool last = next >= n;
    char tail = chunk.back();
    bool brk = !last && (tail == '?' || tail == '!' || (tail == '.' && period_ends_sentence(chunk)));
    if (brk || last) {
      sentences.push_back(current);
      current.clear();
    } else {
      current.append(text, e, next - e);  // keep the original whitespace inside a sentence
    }
    i = next;
  }
  return sentences;
}

std::vector<std::string> treebank_word_tokenize(const std::string& sentence) {
  std::string s = sentence;
  // STARTING_QUOTES
  if (s.find('`') != std::string::npos || has_non_ascii(s)) {  // ([«“‘„]|[`]+) -> " \1 "
    std::string out;
    for (size_t i = 0; i < s.size();) {
      size_t n = match_any(s, i, kOpenQuotes);
      if (n == 0 && s[i] == '`')
        while (i + n < s.size() && s[i + n] == '`') ++n;
      if (n > 0) {
        out += ' ';
        out.append(s, i, n);
        out += ' ';
        i += n;
      } else {
        out += s[i++];
      }
    }
    s = out;
  }
  if (!s.empty() && s[0] == '"') s = "``" + s.substr(1);  // ^\" -> ``
  s = replace_all(s, "``", " `` ");                        // (``) -> " \1 "
  if (s.find('"') != std::string::npos || s.find("''") != std::string::npos) {
    // ([ \(\[{<])(\"|\'{2}) -> "\1 `` "
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (std::strchr(" ([{<", s[i]) != nullptr && s[i] != '\0' && i + 1 < s.size()) {
        size_t n = s[i + 1] == '"' ? 1 : starts_with_at(s, i + 1, "''") ? 2 : 0;
        if (n > 0) {
          out += s[i];
          out += " `` ";
          i += 1 + n;
          continue;
        }
      }
      out += s[i++];
    }
    s = out;
  }
  if (s.find('\'') != std::string::npos) {  // (?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b -> "\1 \2"
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (s[i] == '\'' && i + 1 < s.size() && is_word(s[i + 1])) {
        size_t n = 1;  // one character: a whole UTF-8 sequence for bytes >= 0x80
        auto u = static_cast<unsigned char>(s[i + 1]);
        if (u >= 0xF0) n = 4;
        else if (u >= 0xE0) n = 3;
        else if (u >= 0xC0) n = 2;
        size_t end = i + 1 + n;
        bool boundary = end <= s.size() && (end == s.size() || !is_word(s[end]));
        bool contraction = n == 1 && std::strchr("mtsdn", lower(s[i + 1])) != nullptr;
        if (boundary && !contraction) {
          out += "' ";
          out.append(s, i + 1, n);
          i = end;
          continue;
        }
      }
      out += s[i++];
    }
    s = out;
  }
  // PUNCTUATION
  s = split_final_period(s, /*unicode_closers_and_space=*/true, " ");
  if (s.find_first_of(":,") != std::string::npos) {  // ([:,])([^\d]) -> " \1 \2"
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if ((s[i] == ':' || s[i] == ',') && i + 1 < s.size() && !is_digit(s[i + 1])) {
        out += ' ';
        out += s[i];
        out += ' ';
        out += s[i + 1];
        i += 2;
      } else {
        out += s[i++];
      }
    }
    s = out;
  }
  if (!s.empty() && (s.back() == ':' || s.back() == ',')) {  // ([:,])$ -> " \1 "
    char ch = s.back();
    s.pop_back();
    s += ' ';
    s += ch;
    s += ' ';
  }
  if (s.find("..") != std::string::npos) {  // \.{2,} -> " \g<0> "
    std::string out;
    for (size_t i = 0; i < s.size();) {
      size_t n = 0;
      while (i + n < s.size() && s[i + n] == '.') ++n;
      if (n >= 2) {
        out += ' ';
        out.append(s, i, n);
        out += ' ';
        i += n;
      } else {
        out += s[i++];
      }
    }
    s = out;
  }
  s = pad_chars(s, ";@#$%&");                                           // [;@#$%&]
  s = split_final_period(s, /*unicode_closers_and_space=*/false, "");   // final period again
  s = pad_chars(s, "?!");                                               // [?!]
  if (s.find("' ") != std::string::npos) {  // ([^'])' -> "\1 ' "
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (s[i] != '\'' && i + 2 < s.size() && s[i + 1] == '\'' && s[i + 2] == ' ') {
        out += s[i];
        out += " ' ";
        i += 3;
      } else {
        out += s[i++];
      }
    }
    s = out;
  }
  s = pad_chars(s, "*");          // [*]
  s = pad_chars(s, "][(){}<>");   // PARENS_BRACKETS
  s = replace_all(s, "--", " -- ");  // DOUBLE_DASHES
  s = " " + s + " ";
  // ENDING_QUOTES
  s = pad_seqs(s, kCloseQuotes);     // ([»”’]) -> " \1 "
  s = replace_all(s, "''", " '' ");  // '' -> " '' "
  s = replace_all(s, "\"", " '' ");  // " -> " '' "
  if (s.find('\'') != std::string::npos) {  // ([^' ])('[sS]|'[mM]|'[dD]|') -> "\1 \2 "
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (s[i] != '\'' && s[i] != ' ' && i + 1 < s.size() && s[i + 1] == '\'') {
        if (i + 3 < s.size() && std::strchr("sSmMdD", s[i + 2]) != nullptr && s[i + 2] != '\0' &&
            s[i + 3] == ' ') {
          out += s[i];
          out += " '";
          out += s[i + 2];
          out += ' ';
          i += 4;
          continue;
        }
        if (i + 2 < s.size() && s[i + 2] == ' ') {
          out += s[i];
          out += " ' ";
          i += 3;
          continue;
        }
      }
      out += s[i++];
    }
    s = out;
  }
  if (s.find('\'') != std::string::npos) {  // ([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) -> "\1 \2 "
    static const char* const kSuffixes[] = {"'ll", "'LL", "'re", "'RE", "'ve", "'VE", "n't", "N'T"};
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (s[i] != '\'' && s[i] != ' ' && i + 4 < s.size() && s[i + 4] == ' ') {
        bool hit = false;
        for (const char* suf : kSuffixes) hit = hit || s.compare(i + 1, 3, suf) == 0;
        if (hit) {
          out += s[i];
          out += ' ';
          out.append(s, i + 1, 3);
          out += ' ';
          i += 5;
          continue;
        }
      }
      out += s[i++];
    }
    s = out;
  }
  // CONTRACTIONS2, CONTRACTIONS3
  // Cheap rejection first: a pattern's letters must occur (any case); the
  // passes only insert spaces, so one lowercased copy serves them all.
  const std::string low = to_lower_ascii(s);
  struct Contraction {
    const char *a, *b;
    bool need_space_after, leading_space;
  };
  static const Contraction kContractions[] = {
      {"can", "not", false, false}, {"d", "'ye", false, false},  {"gim", "me", false, false},
      {"gon", "na", false, false},  {"got", "ta", false, false}, {"lem", "me", false, false},
      {"more", "'n", false, false}, {"wan", "na", true, false},  {"'t", "is", false, true},
      {"'t", "was", false, true}};
  for (const auto& c : kContractions)
    if (low.find(std::string(c.a) + c.b) != std::string::npos)
      s = split_contraction(s, c.a, c.b, c.need_space_after, c.leading_space);

  std::vector<std::string> tokens;
  for (size_t i = 0; i < s.size();) {
    while (i < s.size() && is_ws(s[i])) ++i;
    size_t e = i;
    while (e < s.size() && !is_ws(s[e])) ++e;
    if (e > i) tokens.push_back(s.substr(i, e - i));
    i = e;
  }
  return tokens;
}

std::vector<std::string> word_tokenize(const std::string& text) {
  std::vector<std::string> tokens;
  for (const auto& sentence : sent_tokenize(text)) {
    auto t = treebank_word_tokenize(sentence);
    tokens.insert(tokens.end(), t.begin(), t.end());
  }
  return tokens;
}

bool is_dropped_punctuation(const std::string& t) {
  return t.size() == 1 && std::strchr(",.:;?()[]&!*@#$%", t[0]) != nullptr && t[0] != '\0';
}

std::vector<std::string> caption_tokens(const std::string& caption) {
  std::vector<std::string> out;
  for (auto& t : word_tokenize(to_lower_ascii(caption)))
    if (!is_dropped_punctuation(t)) out.push_back(std::move(t));
  return out;
}

std::vector<int64_t> encode_caption(const std::string& caption, const Vocab& vocab) {
  std::vector<int64_t> ids;
  for (const auto& t : caption_tokens(caption)) ids.push_back(vocab.id(t));
  if (ids.empty()) ids.push_back(Vocab::kPadId);
  return ids;
}

}  // namespace sirs
