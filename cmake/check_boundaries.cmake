# Checks that lightflow's includes follow its layers (a CTest test, tests/CMakeLists.txt): a program
# that runs static flows (lightflow/flow.hpp and lightflow/executor.hpp) compiles none of the runtime
# flows, the key/value context, checkpoints, stores or serializers. The compiler lists what it reads
# (`-M`), so an include hidden behind another include is found too.
#   cmake -DCXX=<compiler> -DINCLUDE_DIR=<repo>/include -DWORK_DIR=<scratch dir> -P cmake/check_boundaries.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var IN ITEMS CXX INCLUDE_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "usage: cmake -DCXX=<compiler> -DINCLUDE_DIR=<include dir> -DWORK_DIR=<dir> -P check_boundaries.cmake")
  endif()
endforeach()
get_filename_component(INCLUDE_DIR "${INCLUDE_DIR}" ABSOLUTE)

# Headers of the layers above the static core (regular expressions over paths below include/lightflow/).
set(forbidden
    "runtime_flow\\.hpp" "runtime_result\\.hpp" "detail/runtime_[a-z_]+\\.hpp" "detail/static_in_runtime\\.hpp"
    "key\\.hpp" "context\\.hpp" "merge\\.hpp"
    "checkpoint\\.hpp" "checkpoint_store\\.hpp" "detail/checkpoint_option\\.hpp" "detail/store_session\\.hpp"
    "detail/typed_session\\.hpp" "detail/manifest\\.hpp" "detail/record\\.hpp" "detail/erased_value\\.hpp"
    "serializer\\.hpp" "binary_codec\\.hpp" "type_tag\\.hpp" "[a-z_]+_store\\.hpp" "file_io\\.hpp" "detail/file_log\\.hpp"
    "cipher\\.hpp" "sodium\\.hpp" "stored_runs\\.hpp")

file(MAKE_DIRECTORY "${WORK_DIR}")
set(source "${WORK_DIR}/static_core.cpp")
file(WRITE "${source}" "#include <lightflow/flow.hpp>\n#include <lightflow/executor.hpp>\n")
execute_process(COMMAND "${CXX}" -std=c++20 "-I${INCLUDE_DIR}" -M "${source}"
                RESULT_VARIABLE result OUTPUT_VARIABLE deps ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "lightflow: ${CXX} -M failed on flow.hpp + executor.hpp:\n${errors}")
endif()
string(REGEX MATCHALL "[^ \\\\\n]*lightflow/[a-z_/]+\\.hpp" read "${deps}")
set(found "")
foreach(path IN LISTS read)
  string(REGEX REPLACE ".*lightflow/" "" header "${path}")
  if(header STREQUAL "detail/runtime_names.hpp")
    continue()  # only the runtime types' forward declarations (callbacks name lf::context and lf::values)
  endif()
  foreach(pattern IN LISTS forbidden)
    if(header MATCHES "^${pattern}$")
      list(APPEND found "${header}")
    endif()
  endforeach()
endforeach()
if(found)
  list(REMOVE_DUPLICATES found)
  list(JOIN found "\n  " problems)
  message(FATAL_ERROR "lightflow: flow.hpp + executor.hpp (a static-flow program) read headers of the layers "
                      "above them (runtime flows, key/values, checkpoints, stores, serializers):\n  ${problems}\n"
                      "Reach them through templates and forward declarations (see detail/program.hpp).")
endif()
list(LENGTH read count)
message(STATUS "lightflow: flow.hpp + executor.hpp read ${count} lightflow headers, none above their layer")
