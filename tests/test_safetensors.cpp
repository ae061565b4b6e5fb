// safetensors reading and writing: round trips, exact half-precision conversion, and refusal
// of malformed files with messages naming the file and the tensor.
#include <fmt/format.h>
#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "tensor/error.h"
#include "tensor/io/safetensors.h"
#include "tests/fixtures.h"

using namespace ls;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// One folder per test process, so concurrent runs do not trample each other's files; removed
// when the process exits.
struct TempDir {
  fs::path path = fs::temp_directory_path() / fmt::format("lorasum_test_safetensors_{}", getpid());
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

std::string temp_file(const std::string& name) {
  static const TempDir dir;
  return (dir.path / name).string();
}

std::string le64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A file with this header and `data` as its data buffer.
std::string with_header(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string u16_bytes(const std::vector<uint16_t>& values) {
  std::string out;
  for (uint16_t v : values) {
    out += static_cast<char>(v & 0xff);
    out += static_cast<char>(v >> 8);
  }
  return out;
}

// The InputError message opening `path` produces; other exceptions propagate and fail the test.
std::string open_error(const std::string& path) {
  try {
    SafetensorsFile::open(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(opened without error)";
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

}  // namespace

TEST_CASE("safetensors round trip keeps names, shapes, values and metadata", "[safetensors]") {
  const float kNan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> weight = {0.1f,  -0.0f, 1e-40f, kNan, std::numeric_limits<float>::infinity(),
                               -3.25f};
  std::vector<float> scalar = {3.5f};
  std::vector<SafetensorView> views = {
      {"b.weight", {2, 3}, weight.data()},
      {"a.scalar", {}, scalar.data()},
      {"d.empty", {3, 0, 2}, nullptr},
      {"c.empty", {0}, nullptr},
  };
  std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                 {"note", "\xc3\xbc \"quoted\"\n"}};
  std::string path = temp_file("round_trip.safetensors");
  write_safetensors(path, views, metadata);

  SafetensorsFile opened = SafetensorsFile::open(path);
  SafetensorsFile file = std::move(opened);  // the mapping survives a move
  REQUIRE(file.tensors().size() == 4);
  std::vector<std::string> names;
  for (const SafetensorInfo& t : file.tensors()) names.push_back(t.name);
  CHECK(names == std::vector<std::string>{"a.scalar", "b.weight", "c.empty", "d.empty"});
  CHECK(file.info("a.scalar").shape.empty());
  CHECK(file.info("b.weight").shape == std::vector<int64_t>{2, 3});
  CHECK(file.info("d.empty").shape == std::vector<int64_t>{3, 0, 2});
  CHECK(file.info("b.weight").dtype == "F32");
  CHECK(same_bits(file.read_f32("b.weight"), weight));
  CHECK(same_bits(file.read_f32("a.scalar"), scalar));
  CHECK(file.read_f32("c.empty").empty());
  CHECK(file.read_f32("d.empty").empty());
  CHECK(file.metadata() == metadata);
  CHECK(file.path() == path);
  CHECK(file.has("b.weight"));
  CHECK_FALSE(file.has("missing"));
  try {
    file.info("missing");
    FAIL("info() of a missing tensor did not throw");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Contains(path) && Contains("missing"));
  }

  // Overwriting replaces the file; empty metadata is omitted.
  write_safetensors(path, {{"x", {1}, scalar.data()}});
  SafetensorsFile rewritten = SafetensorsFile::open(path);
  CHECK(rewritten.tensors().size() == 1);
  CHECK(rewritten.metadata().empty());
}

TEST_CASE("safetensors writer lays files out like the reference writer", "[safetensors]") {
  float one = 1.0f;
  std::string path = temp_file("layout.safetensors");
  write_safetensors(path, {{"x", {1}, &one}}, {{"format", "pt"}});
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() >= 8);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(bytes[i]);
  CHECK(header_size % 8 == 0);
  REQUIRE(bytes.size() == 8 + header_size + 4);
  std::string header = bytes.substr(8, header_size);
  header.erase(header.find_last_not_of(' ') + 1);
  CHECK(header ==
        R"({"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})");
  CHECK(std::memcmp(bytes.data() + 8 + header_size, &one, 4) == 0);
}

