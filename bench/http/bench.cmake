# bench_bare_server: the bare Beast reference for HTTP benchmarks (fixed 202 JSON answer).
# bench_http_chain: comms_http's Server with the full middleware chain and the same answer.
add_executable(bench_bare_server ${CMAKE_SOURCE_DIR}/bench/http/bare_server.cc)
target_link_libraries(bench_bare_server PRIVATE comms_common)
add_executable(bench_http_chain ${CMAKE_SOURCE_DIR}/bench/http/chain_server.cc)
target_link_libraries(bench_http_chain PRIVATE comms_http)
