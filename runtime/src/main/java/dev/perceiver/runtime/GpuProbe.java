package dev.perceiver.runtime;

import dev.perceiver.ops.Kernels;

/** The outcome of looking for a GPU: one that can open a backend, or one sentence saying why there is none. */
public interface GpuProbe {

    boolean available();

    /** Why no GPU can be used (which module, library, symbol or status stood in the way); empty when one can. */
    String reason();

    /** A backend whose products run on this GPU and the rest on cpu with pool, which it owns; only when available. */
    Backend open(Kernels cpu, ThreadPool pool);

    /** No GPU, for the reason given. */
    static GpuProbe unavailable(String reason) {
        return new GpuProbe() {
            @Override
            public boolean available() {
                return false;
            }

            @Override
            public String reason() {
                return reason;
            }

            @Override
            public Backend open(Kernels cpu, ThreadPool pool) {
                throw new GpuUnavailableException("no usable GPU: " + reason);
            }
        };
    }
}
