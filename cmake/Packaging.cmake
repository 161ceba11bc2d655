# Installation layout and the Debian package (CPack DEB).
#
#   cmake -S . -B build/package -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build/package && (cd build/package && cpack -G DEB)
#
# (scripts/package.sh does exactly that.) The binary and sql/ are installed by
# daemon/CMakeLists.txt; here: the configuration and templates under /etc, the
# systemd unit, sysusers.d and tmpfiles.d files, and the man pages.

include(GNUInstallDirs)

# /etc whatever the prefix: the binary and the unit look for /etc/ppo-intake.
set(PPO_INSTALL_SYSCONFDIR "/etc" CACHE PATH "Where ppo-intake/ (configuration, templates) is installed")
# Relative to the prefix: /usr/lib/systemd/system etc. with --prefix /usr
# (not GNUInstallDirs' LIBDIR, which may carry a multiarch triplet).
set(PPO_INSTALL_SYSTEMDUNITDIR "lib/systemd/system" CACHE STRING "Where the unit is installed (relative: to the prefix)")
set(PPO_INSTALL_SYSUSERSDIR "lib/sysusers.d" CACHE STRING "Where the sysusers.d file is installed")
set(PPO_INSTALL_TMPFILESDIR "lib/tmpfiles.d" CACHE STRING "Where the tmpfiles.d file is installed")

set(_ppo_etc "${PPO_INSTALL_SYSCONFDIR}/ppo-intake")

# The configuration: etc/ppo-intake.conf already names the package's paths
# (/var/lib/ppo-intake, /etc/ppo-intake/imap.secret); refuse to ship one that
# does not (tests/integration/test_ops.cpp checks it too).
file(READ "${PPO_SOURCE_DIR}/etc/ppo-intake.conf" _ppo_conf)
foreach(_expected "sqlite:///var/lib/ppo-intake/ppo.db" "archive_dir = /var/lib/ppo-intake/archive"
                  "/etc/ppo-intake/imap.secret")
  string(FIND "${_ppo_conf}" "${_expected}" _at)
  if(_at EQUAL -1)
    message(WARNING "etc/ppo-intake.conf no longer contains '${_expected}': update cmake/Packaging.cmake")
  endif()
