# The API reference, made by Doxygen (Debian's `doxygen`) from the public headers' /// comments:
# target lightflow_docs writes <build>/docs/html; with the tests, docs.reference runs the same and
# fails on any warning (an undocumented public entity, a reference that does not resolve).
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "lightflow: Doxygen not found; no lightflow_docs target")
  return()
endif()
set(LIGHTFLOW_DOCS_OUTPUT "${PROJECT_BINARY_DIR}/docs")
configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${LIGHTFLOW_DOCS_OUTPUT}/Doxyfile" @ONLY)
add_custom_target(lightflow_docs
  COMMAND "${DOXYGEN_EXECUTABLE}" "${LIGHTFLOW_DOCS_OUTPUT}/Doxyfile"
  WORKING_DIRECTORY "${LIGHTFLOW_DOCS_OUTPUT}"
  COMMENT "lightflow: API reference in ${LIGHTFLOW_DOCS_OUTPUT}/html"
  VERBATIM)
