// A value or a positive errno: how ukcov code reports failure inside C++.
// At a syscall boundary it becomes -errno.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace ukcov {

struct Errno {
  int value;  // positive, e.g. EINVAL
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Errno e) : v_(e) { assert(e.value > 0); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  int error() const { return ok() ? 0 : std::get<Errno>(v_).value; }
  // The syscall-boundary form: -errno.
  long negated() const { return -static_cast<long>(error()); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Errno> v_;
};

// Result<void>: success or an errno.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Errno e) : err_(e.value) { assert(e.value > 0); }  // NOLINT
  bool ok() const { return err_ == 0; }
  explicit operator bool() const { return ok(); }
  int error() const { return err_; }
  long negated() const { return -static_cast<long>(err_); }

 private:
  int err_ = 0;
};

}  // namespace ukcov
