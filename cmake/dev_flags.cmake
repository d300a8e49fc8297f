# Flags for lightflow's own targets (tests, examples, benchmarks); never put on lightflow::lightflow.
# Warnings are errors only with LIGHTFLOW_WERROR (on in the presets and CI, off in a plain build, so
# that another compiler's or another level's warnings do not stop a user's build).
add_library(lightflow_dev_flags INTERFACE)
target_compile_options(lightflow_dev_flags INTERFACE -Wall -Wextra -Wpedantic)
if(LIGHTFLOW_WERROR)
  target_compile_options(lightflow_dev_flags INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # The UTF-8 step names in tests and examples are fine; g++ 12 warns about nothing else here.
  target_compile_options(lightflow_dev_flags INTERFACE -Wno-interference-size)
  # g++ 12 at -O3 reports a false -Wrestrict inside std::string's operator+ (GCC bug 105329), which
  # stopped a plain Release build of the tests: not ours to fix, and not a warning to keep.
  target_compile_options(lightflow_dev_flags INTERFACE -Wno-restrict)
endif()
