#include "tensor/io/safetensors.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "tensor/error.h"
#include "tensor/io/file_io.h"
#include "tensor/io/json_brief.h"

namespace ls {
namespace {

// Element bytes are reinterpreted in place, which is only right on a little-endian host.
static_assert(std::endian::native == std::endian::little);

using json = nlohmann::json;

// Real headers are a few hundred kB at most; anything larger is a corrupt or hostile file.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

const char* const kMetadataKey = "__metadata__";

// Bytes per element; 0 for a dtype this reader does not know.
size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

uint64_t load_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// The parsed header plus what nlohmann's DOM loses: the order of the top-level keys and any
// repeated key (the DOM silently keeps the last one).
struct RawHeader {
  json root;
  std::vector<std::string> order;
  std::string duplicate;        // first repeated key, empty if none
  std::string duplicate_owner;  // the top-level key it sits under, empty at top level
};

RawHeader parse_json(const std::string& path, std::string_view text) {
  RawHeader raw;
  std::vector<std::set<std::string>> open_objects;  // keys seen in each enclosing object
  std::string top_key;
  auto watch = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key) {
      const std::string& key = parsed.get_ref<const std::string&>();
      bool top = open_objects.size() == 1;
      if (top) {
        top_key = key;
        raw.order.push_back(key);
      }
      if (!open_objects.back().insert(key).second && raw.duplicate.empty()) {
        raw.duplicate = key;
        raw.duplicate_owner = top ? "" : top_key;
      }
    }
    return true;
  };
  try {
    raw.root = json::parse(text.begin(), text.end(), watch);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e400
    input_error("{}: safetensors header is not valid JSON: {}", path, e.what());
  }
  return raw;
}

// A JSON integer in [0, limit], or nullopt. Non-negative integers parse as unsigned except
// "-0", which parses as signed.
std::optional<uint64_t> as_count(const json& value, uint64_t limit) {
  uint64_t v = 0;
  if (value.is_number_unsigned())
    v = value.get<uint64_t>();
  else if (!value.is_number_integer() || value.get<int64_t>() < 0)
    return std::nullopt;
  if (v > limit) return std::nullopt;
  return v;
}

const json& field(const std::string& path, const std::string& name, const json& entry,
                  const char* key) {
  auto it = entry.find(key);
  if (it == entry.end())
    input_error("{}: tensor '{}': header entry has no \"{}\" field", path, name, key);
  return *it;
}

std::string parse_dtype(const std::string& path, const std::string& name, const json& value) {
  if (!value.is_string())
    input_error("{}: tensor '{}': dtype must be a string, got {}", path, name, json_brief(value));
  std::string dtype = value.get<std::string>();
  if (dtype_size(dtype) == 0)
    input_error(
        "{}: tensor '{}': unknown dtype '{}', expected one of F64, F32, F16, BF16, "
        "I64, I32, I16, I8, U8, BOOL",
        path, name, dtype);
  return dtype;
}

std::vector<int64_t> parse_shape(const std::string& path, const std::string& name,
                                 const json& value) {
  if (!value.is_array())
    input_error("{}: tensor '{}': shape must be a JSON array, got {}", path, name,
                json_brief(value));
  std::vector<int64_t> shape;
  for (const json& dim : value) {
    auto d = as_count(dim, static_cast<uint64_t>(INT64_MAX));
    if (!d)
      input_error("{}: tensor '{}': shape dimensions must be non-negative integers, got {}", path,
                  name, json_brief(dim));
    shape.push_back(static_cast<int64_t>(*d));
  }
  return shape;
}

// Bytes a tensor of this shape occupies, refusing shapes whose size overflows.
size_t byte_size(const std::string& path, const std::string& name,
                 const std::vector<int64_t>& shape, size_t element_bytes) {
  size_t bytes = element_bytes;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(bytes, static_cast<size_t>(dim), &bytes))
      input_error("{}: tensor '{}': shape {} is too large to address", path, name,
                  shape_str(shape));
  return bytes;
}

