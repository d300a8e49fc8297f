// A value of any type, owned, with its type's identity and name kept for checked access: the
// results and key/value writes of runtime-flow steps. A type that the binary serializer can encode
// also carries its encoder and decoder, and is found by name in a registry (for checkpoints).
#ifndef LIGHTFLOW_DETAIL_ERASED_VALUE_HPP
#define LIGHTFLOW_DETAIL_ERASED_VALUE_HPP

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/detail/type_name.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow::detail {

/// One per type: identifies it (by address) and names it for messages.
struct erased_type {
  std::string_view name;
  void (*destroy)(void*) noexcept;
  // With the binary serializer; null when it cannot encode the type.
  void (*encode)(const void*, std::vector<std::byte>&);
  void* (*decode)(std::span<const std::byte>);  // a new T; throws decode_error
};

template <class T>
inline constexpr bool binary_checkpointable = serializer_for<binary_serializer, T> && std::default_initializable<T>;

/// How checkpoints name a step's result type: the erased value's type name, or "void".
template <class T>
constexpr std::string_view result_type_name() noexcept {
  if constexpr (std::is_void_v<T>) return "void";
  else return type_name<T>();
}

template <class T>
inline constexpr erased_type erased_type_of{
    type_name<T>(), [](void* p) noexcept { delete static_cast<T*>(p); },
    [] {
      if constexpr (binary_checkpointable<T>)
        return +[](const void* p, std::vector<std::byte>& out) { binary_serializer{}.write(*static_cast<const T*>(p), out); };
      else
        return static_cast<void (*)(const void*, std::vector<std::byte>&)>(nullptr);
    }(),
    [] {
      if constexpr (binary_checkpointable<T>)
        return +[](std::span<const std::byte> in) -> void* { return new T(binary_serializer{}.read<T>(in)); };
      else
        return static_cast<void* (*)(std::span<const std::byte>)>(nullptr);
    }()};

/// The types a restored checkpoint may hold, by name: every type of an `lf::key`, of a runtime
/// step's result and of a static step merged into a runtime flow registers itself.
class type_registry {
 public:
  static type_registry& instance() {
    static type_registry r;
    return r;
  }
  void add(const erased_type& t) {
    std::lock_guard lock(mutex_);
    types_.emplace(t.name, &t);
  }
  const erased_type* find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    auto it = types_.find(name);
    return it == types_.end() ? nullptr : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string_view, const erased_type*, std::less<>> types_;
};

/// Registers T once per program (later calls cost one check of a static).
template <class T>
void register_type() {
  static const bool once = (type_registry::instance().add(erased_type_of<T>), true);
  (void)once;
}

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
  /// Decodes a value of the registered type `type` (a checkpoint's record).
  static erased_value decode(const erased_type& type, std::span<const std::byte> bytes) {
    erased_value v;
    v.ptr_ = type.decode(bytes);
    v.type_ = &type;
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
  const erased_type* type_info() const noexcept { return type_; }
  template <class T>
  bool holds() const noexcept {
    return type_ == &erased_type_of<T>;
  }
  /// The value as a T, or null when it holds another type.
  template <class T>
  const T* get() const noexcept {
    return holds<T>() ? static_cast<const T*>(ptr_) : nullptr;
  }
  /// Appends the binary encoding; false when the type has none.
  bool encode(std::vector<std::byte>& out) const {
    if (type_ == nullptr || type_->encode == nullptr) return false;
    type_->encode(ptr_, out);
    return true;
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
