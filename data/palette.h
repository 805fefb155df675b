// Display colours of the 15 RSITMD-SS classes (DESIGN §2) and the two
// pictures built from a class map: the colour-coded mask and the overlay
// (1 - alpha) * image + alpha * colour mask that `sirs overlay` and
// `sirs infer` write.
//
// Pixels labelled kIgnoreLabel (255) are drawn black in colorize_mask and
// keep the image's own colour in overlay (they carry no class).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Palette*'
#pragma once

#include <array>
#include <cstdint>

#include "data/image_io.h"
#include "data/mask.h"

namespace sirs {

// RGB colour of class k (kClassNames[k]), in class index order.
inline constexpr std::array<std::array<uint8_t, 3>, kNumClasses> kPalette = {{
    {0, 0, 0},        // Background
    {255, 165, 0},    // Plane
    {0, 255, 255},    // Boat
    {255, 255, 0},    // StorageTank
    {0, 0, 205},      // Pond
    {30, 144, 255},   // River
    {255, 215, 0},    // Beach
    {107, 142, 35},   // Playground
    {65, 105, 225},   // SwimmingPool
    {173, 255, 47},   // Court
    {139, 117, 0},    // BaseballField
    {255, 99, 71},    // Center
    {255, 255, 255},  // Church
    {255, 105, 180},  // Stadium
    {130, 130, 130},  // Bridge
}};

// [H, W] labels -> [H, W, 3] RGB colours (ignore: black). ValueError for a
// label that is neither a class nor kIgnoreLabel, or labels.size() != h * w.
Image colorize_mask(const Mask& mask);

// round((1 - alpha) * image + alpha * kPalette[label]) per channel; the image
// may have 1..4 channels (converted to RGB first), the result is RGB. ValueError
// naming both sizes when the mask is not the image's size, or for alpha
// outside [0, 1].
Image overlay(const Image& image, const Mask& mask, double alpha = 0.3);

}  // namespace sirs
