# Tilec.cmake — build a tile-language kernel catalogue into fatbins, a C++ dispatch table and a manifest.
#
#   include(Tilec.cmake)
#   tilec_add_kernel_library(<target>
#       CATALOGUE <dir>               # one Python module per kernel family (see kernels/README.md)
#       [ARCHS <list>]                # default: TILEC_ARCHS (-DTILEC_ARCHS=, env TILEC_ARCHS, or the default matrix)
#       [GEN_DIR <dir>]               # generated .cu/.json/.cubin/catalogue_table.inc (default <binary dir>/<target>)
#       [FATBIN_DIR <dir>]            # one fatbin per variant (default GEN_DIR/fatbins)
#       [MANIFEST <file>]             # default GEN_DIR/manifest.json
#       [TILEC_SOURCE_DIR <dir>]      # directory holding the `tilec` package to run (PYTHONPATH); default: the
#                                     #   source tree this file lives in when it has tilec/, else the installed tilec
#       [PREBUILT_DIR <dir>]          # take NAME.sm_XY.cubin / NAME.compute_XY.ptx from here instead of nvcc
#       [DEPENDS <files...>])         # extra files whose change re-emits every variant
#
# Creates <target> (ALL) which builds the fatbins, the table and the manifest, and <target>_cubins which builds
# only the cubins/PTX (one nightly shard). Properties on <target>: TILEC_GEN_DIR, TILEC_TABLE, TILEC_FATBINS,
# TILEC_FATBIN_DIR, TILEC_MANIFEST, TILEC_VARIANTS, TILEC_ARCHS. tilec_link_kernel_library(<consumer> <target>)
# puts the table on a C++ target's include path and orders the builds.
#
# Cache variables: TILEC_ARCHS, TILEC_NVCC, TILEC_FATBINARY, TILEC_COMPILER_LAUNCHER (ccache/sccache; also from
# the env var of the same name), TILEC_PREBUILT_DIR, TILEC_NVCC_JOB_MEMORY_MB (memory one nvcc job may take; sizes
# the ninja pool `tilec_nvcc`), TILEC_PLAN_CACHE (ON: reuse the configure-time plan across build directories).
#
# Every step is `python -m tilec.aot <step>` (kernels/README.md); each writes its outputs only when their bytes
# change, and ninja's restat then skips everything downstream, so a rebuild with nothing changed runs nothing.

include_guard(GLOBAL)
cmake_minimum_required(VERSION 3.21)

