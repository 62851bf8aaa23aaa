# fuzz_templates: libFuzzer target for the template compiler and renderer (needs clang and -DCOMMS_FUZZ=ON).
# Configure with CMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" so that the library under
# test is instrumented too; tests/fuzz/templates/run.sh does all of that in its own build dir.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(WARNING "fuzz_templates needs clang (libFuzzer); not added")
  return()
endif()
set(comms_templates_fuzz_flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
add_executable(fuzz_templates ${CMAKE_CURRENT_LIST_DIR}/compile_render_fuzz.cc)
target_compile_options(fuzz_templates PRIVATE ${comms_templates_fuzz_flags})
target_link_options(fuzz_templates PRIVATE ${comms_templates_fuzz_flags})
target_link_libraries(fuzz_templates PRIVATE comms_templates)
