# CMake toolchain file for the HiGHS build of highs-sys (set in .cargo/config.toml).
#
# HiPO, HiGHS's interior-point solver with a direct factorisation, needs BLAS. With its
# `hipo` feature highs-sys would download OpenBLAS and build it (minutes, and a network
# the build may not have); use the system's instead (Debian: libopenblas-dev).
set(BUILD_OPENBLAS OFF CACHE BOOL "Use the system OpenBLAS" FORCE)

# highs-sys links `static=openblas` from the lib folder of HiGHS's install: put the
# system's static library there. The serial build first (Debian: libopenblas-serial-dev):
# HiPO runs BLAS on one thread (HiGHS sets OpenBLAS to one thread, and builds its own
# OpenBLAS without threads), and a threaded OpenBLAS starts a thread pool in every
# process that links it, which spins on sched_yield beside the ingest's own threads.
# (One pattern at a time: a GLOB sorts what it finds, whatever the pattern order.)
set(_campustwin_openblas "")
foreach(_pattern
    /usr/lib/*/openblas-serial/libopenblas.a
    /usr/lib/*/openblas-pthread/libopenblas.a
    /usr/lib/*/openblas-openmp/libopenblas.a
    /usr/lib/*/libopenblas.a
    /usr/lib64/libopenblas.a
    /usr/lib/libopenblas.a
    /usr/local/lib/libopenblas.a)
  if(NOT _campustwin_openblas)
    file(GLOB _campustwin_openblas ${_pattern})
  endif()
endforeach()
if(NOT _campustwin_openblas)
  message(FATAL_ERROR "HiGHS's HiPO solver needs a static OpenBLAS: install libopenblas-serial-dev (Debian, Ubuntu) or openblas-static")
endif()
list(GET _campustwin_openblas 0 _campustwin_openblas)
if(NOT _campustwin_openblas MATCHES "serial")
  message(WARNING "Linking ${_campustwin_openblas}: a threaded OpenBLAS starts a spinning thread pool in every campustwin process; install libopenblas-serial-dev")
endif()
file(MAKE_DIRECTORY "${CMAKE_INSTALL_PREFIX}/lib")
configure_file("${_campustwin_openblas}" "${CMAKE_INSTALL_PREFIX}/lib/libopenblas.a" COPYONLY)
