// Caption tokenizer against NLTK. The expected tokens below were produced on
// the development machine with Debian's python3-nltk 3.8:
//   tokens = [t for s in SPLIT(caption.strip().lower())
//             for t in nltk.tokenize.destructive.NLTKWordTokenizer().tokenize(s)]
//   tokens = [t for t in tokens if t not in reference_punctuation]
// i.e. word_tokenize's word rules. word_tokenize's Punkt sentence splitter
// needs the punkt model, which Debian does not ship, so SPLIT was the rule of
// data/tokenizer.h written in Python (break after a chunk ending in . ? !
// unless abbreviation / inner period / initial / number). Captions come from
// the RSITMD samples (file:line given), picked for apostrophes, backquotes,
// rare punctuation, hyphens, digits, double spaces, several sentences and
// commas, plus random ones; the last group are hand-written edge cases.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Tokenizer*'
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "data/vocab.h"

using namespace sirs;

namespace {

struct Case {
  std::string caption;
  std::vector<std::string> tokens;
};

const std::vector<Case>& nltk_cases() {
  static const std::vector<Case> cases = {
    {"It's a lake with dark green water in the middle.",  // test_caps.txt:1355
     {"it", "'s", "a", "lake", "with", "dark", "green", "water", "in", "the", "middle"}},
    {"There's a fork in the road next to a building red and blue",  // train_caps.txt:8100
     {"there", "'s", "a", "fork", "in", "the", "road", "next", "to", "a", "building", "red", "and", "blue"}},
    {"It's a port with blue water in the middle.",  // train_caps.txt:13680
     {"it", "'s", "a", "port", "with", "blue", "water", "in", "the", "middle"}},
    {"There's a lot of houses on the beach.",  // train_caps.txt:13435
     {"there", "'s", "a", "lot", "of", "houses", "on", "the", "beach"}},
    {"There's nothing in the desert, but little sand.",  // train_caps.txt:5698
     {"there", "'s", "nothing", "in", "the", "desert", "but", "little", "sand"}},
    {"There's a big road near the church.",  // train_caps.txt:3832
     {"there", "'s", "a", "big", "road", "near", "the", "church"}},
    {"It's an amusement park, on the shore near a road.",  // train_caps.txt:10405
     {"it", "'s", "an", "amusement", "park", "on", "the", "shore", "near", "a", "road"}},
    {"It's a long port with dense woods and dense houses on the bank.",  // train_caps.txt:13650
     {"it", "'s", "a", "long", "port", "with", "dense", "woods", "and", "dense", "houses", "on", "the", "bank"}},
    {"It's buildings, roads, trees and grass.",  // train_caps.txt:3105
     {"it", "'s", "buildings", "roads", "trees", "and", "grass"}},
    {"There's a great port by the sea.",  // train_caps.txt:13565
     {"there", "'s", "a", "great", "port", "by", "the", "sea"}},
    {"This parking car is so crowded that I can't see any more space.",  // train_caps.txt:10681
     {"this", "parking", "car", "is", "so", "crowded", "that", "i", "ca", "n't", "see", "any", "more", "space"}},
    {"There's a lot of cars on the road.",  // train_caps.txt:14759
     {"there", "'s", "a", "lot", "of", "cars", "on", "the", "road"}},
    {"It's a resort with different types of buildings in wasteland near the highway.",  // train_caps.txt:14540
     {"it", "'s", "a", "resort", "with", "different", "types", "of", "buildings", "in", "wasteland", "near", "the", "highway"}},
    {"Yacht and yacht's coast",  // train_caps.txt:13339
     {"yacht", "and", "yacht", "'s", "coast"}},
    {"It's a big park with lots of forest.",  // train_caps.txt:9957
     {"it", "'s", "a", "big", "park", "with", "lots", "of", "forest"}},
    {"Here's a ridge with white rivers in folds.",  // train_caps.txt:9844
     {"here", "'s", "a", "ridge", "with", "white", "rivers", "in", "folds"}},
    {"It's lawns, buildings, cars and roads.",  // train_caps.txt:18448
     {"it", "'s", "lawns", "buildings", "cars", "and", "roads"}},
    {"There's a line of spectators around the playground.",  // train_caps.txt:11713
     {"there", "'s", "a", "line", "of", "spectators", "around", "the", "playground"}},
    {"it is gray land and road, and in all color`s cars .",  // train_caps.txt:10752
     {"it", "is", "gray", "land", "and", "road", "and", "in", "all", "color", "`", "s", "cars"}},
    {"it is gray road, black trains and in all color`s buildings .",  // train_caps.txt:13912
     {"it", "is", "gray", "road", "black", "trains", "and", "in", "all", "color", "`", "s", "buildings"}},
    {"They are mint green and Gree buildings, many colors ` cars and green trees and meadows.",  // train_caps.txt:3582
     {"they", "are", "mint", "green", "and", "gree", "buildings", "many", "colors", "`", "cars", "and", "green", "trees", "and", "meadows"}},
    {"there are gray roads and in all color`s buildings .",  // train_caps.txt:4837
     {"there", "are", "gray", "roads", "and", "in", "all", "color", "`", "s", "buildings"}},
    {"On the other side of the road, there are four high-rise buildings, such as P + Q.",  // train_caps.txt:4192
     {"on", "the", "other", "side", "of", "the", "road", "there", "are", "four", "high-rise", "buildings", "such", "as", "p", "+", "q"}},
    {"four long straight road constitute two crossroads and a t_junction .",  // train_caps.txt:4827
     {"four", "long", "straight", "road", "constitute", "two", "crossroads", "and", "a", "t_junction"}},
    {"It has some green grass and 4% playground.",  // train_caps.txt:16217
     {"it", "has", "some", "green", "grass", "and", "4", "playground"}},
    {"is a irregular heart_shaped pond with bottle green water in the middle .",  // train_caps.txt:12101
     {"is", "a", "irregular", "heart_shaped", "pond", "with", "bottle", "green", "water", "in", "the", "middle"}},
    {"The bird nesting stadium is surrounded by vegetation in good order(2).",  // train_caps.txt:18675
     {"the", "bird", "nesting", "stadium", "is", "surrounded", "by", "vegetation", "in", "good", "order", "2"}},
    {"Do you have wheel marks?",  // train_caps.txt:934
     {"do", "you", "have", "wheel", "marks"}},
    {"the bird's nest is surrounded by vegetation in order(2.",  // train_caps.txt:18673
     {"the", "bird", "'s", "nest", "is", "surrounded", "by", "vegetation", "in", "order", "2"}},
    {"the set-aside area is close to the set-aside area;",  // test_caps.txt:690
     {"the", "set-aside", "area", "is", "close", "to", "the", "set-aside", "area"}},
    {"on one side of the road  there are two baseballfields and one football court; on the other side  there are some houses decorated with trees .",  // train_caps.txt:1262
     {"on", "one", "side", "of", "the", "road", "there", "are", "two", "baseballfields", "and", "one", "football", "court", "on", "the", "other", "side", "there", "are", "some", "houses", "decorated", "with", "trees"}},
    {"It has 4% of the playground and some green grass.",  // train_caps.txt:16218
     {"it", "has", "4", "of", "the", "playground", "and", "some", "green", "grass"}},
    {"sparsely populated in this land, and there were only a few cars, a few villa! .",  // train_caps.txt:17251
     {"sparsely", "populated", "in", "this", "land", "and", "there", "were", "only", "a", "few", "cars", "a", "few", "villa"}},
    {"Y-shaped port. Is that right? Isn't there a boat nearby",  // train_caps.txt:13792
     {"y-shaped", "port", "is", "that", "right", "is", "n't", "there", "a", "boat", "nearby"}},
    {"Birds nest stadium is surrounded by vegetation in good order (2).",  // train_caps.txt:18671
     {"birds", "nest", "stadium", "is", "surrounded", "by", "vegetation", "in", "good", "order", "2"}},
    {"Do you have a bicycle print?",  // train_caps.txt:931
     {"do", "you", "have", "a", "bicycle", "print"}},
    {"you can see from the air high_rise buildings lined up .",  // train_caps.txt:14281
     {"you", "can", "see", "from", "the", "air", "high_rise", "buildings", "lined", "up"}},
    {"a building like poqand a building like plq and a building like p#q in it .",  // train_caps.txt:4104
     {"a", "building", "like", "poqand", "a", "building", "like", "plq", "and", "a", "building", "like", "p", "q", "in", "it"}},
    {"There's a ground-side field near a road with vehicles.",  // train_caps.txt:11510
     {"there", "'s", "a", "ground-side", "field", "near", "a", "road", "with", "vehicles"}},
    {"There are three medium-sized grey houses on both sides of the grey road",  // train_caps.txt:9377
     {"there", "are", "three", "medium-sized", "grey", "houses", "on", "both", "sides", "of", "the", "grey", "road"}},
    {"The gray y-shaped buildings are especially conspicuous.",  // train_caps.txt:496
     {"the", "gray", "y-shaped", "buildings", "are", "especially", "conspicuous"}},
    {"a cross-shaped church with five round green roofs is located along the road opposite which are work buildings.",  // train_caps.txt:3675
     {"a", "cross-shaped", "church", "with", "five", "round", "green", "roofs", "is", "located", "along", "the", "road", "opposite", "which", "are", "work", "buildings"}},
    {"Many cars have two non-parallel bridges on a river.",  // train_caps.txt:2599
     {"many", "cars", "have", "two", "non-parallel", "bridges", "on", "a", "river"}},
    {"An L-shaped pond is separated on a yellow dirty road",  // train_caps.txt:12966
     {"an", "l-shaped", "pond", "is", "separated", "on", "a", "yellow", "dirty", "road"}},
    {"There is a house in every square block in a medium-sized residential area.",  // train_caps.txt:8842
     {"there", "is", "a", "house", "in", "every", "square", "block", "in", "a", "medium-sized", "residential", "area"}},
    {"The three-story viaduct crosses the road on the ground of the facility.",  // train_caps.txt:20624
     {"the", "three-story", "viaduct", "crosses", "the", "road", "on", "the", "ground", "of", "the", "facility"}},
    {"Under the two-way six-lane bridge is a light blue river.",  // test_caps.txt:232
     {"under", "the", "two-way", "six-lane", "bridge", "is", "a", "light", "blue", "river"}},
    {"A viaduct with three-dimensional ramps crosses the road.",  // train_caps.txt:20828
     {"a", "viaduct", "with", "three-dimensional", "ramps", "crosses", "the", "road"}},
    {"There is a blue-roofed house near the yellow-roofed house.",  // train_caps.txt:17065
     {"there", "is", "a", "blue-roofed", "house", "near", "the", "yellow-roofed", "house"}},
    {"The railway tracks extended to the gray-roofed station and gathered together.",  // train_caps.txt:14212
     {"the", "railway", "tracks", "extended", "to", "the", "gray-roofed", "station", "and", "gathered", "together"}},
    {"A large square middle fan-shaped flower bed.",  // train_caps.txt:17725
     {"a", "large", "square", "middle", "fan-shaped", "flower", "bed"}},
    {"The Khaki Twisted River near the J-shaped pond and saddle shaped pond is across the jungle.",  // test_caps.txt:1606
     {"the", "khaki", "twisted", "river", "near", "the", "j-shaped", "pond", "and", "saddle", "shaped", "pond", "is", "across", "the", "jungle"}},
    {"Black ground and 7 row parking space on it.",  // train_caps.txt:10686
     {"black", "ground", "and", "7", "row", "parking", "space", "on", "it"}},
    {"This intelligent railway station with about 20 tracks is located between lawns and dense buildings.",  // test_caps.txt:1497
     {"this", "intelligent", "railway", "station", "with", "about", "20", "tracks", "is", "located", "between", "lawns", "and", "dense", "buildings"}},
    {"Parking 7 parking lots while parking space is full.",  // train_caps.txt:10687
     {"parking", "7", "parking", "lots", "while", "parking", "space", "is", "full"}},
    {"There is a viaduct on the 4th Ring Road, covered with green trees and grass, and residential areas at the corner.",  // train_caps.txt:20455
     {"there", "is", "a", "viaduct", "on", "the", "4th", "ring", "road", "covered", "with", "green", "trees", "and", "grass", "and", "residential", "areas", "at", "the", "corner"}},
    {"2 ellipses, contour of bare ground and pond",  // train_caps.txt:13016
     {"2", "ellipses", "contour", "of", "bare", "ground", "and", "pond"}},
    {"There is a square viaduct on the 4th Ring Road, near some buildings and a pond.",  // train_caps.txt:20377
     {"there", "is", "a", "square", "viaduct", "on", "the", "4th", "ring", "road", "near", "some", "buildings", "and", "a", "pond"}},
    {"The farmland is surrounded by viaducts and surrounded by green trees on the 4th Ring Road.",  // train_caps.txt:20521
     {"the", "farmland", "is", "surrounded", "by", "viaducts", "and", "surrounded", "by", "green", "trees", "on", "the", "4th", "ring", "road"}},
    {"This intelligent railway station with about 20 tracks is located between the grass and the dense buildings.",  // test_caps.txt:1498
     {"this", "intelligent", "railway", "station", "with", "about", "20", "tracks", "is", "located", "between", "the", "grass", "and", "the", "dense", "buildings"}},
    {"The stadium is 3 in Gree and the other is red",  // train_caps.txt:19041
     {"the", "stadium", "is", "3", "in", "gree", "and", "the", "other", "is", "red"}},
    {"Football field and 5 basketball fields are surrounded by several green trees.",  // train_caps.txt:11386
     {"football", "field", "and", "5", "basketball", "fields", "are", "surrounded", "by", "several", "green", "trees"}},
    {"This intelligent railway station has about 20 tracks between grassland and dense buildings.",  // test_caps.txt:1500
     {"this", "intelligent", "railway", "station", "has", "about", "20", "tracks", "between", "grassland", "and", "dense", "buildings"}},
    {"Rule 8 square grass all farther.",  // train_caps.txt:18032
     {"rule", "8", "square", "grass", "all", "farther"}},
    {"The business district surrounded by the 4th Ring Road",  // train_caps.txt:4741
     {"the", "business", "district", "surrounded", "by", "the", "4th", "ring", "road"}},
    {"The high-speed railway station will stop 12 trains.",  // train_caps.txt:14007
     {"the", "high-speed", "railway", "station", "will", "stop", "12", "trains"}},
    {"the tarmac and airport runways divide the field into several orderly arranged rounded rectangles  next to which is buildings and a road .",  // train_caps.txt:711
     {"the", "tarmac", "and", "airport", "runways", "divide", "the", "field", "into", "several", "orderly", "arranged", "rounded", "rectangles", "next", "to", "which", "is", "buildings", "and", "a", "road"}},
    {"a winding road crosses between some high rise buildings  schools and woods .",  // train_caps.txt:4422
     {"a", "winding", "road", "crosses", "between", "some", "high", "rise", "buildings", "schools", "and", "woods"}},
    {"it is a round center which has a  grey roof with blue lace .",  // train_caps.txt:3409
     {"it", "is", "a", "round", "center", "which", "has", "a", "grey", "roof", "with", "blue", "lace"}},
    {"among the forest  there is a square with several lawns .",  // train_caps.txt:17922
     {"among", "the", "forest", "there", "is", "a", "square", "with", "several", "lawns"}},
    {"the white  red and blue blocks in the industrial is near a forest .",  // train_caps.txt:7508
     {"the", "white", "red", "and", "blue", "blocks", "in", "the", "industrial", "is", "near", "a", "forest"}},
    {"in the roundabout of two crossing roads  there is a circle square with a statu .",  // train_caps.txt:17602
     {"in", "the", "roundabout", "of", "two", "crossing", "roads", "there", "is", "a", "circle", "square", "with", "a", "statu"}},
    {"in the blocks  we can see a school near the office buildings and a residential building near a park .",  // train_caps.txt:4312
     {"in", "the", "blocks", "we", "can", "see", "a", "school", "near", "the", "office", "buildings", "and", "a", "residential", "building", "near", "a", "park"}},
    {"near the beach  the s shaped swimming pool is at the corner of the resort .",  // train_caps.txt:14882
     {"near", "the", "beach", "the", "s", "shaped", "swimming", "pool", "is", "at", "the", "corner", "of", "the", "resort"}},
    {"There are two ponds in this area. One on the left is blue and the other is gray.",  // train_caps.txt:12162
     {"there", "are", "two", "ponds", "in", "this", "area", "one", "on", "the", "left", "is", "blue", "and", "the", "other", "is", "gray"}},
    {"There are some red roofed buildings and a white roofed playground on the side of the road. There are several trees in the back.",  // train_caps.txt:11782
     {"there", "are", "some", "red", "roofed", "buildings", "and", "a", "white", "roofed", "playground", "on", "the", "side", "of", "the", "road", "there", "are", "several", "trees", "in", "the", "back"}},
    {"The school is close to a road. There is a building, several sports grounds and three parking lots, which are full of cars.",  // train_caps.txt:16113
     {"the", "school", "is", "close", "to", "a", "road", "there", "is", "a", "building", "several", "sports", "grounds", "and", "three", "parking", "lots", "which", "are", "full", "of", "cars"}},
    {"A silver oval building beside a river. There are boats in the river.",  // train_caps.txt:2960
     {"a", "silver", "oval", "building", "beside", "a", "river", "there", "are", "boats", "in", "the", "river"}},
    {"The church is on the right side of the street. There are lots of cars.",  // test_caps.txt:364
     {"the", "church", "is", "on", "the", "right", "side", "of", "the", "street", "there", "are", "lots", "of", "cars"}},
    {"Two parallel bridges are on a river. There is an island surrounded by green trees.",  // train_caps.txt:2582
     {"two", "parallel", "bridges", "are", "on", "a", "river", "there", "is", "an", "island", "surrounded", "by", "green", "trees"}},
    {"A wide bridge with many cars. At one end of the bridge is an empty road.",  // train_caps.txt:2647
     {"a", "wide", "bridge", "with", "many", "cars", "at", "one", "end", "of", "the", "bridge", "is", "an", "empty", "road"}},
    {"This meadow's grass is dry. It's dry.",  // train_caps.txt:8689
     {"this", "meadow", "'s", "grass", "is", "dry", "it", "'s", "dry"}},
    {"There is a big blue swimming pool next to the grey house. There is a white car on the road beside the swimming pool",  // train_caps.txt:17332
     {"there", "is", "a", "big", "blue", "swimming", "pool", "next", "to", "the", "grey", "house", "there", "is", "a", "white", "car", "on", "the", "road", "beside", "the", "swimming", "pool"}},
    {"There is a long bridge over the Yellow River. There are buildings and green trees on both sides of the bridge.",  // train_caps.txt:2284
     {"there", "is", "a", "long", "bridge", "over", "the", "yellow", "river", "there", "are", "buildings", "and", "green", "trees", "on", "both", "sides", "of", "the", "bridge"}},
    {"Yes, brown road. Brown road.",  // train_caps.txt:6137
     {"yes", "brown", "road", "brown", "road"}},
    {"There's a great football field. It's surrounded by desert.",  // train_caps.txt:11938
     {"there", "'s", "a", "great", "football", "field", "it", "'s", "surrounded", "by", "desert"}},
    {"At the corner of the coastline, there is a narrow edge that extends to the sea. The beach is full of people.",  // train_caps.txt:2012
     {"at", "the", "corner", "of", "the", "coastline", "there", "is", "a", "narrow", "edge", "that", "extends", "to", "the", "sea", "the", "beach", "is", "full", "of", "people"}},
    {"A bridge is on a big river. On both sides of the bridge are urban areas.",  // train_caps.txt:15377
     {"a", "bridge", "is", "on", "a", "big", "river", "on", "both", "sides", "of", "the", "bridge", "are", "urban", "areas"}},
    {"In the rainforest, you can see the river turning area.",  // train_caps.txt:15236
     {"in", "the", "rainforest", "you", "can", "see", "the", "river", "turning", "area"}},
    {"Four rows of tanks, white and black, neatly arranged.",  // test_caps.txt:2126
     {"four", "rows", "of", "tanks", "white", "and", "black", "neatly", "arranged"}},
    {"Warehouses, large and small, are on the ground.",  // test_caps.txt:2078
     {"warehouses", "large", "and", "small", "are", "on", "the", "ground"}},
    {"The slightly curved viaduct stretches out on a wide, straight road on the ground.",  // train_caps.txt:20900
     {"the", "slightly", "curved", "viaduct", "stretches", "out", "on", "a", "wide", "straight", "road", "on", "the", "ground"}},
    {"There are many green planes on both sides of the river, with branches and a bridge.",  // train_caps.txt:2297
     {"there", "are", "many", "green", "planes", "on", "both", "sides", "of", "the", "river", "with", "branches", "and", "a", "bridge"}},
    {"There is a small island on this river, separating a rich city.",  // train_caps.txt:15749
     {"there", "is", "a", "small", "island", "on", "this", "river", "separating", "a", "rich", "city"}},
    {"The desert is dry and wrinkled, so there are no plants here.",  // train_caps.txt:5442
     {"the", "desert", "is", "dry", "and", "wrinkled", "so", "there", "are", "no", "plants", "here"}},
    {"the agricultural land has patterns, at the center of it is some water infiltration.",  // train_caps.txt:6308
     {"the", "agricultural", "land", "has", "patterns", "at", "the", "center", "of", "it", "is", "some", "water", "infiltration"}},
    {"There are some roads and some buildings.",  // test_caps.txt:1515
     {"there", "are", "some", "roads", "and", "some", "buildings"}},
    {"Many streets pass through the business district.",  // train_caps.txt:4380
     {"many", "streets", "pass", "through", "the", "business", "district"}},
    {"There's a line of gray houses on the harbor.",  // train_caps.txt:13480
     {"there", "'s", "a", "line", "of", "gray", "houses", "on", "the", "harbor"}},
    {"Some trees and buildings in the park.",  // train_caps.txt:4383
     {"some", "trees", "and", "buildings", "in", "the", "park"}},
    {"several aeroplanes are on the parking apron ",  // train_caps.txt:377
     {"several", "aeroplanes", "are", "on", "the", "parking", "apron"}},
    {"terminal building and tarmac with airplanes are sandwiched by flight paths ",  // train_caps.txt:402
     {"terminal", "building", "and", "tarmac", "with", "airplanes", "are", "sandwiched", "by", "flight", "paths"}},
    {"the parking apron next to weblike runways with grassy fields ",  // train_caps.txt:392
     {"the", "parking", "apron", "next", "to", "weblike", "runways", "with", "grassy", "fields"}},
    {"There is a lake nearby.",  // train_caps.txt:12647
     {"there", "is", "a", "lake", "nearby"}},
    {"a red church is surrounded by many red buildings.",  // train_caps.txt:3693
     {"a", "red", "church", "is", "surrounded", "by", "many", "red", "buildings"}},
    {"Stadium right in the middle of the stand.",  // train_caps.txt:19002
     {"stadium", "right", "in", "the", "middle", "of", "the", "stand"}},
    {"There are many buildings and green trees next to vehicles.",  // train_caps.txt:16794
     {"there", "are", "many", "buildings", "and", "green", "trees", "next", "to", "vehicles"}},
    {"Many waves are between the green sea and the yellow beach.",  // train_caps.txt:1612
     {"many", "waves", "are", "between", "the", "green", "sea", "and", "the", "yellow", "beach"}},
    {"there are many trees around the neighborhood .",  // train_caps.txt:9320
     {"there", "are", "many", "trees", "around", "the", "neighborhood"}},
    {"The sea shone in the sun.",  // train_caps.txt:2121
     {"the", "sea", "shone", "in", "the", "sun"}},
    {"There are many zonal dunes in this desert.",  // train_caps.txt:5636
     {"there", "are", "many", "zonal", "dunes", "in", "this", "desert"}},
    {"The next door is the sea.",  // train_caps.txt:13681
     {"the", "next", "door", "is", "the", "sea"}},
    {"large buildings stands in this lovely resort with two ponds and rows of green trees in it .",  // train_caps.txt:14579
     {"large", "buildings", "stands", "in", "this", "lovely", "resort", "with", "two", "ponds", "and", "rows", "of", "green", "trees", "in", "it"}},
    {"There's a house with a gray roof near the street.",  // train_caps.txt:17110
     {"there", "'s", "a", "house", "with", "a", "gray", "roof", "near", "the", "street"}},
    {"There is a big plane and a small plane in the airport.",  // train_caps.txt:21206
     {"there", "is", "a", "big", "plane", "and", "a", "small", "plane", "in", "the", "airport"}},
    // Hand-written edge cases.
    {"\"Two planes\" are parked.",
     {"``", "two", "planes", "''", "are", "parked"}},
    {"The u.s. airport is big. Two planes wait.",
     {"the", "u.s.", "airport", "is", "big", "two", "planes", "wait"}},
    {"I cannot see the boats' sails, they're gone.",
     {"i", "can", "not", "see", "the", "boats", "'", "sails", "they", "'re", "gone"}},
    {"we'll go; you've seen it, i'm sure and he'd say so!",
     {"we", "'ll", "go", "you", "'ve", "seen", "it", "i", "'m", "sure", "and", "he", "'d", "say", "so"}},
    {"It was 3.5 km long... really?",
     {"it", "was", "3.5", "km", "long", "...", "really"}},
    {"a (small) [gray] {odd} <roof> -- yes",
     {"a", "small", "gray", "{", "odd", "}", "<", "roof", ">", "--", "yes"}},
    {"the 'big' house",
     {"the", "'big", "'", "house"}},
    {"gonna wanna gotta lemme gimme",
     {"gon", "na", "wan", "na", "got", "ta", "lem", "me", "gim", "me"}},
    {"'tis the river",
     {"'t", "is", "the", "river"}},
    {"e.g. ponds, i.e. water",
     {"e.g.", "ponds", "i.e.", "water"}},
    {"a,b c:d 3,5 10:30 end:",
     {"a", "b", "c", "d", "3,5", "10:30", "end"}},
    {"price $5 & 20% @ #1 * 2",
     {"price", "5", "20", "1", "2"}},
    {"   leading and trailing   ",
     {"leading", "and", "trailing"}},
    {"",
     {}},
    {" . , ; ",
     {}},
    {"two planes. three boats. ",
     {"two", "planes", "three", "boats"}},
    {"mr. smith's plane",
     {"mr.", "smith", "'s", "plane"}},
    {"“quoted” text ’s café",
     {"“", "quoted", "”", "text", "’", "s", "café"}},
    {"double  space\tand\ttabs",
     {"double", "space", "and", "tabs"}},
    {"a plane at 2. the runway",
     {"a", "plane", "at", "2.", "the", "runway"}},
    {"It ISN'T a Plane's WING.",
     {"it", "is", "n't", "a", "plane", "'s", "wing"}},
    {"The roads --- cross",
     {"the", "roads", "--", "-", "cross"}},
  };
  return cases;
}

}  // namespace

