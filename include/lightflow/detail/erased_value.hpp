// A value of any type, owned, with its type's identity and name kept for checked access: the
// results and key/value writes of runtime-flow steps. A type that the binary serializer can encode
// also carries its encoder and decoder, and is found by its checkpoint name in a registry.
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
#include <typeinfo>
#include <utility>
#include <vector>

#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/detail/type_name.hpp"
#include "lightflow/detail/value_view.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/serializer.hpp"
#include "lightflow/type_tag.hpp"

namespace lightflow::detail {

/// One per type: identifies it (by address) and names it: by its checkpoint name (type_tag.hpp)
/// when it has one, else by the compiler's spelling (for messages only: such a type's values are
/// not checkpointed).
struct erased_type {
  std::string_view name;
  bool tagged;                // `name` is the type's checkpoint name
  std::string_view spelling;  // the compiler's, which checkpoints of format 1 stored
  const std::type_info* id;   // for conditions, which compare a value of a type known only at run time
  void (*destroy)(void*) noexcept;
  // With the binary serializer; null when it cannot encode the type.
  void (*encode)(const void*, std::vector<std::byte>&);
  void* (*decode)(std::span<const std::byte>);  // a new T; throws decode_error
  // A std::vector's element type (a map step's result: its elements are saved one by one), or null.
  const erased_type* element;
};
template <class T>
struct vector_element {
  static constexpr const erased_type* get() noexcept { return nullptr; }
};
template <class E>
struct vector_element<std::vector<E>> {
  static constexpr const erased_type* get() noexcept;
};

template <class T>
inline constexpr bool binary_checkpointable = serializer_for<binary_serializer, T> && std::default_initializable<T>;

template <class T>
inline constexpr erased_type erased_type_of{
    type_tagged<T> ? type_tag_or_empty<T>() : type_name<T>(), type_tagged<T>, type_name<T>(), &typeid(T),
    [](void* p) noexcept { delete static_cast<T*>(p); },
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
    }(),
    vector_element<T>::get()};

template <class E>
constexpr const erased_type* vector_element<std::vector<E>>::get() noexcept {
  return &erased_type_of<E>;
}

/// A step's result type as the runtime graph keeps it: null for void.
template <class T>
constexpr const erased_type* result_type_of() noexcept {
  if constexpr (std::is_void_v<T>) return nullptr;
  else return &erased_type_of<T>;
}
/// How checkpoints and messages name a step's result type (null: void).
inline std::string_view result_type_name(const erased_type* t) noexcept { return t == nullptr ? "void" : t->name; }

/// The types a restored checkpoint may hold, by name: every type of an `lf::key`, of a runtime
/// step's result and of a static step merged into a runtime flow registers itself. A value saved
/// by format 1 is named by the compiler's spelling of its type, found here too (smoothed by
/// legacy_spelling, so that either compiler reads the other's).
template <class Tag>
class basic_type_registry {
 public:
  static basic_type_registry& instance() {
    static basic_type_registry r;
    return r;
  }
  /// Throws usage_error when another type has the same checkpoint name.
  void add(const erased_type& t) {
    std::lock_guard lock(mutex_);
    const auto [at, fresh] = by_name_.emplace(t.name, &t);
    if (!fresh && at->second != &t && t.tagged && at->second->spelling != t.spelling)
      throw usage_error("lightflow: two types have the checkpoint name \"" + std::string(t.name) + "\": " +
                        std::string(at->second->spelling) + " and " + std::string(t.spelling) +
                        " (a checkpoint could not tell them apart; see lightflow/type_tag.hpp)");
    by_spelling_.emplace(legacy_spelling(t.spelling), &t);
  }
  /// The type a checkpoint names `name`: by its checkpoint name, or by a format-1 spelling.
  const erased_type* find(std::string_view name) const {
    std::lock_guard lock(mutex_);
    if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
    auto it = by_spelling_.find(legacy_spelling(name));
    return it == by_spelling_.end() ? nullptr : it->second;
  }

 private:
  mutable std::mutex mutex_;
  // (Their code waits for the template's use: runtime_names.hpp, deferred_t.)
  deferred_t<std::map<std::string_view, const erased_type*, std::less<>>, Tag> by_name_;
  deferred_t<std::map<std::string, const erased_type*, std::less<>>, Tag> by_spelling_;
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
  /// The value, untyped, and its type (both null when it holds nothing).
  value_view view() const noexcept { return {ptr_, type_ != nullptr ? type_->id : nullptr}; }
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
