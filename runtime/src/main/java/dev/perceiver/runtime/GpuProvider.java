package dev.perceiver.runtime;

/**
 * The GPU backend as a service. The optional module {@code dev.perceiver.gpu} (artifact {@code perceiver-gpu})
 * provides it and {@link Backends} finds it with {@link java.util.ServiceLoader}, so the CPU engine carries no GPU
 * code; without that module device auto runs on the CPU and device gpu fails, both saying that it is missing.
 */
public interface GpuProvider {
    /** Finds, binds and probes the GPU the options name; never throws: an unusable GPU is an unavailable probe. */
    GpuProbe probe(GpuOptions options);
}
