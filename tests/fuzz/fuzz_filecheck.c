/* fuzz_filecheck.c - file sniffing: the first byte picks the extension,
 * the rest is the file's content, checked through the real entry point. */
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "nemo/filecheck.h"

static char dir[64];

static void remove_dir(void)
{
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const exts[] = { "mp4", "mov", "avi", "webm", "mkv",
                                        "jpg", "png", "gif", "webp", "mp3",
                                        "wav", "m4a", "aac", "txt", "" };
    char path[128];
    filecheck_info info;
    FILE *f;

    if (size < 1)
        return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/nemo-fuzz-fc-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(remove_dir);
    }
    snprintf(path, sizeof path, "%s/input.%s", dir,
             exts[data[0] % (sizeof exts / sizeof *exts)]);
    f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    memset(&info, 0, sizeof info);
    /* accepted: the checked descriptor is ours to close */
    if (filecheck_file(path, 1 << 20, &info) == 0 && info.fd < 0)
        abort();
    filecheck_close(&info);
    unlink(path);
    return 0;
}
