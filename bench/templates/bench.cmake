# bench_templates: renders/s of the template engine against mstch (see run.sh, which also runs the
# mustache.js and handlebars side and prints the comparison).
# mstch is not installable beside Boost 1.81 (its Debian package pulls Boost 1.74), so run.sh unpacks
# libmstch-dev into <build>/mstch-deb; without it the benchmark builds without the mstch rows.
find_package(benchmark QUIET)
if(NOT benchmark_FOUND)
  message(STATUS "bench_templates: google benchmark not found; skipped")
  return()
endif()
add_executable(bench_templates ${CMAKE_CURRENT_LIST_DIR}/template_bench.cc)
target_link_libraries(bench_templates PRIVATE comms_templates benchmark::benchmark)
target_compile_definitions(bench_templates PRIVATE COMMS_BENCH_DIR="${CMAKE_CURRENT_LIST_DIR}")
set(comms_mstch_root ${CMAKE_BINARY_DIR}/mstch-deb/usr)
if(EXISTS ${comms_mstch_root}/lib/x86_64-linux-gnu/libmstch.a)
  target_include_directories(bench_templates SYSTEM PRIVATE ${comms_mstch_root}/include)
  target_link_libraries(bench_templates PRIVATE ${comms_mstch_root}/lib/x86_64-linux-gnu/libmstch.a)
  target_compile_definitions(bench_templates PRIVATE COMMS_BENCH_MSTCH=1)
endif()
