# bench_providers: SMS and email adapter throughput against local peers, each beside the peer's own
# ceiling measured with plain libcurl in the same run (bench/providers/run.sh).
add_executable(bench_providers ${CMAKE_SOURCE_DIR}/bench/providers/providers_bench.cc)
target_link_libraries(bench_providers PRIVATE comms_delivery)
