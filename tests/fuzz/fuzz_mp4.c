/* fuzz_mp4.c - the MP4 (ISO-BMFF) box check: the whole-buffer verdict and
 * the streaming one (fed in chunks of the size the first byte picks, as a
 * download arrives) must agree. */
#include "fuzz.h"
#include "nemo/mp4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char reason[160];
    size_t step, off = 0;
    mp4_scan s;
    int whole, streamed;
    const uint8_t *buf;

    if (size < 1)
        return 0;
    step = (size_t)data[0] * 7 % 61 + 1;
    data++;
    size--;
    buf = data;                      /* exact-size: both drivers copy */
    whole = mp4_check_parse(buf, size, reason, sizeof reason);
    mp4_scan_init(&s);
    while (off < size) {
        size_t n = size - off < step ? size - off : step;

        mp4_scan_feed(&s, buf + off, n);
        off += n;
    }
    streamed = mp4_scan_finish(&s);
    if ((whole == 0) != (streamed == 0))
        abort();
    return 0;
}
