# `cmake --install` puts the executables, the public headers and a CMake package in the prefix, so
# a downstream project can find_package(cltci) and link cltci::cltci.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS cltci EXPORT cltciTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cltci ${PROJECT_BINARY_DIR}/generated/include/cltci
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${CLTCI_APP_TARGETS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs DESTINATION ${CMAKE_INSTALL_DATADIR}/cltci)

set(cltci_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/cltci)
install(EXPORT cltciTargets NAMESPACE cltci:: DESTINATION ${cltci_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cltciConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/cltciConfig.cmake
                              INSTALL_DESTINATION ${cltci_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cltciConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cltciConfig.cmake ${PROJECT_BINARY_DIR}/cltciConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/CltciFmtShadow.cmake
        DESTINATION ${cltci_cmake_dir})