std::pair<size_t, size_t> parse_offsets(const std::string& path, const std::string& name,
                                        const json& value, size_t buffer_bytes) {
  if (!value.is_array() || value.size() != 2)
    input_error("{}: tensor '{}': data_offsets must be an array [begin, end], got {}", path, name,
                json_brief(value));
  auto begin = as_count(value[0], SIZE_MAX), end = as_count(value[1], SIZE_MAX);
  if (!begin || !end)
    input_error("{}: tensor '{}': data_offsets must be non-negative integers, got [{}, {}]", path,
                name, json_brief(value[0]), json_brief(value[1]));
  if (*begin > *end)
    input_error("{}: tensor '{}': data_offsets [{}, {}] begin after they end", path, name, *begin,
                *end);
  if (*end > buffer_bytes)
    input_error("{}: tensor '{}': data_offsets [{}, {}] run past the {}-byte data buffer", path,
                name, *begin, *end, buffer_bytes);
  return {*begin, *end};
}

SafetensorInfo parse_entry(const std::string& path, const std::string& name, const json& entry,
                           size_t buffer_bytes) {
  if (!entry.is_object())
    input_error("{}: tensor '{}': header entry must be a JSON object, got {}", path, name,
                json_brief(entry));
  SafetensorInfo info;
  info.name = name;
  info.dtype = parse_dtype(path, name, field(path, name, entry, "dtype"));
  info.shape = parse_shape(path, name, field(path, name, entry, "shape"));
  std::tie(info.begin, info.end) =
      parse_offsets(path, name, field(path, name, entry, "data_offsets"), buffer_bytes);
  size_t expected = byte_size(path, name, info.shape, dtype_size(info.dtype));
  if (info.end - info.begin != expected)
    input_error("{}: tensor '{}': {} {} needs {} bytes, but data_offsets [{}, {}] span {}", path,
                name, info.dtype, shape_str(info.shape), expected, info.begin, info.end,
                info.end - info.begin);
  return info;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  if (!value.is_object())
    input_error("{}: __metadata__ must be a JSON object of strings, got {}", path,
                json_brief(value));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string())
      input_error("{}: __metadata__ entry '{}' must be a string, got {}", path, key, json_brief(v));
    metadata[key] = v.get<std::string>();
  }
  return metadata;
}

// Two tensors sharing bytes would alias each other. Empty tensors occupy no bytes.
void check_no_overlap(const std::string& path, const std::vector<SafetensorInfo>& tensors) {
  std::vector<const SafetensorInfo*> by_offset;
  for (const SafetensorInfo& t : tensors)
    if (t.begin < t.end) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  const SafetensorInfo* furthest = nullptr;  // of those seen, the one reaching furthest
  for (const SafetensorInfo* t : by_offset) {
    if (furthest && t->begin < furthest->end)
      input_error("{}: tensors '{}' (bytes [{}, {})) and '{}' (bytes [{}, {})) overlap", path,
                  furthest->name, furthest->begin, furthest->end, t->name, t->begin, t->end);
    if (!furthest || t->end > furthest->end) furthest = t;
  }
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float32.
    float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

float bf16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// Converts `count` elements of type T starting at `src` (possibly unaligned).
template <typename T, typename Convert>
std::vector<float> convert(const unsigned char* src, size_t count, Convert to_float) {
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, src + i * sizeof(T), sizeof(T));
    out[i] = to_float(v);
  }
  return out;
}

}  // namespace

