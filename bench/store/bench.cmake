# bench_store: insert throughput through Store::submit_write, group commit against
# one commit per unit of work, for several submitter counts and sync modes.
add_executable(bench_store ${CMAKE_SOURCE_DIR}/bench/store/store_bench.cc)
target_link_libraries(bench_store PRIVATE comms_store)
