// A value of any type, owned, with its type's identity and name kept for checked access: the
// results and key/value writes of runtime-flow steps.
#ifndef LIGHTFLOW_DETAIL_ERASED_VALUE_HPP
#define LIGHTFLOW_DETAIL_ERASED_VALUE_HPP

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lightflow/detail/type_name.hpp"

namespace lightflow::detail {

/// One per type: identifies it (by address) and names it for messages.
struct erased_type {
  std::string_view name;
  void (*destroy)(void*) noexcept;
};
template <class T>
inline constexpr erased_type erased_type_of{type_name<T>(), [](void* p) noexcept { delete static_cast<T*>(p); }};

class erased_value {
 public:
  erased_value() noexcept = default;
  template <class T, class... Args>
  static erased_value make(Args&&... args) {
    erased_value v;
    v.ptr_ = new T(std::forward<Args>(args)...);
    v.type_ = &erased_type_of<T>;
    return v;
  }
  erased_value(erased_value&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), type_(std::exchange(o.type_, nullptr)) {}
  erased_value& operator=(erased_value&& o) noexcept {
    if (this != &o) {
      reset();
      ptr_ = std::exchange(o.ptr_, nullptr);
      type_ = std::exchange(o.type_, nullptr);
    }
    return *this;
  }
  ~erased_value() { reset(); }

  bool has_value() const noexcept { return ptr_ != nullptr; }
  std::string_view type() const noexcept { return type_ != nullptr ? type_->name : std::string_view("nothing"); }
  template <class T>
  bool holds() const noexcept {
    return type_ == &erased_type_of<T>;
  }
  /// The value as a T, or null when it holds another type.
  template <class T>
  const T* get() const noexcept {
    return holds<T>() ? static_cast<const T*>(ptr_) : nullptr;
  }

 private:
  void reset() noexcept {
    if (ptr_ != nullptr) type_->destroy(ptr_);
    ptr_ = nullptr;
  }
  void* ptr_ = nullptr;
  const erased_type* type_ = nullptr;
};

}  // namespace lightflow::detail

#endif
