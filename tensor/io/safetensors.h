#pragma once
// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON header
// ({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}),
// then the data buffer, with offsets relative to its start.
//
// Reading memory-maps the file and validates the whole header up front, so a malformed or
// hostile file is refused with an InputError instead of being read out of bounds.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ls {

struct SafetensorInfo {
  std::string name;
  std::string dtype;  // F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL
  std::vector<int64_t> shape;
  size_t begin = 0, end = 0;  // byte range within the data buffer
};

class SafetensorsFile {
 public:
  // Maps `path` and validates its header; throws InputError naming the file (and the tensor)
  // when anything is malformed.
  static SafetensorsFile open(const std::string& path);

  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

  const std::vector<SafetensorInfo>& tensors() const { return tensors_; }  // header order
  bool has(const std::string& name) const { return index_.count(name) != 0; }
  const SafetensorInfo& info(const std::string& name) const;  // InputError if missing
  // The tensor's values as float32, converted exactly from F32, F16 or BF16 (F64 is rounded);
  // InputError for integer and boolean dtypes.
  std::vector<float> read_f32(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  SafetensorsFile(std::string path, const unsigned char* map, size_t size);
  void unmap() noexcept;

  std::string path_;
  const unsigned char* map_ = nullptr;  // the whole file
  size_t map_size_ = 0;
  const unsigned char* data_ = nullptr;  // the data buffer, inside the mapping
  std::vector<SafetensorInfo> tensors_;
  std::map<std::string, size_t> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

struct SafetensorView {
  std::string name;
  std::vector<int64_t> shape;
  const float* data;  // product(shape) values
};

// Writes F32 tensors atomically, laid out as the reference writer does: sorted by name, the
// header padded with spaces to a multiple of 8 bytes so the data buffer stays aligned.
void write_safetensors(const std::string& path, const std::vector<SafetensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace ls
