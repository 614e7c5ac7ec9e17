# Compiler flags shared by every glassbox target: gb_target_defaults(target).
# -Wnull-dereference is left out: at -O3 GCC 12 reports it inside libstdc++ containers (false positives).
set(GB_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wcast-align
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
# GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string at -O3 (GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND GB_WARNINGS -Wno-restrict)
endif()
# Unity batches (GB_UNITY) include each source into a batch file, so GCC treats a class of one source that
# holds a type of its anonymous namespace as declared in a header (-Wsubobject-linkage); with one source
# per translation unit the same code is silent, and the type still has internal linkage.
if(GB_UNITY AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND GB_WARNINGS -Wno-subobject-linkage)
endif()
if(GB_WERROR)
  list(APPEND GB_WARNINGS -Werror)
endif()
set(GB_SAN_FLAGS "")
set(GB_SAN_LINK_FLAGS "")
if(GB_SANITIZE)
  set(GB_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # Sanitized executables link as position-dependent: as PIEs, glassbox carried 1.86 million relative
  # relocations (ASan's global descriptors, UBSan's type data), and the loader applied them at every start,
  # 0.6 of the 0.9 CPU s `glassbox --version` took; the CLI tests start it hundreds of times.
  set(GB_SAN_LINK_FLAGS ${GB_SAN_FLAGS} -no-pie)
  # gcc 12 instruments UBSan's own per-check data (source locations, type descriptors) as ASan globals: a
  # redzone and a 64-byte descriptor each: 34 MB of .data in glassbox that every process registered,
  # poisoned and scanned for leaks at exit. Globals are not instrumented here (.data 8 MB; `glassbox
  # --version` 0.33 -> 0.18 CPU s, and the sanitized CLI tests start it hundreds of times); the clang fuzz
  # build (tools/fuzz.sh) checks them, every parser's and the tokenizer's tables included.
  # UBSan's null check (a test before every pointer and reference use) is left to ASan here: a null
  # dereference faults, and ASan reports the fault with its stack. It was a fifth of the instrumented
  # compile (gb_probes' first unity batch 44.8 -> 35.8 CPU s; Eigen's templates are nothing but
  # references), CI's longest step. The alignment, bounds, overflow and every
  # other UBSan check stay, and the clang fuzz build keeps the null check on every parser.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND GB_SAN_FLAGS --param=asan-globals=0 -fno-sanitize=null)
  endif()
endif()
function(gb_target_defaults target)
  target_compile_options(${target} PRIVATE ${GB_WARNINGS} ${GB_SAN_FLAGS})
  if(GB_NATIVE AND NOT GB_SANITIZE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
  target_link_options(${target} PRIVATE ${GB_SAN_LINK_FLAGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_definitions(${target} PUBLIC GB_VERSION="${PROJECT_VERSION}")
  # sanitized builds run ~3-5x slower: long peer comparisons run a stratified subset there (#ifdef GB_SANITIZED)
  if(GB_SANITIZE)
    target_compile_definitions(${target} PUBLIC GB_SANITIZED=1)
  endif()
endfunction()
