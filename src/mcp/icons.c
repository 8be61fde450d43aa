/* icons.c - small SVG icons for the server and each tool, sent as base64
 * data: URIs in the revisions whose schema has `icons` (2025-11-25 on).
 * Encoded once, on first use; a name without an icon gets none. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mcp_internal.h"

#define ICON_HEAD "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' " \
                  "fill='none' stroke='#5B3DF5' stroke-width='2' "               \
                  "stroke-linecap='round' stroke-linejoin='round'>"
#define ICON_TAIL "</svg>"

/* One drawing per name; the server's is a clapperboard. */
static const struct {
    const char *name;
    const char *body;
} icons[] = {
    { "server", "<rect x='3' y='9' width='18' height='12' rx='2'/>"
                "<path d='M3 9l2-5 16 0-2 5M8 4l-2 5M13 4l-2 5M18 4l-2 5'/>" },
    { "credits", "<circle cx='12' cy='12' r='9'/><path d='M12 7v10M9 9.5h4.5"
                 "a2 2 0 010 4H10a2 2 0 000 4h4'/>" },
    { "session", "<path d='M3 7a2 2 0 012-2h4l2 2h8a2 2 0 012 2v8a2 2 0 01-2 "
                 "2H5a2 2 0 01-2-2z'/>" },
    { "upload", "<path d='M12 16V4M7 9l5-5 5 5M4 16v3a1 1 0 001 1h14a1 1 0 "
                "001-1v-3'/>" },
    { "generate", "<path d='M12 3l1.8 4.7L18.5 9.5l-4.7 1.8L12 16l-1.8-4.7"
                  "L5.5 9.5l4.7-1.8zM19 15l.8 2.2L22 18l-2.2.8L19 21l-.8-2.2"
                  "L16 18l2.2-.8z'/>" },
    { "job", "<circle cx='12' cy='12' r='9'/><path d='M12 7v5l3 2'/>" },
    { "state", "<path d='M4 6h10M4 12h16M4 18h7'/><circle cx='17' cy='6' "
               "r='1.5'/><circle cx='14' cy='18' r='1.5'/>" },
    { "export", "<rect x='3' y='4' width='18' height='12' rx='2'/><path d='M10"
                " 8l4 2-4 2zM12 16v5M9 18l3 3 3-3'/>" },
};
#define N_ICONS (sizeof icons / sizeof icons[0])

static pthread_once_t icons_once = PTHREAD_ONCE_INIT;
static char *icon_uris[N_ICONS];

static void icons_build(void)
{
    size_t i;

    for (i = 0; i < N_ICONS; i++) {
        nemo_buf svg = NEMO_BUF_INIT, uri = NEMO_BUF_INIT;

        buf_printf(&svg, "%s%s%s", ICON_HEAD, icons[i].body, ICON_TAIL);
        buf_puts(&uri, "data:image/svg+xml;base64,");
        if (svg.data && buf_base64(&uri, svg.data, svg.len) == 0)
            icon_uris[i] = buf_detach(&uri);
        buf_free(&svg);
        buf_free(&uri);
    }
}

cJSON *mcp_icons(const char *name)
{
    cJSON *arr, *icon;
    size_t i;

    pthread_once(&icons_once, icons_build);
    for (i = 0; i < N_ICONS; i++)
        if (strcmp(icons[i].name, name) == 0 && icon_uris[i])
            break;
    if (i == N_ICONS || !(arr = cJSON_CreateArray()))
        return NULL;
    icon = cJSON_CreateObject();
    cJSON_AddStringToObject(icon, "src", icon_uris[i]);
    cJSON_AddStringToObject(icon, "mimeType", "image/svg+xml");
    cJSON_AddItemToObject(icon, "sizes", cJSON_CreateStringArray(
                                             (const char *[]){ "any" }, 1));
    cJSON_AddItemToArray(arr, icon);
    return arr;
}

void mcp_icons_add(cJSON *obj, const char *name, const mcp_version *v)
{
    cJSON *arr;

    if (!obj || !(v->features & MCP_F_ICONS) ||
        cJSON_GetObjectItemCaseSensitive(obj, "icons"))
        return;
    if ((arr = mcp_icons(name)))
        cJSON_AddItemToObject(obj, "icons", arr);
}
