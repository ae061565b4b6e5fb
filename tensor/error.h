#pragma once
// Errors lorasum reports to its users.
//
// InputError means "the input you gave me is wrong" (a malformed file, a bad flag value, a
// shape that does not fit): the CLI prints its message and exits with status 2. Any other
// exception is a bug in lorasum.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace ls {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws InputError with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void input_error(fmt::format_string<Args...> format, Args&&... args) {
  throw InputError(fmt::format(format, std::forward<Args>(args)...));
}

// Internal invariant check: a failure is a programming error, not bad input.
#define LS_CHECK(cond, ...)                                                                        \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      throw std::logic_error(fmt::format("{}:{}: check failed: {}: {}", __FILE__, __LINE__, #cond, \
                                         fmt::format(__VA_ARGS__)));                               \
  } while (0)

}  // namespace ls
