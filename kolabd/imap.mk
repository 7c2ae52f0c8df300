# kolabd: see the top-level Makefile.am for the shared variables
