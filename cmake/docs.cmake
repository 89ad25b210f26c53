# Documentation: the man pages, built from docs/man/*.md with go-md2man, and the
# reference in docs/. Included from CMakeLists.txt before the install section.
#
#   build/man/oauth-fcgi.8        the programs (docs/man/oauth-fcgi.8.md)
#   build/man/oauth-fcgi.conf.5   the config file (docs/man/oauth-fcgi.conf.5.md)
#   build/man/aliases/oauth-connect.8 ...  `.so man8/oauth-fcgi.8`, one per program name
#
# Built with the default target when go-md2man is found; without it the build goes
# on without man pages (a warning says so) and `make install` stops with the same
# hint, since it must install them.

find_program(GO_MD2MAN go-md2man)

set(OAUTHFCGI_MAN_PAGES oauth-fcgi.8 oauth-fcgi.conf.5)
set(OAUTHFCGI_MAN_DIR ${CMAKE_BINARY_DIR}/man)
string(CONCAT OAUTHFCGI_MAN_HINT
       "go-md2man is missing, so the man pages are not built and make install will stop: "
       "scripts/install-deps installs it (Debian package go-md2man); then run cmake again")

if(GO_MD2MAN)
  set(man_outputs "")
  foreach(page IN LISTS OAUTHFCGI_MAN_PAGES)
    # @PROJECT_VERSION@ in the title line; configure_file re-runs when the source changes.
    configure_file(${CMAKE_SOURCE_DIR}/docs/man/${page}.md ${OAUTHFCGI_MAN_DIR}/${page}.md @ONLY)
    add_custom_command(
      OUTPUT ${OAUTHFCGI_MAN_DIR}/${page}
      COMMAND ${GO_MD2MAN} -in ${OAUTHFCGI_MAN_DIR}/${page}.md -out ${OAUTHFCGI_MAN_DIR}/${page}
      DEPENDS ${OAUTHFCGI_MAN_DIR}/${page}.md ${CMAKE_SOURCE_DIR}/docs/man/${page}.md
      COMMENT "go-md2man ${page}"
      VERBATIM)
    list(APPEND man_outputs ${OAUTHFCGI_MAN_DIR}/${page})
  endforeach()
  add_custom_target(oauth-fcgi-man ALL DEPENDS ${man_outputs})
  # `man oauth-connect` (and each other program's name) opens oauth-fcgi(8).
  set(OAUTHFCGI_MAN_ALIASES oauth-connect oauth-callback oauth-profile oauth-logout oauth-check oauth-api oauth-fetch
                            oauth-fcgi-smoke)
  foreach(alias IN LISTS OAUTHFCGI_MAN_ALIASES)
    file(WRITE ${OAUTHFCGI_MAN_DIR}/aliases/${alias}.8 ".so man8/oauth-fcgi.8\n")
  endforeach()
else()
  message(WARNING "${OAUTHFCGI_MAN_HINT}")
endif()

# ---- install ------------------------------------------------------------------
# Man pages to PREFIX/share/man/man{8,5}; docs/*.md to PREFIX/share/doc/oauth-fcgi/docs/
# (next to README.md, which the main install rules put there, so README's docs/ links
# hold). `make install` builds only the programs, so the man pages are built here
# when they are missing or out of date.
if(GO_MD2MAN)
  install(CODE "execute_process(COMMAND \"${CMAKE_COMMAND}\" --build \"${CMAKE_BINARY_DIR}\" --target oauth-fcgi-man
                  RESULT_VARIABLE man_rc)
  if(NOT man_rc EQUAL 0)
    message(FATAL_ERROR \"the man pages could not be built (go-md2man)\")
  endif()")
  install(FILES ${OAUTHFCGI_MAN_DIR}/oauth-fcgi.8 DESTINATION share/man/man8)
  foreach(alias IN LISTS OAUTHFCGI_MAN_ALIASES)
    install(FILES ${OAUTHFCGI_MAN_DIR}/aliases/${alias}.8 DESTINATION share/man/man8)
  endforeach()
  install(FILES ${OAUTHFCGI_MAN_DIR}/oauth-fcgi.conf.5 DESTINATION share/man/man5)
else()
  install(CODE "message(FATAL_ERROR \"${OAUTHFCGI_MAN_HINT}\")")
endif()
file(GLOB OAUTHFCGI_DOCS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${OAUTHFCGI_DOCS} DESTINATION share/doc/oauth-fcgi/docs)

# ---- tests --------------------------------------------------------------------
if(BUILD_TESTING)
  find_package(Python3 COMPONENTS Interpreter)
  if(GO_MD2MAN)
    # (a) the built pages render without a groff warning.
    add_test(NAME docs_man_render
             COMMAND sh ${CMAKE_SOURCE_DIR}/tests/docs/render_man.sh ${OAUTHFCGI_MAN_DIR}/oauth-fcgi.8
                     ${OAUTHFCGI_MAN_DIR}/oauth-fcgi.conf.5)
    set_tests_properties(docs_man_render PROPERTIES LABELS unit)
  endif()
  # (b) every config key and every --help flag is documented.
  if(Python3_Interpreter_FOUND)
    set(help_programs "")
    foreach(p IN ITEMS oauth-connect oauth-callback oauth-profile oauth-logout oauth-check oauth-api oauth-fetch)
      if(TARGET ${p})
        list(APPEND help_programs --program $<TARGET_FILE:${p}>)
      endif()
    endforeach()
    add_test(NAME docs_reference
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/docs/check_docs.py
                     --source ${CMAKE_SOURCE_DIR} ${help_programs})
    set_tests_properties(docs_reference PROPERTIES LABELS unit)
  endif()
endif()
