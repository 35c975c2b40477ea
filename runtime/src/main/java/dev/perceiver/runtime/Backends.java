package dev.perceiver.runtime;

import dev.perceiver.ops.Kernels;

/** Makes the backend a user asked for: {@code cpu}, {@code gpu} or {@code auto} (a GPU if one works, else the CPU). */
public final class Backends {
    private Backends() {}

    /** threads ≤ 0 means one per available processor. */
    public static Backend create(String device, int threads) {
        ThreadPool pool = threads > 0 ? new ThreadPool(threads) : ThreadPool.ofAvailableProcessors();
        return switch (device) {
            case "cpu", "auto" -> new CpuBackend(Kernels.best(), pool);
            case "gpu" -> {
                pool.close();
                throw new IllegalArgumentException("--device gpu: no GPU backend is available in this build");
            }
            default -> {
                pool.close();
                throw new IllegalArgumentException("unknown device '" + device + "' (expected cpu, gpu or auto)");
            }
        };
    }
}