TEST(TokenizerNltk, AtLeastHundredRealCaptions) {
  EXPECT_GE(nltk_cases().size(), 115u + 22u);  // 115 sample captions + 22 edge cases
}

TEST(TokenizerNltk, MatchesNltkTokens) {
  for (const auto& c : nltk_cases()) EXPECT_EQ(caption_tokens(c.caption), c.tokens) << c.caption;
}

TEST(TokenizerNltk, WordRulesKeepPunctuationTokens) {
  // Before the reference filter: quotes converted, punctuation split off.
  EXPECT_EQ(treebank_word_tokenize("\"a plane,\" he said: (it's) here."),
            (std::vector<std::string>{"``", "a", "plane", ",", "''", "he", "said", ":", "(", "it",
                                      "'s", ")", "here", "."}));
  EXPECT_EQ(word_tokenize("two planes. three boats."),
            (std::vector<std::string>{"two", "planes", ".", "three", "boats", "."}));
  // The period inside a sentence stays unless the chunk ends a sentence.
  EXPECT_EQ(word_tokenize("the u.s. base"),
            (std::vector<std::string>{"the", "u.s.", "base"}));
}

TEST(TokenizerNltk, SentenceSplit) {
  EXPECT_EQ(sent_tokenize("a plane. two boats?  yes! the u.s. port at 2. pm"),
            (std::vector<std::string>{"a plane.", "two boats?", "yes!", "the u.s. port at 2. pm"}));
  EXPECT_TRUE(sent_tokenize("   ").empty());
  EXPECT_EQ(sent_tokenize("one..  two"), (std::vector<std::string>{"one..  two"}));
}

