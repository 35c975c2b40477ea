package dev.perceiver.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.function.IntFunction;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA runtime and cuBLAS functions the engine calls, bound by name. Handles, streams and device pointers are
 * ADDRESS, enums and ints JAVA_INT, size_t and {@code long long} JAVA_LONG (64-bit Linux). The cuBLAS v2 API is
 * exported with a {@code _v2} suffix where it replaced the legacy API; the newer functions have none.
 */
final class CudaApi {
    static final int MEMCPY_HOST_TO_DEVICE = 1, MEMCPY_DEVICE_TO_HOST = 2;
    static final int ATTR_COMPUTE_MAJOR = 75, ATTR_COMPUTE_MINOR = 76;
    static final int OP_N = 0, OP_T = 1;
    /** FP32 math stays FP32; TF32 tensor-op math rounds the inputs to a 10-bit mantissa. */
    static final int DEFAULT_MATH = 0, TF32_TENSOR_OP_MATH = 3;

    final String libraries;
    private final NativeFunction getErrorString;
    final NativeFunction getDeviceCount, setDevice, malloc, free, memcpy, memcpy2D, deviceSynchronize;
    final NativeFunction runtimeGetVersion, deviceGetAttribute;
    /** Null when the runtime exports neither spelling; the device then goes unnamed. */
    final NativeFunction getDeviceProperties;
    final NativeFunction create, destroy, setMathMode, sgemm, sgemmStridedBatched;

    CudaApi(CudaLibraries.Pair libs) {
        CudaLibraries.Library rt = libs.cudart(), blas = libs.cublas();
        libraries = rt.name() + " + " + blas.name();
        getErrorString = NativeFunction.of(rt.symbol("cudaGetErrorString"), "cudaGetErrorString",
                FunctionDescriptor.of(ADDRESS, JAVA_INT));

        getDeviceCount = cuda(rt, "cudaGetDeviceCount", ADDRESS);
        setDevice = cuda(rt, "cudaSetDevice", JAVA_INT);
        malloc = cuda(rt, "cudaMalloc", ADDRESS, JAVA_LONG);
        free = cuda(rt, "cudaFree", ADDRESS);
        memcpy = cuda(rt, "cudaMemcpy", ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
        memcpy2D = cuda(rt, "cudaMemcpy2D", ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT);
        deviceSynchronize = cuda(rt, "cudaDeviceSynchronize");
        runtimeGetVersion = cuda(rt, "cudaRuntimeGetVersion", ADDRESS);
        deviceGetAttribute = cuda(rt, "cudaDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        // CUDA 12 exports the current struct layout as _v2; CUDA 11 and 13 export it unsuffixed. Only the name
        // (the first field in every version) is read.
        getDeviceProperties = rt.lookup().find("cudaGetDeviceProperties_v2").isPresent()
                ? cuda(rt, "cudaGetDeviceProperties_v2", ADDRESS, JAVA_INT)
                : rt.lookup().find("cudaGetDeviceProperties").isPresent()
                ? cuda(rt, "cudaGetDeviceProperties", ADDRESS, JAVA_INT) : null;

        create = cublas(blas, "cublasCreate_v2", ADDRESS);
        destroy = cublas(blas, "cublasDestroy_v2", ADDRESS);
        setMathMode = cublas(blas, "cublasSetMathMode", ADDRESS, JAVA_INT);
        // (handle, opA, opB, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc); alpha and beta are host pointers
        sgemm = cublas(blas, "cublasSgemm_v2", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
        // as above with a long long stride (in floats) after each of A, B, C, then the batch count
        sgemmStridedBatched = cublas(blas, "cublasSgemmStridedBatched", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS,
                ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT);
    }

    private NativeFunction cuda(CudaLibraries.Library lib, String name, MemoryLayout... args) {
        return NativeFunction.status(lib.symbol(name), name, this::cudaError, args);
    }

    private static NativeFunction cublas(CudaLibraries.Library lib, String name, MemoryLayout... args) {
        return NativeFunction.status(lib.symbol(name), name, CudaApi::cublasStatus, args);
    }

    /** "CUDA error 2 (out of memory)", in the runtime's own words. */
    String cudaError(int code) {
        MemorySegment text = (MemorySegment) getErrorString.invoke(code);
        return "CUDA error " + code + (text.address() == 0 ? "" : " (" + text.reinterpret(Integer.MAX_VALUE).getString(0) + ")");
    }

    /** cuBLAS has no string function for its status codes before 11.4, so the names are listed here. */
    static String cublasStatus(int code) {
        String name = switch (code) {
            case 0 -> "SUCCESS";
            case 1 -> "NOT_INITIALIZED";
            case 3 -> "ALLOC_FAILED";
            case 7 -> "INVALID_VALUE";
            case 8 -> "ARCH_MISMATCH";
            case 11 -> "MAPPING_ERROR";
            case 13 -> "EXECUTION_FAILED";
            case 14 -> "INTERNAL_ERROR";
            case 15 -> "NOT_SUPPORTED";
            case 16 -> "LICENSE_ERROR";
            default -> null;
        };
        return name == null ? "cuBLAS status " + code : "CUBLAS_STATUS_" + name + " (" + code + ")";
    }

    /** Reads one int out-parameter: call(out) fills it. */
    int queryInt(NativeFunction f, Object... argsAfterOut) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Object[] args = new Object[argsAfterOut.length + 1];
            args[0] = out;
            System.arraycopy(argsAfterOut, 0, args, 1, argsAfterOut.length);
            f.call(args);
            return out.get(JAVA_INT, 0);
        }
    }
}
