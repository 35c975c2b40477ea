package dev.perceiver.gpu;

import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.GpuProbe;
import dev.perceiver.runtime.GpuProvider;

/** The service through which the runtime's backend selection finds this module: CUDA and cuBLAS through FFM. */
public final class CudaGpuProvider implements GpuProvider {
    @Override
    public GpuProbe probe(GpuOptions options) {
        return GpuDevice.detect(options);
    }
}
