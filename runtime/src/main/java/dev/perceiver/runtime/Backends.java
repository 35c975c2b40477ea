package dev.perceiver.runtime;

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

    /** threads ≤ 0 means one per available processor. */
    public static Backend create(String device, int threads) {
        DeviceMode mode = DeviceMode.parse(device);
        GpuDetection gpu = mode == DeviceMode.CPU ? null : GpuDevice.detect(GpuOptions.fromSystemProperties());
        if (mode == DeviceMode.GPU && !gpu.available())
            throw new GpuUnavailableException("no GPU can be used: " + gpu.reason());
        ThreadPool pool = threads > 0 ? new ThreadPool(threads) : ThreadPool.ofAvailableProcessors();
        if (gpu != null && gpu.available()) {
            try {
                return new GpuBackend(gpu.orElseThrow().open(), Kernels.best(), pool);
            } catch (RuntimeException e) {
                pool.close();
                throw e;
            }
        }
        if (gpu != null) LOG.log(System.Logger.Level.INFO, "running on the CPU: " + gpu.reason());
        return new CpuBackend(Kernels.best(), pool);
    }
}