set(_TILEC_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(TILEC_DEFAULT_ARCHS "80;86;89;90a;100a;120+PTX")

# -- the arch matrix ---------------------------------------------------------------------------------------------

# The requested matrix: -DTILEC_ARCHS=..., else $ENV{TILEC_ARCHS}, else TILEC_DEFAULT_ARCHS. tilec's spelling
# ("80;90a;120+PTX") or PyTorch's ("8.0 9.0a 12.0+PTX"); `tilec.aot list` validates it at configure time.
if(NOT DEFINED TILEC_ARCHS)
  if(DEFINED ENV{TILEC_ARCHS} AND NOT "$ENV{TILEC_ARCHS}" STREQUAL "")
    set(_tilec_archs_default "$ENV{TILEC_ARCHS}")
  else()
    set(_tilec_archs_default "${TILEC_DEFAULT_ARCHS}")
  endif()
  set(TILEC_ARCHS "${_tilec_archs_default}" CACHE STRING "CUDA arch matrix, e.g. 80;86;89;90a;100a;120+PTX")
endif()

if(NOT DEFINED TILEC_COMPILER_LAUNCHER)
  set(TILEC_COMPILER_LAUNCHER "$ENV{TILEC_COMPILER_LAUNCHER}" CACHE STRING
      "compiler launcher for nvcc (ccache, sccache); empty for none")
endif()
set(TILEC_PREBUILT_DIR "" CACHE PATH "take cubins/PTX from this directory (ci/merge_shards.sh) instead of nvcc")
set(TILEC_NVCC_JOB_MEMORY_MB 2048 CACHE STRING "memory one nvcc job may use; sizes the tilec_nvcc ninja pool")
option(TILEC_PLAN_CACHE "cache the catalogue plan by content under \$TILEC_CACHE_DIR/aot-plan" ON)

# -- toolchain discovery -----------------------------------------------------------------------------------------

# TILEC_PYTHON: the interpreter that runs tilec (Python_EXECUTABLE resolved through shims such as pyenv's, so
# every step starts the real interpreter directly).
macro(_tilec_find_python)
  if(NOT Python_EXECUTABLE)
    find_package(Python 3.10 REQUIRED COMPONENTS Interpreter)
  endif()
  if(NOT TILEC_PYTHON OR NOT _TILEC_PYTHON_FROM STREQUAL Python_EXECUTABLE)
    execute_process(COMMAND "${Python_EXECUTABLE}" -c "import sys; print(sys.executable)"
                    OUTPUT_VARIABLE _tilec_py OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _tilec_rc)
    if(NOT _tilec_rc EQUAL 0 OR NOT EXISTS "${_tilec_py}")
      message(FATAL_ERROR "tilec: cannot run ${Python_EXECUTABLE}")
    endif()
    set(TILEC_PYTHON "${_tilec_py}" CACHE FILEPATH "Python that runs tilec's build steps" FORCE)
    set(_TILEC_PYTHON_FROM "${Python_EXECUTABLE}" CACHE INTERNAL "")
  endif()
endmacro()

# TILEC_NVCC: -DTILEC_NVCC, else tilec's own search (CUDA_HOME/bin, PATH, /usr/local/cuda, PyPI's
# nvidia-cuda-nvcc under site-packages), so CMake and `tilec` agree on the compiler.
function(_tilec_find_nvcc pythonpath)
  if(TILEC_NVCC AND EXISTS "${TILEC_NVCC}")
    return()
  endif()
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env "PYTHONPATH=${pythonpath}"
            ${TILEC_PYTHON} -c "from tilec.toolchain.nvcc import find_nvcc; print(find_nvcc())"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REGEX MATCH "nvcc not found[^\n]*" reason "${err}")
  if(NOT rc EQUAL 0 AND NOT reason)
    message(FATAL_ERROR "tilec: cannot run tilec with ${TILEC_PYTHON} (PYTHONPATH=${pythonpath}); it needs "
                        "Python >= 3.10 with numpy (pass -DPython_EXECUTABLE= to pick another):\n${err}")
  endif()
  if(NOT rc EQUAL 0 OR NOT EXISTS "${out}")
    message(FATAL_ERROR
      "tilec: no CUDA compiler (nvcc) found to build the kernel catalogue.\n"
      "  Install one of:\n"
      "    * the CUDA toolkit (>= 12.8), then set CUDA_HOME (or put its bin/ on PATH), or\n"
      "    * PyPI's compiler: `pip install nvidia-cuda-nvcc nvidia-cuda-runtime nvidia-cuda-cccl` into the Python\n"
      "      that runs this build (${TILEC_PYTHON}),\n"
      "  or pass -DTILEC_NVCC=/path/to/nvcc.\n"
      "  (tilec said: ${reason})")
  endif()
  set(TILEC_NVCC "${out}" CACHE FILEPATH "nvcc used for the kernel catalogue" FORCE)
endfunction()

function(_tilec_find_fatbinary)
  if(TILEC_FATBINARY AND EXISTS "${TILEC_FATBINARY}")
    return()
  endif()
  get_filename_component(nvcc_bin "${TILEC_NVCC}" DIRECTORY)
  get_filename_component(nvcc_real "${TILEC_NVCC}" REALPATH)
  get_filename_component(nvcc_real_bin "${nvcc_real}" DIRECTORY)
  unset(TILEC_FATBINARY CACHE)
  find_program(TILEC_FATBINARY fatbinary HINTS "${nvcc_bin}" "${nvcc_real_bin}" NO_DEFAULT_PATH)
  if(NOT TILEC_FATBINARY)
    find_program(TILEC_FATBINARY fatbinary)
  endif()
  if(NOT TILEC_FATBINARY)
    message(FATAL_ERROR "tilec: `fatbinary` not found next to ${TILEC_NVCC} nor on PATH; it ships with nvcc (CUDA "
                        "toolkit or `pip install nvidia-cuda-nvcc`); or pass -DTILEC_FATBINARY=/path/to/fatbinary")
  endif()
