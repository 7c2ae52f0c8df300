# kolabd/: hooks and daemon lifecycle (see the top-level Makefile.am)
