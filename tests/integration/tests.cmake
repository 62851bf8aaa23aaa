# Integration tests: pytest files run by Debian's python3 against the real
# `comms` binary and real peers started by tests/integration/peers.py.
set(COMMS_PYTEST /usr/bin/python3 -m pytest -q -p no:cacheprovider)
file(GLOB it_files ${CMAKE_SOURCE_DIR}/tests/integration/test_*.py)
foreach(f ${it_files})
  get_filename_component(name ${f} NAME_WE)
  add_test(NAME it_${name} COMMAND ${COMMS_PYTEST} ${f}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/integration)
  set_tests_properties(it_${name} PROPERTIES
    ENVIRONMENT "COMMS_TEST_BIN=$<TARGET_FILE:comms>;COMMS_TEST_UNIT_STORE=$<TARGET_FILE:unit_store>;COMMS_SPEC_DIR=${CMAKE_SOURCE_DIR}/../shared/testdata/mustache-spec"
    TIMEOUT 900)
endforeach()
