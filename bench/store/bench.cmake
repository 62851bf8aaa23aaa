# bench_store: the store's write path (notification + outbox row per unit of work) on SQLite and
# PostgreSQL side by side, each beside its reference (bench/store/run.sh starts PostgreSQL).
add_executable(bench_store ${CMAKE_SOURCE_DIR}/bench/store/store_bench.cc)
target_link_libraries(bench_store PRIVATE comms_store)
