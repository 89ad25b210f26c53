# Tests mirror lib/: a unit test that fails, naming the file, when a lib/<layer>/<name>.cpp
# has no tests/unit/<layer>/test_<name>.cpp (or a family test listed in the script).
if(BUILD_TESTING)
  add_test(NAME mirror_check COMMAND sh ${CMAKE_SOURCE_DIR}/tests/unit/mirror_check.sh ${CMAKE_SOURCE_DIR})
  set_tests_properties(mirror_check PROPERTIES LABELS unit)
endif()

# The layers hold: each layer's sources see only their own and lower layers' headers.
if(BUILD_TESTING)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  add_test(NAME layers_check COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/unit/layers_check.py
                                     ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${OAUTHFCGI_LAYERS})
  set_tests_properties(layers_check PROPERTIES LABELS unit)
endif()