TEST_CASE("safetensors writer refuses names it cannot write", "[safetensors]") {
  float v[2] = {1, 2};
  std::string path = temp_file("refused.safetensors");
  auto write_error = [&](const std::vector<SafetensorView>& views) -> std::string {
    try {
      write_safetensors(path, views);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(written without error)";
  };
  CHECK_THAT(write_error({{"t", {1}, v}, {"t", {1}, v + 1}}), Contains(path) && Contains("'t'"));
  CHECK_THAT(write_error({{"__metadata__", {1}, v}}), Contains("'__metadata__'"));
  CHECK_THAT(write_error({{"neg", {-1}, v}}), Contains(path) && Contains("'neg'"));
  CHECK_THAT(write_error({{"bad\xff", {1}, v}}), Contains(path));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("safetensors converts F16, BF16 and F64 to float32 exactly", "[safetensors]") {
  const float kInf = std::numeric_limits<float>::infinity();
  std::vector<uint16_t> f16 = {0x3c00, 0xc100, 0x7bff, 0x0001, 0x03ff, 0x0400,
                               0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00};
  std::vector<float> f16_expected = {
      1.0f, -2.5f, 65504.0f, std::ldexp(1.0f, -24), std::ldexp(1023.0f, -24), std::ldexp(1.0f, -14),
      kInf, -kInf, -0.0f,    0.333251953125f};
  std::vector<uint16_t> bf16 = {0x3f80, 0xc020, 0x7f7f, 0x0001, 0x7f80, 0xff80, 0x3eab, 0x7fc0};
  std::vector<float> bf16_expected = {1.0f, -2.5f, 0x1.fep127f, std::ldexp(1.0f, -133),
                                      kInf, -kInf, 0.333984375f};
  std::vector<double> f64 = {0.1, -3.0};
  std::string f64_bytes(reinterpret_cast<const char*>(f64.data()), 16);

  // Uneven header length and a leading hole: elements land unaligned in memory.
  std::string header = R"({"half":{"dtype":"F16","shape":[11],"data_offsets":[1,23]},)"
                       R"("brain":{"dtype":"BF16","shape":[2,4],"data_offsets":[23,39]},)"
                       R"("double":{"dtype":"F64","shape":[2],"data_offsets":[39,55]}} )";
  std::string path = temp_file("halves.safetensors");
  write_raw(path, with_header(header,
                              std::string(1, '\0') + u16_bytes(f16) + u16_bytes(bf16) + f64_bytes));
  SafetensorsFile file = SafetensorsFile::open(path);

  std::vector<float> half = file.read_f32("half");
  REQUIRE(half.size() == 11);
  for (size_t i = 0; i < f16_expected.size(); ++i) {
    INFO("F16 element " << i);
    CHECK(half[i] == f16_expected[i]);
  }
  CHECK(std::signbit(half[8]));
  CHECK(std::isnan(half[10]));
  CHECK(std::bit_cast<uint32_t>(half[10]) == 0x7fc00000u);  // the payload carries over

  std::vector<float> brain = file.read_f32("brain");
  REQUIRE(brain.size() == 8);
  for (size_t i = 0; i < bf16_expected.size(); ++i) {
    INFO("BF16 element " << i);
    CHECK(brain[i] == bf16_expected[i]);
  }
  CHECK(std::isnan(brain[7]));

  CHECK(file.read_f32("double") == std::vector<float>{0.1f, -3.0f});
}

TEST_CASE("safetensors lists integer tensors but refuses to read them as float", "[safetensors]") {
  std::string header = R"({"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
                       R"("mask":{"dtype":"BOOL","shape":[2,2],"data_offsets":[16,20]},)"
                       R"("small":{"dtype":"I8","shape":[1],"data_offsets":[20,21]}})";
  std::string path = temp_file("ints.safetensors");
  write_raw(path, with_header(header, std::string(21, '\1')));
  SafetensorsFile file = SafetensorsFile::open(path);
  REQUIRE(file.tensors().size() == 3);
  CHECK(file.tensors()[0].name == "ids");  // header order, not sorted
  CHECK(file.tensors()[1].name == "mask");
  CHECK(file.info("mask").dtype == "BOOL");
  CHECK(file.info("mask").begin == 16);
  try {
    file.read_f32("ids");
    FAIL("read_f32 of an I64 tensor did not throw");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Contains(path) && Contains("'ids'") && Contains("I64"));
  }
}

TEST_CASE("safetensors refuses malformed headers, naming the file and tensor", "[safetensors]") {
  struct Bad {
    const char* what;
    std::string header;
    size_t data_bytes;
    std::vector<std::string> expect;  // fragments the message must contain
  };
  const std::string ok = R"("dtype":"F32","shape":[2],"data_offsets":[0,8])";
  std::vector<Bad> cases = {
      {"empty header", "", 8, {"JSON"}},
      {"not JSON", R"({"t":)", 8, {"JSON"}},
      {"trailing garbage", "{} x", 0, {"JSON"}},
      {"invalid UTF-8", "{\"t\xff\":{}}", 0, {"JSON"}},
      {"array header", "[1,2]", 0, {"JSON object"}},
      {"entry not an object", R"({"t":5})", 0, {"'t'", "object"}},
      {"no dtype", R"({"t":{"shape":[2],"data_offsets":[0,8]}})", 8, {"'t'", "dtype"}},
      {"no shape", R"({"t":{"dtype":"F32","data_offsets":[0,8]}})", 8, {"'t'", "shape"}},
      {"no offsets", R"({"t":{"dtype":"F32","shape":[2]}})", 8, {"'t'", "data_offsets"}},
      {"dtype not a string",
       R"({"t":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})",
       8,
       {"'t'", "dtype"}},
      {"unknown dtype",
       R"({"t":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}})",
       8,
       {"'t'", "F17"}},
      {"shape not an array",
       R"({"t":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})",
       8,
       {"'t'", "shape"}},
      {"negative dim",
       R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
       8,
       {"'t'", "-2"}},
      {"fractional dim",
       R"({"t":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})",
       8,
       {"'t'", "non-negative integers"}},
      {"dim beyond int64",
       R"({"t":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,8]}})",
       8,
       {"'t'", "non-negative integers"}},
      {"shape overflows",
       R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})",
       8,
       {"'t'", "too large"}},
      {"size mismatch",
       R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})",
       8,
       {"'t'", "needs 8 bytes"}},
      {"offsets past the buffer", "{\"t\":{" + ok + "}}", 4, {"'t'", "4-byte data buffer"}},
      {"offsets reversed",
       R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})",
       8,
       {"'t'", "[8, 0]"}},
      {"offsets not a pair",
       R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}})",
       8,
       {"'t'", "data_offsets"}},
      {"negative offset",
       R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})",
       8,
       {"'t'", "data_offsets"}},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12,
       {"'a'", "'b'", "overlap"}},
      {"same bytes twice",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
       8,
       {"'a'", "'b'", "overlap"}},
      {"duplicate tensor", "{\"t\":{" + ok + "},\"t\":{" + ok + "}}", 8, {"'t'", "twice"}},
      {"duplicate field",
       R"({"t":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})",
       8,
       {"'t'", "dtype"}},
      {"metadata not an object", R"({"__metadata__":5})", 0, {"__metadata__"}},
      {"metadata value not a string", R"({"__metadata__":{"k":1}})", 0, {"__metadata__", "'k'"}},
      {"metadata nested too deep",
       "{\"__metadata__\":{\"k\":" + std::string(100000, '[') + std::string(100000, ']') + "}}",
       0,
       {"'k'"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Bad& c = cases[i];
    INFO("case: " << c.what);
    std::string path = temp_file(fmt::format("bad_{}.safetensors", i));
    write_raw(path, with_header(c.header, std::string(c.data_bytes, '\0')));
    std::string message = open_error(path);
    CHECK_THAT(message, Contains(path));
    for (const std::string& fragment : c.expect) CHECK_THAT(message, Contains(fragment));
  }
}

