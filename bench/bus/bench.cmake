# bench_bus: RabbitMQ consume throughput of the bus against a plain rabbitmq-c no-op
# consumer on the same broker (bench/bus/run.sh); also the publisher of the end-to-end run
# (bench/bus/e2e.sh).
add_executable(bench_bus ${CMAKE_SOURCE_DIR}/bench/bus/bus_bench.cc)
target_link_libraries(bench_bus PRIVATE comms_bus)
