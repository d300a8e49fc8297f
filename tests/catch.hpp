// Catch2 v3 when found, else Debian's Catch2 2.13.
#ifndef LIGHTFLOW_TESTS_CATCH_HPP
#define LIGHTFLOW_TESTS_CATCH_HPP
#if defined(LIGHTFLOW_CATCH2_V3)
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#else
#include <catch2/catch.hpp>
#endif
#endif
