/* main: entry point of the kolabd binary; see cli.h. */

#include <stdio.h>

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "kolabd: not built yet\n");
    return 2;
}
