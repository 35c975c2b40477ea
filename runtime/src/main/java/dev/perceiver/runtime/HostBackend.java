package dev.perceiver.runtime;

import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Parallel;

/** What every backend has on the host: the CPU kernels for the work it does not take over, and its thread pool. */
public abstract class HostBackend implements Backend {
    protected final Kernels kernels;
    protected final ThreadPool pool;

    /** Owns pool and closes it with the backend. */
    protected HostBackend(Kernels kernels, ThreadPool pool) {
        this.kernels = kernels;
        this.pool = pool;
    }

    @Override
    public Kernels kernels() {
        return kernels;
    }

    @Override
    public Parallel parallel() {
        return pool;
    }

    /** "2 threads, vector (...) kernels". */
    protected String hostDescription() {
        return pool.threads() + " thread" + (pool.threads() == 1 ? "" : "s") + ", " + kernels.name() + " kernels";
    }

    @Override
    public void close() {
        pool.close();
    }
}
