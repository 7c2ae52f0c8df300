/* main: entry point of the kolabd binary; see cli.h. */
#include "cli.h"

int
main(int argc, char **argv)
{
    return kd_cli_main(argc, argv);
}
