// Caption templates of the synthetic dataset (see data/synth_captions.h).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Synth*'
#include "data/synth_captions.h"

#include <algorithm>

namespace sirs {
namespace synth {

std::string count_word(int n) {
  static const char* const kWords[] = {"no",   "one", "two",   "three", "four",
                                       "five", "six", "seven", "eight", "nine"};
  return n >= 0 && n <= 9 ? kWords[n] : "many";
}

namespace {

std::string noun_phrase(const SceneFacts& f) {
  std::string s = f.count == 1 ? "a" : count_word(f.count);
  if (!f.size.empty()) s += " " + f.size;
  if (!f.colour.empty()) s += " " + f.colour;
  return s + " " + (f.count == 1 ? f.noun : f.nouns);
}

}  // namespace

std::string fill_template(const std::string& tmpl, const SceneFacts& f) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '{') {
      out += tmpl[i++];
      continue;
    }
    const size_t end = tmpl.find('}', i);
    const std::string key = tmpl.substr(i + 1, end - i - 1);
    i = end + 1;
    std::string v;
    if (key == "NP") v = f.count > 0 ? noun_phrase(f) : "";
    else if (key == "be") v = f.count == 1 ? "is" : "are";
    else if (key == "n") v = f.count > 0 ? count_word(f.count) : "";
    else if (key == "N") v = f.count == 1 ? f.noun : f.nouns;
    else if (key == "c") v = f.colour;
    else if (key == "s") v = f.size;
    else if (key == "L") v = f.layout;
    else if (key == "P") v = f.place;
    else if (key == "G") v = f.ground;
    else if (key == "D") v = f.detail;
    else if (key == "D2") v = f.detail2;
    else if (key == "X") v = f.extra;
    else if (key == "X2") v = f.extra2;
    if (v.empty()) return "";
    out += v;
  }
  // Capitalise the first letter and end with " ." like many RSITMD lines.
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = char(out[0] - 'a' + 'A');
  return out + " .";
}

std::vector<std::string> make_captions(const SceneFacts& f, Rng& rng, int how_many) {
  std::vector<std::string> scene = f.templates;
  rng.shuffle(scene);
  // Generic templates come after the scene's own, so they only top up.
  std::vector<std::string> generic = {
      "there {be} {NP} {P}",
      "{NP} {be} {L} {P}",
      "{NP} {be} surrounded by {G}",
      "{NP} {be} located {P} of the image",
      "the image shows {n} {c} {N} {P}",
      "{G} is around {n} {N}",
      "we can see {n} {N} here",
      "{G} covers most of the scene",
      "the scene shows {G}",
      "this image shows {G} and {D}",
  };
  rng.shuffle(generic);
  scene.insert(scene.end(), generic.begin(), generic.end());
  std::vector<std::string> out;
  for (const auto& t : scene) {
    std::string c = fill_template(t, f);
    if (c.empty() || std::find(out.begin(), out.end(), c) != out.end()) continue;
    out.push_back(c);
    if (int(out.size()) == how_many) break;
  }
  // Never fewer than asked: number the last resort so lines stay distinct.
  for (int k = 1; int(out.size()) < how_many; ++k)
    out.push_back("An aerial image of the " + f.scene + " scene number " + count_word(k) + " .");
  return out;
}

}  // namespace synth
}  // namespace sirs
