/* Unit tests for kolabd/log.c. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"

static void
test_log_format_line_escapes_controls(void **state)
{
    g_autoptr(GDateTime) t = g_date_time_new_utc(2026, 1, 2, 3, 4, 5.25);
    g_autofree char *a = kd_log_format_line(t, G_LOG_LEVEL_MESSAGE,
                                            "kolabd-model",
                                            "created user/x\r\nforged");
    g_autofree char *b = kd_log_format_line(t, G_LOG_LEVEL_WARNING, NULL,
                                            "plain");

    assert_string_equal(a, "2026-01-02T03:04:05.250Z NOTICE [kolabd-model] "
                           "created user/x\\x0d\\x0aforged");
    assert_string_equal(b, "2026-01-02T03:04:05.250Z WARNING plain");
}

static void
test_log_levels(void **state)
{
    KdLogLevel l;

    assert_int_equal(kd_log_level_from_debug(0), KD_LOG_NOTICE);
    assert_int_equal(kd_log_level_from_debug(3), KD_LOG_INFO);
    assert_int_equal(kd_log_level_from_debug(9), KD_LOG_DEBUG);
    assert_int_equal(kd_log_level_from_debug(-1), KD_LOG_WARNING);
    assert_true(kd_log_level_parse("DEBUG", &l));
    assert_int_equal(l, KD_LOG_DEBUG);
    assert_false(kd_log_level_parse("loud", &l));
    kd_log_init(KD_LOG_WARNING, FALSE);
    assert_int_equal(kd_log_get_level(), KD_LOG_WARNING);
    g_message("this notice is filtered");
    kd_log_set_level(KD_LOG_DEBUG);
    assert_int_equal(kd_log_get_level(), KD_LOG_DEBUG);
    g_debug("debug record written to stderr");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_format_line_escapes_controls),
        cmocka_unit_test(test_log_levels),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
