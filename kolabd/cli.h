/*
 * cli: kolabd's command line (DESIGN.md, "User-facing contract").
 *
 *   kolabd [-c FILE] [-f] [-d LEVEL]          the daemon
 *   kolabd resync [-c FILE] [--dry-run] [--json] [--fast] [MAIL...]
 *   kolabd status [-c FILE] [--json]
 *   kolabd check-config [-c FILE]
 *
 * Exit codes: 0 success (resync: converged), 1 failure (resync: drift or
 * errors left), 2 usage or configuration error.
 */
#ifndef KOLABD_CLI_H
#define KOLABD_CLI_H

#define KD_EXIT_OK 0
#define KD_EXIT_FAILURE 1
#define KD_EXIT_USAGE 2

/* Runs the command in @argv; returns the process exit code. */
int kd_cli_main(int argc, char **argv);

/* The subcommands (cli-*.c); @argv[0] is the subcommand's name. */
int kd_cli_daemon(const char *config_path, int argc, char **argv);
int kd_cli_resync(const char *config_path, int argc, char **argv);
int kd_cli_status(const char *config_path, int argc, char **argv);
int kd_cli_check_config(const char *config_path, int argc, char **argv);

#endif /* KOLABD_CLI_H */
