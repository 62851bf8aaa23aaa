# bench_hub_server: the SignalR hub (comms_hub) behind comms_http's Server, with a trigger route that
# pushes one notification to a group, for bench/hub/run.sh (against a socket.io server doing the same).
add_executable(bench_hub_server ${CMAKE_SOURCE_DIR}/bench/hub/hub_server.cc)
target_link_libraries(bench_hub_server PRIVATE comms_hub)
