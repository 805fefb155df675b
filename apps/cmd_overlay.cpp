// sirs overlay: an image with its class mask drawn over it, as the
// reference's visualisation script: (1 - alpha) * image + alpha * colour mask
// with the DESIGN §2 palette (data/palette.h).
#include <cstdio>
#include <string>

#include "apps/args.h"
#include "apps/command.h"
#include "data/image_io.h"
#include "data/mask.h"
#include "data/palette.h"

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int cmd_overlay(int argc, char** argv) {
  sirs::app::Args a("overlay",
                    "Draws a class mask over its image: (1 - alpha) * image + alpha * colour mask, with the\n"
                    "RSITMD-SS palette (Background black, Plane orange, Boat cyan, ...). Ignored pixels (255)\n"
                    "keep the image's colour. --colors writes the colour-coded mask alone as well.");
  a.required("image", "FILE", "image (.tif, .png, .jpg)")
      .required("mask", "FILE", "mask PNG (pixel = 10 x class, 255 = ignore)")
      .required("out", "FILE.png", "output PNG")
      .number("alpha", "A", "weight of the colour mask", 0.3, 0, 1)
      .value("colors", "FILE.png", "also write the colour-coded mask here");
  if (auto rc = a.parse(argc, argv)) return *rc;
  const std::string out = a.get("out");
  if (!ends_with(out, ".png")) return a.usage_error("--out must name a .png file, got '" + out + "'");
  if (a.given("colors") && !ends_with(a.get("colors"), ".png"))
    return a.usage_error("--colors must name a .png file, got '" + a.get("colors") + "'");

  const std::string image_path = a.get("image"), mask_path = a.get("mask");
  sirs::app::check_path("image", image_path);
  sirs::app::check_path("mask", mask_path);
  sirs::Image image = sirs::read_image_rgb(image_path);
  sirs::Mask mask = sirs::read_mask(mask_path);
  sirs::check_mask_matches_image(mask, mask_path, image.h, image.w, image_path);
  sirs::write_png(out, sirs::overlay(image, mask, a.get_double("alpha")));
  std::printf("wrote %s (%dx%d, alpha %g)\n", out.c_str(), image.w, image.h, a.get_double("alpha"));
  if (a.given("colors")) {
    sirs::write_png(a.get("colors"), sirs::colorize_mask(mask));
    std::printf("wrote %s\n", a.get("colors").c_str());
  }
  return 0;
}

}  // namespace

SIRS_COMMAND("overlay", "draw a class mask over its image (colour overlay PNG)", cmd_overlay);