TEST_CASE("safetensors refuses files whose framing is wrong", "[safetensors]") {
  std::string path = temp_file("framing.safetensors");
  auto error_for = [&](const std::string& bytes) {
    write_raw(path, bytes);
    return open_error(path);
  };
  CHECK_THAT(error_for(""), Contains(path) && Contains("too short"));
  CHECK_THAT(error_for("1234567"), Contains(path) && Contains("too short"));
  CHECK_THAT(error_for(le64(1000) + "{}"), Contains(path) && Contains("runs past the end"));
  CHECK_THAT(error_for(le64(~0ull) + "{}"), Contains(path) && Contains("limit"));
  CHECK_THAT(error_for(le64(200ull << 20) + "{}"), Contains(path) && Contains("limit"));
  CHECK_THAT(open_error(temp_file("does_not_exist.safetensors")),
             Contains("does_not_exist.safetensors"));
  std::string dir = temp_file("a_folder.safetensors");
  fs::create_directories(dir);
  CHECK_THAT(open_error(dir), Contains(dir) && Contains("not a regular file"));
}

TEST_CASE("safetensors survives truncated and corrupted files", "[safetensors]") {
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {7, 8};
  std::string good_path = temp_file("good.safetensors");
  write_safetensors(good_path, {{"a", {2, 3}, a.data()}, {"b", {2}, b.data()}}, {{"k", "v"}});
  std::ifstream in(good_path, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  // Either a clean InputError or a file whose tensors all read; anything else fails.
  std::string path = temp_file("damaged.safetensors");
  auto open_and_read = [&](const std::string& bytes) {
    write_raw(path, bytes);
    try {
      SafetensorsFile file = SafetensorsFile::open(path);
      for (const SafetensorInfo& t : file.tensors()) {
        if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16" && t.dtype != "F64") continue;
        size_t count = 1;
        for (int64_t dim : t.shape) count *= static_cast<size_t>(dim);
        CHECK(file.read_f32(t.name).size() == count);
      }
    } catch (const InputError& e) {
      CHECK_THAT(e.what(), Contains(path));
    }
  };
  for (size_t n = 0; n < good.size(); ++n) open_and_read(good.substr(0, n));
  std::mt19937 rng(7);
  const std::string printable = "{}[]\",:0123456789-.eE abFI";
  for (int i = 0; i < 500; ++i) {
    std::string bytes = good;
    size_t at = std::uniform_int_distribution<size_t>(0, good.size() - 9)(rng) + 8;
    bytes[at] = printable[std::uniform_int_distribution<size_t>(0, printable.size() - 1)(rng)];
    open_and_read(bytes);
  }
}

TEST_CASE("safetensors reads the tiny GPT-2 and PEFT adapter fixtures", "[safetensors]") {
  SafetensorsFile model = SafetensorsFile::open(test::fixture_path("model/model.safetensors"));
  CHECK(model.info("transformer.wte.weight").shape == std::vector<int64_t>{64, 32});
  CHECK(model.info("transformer.h.0.attn.c_attn.weight").shape == std::vector<int64_t>{32, 96});
  CHECK(model.info("transformer.h.1.attn.bias").shape == std::vector<int64_t>{1, 1, 32, 32});
  CHECK(model.read_f32("transformer.wte.weight").size() == 64 * 32);
  SafetensorsFile adapter =
      SafetensorsFile::open(test::fixture_path("adapter-a/adapter_model.safetensors"));
  CHECK(adapter.info("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight").shape ==
        std::vector<int64_t>{4, 32});
  CHECK(adapter.info("base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight").shape ==
        std::vector<int64_t>{128, 4});
}
