// comma_items (experiments/app/comma_list.h), which every comma-separated flag is read with,
// against std::getline reading the same text and against lists written out by hand.
#include <catch2/catch.hpp>
#include <sstream>

#include "experiments/app/comma_list.h"

using namespace ls;

namespace {

std::vector<std::string> by_getline(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) items.push_back(item);
  return items;
}

}  // namespace

TEST_CASE("comma_items reads a list item by item, empty items included", "[comma-list]") {
  using List = std::vector<std::string>;
  CHECK(comma_items("") == List{});
  CHECK(comma_items("c_attn") == List{"c_attn"});
  CHECK(comma_items("c_attn,c_proj") == List{"c_attn", "c_proj"});
  CHECK(comma_items("a,,b") == List{"a", "", "b"});
  CHECK(comma_items(",a") == List{"", "a"});
  CHECK(comma_items(",") == List{""});
  CHECK(comma_items(",,") == List{"", ""});
  CHECK(comma_items("a,") == List{"a"});  // a trailing comma adds no item
  CHECK(comma_items(" a , b") == List{" a ", " b"});
  for (const char* text : {"", ",", ",,", "a", "a,", "a,,", ",a", "a,b,c", ",a,,b,", "1,x,3"}) {
    INFO(text);
    CHECK(comma_items(text) == by_getline(text));
  }
}
