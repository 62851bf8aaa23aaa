# Each bench/<name>/bench.cmake adds that benchmark's targets.
file(GLOB bench_parts ${CMAKE_SOURCE_DIR}/bench/*/bench.cmake)
foreach(part ${bench_parts})
  include(${part})
endforeach()
