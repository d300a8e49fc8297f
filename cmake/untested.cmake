# An optional part this build cannot test (a package is missing): a configure message, and a disabled
# CTest test named after it, so that the end of the test run lists it ("The following tests did not
# run: ... untested.sqlite_store ... (Disabled)") instead of passing in silence.
function(lightflow_untested part why)
  message(STATUS "lightflow: ${why}; ${part} is not tested")
  add_test(NAME untested.${part} COMMAND "${CMAKE_COMMAND}" -E echo "${part}: ${why}")
  set_tests_properties(untested.${part} PROPERTIES DISABLED TRUE)
endfunction()
