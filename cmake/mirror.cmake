# Tests mirror lib/: a unit test that fails, naming the file, when a lib/<name>.cpp
# has no tests/unit/test_<name>.cpp (or a family test listed in the script).
if(BUILD_TESTING)
  add_test(NAME mirror_check COMMAND sh ${CMAKE_SOURCE_DIR}/tests/unit/mirror_check.sh ${CMAKE_SOURCE_DIR})
  set_tests_properties(mirror_check PROPERTIES LABELS unit)
endif()
