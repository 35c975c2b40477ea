package dev.perceiver.gpu;

/** A CUDA runtime or cuBLAS call returned an error status; the message names the call and the status. */
public final class GpuException extends RuntimeException {
    private final String op;
    private final int code;

    /** @param op the C function that failed; @param status what the status means, e.g. "CUBLAS_STATUS_INVALID_VALUE (7)" */
    public GpuException(String op, int code, String status) {
        super(op + " failed: " + status);
        this.op = op;
        this.code = code;
    }

    /** The C function that failed, e.g. {@code cublasSgemm_v2}. */
    public String op() {
        return op;
    }

    /** The cudaError_t or cublasStatus_t it returned. */
    public int code() {
        return code;
    }
}
