/* Runs an exported model through its C ABI: every sample of a raw f32 file
   with <model>_predict, then all of them with <model>_predict_batch, and
   prints each output (%.9g, which reads back as the same float).
   Built by tests/tests/export.rs with -DMODEL=<module> -DUPPER=<MODULE>. */
#include <stdio.h>
#include <stdlib.h>

#define STR2(x) #x
#define STR(x) STR2(x)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#include STR(MODEL.h)

#define INPUT_LEN CAT(UPPER, _INPUT_LEN)
#define OUTPUT_LEN CAT(UPPER, _OUTPUT_LEN)

static void print(const char *what, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        printf("%s %zu:", what, i);
        for (size_t j = 0; j < OUTPUT_LEN; j++) printf(" %.9g", out[i * OUTPUT_LEN + j]);
        printf("\n");
    }
}

int main(int argc, char **argv) {
    if (argc != 3) return 64;
    size_t n = (size_t)atol(argv[2]);
    FILE *f = fopen(argv[1], "rb");
    if (!f) return 66;
    float *input = malloc(n * INPUT_LEN * sizeof(float));
    float *single = malloc(n * OUTPUT_LEN * sizeof(float));
    float *batch = malloc(n * OUTPUT_LEN * sizeof(float));
    if (!input || !single || !batch) return 70;
    if (fread(input, sizeof(float), n * INPUT_LEN, f) != n * INPUT_LEN) return 65;
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        int rc = CAT(MODEL, _predict)(input + i * INPUT_LEN, single + i * OUTPUT_LEN);
        if (rc != CAT(UPPER, _OK)) return 10 + rc;
    }
    size_t bytes = CAT(MODEL, _workspace_bytes)(n);
    void *workspace = aligned_alloc(64, bytes);
    if (!bytes || !workspace) return 71;
    int rc = CAT(MODEL, _predict_batch)(input, n, batch, workspace, bytes);
    if (rc != CAT(UPPER, _OK)) return 20 + rc;
    /* Misuse is refused, not a crash. */
    if (CAT(MODEL, _predict)(NULL, single) != CAT(UPPER, _NULL)) return 30;
    if (CAT(MODEL, _predict_batch)(input, n, batch, workspace, bytes - 64) != CAT(UPPER, _WORKSPACE)) return 31;
    if (CAT(MODEL, _predict_batch)(input, n, batch, (char *)workspace + 4, bytes) != CAT(UPPER, _WORKSPACE)) return 32;
    if (CAT(MODEL, _workspace_bytes)(0) != 0) return 33;
    print("single", single, n);
    print("batch", batch, n);
    printf("workspace bytes for one sample: %zu\n", CAT(MODEL, _workspace_bytes)(1));
    return 0;
}
