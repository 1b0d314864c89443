#pragma once
// Result<T>: a value or an Error (what went wrong, and the exit code it maps
// to). Core code returns these instead of throwing across C callbacks.

#include "common/exit_code.h"

#include <string>
#include <utility>
#include <variant>

namespace callagent {

struct Error {
  ExitCode code = ExitCode::Software;
  std::string message;  // one sentence, what went wrong and what to do
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace callagent
