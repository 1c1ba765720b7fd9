# `cpack -G DEB` in a build directory: sconectl_<version>_<arch>.deb, installed under /usr.
# Its dependencies are what dpkg-shlibdeps finds in the linked binaries, plus the two libraries
# sconectl loads with dlopen only when a command needs them (util/shared_library.hpp), which no
# tool can see in the binary.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sconectl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "sconectl builds confidential images from service manifests, generates CAS policies and Helm\n"
    "charts from mesh manifests and uploads the policies to a CAS over mutual TLS. It includes a\n"
    "local CAS (sconectl cas serve) and a simulation runtime: no SGX, no hardware protection.")
set(CPACK_PACKAGE_CONTACT "sconectl maintainers <sconectl@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.88), libarchive13 (>= 3.6)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "docker.io | docker-ce, helm")
set(CPACK_STRIP_FILES ON)
include(CPack)
