# The layers' rule, checked at build time (a target every library depends on):
# parsers/ includes neither workflow/ nor daemon/, workflow/ does not include
# daemon/. An include that points up a layer fails the build with the file,
# the line and the include named.
#   cmake -DPPO_SOURCE_DIR=... -DSTAMP=... -P cmake/CheckLayers.cmake
set(_violations "")
foreach(_pair "parsers:workflow|daemon" "workflow:daemon")
  string(REPLACE ":" ";" _parts "${_pair}")
  list(GET _parts 0 _layer)
  list(GET _parts 1 _above)
  file(GLOB_RECURSE _files ${PPO_SOURCE_DIR}/${_layer}/*.h ${PPO_SOURCE_DIR}/${_layer}/*.cpp)
  foreach(_file ${_files})
    file(STRINGS ${_file} _lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<](${_above})/")
    foreach(_line ${_lines})
      file(RELATIVE_PATH _rel ${PPO_SOURCE_DIR} ${_file})
      string(STRIP "${_line}" _line)
      list(APPEND _violations "${_rel}: ${_line} (${_layer}/ may not include ${_above}/)")
    endforeach()
  endforeach()
endforeach()
if(_violations)
  list(JOIN _violations "\n  " _text)
  message(FATAL_ERROR "include pointing up a layer:\n  ${_text}")
endif()
file(WRITE ${STAMP} "layers ok\n")
