/* fuzz_token.c - the token, session and claim answers (auth and session
 * parsers), within the JSON limits. */
#include "fuzz.h"
#include "nemo/json.h"
#include "../../src/api/api_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const long long now = 1764700000000LL;
    cJSON *v = json_parse((const char *)data, size, NULL);
    api_token tok;
    api_session ses;
    char claim[256];
    long long exp = 0;
    nemo_err e;

    if (!v)
        return 0;
    memset(&tok, 0, sizeof tok);
    err_clear(&e);
    /* an absurd expiry means "unknown" (0), never "already expired" */
    if (auth_token_parse(v, now, &tok, &e) == 0 &&
        (!tok.token[0] || (tok.expires_ms != 0 && tok.expires_ms <= 0)))
        abort();
    err_clear(&e);
    api_session_parse(v, &ses, &e);
    err_clear(&e);
    api_claim_parse(v, now, claim, sizeof claim, &exp, &e);
    cJSON_Delete(v);
    return 0;
}
