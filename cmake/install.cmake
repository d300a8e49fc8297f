# Install rules: headers, an exported target lightflow::lightflow, a package config and version file,
# and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(LIGHTFLOW_CMAKE_DIR "${CMAKE_INSTALL_DATADIR}/cmake/lightflow")

install(TARGETS lightflow EXPORT lightflowTargets FILE_SET HEADERS)
install(EXPORT lightflowTargets NAMESPACE lightflow:: DESTINATION "${LIGHTFLOW_CMAKE_DIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/lightflowConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/lightflowConfig.cmake" INSTALL_DESTINATION "${LIGHTFLOW_CMAKE_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/lightflowConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/lightflowConfig.cmake" "${PROJECT_BINARY_DIR}/lightflowConfigVersion.cmake"
  DESTINATION "${LIGHTFLOW_CMAKE_DIR}")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/lightflow")

# pkg-config, for builds that do not use CMake: `pkg-config --cflags --libs lightflow`. Header-only,
# so it goes in share/pkgconfig. Its prefix is found from the file's own place (${pcfiledir}), so
# that `cmake --install ... --prefix` anywhere gives a correct file.
file(RELATIVE_PATH LIGHTFLOW_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_DATADIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" LIGHTFLOW_PC_TO_PREFIX "${LIGHTFLOW_PC_TO_PREFIX}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/lightflow.pc.in" "${PROJECT_BINARY_DIR}/lightflow.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/lightflow.pc" DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
