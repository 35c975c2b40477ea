package dev.perceiver.ops;

/**
 * Splits a loop over [0, n) into ranges and runs them, possibly on several threads, returning when all are done.
 * Kernels never split a reduction across ranges, so results do not depend on how the loop was split.
 */
public interface Parallel {

    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    /** Runs body over disjoint ranges covering [0, n), each at least grain long (but the last). */
    void forRange(int n, int grain, RangeBody body);

    /** Threads that may run ranges at once. */
    int threads();

    /** Runs everything on the calling thread. */
    Parallel SERIAL = new Parallel() {
        @Override
        public void forRange(int n, int grain, RangeBody body) {
            if (n > 0) body.run(0, n);
        }

        @Override
        public int threads() {
            return 1;
        }
    };
}