endfunction()

# One ninja pool for nvcc, sized by memory (each job up to TILEC_NVCC_JOB_MEMORY_MB) and by cores.
function(_tilec_job_pool)
  get_property(done GLOBAL PROPERTY _TILEC_JOB_POOL_DEFINED)
  if(done)
    return()
  endif()
  cmake_host_system_information(RESULT mem_mb QUERY AVAILABLE_PHYSICAL_MEMORY)
  cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
  math(EXPR jobs "${mem_mb} / ${TILEC_NVCC_JOB_MEMORY_MB}")
  if(jobs GREATER cores)
    set(jobs ${cores})
  endif()
  if(jobs LESS 1)
    set(jobs 1)
  endif()
  set_property(GLOBAL APPEND PROPERTY JOB_POOLS tilec_nvcc=${jobs})
  set_property(GLOBAL PROPERTY _TILEC_JOB_POOL_DEFINED TRUE)
  message(STATUS "tilec: nvcc job pool: ${jobs} (${mem_mb} MiB available, ${cores} cores)")
endfunction()

# -- the kernel library ------------------------------------------------------------------------------------------

function(tilec_add_kernel_library target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "CATALOGUE;GEN_DIR;FATBIN_DIR;MANIFEST;TILEC_SOURCE_DIR;PREBUILT_DIR"
                        "ARCHS;DEPENDS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tilec_add_kernel_library(${target}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_CATALOGUE)
    message(FATAL_ERROR "tilec_add_kernel_library(${target}): CATALOGUE <dir> is required")
  endif()
  get_filename_component(catalogue "${arg_CATALOGUE}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT IS_DIRECTORY "${catalogue}")
    message(FATAL_ERROR "tilec_add_kernel_library(${target}): catalogue directory ${catalogue} does not exist")
  endif()
  if(NOT DEFINED arg_ARCHS)
    set(arg_ARCHS "${TILEC_ARCHS}")
  endif()
  if(NOT arg_GEN_DIR)
    set(arg_GEN_DIR "${CMAKE_CURRENT_BINARY_DIR}/${target}")
  endif()
  get_filename_component(gen "${arg_GEN_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  if(NOT arg_FATBIN_DIR)
    set(arg_FATBIN_DIR "${gen}/fatbins")
  endif()
  get_filename_component(fatbin_dir "${arg_FATBIN_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  if(NOT arg_MANIFEST)
    set(arg_MANIFEST "${gen}/manifest.json")
  endif()
  get_filename_component(manifest "${arg_MANIFEST}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  if(NOT DEFINED arg_PREBUILT_DIR)
    set(arg_PREBUILT_DIR "${TILEC_PREBUILT_DIR}")
  endif()
  set(prebuilt "")
  if(arg_PREBUILT_DIR)
    get_filename_component(prebuilt "${arg_PREBUILT_DIR}" ABSOLUTE)
  endif()

  # Which tilec runs the steps: the in-tree one when this file sits in tilec's source tree.
  set(tilec_root "${arg_TILEC_SOURCE_DIR}")
  if(NOT tilec_root AND EXISTS "${_TILEC_CMAKE_DIR}/../tilec/__init__.py")
    get_filename_component(tilec_root "${_TILEC_CMAKE_DIR}/.." ABSOLUTE)
  endif()
  # tilec_root goes first on PYTHONPATH; the configure-time PYTHONPATH stays after it (pip's isolated build
  # environment puts its site directory, with numpy, there).
  set(pythonpath "${tilec_root}")
  if(NOT "$ENV{PYTHONPATH}" STREQUAL "")
    if(pythonpath)
      set(pythonpath "${pythonpath}:$ENV{PYTHONPATH}")
    else()
      set(pythonpath "$ENV{PYTHONPATH}")
    endif()
  endif()
  _tilec_find_python()

  # Arch lists travel as one comma-separated argument (a ';' would split it into several).
  # (PARSE_ARGV keeps a quoted "80;90a" as "80\;90a".)
  string(REPLACE "\\" "" arch_spec "${arg_ARCHS}")
  string(REGEX REPLACE "[; \t]+" "," archs_arg "${arch_spec}")
  set(aot ${CMAKE_COMMAND} -E env "PYTHONPATH=${pythonpath}" ${TILEC_PYTHON} -m tilec.aot)
  set(launcher_args "")
  if(TILEC_COMPILER_LAUNCHER)
    set(launcher_args --launcher "${TILEC_COMPILER_LAUNCHER}")
  endif()

  # What the steps depend on. Adding a file is seen too (CONFIGURE_DEPENDS re-globs at every build).
  file(GLOB catalogue_files CONFIGURE_DEPENDS "${catalogue}/*.py")
  set(tilec_py "")
  set(tilec_headers "")
  set(tilec_compile_py "")
  if(tilec_root)
    file(GLOB_RECURSE tilec_py CONFIGURE_DEPENDS "${tilec_root}/tilec/*.py")
    file(GLOB_RECURSE tilec_headers CONFIGURE_DEPENDS "${tilec_root}/tilec/include/*.cuh")
    file(GLOB tilec_compile_py CONFIGURE_DEPENDS "${tilec_root}/tilec/toolchain/*.py" "${tilec_root}/tilec/aot/*.py")
  endif()
  # The plan (variants x archs) is computed here, so editing the catalogue or tilec.aot reconfigures.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${catalogue_files} ${tilec_compile_py})

  # -- plan: one line per variant, "NAME;sm_80,sm_90a;compute_120" ---------------------------------------------
  # Planning lowers every variant once (its shared memory decides which archs can run it): seconds per variant.
  # The result is cached by content (catalogue + tilec sources + arch list) under $TILEC_CACHE_DIR/aot-plan, so a
  # new build directory (another Python's wheel, a CI re-run) does not pay again. A catalogue whose variants
  # depend on anything else (environment variables) needs -DTILEC_PLAN_CACHE=OFF.
  set(plan_cache "")
  if(TILEC_PLAN_CACHE AND tilec_root)  # (an installed tilec has no sources to hash)
    set(key_text "1\n${arch_spec}\n")
    foreach(f IN LISTS catalogue_files)
      file(SHA256 "${f}" h)
      get_filename_component(n "${f}" NAME)
      string(APPEND key_text "${n}=${h}\n")
    endforeach()
    foreach(f IN LISTS tilec_py)
      file(SHA256 "${f}" h)
      file(RELATIVE_PATH n "${tilec_root}" "${f}")
      string(APPEND key_text "${n}=${h}\n")
    endforeach()
    string(SHA256 key "${key_text}")
    if(NOT "$ENV{TILEC_CACHE_DIR}" STREQUAL "")
      set(plan_cache "$ENV{TILEC_CACHE_DIR}/aot-plan/${key}")
    elseif(NOT "$ENV{HOME}" STREQUAL "")
      set(plan_cache "$ENV{HOME}/.cache/tilec/aot-plan/${key}")
    endif()
  endif()
  if(plan_cache AND EXISTS "${plan_cache}.out")
    file(READ "${plan_cache}.out" plan)
    file(READ "${plan_cache}.err" plan_err)
    message(STATUS "tilec: plan from ${plan_cache}.out")
  else()
    string(TIMESTAMP t0 "%s")
    execute_process(
      COMMAND ${aot} list --catalogue "${catalogue}" --archs "${archs_arg}" --format cmake
      RESULT_VARIABLE rc OUTPUT_VARIABLE plan ERROR_VARIABLE plan_err)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "tilec: planning the catalogue ${catalogue} for TILEC_ARCHS=\"${arch_spec}\" failed "
                          "(exit ${rc}):\n${plan_err}")
    endif()
    string(TIMESTAMP t1 "%s")
    math(EXPR dt "${t1} - ${t0}")
    message(STATUS "tilec: planned the catalogue in ${dt} s")
    if(plan_cache)
      file(WRITE "${plan_cache}.err.tmp" "${plan_err}")
      file(WRITE "${plan_cache}.out.tmp" "${plan}")
      file(RENAME "${plan_cache}.err.tmp" "${plan_cache}.err")
      file(RENAME "${plan_cache}.out.tmp" "${plan_cache}.out")  # last: its presence commits the entry
    endif()
  endif()
  if(plan_err)
    string(STRIP "${plan_err}" plan_err)
    message(STATUS "tilec: ${plan_err}")
  endif()
  string(REPLACE ";" "|" plan "${plan}")
  string(REGEX MATCHALL "[^\n]+" plan_lines "${plan}")
  if(NOT plan_lines)
    message(FATAL_ERROR "tilec: catalogue ${catalogue} has no variant for TILEC_ARCHS=\"${arch_spec}\"")
  endif()

  # The toolchain is needed from here on (an unknown arch was reported above, before looking for nvcc).
  _tilec_find_nvcc("${pythonpath}")
  _tilec_find_fatbinary()
  _tilec_job_pool()

  file(MAKE_DIRECTORY "${gen}" "${fatbin_dir}")
  set(variants "")
  set(all_json "")
  set(all_images "")
  set(all_fatbins "")
  set(all_reports "")
  set(n_prebuilt 0)
  set(n_images 0)
  foreach(line IN LISTS plan_lines)
    string(STRIP "${line}" line)
    string(REPLACE "|" ";" fields "${line}")
    list(LENGTH fields nfields)
    if(nfields LESS 2)
      message(FATAL_ERROR "tilec: cannot read the plan line '${line}' from `tilec.aot list --format cmake`")
    endif()
    list(GET fields 0 name)
    list(GET fields 1 cubin_archs)
    set(ptx_arch "")
    if(nfields GREATER 2)
      list(GET fields 2 ptx_arch)
    endif()
    string(REPLACE "," ";" cubin_archs "${cubin_archs}")
    list(APPEND variants "${name}")

    # emit: NAME.cu + NAME.json (written only when they change)
    set(cu "${gen}/${name}.cu")
    set(json "${gen}/${name}.json")
    add_custom_command(
      OUTPUT "${cu}" "${json}"
      COMMAND ${aot} emit --catalogue "${catalogue}" --variant "${name}" --out "${cu}"
      DEPENDS ${catalogue_files} ${tilec_py} ${arg_DEPENDS}
      COMMENT "tilec: emit ${name}"
      VERBATIM)
    list(APPEND all_json "${json}")

    # cubin per arch (+ PTX), or a copy from PREBUILT_DIR checked against the source it was built from
    set(images "")
    set(kinds "")
    foreach(arch IN LISTS cubin_archs)
      list(APPEND kinds "cubin|${arch}")
    endforeach()
    if(ptx_arch)
      list(APPEND kinds "ptx|${ptx_arch}")
    endif()
    foreach(kind_arch IN LISTS kinds)
      string(REPLACE "|" ";" ka "${kind_arch}")
      list(GET ka 0 kind)
      list(GET ka 1 arch)
      set(out "${gen}/${name}.${arch}.${kind}")
      set(outputs "${out}")
      if(kind STREQUAL "cubin")
        list(APPEND outputs "${out}.json")
        list(APPEND all_reports "${out}.json")
        set(step_args --arch "${arch}")
      else()
        set(step_args --ptx "${arch}")
      endif()
      math(EXPR n_images "${n_images} + 1")
      if(prebuilt AND EXISTS "${prebuilt}/${name}.${arch}.${kind}")
        math(EXPR n_prebuilt "${n_prebuilt} + 1")
        add_custom_command(
          OUTPUT ${outputs}
          COMMAND ${CMAKE_COMMAND} "-DSRC=${cu}" "-DPREBUILT=${prebuilt}" "-DNAME=${name}.${arch}.${kind}"
                  "-DDEST=${gen}" -P "${_TILEC_CMAKE_DIR}/TilecCopyPrebuilt.cmake"
          DEPENDS "${cu}" "${prebuilt}/${name}.${arch}.${kind}"
          COMMENT "tilec: ${name} for ${arch} (prebuilt ${kind})"
          VERBATIM)
      else()
        add_custom_command(
          OUTPUT ${outputs}
          COMMAND ${aot} compile --nvcc "${TILEC_NVCC}" ${launcher_args} ${step_args} --in "${cu}" --out "${out}"
          DEPENDS "${cu}" ${tilec_headers} ${tilec_compile_py}
          COMMENT "tilec: nvcc ${name} for ${arch}"
          JOB_POOL tilec_nvcc
          VERBATIM)
      endif()
      list(APPEND images "${out}")
    endforeach()
    list(APPEND all_images ${images})

    # fatbin per variant
    set(fb "${fatbin_dir}/${name}.fatbin")
    add_custom_command(
      OUTPUT "${fb}"
      COMMAND ${aot} fatbin --fatbinary "${TILEC_FATBINARY}" --out "${fb}" ${images}
      DEPENDS ${images}
      COMMENT "tilec: fatbin ${name}"
      VERBATIM)
    list(APPEND all_fatbins "${fb}")
  endforeach()
  list(LENGTH variants n_variants)
  message(STATUS "tilec: ${target}: ${n_variants} variants, ${n_images} cubin/PTX images for "
                 "TILEC_ARCHS=\"${arch_spec}\"")
  if(prebuilt)
    math(EXPR n_compiled "${n_images} - ${n_prebuilt}")
    message(STATUS "tilec: ${n_prebuilt} images from ${prebuilt}, ${n_compiled} compiled here")
  endif()

  # dispatch table and manifest
  set(table "${gen}/catalogue_table.inc")
  add_custom_command(
    OUTPUT "${table}"
    COMMAND ${aot} table --catalogue "${catalogue}" --gen-dir "${gen}" --archs "${archs_arg}" --out "${table}"
    DEPENDS ${all_json} ${catalogue_files} ${tilec_compile_py}
    COMMENT "tilec: dispatch table ${table}"
    VERBATIM)
  add_custom_command(
    OUTPUT "${manifest}"
    COMMAND ${aot} manifest --catalogue "${catalogue}" --gen-dir "${gen}" --fatbin-dir "${fatbin_dir}"
            --archs "${archs_arg}" --nvcc "${TILEC_NVCC}" --out "${manifest}"
    DEPENDS ${all_fatbins} ${all_json} ${all_reports} ${tilec_compile_py}
    COMMENT "tilec: manifest ${manifest}"
    VERBATIM)

  add_custom_target(${target} ALL DEPENDS "${table}" "${manifest}" ${all_fatbins})
  add_custom_target(${target}_cubins DEPENDS ${all_images})
  set_target_properties(${target} PROPERTIES
    TILEC_GEN_DIR "${gen}" TILEC_TABLE "${table}" TILEC_FATBIN_DIR "${fatbin_dir}" TILEC_FATBINS "${all_fatbins}"
    TILEC_MANIFEST "${manifest}" TILEC_VARIANTS "${variants}" TILEC_ARCHS "${arch_spec}")
endfunction()

# Compile `consumer` (a C++ target that #includes catalogue_table.inc) against kernel library `library`.
function(tilec_link_kernel_library consumer library)
  get_target_property(gen ${library} TILEC_GEN_DIR)
  get_target_property(table ${library} TILEC_TABLE)
  target_include_directories(${consumer} PRIVATE "${gen}")
  target_sources(${consumer} PRIVATE "${table}")
  set_source_files_properties("${table}" PROPERTIES GENERATED TRUE HEADER_FILE_ONLY TRUE)
  add_dependencies(${consumer} ${library})
endfunction()
