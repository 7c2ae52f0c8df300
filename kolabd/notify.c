/* notify: see notify.h. */
#include <config.h>

#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define KD_NOTIFY_STATUS_MAX 512

G_DEFINE_QUARK(kd - notify - error - quark, kd_notify_error)

gboolean
kd_notify_send_to(const char *socket_path, const char *state, GError **error)
{
    struct sockaddr_un sa;
    socklen_t salen;
    size_t len;
    int fd;
    ssize_t n;
    int saved;

    g_return_val_if_fail(socket_path != NULL, FALSE);
    g_return_val_if_fail(state != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    len = strlen(socket_path);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    /* "@name" is an abstract socket: sun_path starts with a NUL byte and
     * the address length, not a terminator, delimits the name. */
    if (len < 2 || len >= sizeof sa.sun_path ||
        (socket_path[0] != '/' && socket_path[0] != '@')) {
        g_set_error(error, KD_NOTIFY_ERROR, KD_NOTIFY_ERROR_ADDRESS,
                    "invalid notification socket address \"%s\"", socket_path);
        return FALSE;
    }
    memcpy(sa.sun_path, socket_path, len);
    if (socket_path[0] == '@') {
        sa.sun_path[0] = '\0';
        salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    } else {
        salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
    }

    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        saved = errno;
        g_set_error(error, KD_NOTIFY_ERROR, KD_NOTIFY_ERROR_SEND,
                    "notification socket: %s", g_strerror(saved));
        return FALSE;
    }
    do {
        n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                   (const struct sockaddr *)&sa, salen);
    } while (n < 0 && errno == EINTR);
    saved = errno;
    close(fd);
    if (n < 0) {
        g_set_error(error, KD_NOTIFY_ERROR, KD_NOTIFY_ERROR_SEND,
                    "cannot notify %s: %s", socket_path, g_strerror(saved));
        return FALSE;
    }
    return TRUE;
}

gboolean
kd_notify_send(const char *state)
{
    g_return_val_if_fail(state != NULL, FALSE);

#ifdef HAVE_LIBSYSTEMD
    int r = sd_notify(0, state);
    if (r < 0) {
        g_debug("sd_notify(\"%s\") failed: %s", state, g_strerror(-r));
    }
    return r > 0;
#else
    g_autoptr(GError) error = NULL;
    const char *socket_path = g_getenv("NOTIFY_SOCKET");

    if (socket_path == NULL || *socket_path == '\0') {
        return FALSE;
    }
    if (!kd_notify_send_to(socket_path, state, &error)) {
        g_debug("%s", error->message);
        return FALSE;
    }
    return TRUE;
#endif
}

gboolean
kd_notify_ready(void)
{
    return kd_notify_send("READY=1");
}

gboolean
kd_notify_reloading(void)
{
    g_autofree char *state =
        g_strdup_printf("RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT,
                        g_get_monotonic_time());
    return kd_notify_send(state);
}

gboolean
kd_notify_stopping(void)
{
    return kd_notify_send("STOPPING=1");
}

gboolean
kd_notify_status(const char *text)
{
    g_autoptr(GString) state = g_string_new("STATUS=");
    size_t i;

    g_return_val_if_fail(text != NULL, FALSE);
    for (i = 0; text[i] != '\0' && i < KD_NOTIFY_STATUS_MAX; i++) {
        unsigned char c = (unsigned char)text[i];
        g_string_append_c(state, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
    /* Do not send half a UTF-8 sequence left by the cut (or garbage). */
    {
        const char *end = NULL;
        if (!g_utf8_validate(state->str, (gssize)state->len, &end)) {
            g_string_truncate(state, (gsize)(end - state->str));
        }
    }
    return kd_notify_send(state->str);
}
