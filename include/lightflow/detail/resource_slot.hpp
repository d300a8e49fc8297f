// An object attached to a run (resource.hpp), as the run keeps it: its type and hooks erased.
#ifndef LIGHTFLOW_DETAIL_RESOURCE_SLOT_HPP
#define LIGHTFLOW_DETAIL_RESOURCE_SLOT_HPP

#include <typeinfo>

namespace lightflow::detail {

struct resource_slot {
  const std::type_info* type = nullptr;
  void* object = nullptr;
  void (*destroy)(void*) noexcept = nullptr;
  void (*suspend)(void*) = nullptr;  // null: the type has no suspend()
};

}  // namespace lightflow::detail

#endif
