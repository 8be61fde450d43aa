/* fuzz_rpc.c - JSON-RPC line handling: parse and classify one line from
 * the host, the id key, the UTF-8 check. */
#include "fuzz.h"
#include "../../src/mcp/mcp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_exact(data, size);
    rpc_msg m;

    rpc_utf8_valid(line, size);
    rpc_parse(line, size, &m);
    if (m.id) {
        char *key = rpc_id_key(m.id);
        free(key);
    }
    if (m.kind == RPC_MSG_ERROR) {
        cJSON *e = rpc_error(m.err_id, m.code, m.message, NULL);
        cJSON_Delete(e);
    }
    rpc_msg_free(&m);
    free(line);
    return 0;
}
