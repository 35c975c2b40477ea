package dev.perceiver.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * The machine's measured FMA peak: every thread of a {@link Parallel} runs independent register-only FMA chains on
 * the preferred vector species, so the rate is what the cores can compute with no memory traffic at all, the yardstick
 * for the kernels' GFLOP/s. Needs the Vector API module ({@code --add-modules jdk.incubator.vector}).
 */
public final class FmaPeak {
    /** Independent chains per thread: enough to cover FMA latency x throughput (4 x 2 on current x86) in 16 registers. */
    static final int CHAINS = 12;
    /** Work pieces per thread, so a thread that starts late takes fewer of them instead of stretching the wall time. */
    private static final int PIECES_PER_THREAD = 8;
    private static final int MAX_ROUNDS = 2000;
    private static final DoubleAdder SINK = new DoubleAdder();

    private FmaPeak() {}

    /**
     * Peak GFLOP/s on p's threads: a fifth of the budget warms up (C2 compiles the chains) while rounds grow until
     * one takes 20 ms, then rounds of that size fill the rest (at least 3). On a busy machine C2 may compile the chains
     * only after the budget, when every round so far ran up to 100x slower: measuring goes on, up to ten budgets, until
     * the best round is in the first half of those taken, so the best rate has held as long as it took to appear; rounds
     * that become shorter than 20 ms once compiled grow again and the measuring starts over.
     */
    public static Throughput measure(Parallel p, Duration budget) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            throw new UnsupportedOperationException("the FMA peak needs --add-modules jdk.incubator.vector");
        int pieces = PIECES_PER_THREAD * p.threads();
        // Short calls first: interpreted, one call of 4096 iterations took longer than a round should, so the chains
        // were called too few times for C2 to compile them within the budget on a loaded machine.
        long iterations = 1 << 4, start = System.nanoTime(), warmEnd = start + budget.toNanos() / 5;
        double seconds;
        do {
            seconds = round(p, pieces, iterations);
            if (seconds < 0.02) iterations *= 2;
        } while (seconds < 0.02 || System.nanoTime() < warmEnd);
        long deadline = start + budget.toNanos(), cap = start + 10 * budget.toNanos();
        double[] times = new double[MAX_ROUNDS];
        int done = 0, best = 0;
        while (done < MAX_ROUNDS) {
            times[done] = round(p, pieces, iterations);
            if (times[done] < 0.02) {  // compiled only now: rounds this short time hand-offs, not FMAs
                iterations *= 2;
                done = best = 0;
                continue;
            }
            if (times[done] < times[best]) best = done;
            done++;
            long now = System.nanoTime();
            if (done >= 3 && now >= deadline && (best < done / 2 || now >= cap)) break;
        }
        double flops = 2.0 * CHAINS * Chains.LANES * iterations * pieces;
        return Throughput.of(flops, Arrays.copyOf(times, done));
    }

    private static double round(Parallel p, int pieces, long iterations) {
        long t0 = System.nanoTime();
        p.forRange(pieces, 1, (from, to) -> {
            for (int i = from; i < to; i++) SINK.add(Chains.run(iterations, i));
        });
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The chains themselves, apart so that FmaPeak loads without the Vector API module. */
    private static final class Chains {
        static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
        static final int LANES = S.length();

        /**
         * CHAINS accumulators c += a·b over 6 a and 2 b registers, the matrix micro-kernel's register tile without its
         * loads. Chains x = x·m + c that all read the same m and c ran at half this rate on Zen 4 (44 vs 80 GFLOP/s a
         * core), below what the matrix kernel itself reached, so they measured no peak at all. b is small so the
         * accumulators stay finite; the returned sum keeps them live.
         */
        static float run(long iterations, int seed) {
            FloatVector b0 = FloatVector.broadcast(S, 1e-7f), b1 = FloatVector.broadcast(S, 2e-7f);
            FloatVector a0 = FloatVector.broadcast(S, 0.5f + seed), a1 = a0.add(1), a2 = a0.add(2), a3 = a0.add(3);
            FloatVector a4 = a0.add(4), a5 = a0.add(5);
            FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
            FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
            for (long i = 0; i < iterations; i++) {
                c00 = a0.fma(b0, c00); c01 = a0.fma(b1, c01); c10 = a1.fma(b0, c10); c11 = a1.fma(b1, c11);
                c20 = a2.fma(b0, c20); c21 = a2.fma(b1, c21); c30 = a3.fma(b0, c30); c31 = a3.fma(b1, c31);
                c40 = a4.fma(b0, c40); c41 = a4.fma(b1, c41); c50 = a5.fma(b0, c50); c51 = a5.fma(b1, c51);
            }
            return c00.add(c01).add(c10).add(c11).add(c20).add(c21).add(c30).add(c31).add(c40).add(c41).add(c50).add(c51)
                    .reduceLanes(VectorOperators.ADD);
        }
    }
}
