# Builds and runs tests/consumers/consumer.cpp with the flags `pkg-config` gives for an installed
# lightflow, as a project without CMake would: a test that the installed lightflow.pc is right.
# usage: cmake -DPKG_CONFIG=<pkg-config> -DPREFIX=<install prefix> -DCXX=<compiler> -DSOURCE=<consumer.cpp>
#              -DWORK_DIR=<dir> -P check_pkg_config.cmake
include(GNUInstallDirs)
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${CMAKE_INSTALL_DATADIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs lightflow
  OUTPUT_VARIABLE flags ERROR_VARIABLE error RESULT_VARIABLE result OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "pkg-config does not find the installed lightflow: ${error}")
endif()
message(STATUS "pkg-config --cflags --libs lightflow: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND "${CXX}" "${SOURCE}" -o "${WORK_DIR}/consumer" ${flags}
  RESULT_VARIABLE result ERROR_VARIABLE error)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the consumer does not build with pkg-config's flags: ${error}")
endif()
execute_process(COMMAND "${WORK_DIR}/consumer" OUTPUT_VARIABLE out RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the consumer built with pkg-config's flags failed: ${out}")
endif()
message(STATUS "${out}")
