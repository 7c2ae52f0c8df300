# kolabd/: shared types and the engine (reconcile, directory, daemon, cli)
kolabd_libkolabd_la_SOURCES += \
	kolabd/entry.c kolabd/entry.h \
	kolabd/object.c kolabd/object.h
