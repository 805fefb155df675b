// Captions of the synthetic remote-sensing dataset (data/synth.h): what a
// scene drawer decided (how many entities, their colour, size, layout, the
// ground, the scene's other parts) goes into SceneFacts, and five different
// captions are filled from per-scene templates, in the style and, where it
// has the words, the vocabulary of RSITMD.
//
// Template placeholders (replaced literally):
//   {NP}  noun phrase with count, size and colour: "three large white planes",
//         "a small red boat"           {be}  "is" / "are" agreeing with {NP}
//   {n}   count word ("one" .. "nine", "many")   {N}  noun, singular/plural by count
//   {c}   colour word        {s}  size word ("small", "large")
//   {L}   layout phrase ("in a row")   {P}  place phrase ("on the left side")
//   {G}   ground phrase ("green farmland")     {D}  scene detail ("the gray runway")
//   {D2}  second detail      {X}  other things ("some houses")
//   {X2}  other entities as a clause ("two white boats are sailing")
// A template whose placeholder has an empty value is skipped.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Synth*'
#pragma once

#include <string>
#include <vector>

#include "data/synth_draw.h"

namespace sirs {
namespace synth {

struct SceneFacts {
  std::string scene;         // file-name prefix: "airport", "storagetanks", ...
  int main_class = 0;        // RSITMD-SS class of the counted entities (0: none)
  int count = 0;             // how many (0 for scenes without counted entities)
  std::string noun, nouns;   // "plane", "planes"
  std::string colour;        // of the main entities
  std::string size;          // "small" / "large" / ""
  std::string layout;        // "in a row", "scattered", ...
  std::string place;         // where the entities are: "on the left side", ...
  std::string ground;        // what surrounds them: "green grass", ...
  std::string detail;        // scene part: "the gray runway", "the dark river"
  std::string detail2;
  std::string extra;         // other things: "some houses"
  std::string extra2;        // other entities, a clause: "two white boats are sailing"
  std::vector<std::string> templates;  // scene-specific ones, with placeholders
};

// "one" .. "nine", "many" beyond.
std::string count_word(int n);

// Fills one template (see above); empty when a placeholder it uses is empty.
std::string fill_template(const std::string& tmpl, const SceneFacts& f);

// Five different captions: scene templates shuffled by `rng`, filled, and the
// first five distinct ones kept (generic templates top up a short list).
std::vector<std::string> make_captions(const SceneFacts& f, Rng& rng, int how_many = 5);

}  // namespace synth
}  // namespace sirs
