/**
 * The optional GPU backend: CUDA and cuBLAS bound with the FFM API. It exports nothing; the runtime's backend
 * selection finds it as a service. It calls native code: on the module path start Java with
 * {@code --enable-native-access=dev.perceiver.gpu} (ALL-UNNAMED on the class path).
 */
module dev.perceiver.gpu {
    requires dev.perceiver.ops;
    requires dev.perceiver.runtime;

    provides dev.perceiver.runtime.GpuProvider with dev.perceiver.gpu.CudaGpuProvider;
}
