# Install rules: headers, an exported target lightflow::lightflow, a package config and version file.
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
