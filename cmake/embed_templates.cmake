# cmake -DDIR=<templates/defaults> -DOUT=<file.cc> -P embed_templates.cmake
# Writes a C++ source that holds every *.json under DIR as bytes, behind
# comms::templating::default_template_files() (src/templating/defaults.h).
file(GLOB_RECURSE files RELATIVE ${DIR} ${DIR}/*.json)
list(SORT files)
set(arrays "")
set(entries "")
set(i 0)
foreach(f IN LISTS files)
  file(READ ${DIR}/${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND arrays "const unsigned char f${i}[] = {${bytes}0};\n")
  string(APPEND entries "    {\"${f}\", {reinterpret_cast<const char*>(f${i}), sizeof(f${i}) - 1}},\n")
  math(EXPR i "${i} + 1")
endforeach()
set(text "// Generated from templates/defaults by cmake/embed_templates.cmake. Do not edit.
#include \"templating/defaults.h\"

namespace comms::templating {
namespace {
${arrays}
const EmbeddedFile kFiles[] = {
${entries}};
}  // namespace

std::span<const EmbeddedFile> default_template_files() { return kFiles; }

}  // namespace comms::templating
")
file(WRITE ${OUT} "${text}")
