/*
 * A CPU stand-in for libcublas, for the FFM binding tests only. The GEMMs are naive column-major loops that follow
 * the cuBLAS definition: C = alpha·op(A)·op(B) + beta·C with op(A) m x k, op(B) k x n, C m x n, each matrix stored
 * column-major with its leading dimension; a transposed operand is read as stored. Arguments the real library
 * rejects (bad handle, operation, sizes or leading dimensions) get the same status codes.
 * Compile with -DOMIT_STRIDED_BATCHED to get a library that lacks one symbol.
 * The fake_* globals let tests inject failures and observe the handle through FFM.
 */
#include <stdlib.h>

enum { SUCCESS = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7 };
enum { OP_N = 0, OP_T = 1, OP_C = 2 };
#define MAGIC 0x5ca1ab1e

int fake_create_status = SUCCESS;
int fake_gemm_status = SUCCESS;
int fake_gemm_corrupt = 0; /* nonzero: the GEMMs add 1 to every output, as a broken library might */
int fake_math_mode = -1;
int fake_live_handles = 0;
int fake_gemm_calls = 0;

typedef struct { int magic; } handle_t;

int cublasCreate_v2(handle_t **handle) {
    if (fake_create_status != SUCCESS) return fake_create_status;
    handle_t *h = malloc(sizeof *h);
    h->magic = MAGIC;
    fake_live_handles++;
    *handle = h;
    return SUCCESS;
}

int cublasDestroy_v2(handle_t *handle) {
    if (handle == NULL || handle->magic != MAGIC) return NOT_INITIALIZED;
    handle->magic = 0;
    free(handle);
    fake_live_handles--;
    return SUCCESS;
}

int cublasSetMathMode(handle_t *handle, int mode) {
    if (handle == NULL || handle->magic != MAGIC) return NOT_INITIALIZED;
    if ((mode & ~16) < 0 || (mode & ~16) > 3) return INVALID_VALUE;
    fake_math_mode = mode;
    return SUCCESS;
}

static int max1(int v) {
    return v > 1 ? v : 1;
}

static int check(handle_t *handle, int opa, int opb, int m, int n, int k, int lda, int ldb, int ldc, int batch) {
    if (handle == NULL || handle->magic != MAGIC) return NOT_INITIALIZED;
    if (opa < OP_N || opa > OP_C || opb < OP_N || opb > OP_C) return INVALID_VALUE;
    if (m < 0 || n < 0 || k < 0 || batch < 0) return INVALID_VALUE;
    if (lda < max1(opa == OP_N ? m : k) || ldb < max1(opb == OP_N ? k : n) || ldc < max1(m)) return INVALID_VALUE;
    return fake_gemm_status;
}

static void gemm(int opa, int opb, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc) {
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            float acc = 0;
            for (int l = 0; l < k; l++) {
                float av = opa == OP_N ? a[i + (long) l * lda] : a[l + (long) i * lda];
                float bv = opb == OP_N ? b[l + (long) j * ldb] : b[j + (long) l * ldb];
                acc += av * bv;
            }
            float *out = &c[i + (long) j * ldc];
            /* beta == 0 means C is not read, so garbage (NaN) in it must not leak into the result */
            *out = alpha * acc + (beta == 0 ? 0 : beta * *out) + (fake_gemm_corrupt ? 1 : 0);
        }
}

int cublasSgemm_v2(handle_t *handle, int opa, int opb, int m, int n, int k, const float *alpha, const float *a, int lda,
                   const float *b, int ldb, const float *beta, float *c, int ldc) {
    int status = check(handle, opa, opb, m, n, k, lda, ldb, ldc, 1);
    if (status != SUCCESS) return status;
    fake_gemm_calls++;
    gemm(opa, opb, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc);
    return SUCCESS;
}

#ifndef OMIT_STRIDED_BATCHED
int cublasSgemmStridedBatched(handle_t *handle, int opa, int opb, int m, int n, int k, const float *alpha,
                              const float *a, int lda, long long stride_a, const float *b, int ldb, long long stride_b,
                              const float *beta, float *c, int ldc, long long stride_c, int batch) {
    int status = check(handle, opa, opb, m, n, k, lda, ldb, ldc, batch);
    if (status != SUCCESS) return status;
    fake_gemm_calls++;
    for (int i = 0; i < batch; i++)
        gemm(opa, opb, m, n, k, *alpha, a + i * stride_a, lda, b + i * stride_b, ldb, *beta, c + i * stride_c, ldc);
    return SUCCESS;
}
#endif