SafetensorsFile::SafetensorsFile(std::string path, const unsigned char* map, size_t size)
    : path_(std::move(path)), map_(map), map_size_(size) {}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      map_(std::exchange(other.map_, nullptr)),
      map_size_(std::exchange(other.map_size_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      tensors_(std::move(other.tensors_)),
      index_(std::move(other.index_)),
      metadata_(std::move(other.metadata_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    data_ = std::exchange(other.data_, nullptr);
    tensors_ = std::move(other.tensors_);
    index_ = std::move(other.index_);
    metadata_ = std::move(other.metadata_);
  }
  return *this;
}

SafetensorsFile::~SafetensorsFile() { unmap(); }

void SafetensorsFile::unmap() noexcept {
  if (map_) ::munmap(const_cast<unsigned char*>(map_), map_size_);
  map_ = nullptr;
  map_size_ = 0;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) input_error("{}: cannot open safetensors file: {}", path, std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    input_error("{}: not a regular file", path);
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    input_error("{}: file is {} bytes, too short for the 8-byte safetensors header length", path,
                size);
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) input_error("{}: cannot map file: {}", path, std::strerror(map_errno));
  // Owning the mapping from here on unmaps it if validation below throws.
  SafetensorsFile file(path, static_cast<const unsigned char*>(map), size);

  uint64_t header_bytes = load_u64_le(file.map_);
  if (header_bytes > kMaxHeaderBytes)
    input_error("{}: header length {} exceeds the {}-byte limit", path, header_bytes,
                kMaxHeaderBytes);
  if (header_bytes > size - 8)
    input_error("{}: header length {} runs past the end of the {}-byte file", path, header_bytes,
                size);
  file.data_ = file.map_ + 8 + header_bytes;
  size_t buffer_bytes = size - 8 - header_bytes;

  RawHeader raw = parse_json(
      path, std::string_view(reinterpret_cast<const char*>(file.map_ + 8), header_bytes));
  if (!raw.root.is_object())
    input_error("{}: safetensors header must be a JSON object, got {}", path, json_brief(raw.root));
  if (!raw.duplicate.empty()) {
    if (raw.duplicate_owner.empty())
      input_error("{}: tensor '{}' appears twice in the header", path, raw.duplicate);
    input_error("{}: tensor '{}': header entry repeats the key \"{}\"", path, raw.duplicate_owner,
                raw.duplicate);
  }
  for (const std::string& key : raw.order) {
    const json& value = raw.root.at(key);
    if (key == kMetadataKey) {
      file.metadata_ = parse_metadata(path, value);
    } else {
      file.index_[key] = file.tensors_.size();
      file.tensors_.push_back(parse_entry(path, key, value, buffer_bytes));
    }
  }
  check_no_overlap(path, file.tensors_);
  return file;
}

const SafetensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) input_error("{}: no tensor named '{}'", path_, name);
  return tensors_[it->second];
}

std::vector<float> SafetensorsFile::read_f32(const std::string& name) const {
  const SafetensorInfo& t = info(name);
  const unsigned char* src = data_ + t.begin;
  size_t count = (t.end - t.begin) / dtype_size(t.dtype);
  if (t.dtype == "F32") return convert<float>(src, count, [](float v) { return v; });
  if (t.dtype == "F16") return convert<uint16_t>(src, count, half_to_float);
  if (t.dtype == "BF16") return convert<uint16_t>(src, count, bf16_to_float);
  if (t.dtype == "F64")
    return convert<double>(src, count, [](double v) { return static_cast<float>(v); });
  input_error("{}: tensor '{}' has dtype {}; only F32, F16, BF16 and F64 convert to float32", path_,
              name, t.dtype);
}

void write_safetensors(const std::string& path, const std::vector<SafetensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const SafetensorView*> sorted;
  for (const SafetensorView& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });

  // The header is assembled by hand to keep each entry's keys in the reference order
  // (dtype, shape, data_offsets); json::dump escapes the strings.
  std::string header = "{";
  std::vector<size_t> sizes;
  try {
    if (!metadata.empty()) header += fmt::format("\"{}\":{},", kMetadataKey, json(metadata).dump());
    size_t offset = 0;
    for (size_t i = 0; i < sorted.size(); ++i) {
      const SafetensorView& t = *sorted[i];
      if (t.name == kMetadataKey || (i > 0 && t.name == sorted[i - 1]->name))
        input_error("{}: cannot write tensor '{}': the name is reserved or repeated", path, t.name);
      for (int64_t dim : t.shape)
        if (dim < 0)
          input_error("{}: cannot write tensor '{}' with shape {}", path, t.name,
                      shape_str(t.shape));
      size_t bytes = byte_size(path, t.name, t.shape, sizeof(float));
      header += fmt::format("{}{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                            i > 0 ? "," : "", json(t.name).dump(), fmt::join(t.shape, ","), offset,
                            offset + bytes);
      sizes.push_back(bytes);
      offset += bytes;
    }
  } catch (const json::type_error& e) {  // a name or metadata string that is not UTF-8
    input_error("{}: cannot write safetensors header: {}", path, e.what());
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  std::string length(8, '\0');
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  std::vector<std::string_view> pieces = {length, header};
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sizes[i] > 0) pieces.emplace_back(reinterpret_cast<const char*>(sorted[i]->data), sizes[i]);
  write_file_atomic(path, pieces);
}

}  // namespace ls