TEST(TokenizerNltk, DroppedPunctuation) {
  for (const char* p : {",", ".", ":", ";", "?", "(", ")", "[", "]", "&", "!", "*", "@", "#", "$", "%"})
    EXPECT_TRUE(is_dropped_punctuation(p)) << p;
  for (const char* p : {"``", "''", "'", "-", "--", "...", "{", "<", "'s", "a"})
    EXPECT_FALSE(is_dropped_punctuation(p)) << p;
}

TEST(TokenizerEncode, UnknownWordsAndEmptyCaption) {
  Vocab v;
  v.add_word("plane");  // 1
  v.add_word("runway");  // 2
  v.add_word(Vocab::kUnk);  // 3
  EXPECT_EQ(encode_caption("A plane on the Runway.", v), (std::vector<int64_t>{3, 1, 3, 3, 2}));
  // Nothing left after the filter: one padding id, as the reference's
  // collate (all-zero row, length forced to 1).
  EXPECT_EQ(encode_caption("", v), (std::vector<int64_t>{0}));
  EXPECT_EQ(encode_caption(" ?! ...", v), (std::vector<int64_t>{3}));  // "..." is a token
  EXPECT_EQ(encode_caption(" ?! . ", v), (std::vector<int64_t>{0}));
}

TEST(TokenizerNltk, ArbitraryBytesNeverCrash) {
  // Every rule indexes ahead of the current byte; random strings built from
  // the characters the rules look at (run under `make asan` too) must give
  // well-formed tokens: non-empty, no whitespace inside.
  const std::string alphabet = "ab n't's'll.,:;?!\"'`()[]{}<>-*@#$%&0123456789 \t\xC2\xAB\xE2\x80\x9D";
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s;
    const int len = int(next() >> 28);  // 0..15
    for (int i = 0; i < len; ++i) s += alphabet[(next() >> 16) % alphabet.size()];
    for (const auto& t : word_tokenize(s)) {
      EXPECT_FALSE(t.empty()) << s;
      EXPECT_EQ(t.find_first_of(" \t\n\r"), std::string::npos) << s;
    }
  }
}
