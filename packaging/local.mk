# packaging/: systemd unit, sysusers.d and tmpfiles.d snippets
systemdsystemunit_DATA = packaging/kolabd.service
sysusersdir = $(prefix)/lib/sysusers.d
tmpfilesdir = $(prefix)/lib/tmpfiles.d
dist_sysusers_DATA =
dist_tmpfiles_DATA =
EXTRA_DIST += packaging/kolabd.service.in packaging/kolabd.sysusers \
	packaging/kolabd.tmpfiles packaging/install-deps.sh \
	packaging/kolabd.conf.example
CLEANFILES += packaging/kolabd.service

packaging/kolabd.service: packaging/kolabd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) packaging && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/packaging/kolabd.service.in >$@

install-data-local: install-packaging-snippets
uninstall-local: uninstall-packaging-snippets
install-packaging-snippets:
	$(MKDIR_P) $(DESTDIR)$(sysusersdir) $(DESTDIR)$(tmpfilesdir)
	$(INSTALL_DATA) $(srcdir)/packaging/kolabd.sysusers $(DESTDIR)$(sysusersdir)/kolabd.conf
	$(INSTALL_DATA) $(srcdir)/packaging/kolabd.tmpfiles $(DESTDIR)$(tmpfilesdir)/kolabd.conf
uninstall-packaging-snippets:
	rm -f $(DESTDIR)$(sysusersdir)/kolabd.conf $(DESTDIR)$(tmpfilesdir)/kolabd.conf
