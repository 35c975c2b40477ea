package dev.perceiver.runtime;

import dev.perceiver.ops.KernelChoice;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.gpu.DeviceMode;
import dev.perceiver.runtime.gpu.GpuBackend;
import dev.perceiver.runtime.gpu.GpuDetection;
import dev.perceiver.runtime.gpu.GpuDevice;
import dev.perceiver.runtime.gpu.GpuOptions;
import dev.perceiver.runtime.gpu.GpuUnavailableException;

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
        GpuDetection detection = device == DeviceMode.CPU ? null : GpuDevice.detect(gpu);
        if (device == DeviceMode.GPU && !detection.available())
            throw new GpuUnavailableException("no GPU can be used: " + detection.reason());
        Kernels cpu = Kernels.select(kernels);
        ThreadPool pool = threads > 0 ? new ThreadPool(threads) : ThreadPool.ofAvailableProcessors();
        if (detection != null && detection.available()) {
            try {
                return new GpuBackend(detection.orElseThrow().open(), cpu, pool);
            } catch (RuntimeException e) {
                pool.close();
                throw e;
            }
        }
        if (detection != null) LOG.log(System.Logger.Level.INFO, "running on the CPU: " + detection.reason());
        return new CpuBackend(cpu, pool);
    }
}
