package dev.perceiver.runtime;

import dev.perceiver.ops.KernelChoice;
import dev.perceiver.ops.Kernels;

import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Makes the backend a user asked for: {@code cpu}; {@code gpu} (a GpuUnavailableException that says why if no GPU works); or
 * {@code auto}, a working GPU if there is one, else the CPU with one log line saying why.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.perceiver.runtime");

    private Backends() {}

    /**
     * threads ≤ 0 means one per available processor; kernels are the CPU kernels (all the work on the CPU, the
     * non-product work beside a GPU); gpu says where to find CUDA and how to use it (unused for cpu).
     */
    public static Backend create(DeviceMode device, int threads, KernelChoice kernels, GpuOptions gpu) {
        GpuProbe detection = device == DeviceMode.CPU ? null : probeGpu(gpu);
        if (device == DeviceMode.GPU && !detection.available())
            throw new GpuUnavailableException("no GPU can be used: " + detection.reason());
        Kernels cpu = Kernels.select(kernels);
        ThreadPool pool = threads > 0 ? new ThreadPool(threads) : ThreadPool.ofAvailableProcessors();
        if (detection != null && detection.available()) {
            try {
                return detection.open(cpu, pool);
            } catch (RuntimeException e) {
                pool.close();
                throw e;
            }
        }
        if (detection != null) LOG.log(System.Logger.Level.INFO, "running on the CPU: " + detection.reason());
        return new CpuBackend(cpu, pool);
    }

    /** Looks for a usable GPU through the GPU backend module, if it is there; never throws. */
    public static GpuProbe probeGpu(GpuOptions options) {
        GpuProvider provider;
        try {
            provider = ServiceLoader.load(GpuProvider.class, GpuProvider.class.getClassLoader()).findFirst().orElse(null);
        } catch (ServiceConfigurationError e) { // a broken GPU module must not keep the engine from running on the CPU
            return GpuProbe.unavailable("the GPU backend could not be loaded: " + e.getMessage());
        }
        if (provider == null)
            return GpuProbe.unavailable("the GPU backend is not installed (module dev.perceiver.gpu, artifact perceiver-gpu)");
        return provider.probe(options);
    }
}