endforeach()
configure_file("${PPO_SOURCE_DIR}/etc/ppo-intake.conf" "${CMAKE_CURRENT_BINARY_DIR}/package/ppo-intake.conf" COPYONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/package/ppo-intake.conf" DESTINATION "${_ppo_etc}"
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# The mail templates (*.txt), the digest's HTML part and the web pages (web/*.html).
install(DIRECTORY "${PPO_SOURCE_DIR}/etc/templates/" DESTINATION "${_ppo_etc}/templates"
        FILES_MATCHING PATTERN "*.txt" PATTERN "*.html")

# The unit names the binary's installed path.
file(READ "${PPO_SOURCE_DIR}/systemd/ppo-intake.service" _ppo_unit)
string(REPLACE "/usr/bin/ppo-intake " "${CMAKE_INSTALL_FULL_BINDIR}/ppo-intake " _ppo_unit "${_ppo_unit}")
string(REPLACE "/etc/ppo-intake/" "${_ppo_etc}/" _ppo_unit "${_ppo_unit}")
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/package/ppo-intake.service" "${_ppo_unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PPO_SOURCE_DIR}/systemd/ppo-intake.service")
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/package/ppo-intake.service" DESTINATION "${PPO_INSTALL_SYSTEMDUNITDIR}")
install(FILES "${PPO_SOURCE_DIR}/systemd/ppo-intake.sysusers" DESTINATION "${PPO_INSTALL_SYSUSERSDIR}" RENAME ppo-intake.conf)
install(FILES "${PPO_SOURCE_DIR}/systemd/ppo-intake.tmpfiles" DESTINATION "${PPO_INSTALL_TMPFILESDIR}" RENAME ppo-intake.conf)

# Man pages, gzipped as Debian wants them when gzip is there.
find_program(PPO_GZIP gzip)
foreach(_page ppo-intake.8 ppo-intake.conf.5)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" _section "${_page}")
  if(PPO_GZIP)
    add_custom_command(OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/package/${_page}.gz"
                       COMMAND "${PPO_GZIP}" -9nc "${PPO_SOURCE_DIR}/doc/${_page}" > "${CMAKE_CURRENT_BINARY_DIR}/package/${_page}.gz"
                       DEPENDS "${PPO_SOURCE_DIR}/doc/${_page}" VERBATIM)
    list(APPEND _ppo_man_outputs "${CMAKE_CURRENT_BINARY_DIR}/package/${_page}.gz")
    install(FILES "${CMAKE_CURRENT_BINARY_DIR}/package/${_page}.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${_section}")
  else()
    install(FILES "${PPO_SOURCE_DIR}/doc/${_page}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${_section}")
  endif()
endforeach()

# /usr/share/doc/ppo-intake: the copyright file and the (native) package's
# changelog, gzipped as Debian policy and lintian want them.
set(_ppo_docdir "${CMAKE_INSTALL_DATADIR}/doc/ppo-intake")
install(FILES "${PPO_SOURCE_DIR}/cmake/deb/copyright" DESTINATION "${_ppo_docdir}")
configure_file("${PPO_SOURCE_DIR}/cmake/deb/changelog" "${CMAKE_CURRENT_BINARY_DIR}/package/changelog" @ONLY)
if(PPO_GZIP)
  add_custom_command(OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/package/changelog.gz"
                     COMMAND "${PPO_GZIP}" -9nc "${CMAKE_CURRENT_BINARY_DIR}/package/changelog" > "${CMAKE_CURRENT_BINARY_DIR}/package/changelog.gz"
                     DEPENDS "${CMAKE_CURRENT_BINARY_DIR}/package/changelog" VERBATIM)
  list(APPEND _ppo_man_outputs "${CMAKE_CURRENT_BINARY_DIR}/package/changelog.gz")
  install(FILES "${CMAKE_CURRENT_BINARY_DIR}/package/changelog.gz" DESTINATION "${_ppo_docdir}")
endif()
if(_ppo_man_outputs)
  add_custom_target(ppo_man_pages ALL DEPENDS ${_ppo_man_outputs})
endif()

# ---------------------------------------------------------------------------
# CPack: ppo-intake_<version>_<arch>.deb

set(CPACK_PACKAGE_NAME "ppo-intake")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "DRAIO Hauts-de-France")
set(CPACK_PACKAGE_CONTACT "DRAIO Hauts-de-France <draio@region-academique-hauts-de-france.fr>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "mail-intake daemon collecting the lycées' PPO documents")
# The extended description in lines of at most 80 characters (lintian).
set(CPACK_PACKAGE_DESCRIPTION
    "ppo-intake takes the PPO submissions of the lycées from an IMAP mailbox,\n"
    "records them, keeps their documents, acknowledges them, forwards them to the\n"
    "IEN-IO of each bassin, sends reminders and a daily digest. Runs as a hardened\n"
    "systemd service (Type=notify, watchdog) with /healthz and Prometheus /metrics\n"
    "on loopback.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME "ppo-intake")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # ppo-intake_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "mail")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # dpkg-shlibdeps: libpoco*, libetpan, libspdlog, libsystemd...
# The maintainer scripts run systemd-sysusers, systemd-tmpfiles and
# deb-systemd-helper / deb-systemd-invoke (init-system-helpers).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql-client")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# conffiles: every file installed under /etc (dpkg keeps local edits).
set(_ppo_conffiles "${_ppo_etc}/ppo-intake.conf\n")
file(GLOB_RECURSE _ppo_templates RELATIVE "${PPO_SOURCE_DIR}/etc/templates" CONFIGURE_DEPENDS
     "${PPO_SOURCE_DIR}/etc/templates/*.txt" "${PPO_SOURCE_DIR}/etc/templates/*.html")
list(SORT _ppo_templates)
foreach(_t IN LISTS _ppo_templates)
  string(APPEND _ppo_conffiles "${_ppo_etc}/templates/${_t}\n")
endforeach()
file(WRITE "${CMAKE_CURRENT_BINARY_DIR}/package/deb/conffiles" "${_ppo_conffiles}")
foreach(_script postinst prerm postrm)
  configure_file("${PPO_SOURCE_DIR}/cmake/deb/${_script}" "${CMAKE_CURRENT_BINARY_DIR}/package/deb/${_script}" @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_BINARY_DIR}/package/deb/conffiles;${CMAKE_CURRENT_BINARY_DIR}/package/deb/postinst;${CMAKE_CURRENT_BINARY_DIR}/package/deb/prerm;${CMAKE_CURRENT_BINARY_DIR}/package/deb/postrm")

include(CPack)
