# cmake -DSRC=GEN/NAME.cu -DPREBUILT=DIR -DNAME=NAME.sm_90a.cubin -DDEST=GEN -P TilecCopyPrebuilt.cmake
#
# The cubin rule of tilec_add_kernel_library when PREBUILT_DIR has the image (ci/merge_shards.sh): copy
# DIR/NAME.sm_90a.cubin (and its ptxas report NAME.sm_90a.cubin.json) into GEN, after checking that the shard
# compiled the same source (DIR/NAME.cu) as this build emitted; a stale shard fails rather than ships.
foreach(var SRC PREBUILT NAME DEST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "TilecCopyPrebuilt.cmake: -D${var}= is required")
  endif()
endforeach()
get_filename_component(src_name "${SRC}" NAME)
set(shard_src "${PREBUILT}/${src_name}")
if(NOT EXISTS "${shard_src}")
  message(FATAL_ERROR "tilec: prebuilt ${NAME} in ${PREBUILT} comes without the source it was built from "
                      "(${src_name}); copy the shard's whole output directory")
endif()
file(SHA256 "${SRC}" want)
file(SHA256 "${shard_src}" have)
if(NOT want STREQUAL have)
  message(FATAL_ERROR "tilec: prebuilt ${NAME} in ${PREBUILT} was compiled from a different ${src_name} than "
                      "this build emits (the shard is stale: rebuild it from this commit, or drop "
                      "-DTILEC_PREBUILT_DIR to compile here)")
endif()
file(COPY_FILE "${PREBUILT}/${NAME}" "${DEST}/${NAME}" ONLY_IF_DIFFERENT)
if(NAME MATCHES "\\.cubin$")
  if(NOT EXISTS "${PREBUILT}/${NAME}.json")
    message(FATAL_ERROR "tilec: prebuilt ${NAME} in ${PREBUILT} has no resource report ${NAME}.json")
  endif()
  file(COPY_FILE "${PREBUILT}/${NAME}.json" "${DEST}/${NAME}.json" ONLY_IF_DIFFERENT)
endif()
