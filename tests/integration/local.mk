# tests/integration/: provisioning integration tests (see Makefile.am)
