# Each tests/fuzz/<name>.cmake adds a libFuzzer target (configure with clang and -DCOMMS_FUZZ=ON).
file(GLOB fuzz_parts ${CMAKE_SOURCE_DIR}/tests/fuzz/*/fuzz.cmake)
foreach(part ${fuzz_parts})
  include(${part})
endforeach()
