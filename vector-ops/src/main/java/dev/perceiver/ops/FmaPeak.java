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
    private static final int MAX_ROUNDS = 200;
    private static final DoubleAdder SINK = new DoubleAdder();

    private FmaPeak() {}

    /**
     * Peak GFLOP/s on p's threads: a fifth of the budget warms up (C2 compiles the chains) while rounds grow until
     * one takes 20 ms, then rounds of that size fill the rest (at least 3).
     */
    public static Throughput measure(Parallel p, Duration budget) {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            throw new UnsupportedOperationException("the FMA peak needs --add-modules jdk.incubator.vector");
        int pieces = PIECES_PER_THREAD * p.threads();
        long iterations = 1 << 12, warmEnd = System.nanoTime() + budget.toNanos() / 5;
        double seconds;
        do {
            seconds = round(p, pieces, iterations);
            if (seconds < 0.02) iterations *= 2;
        } while (seconds < 0.02 || System.nanoTime() < warmEnd);
        long deadline = System.nanoTime() + budget.toNanos() * 4 / 5;
        double[] times = new double[MAX_ROUNDS];
        int done = 0;
        while (done < 3 || (done < MAX_ROUNDS && System.nanoTime() < deadline)) times[done++] = round(p, pieces, iterations);
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

        /** CHAINS independent x = x·m + c chains; m < 1 keeps them finite, the returned sum keeps them live. */
        static float run(long iterations, int seed) {
            FloatVector m = FloatVector.broadcast(S, 0.9999999f), c = FloatVector.broadcast(S, 1e-7f);
            FloatVector x0 = FloatVector.broadcast(S, seed), x1 = x0.add(1), x2 = x0.add(2), x3 = x0.add(3);
            FloatVector x4 = x0.add(4), x5 = x0.add(5), x6 = x0.add(6), x7 = x0.add(7);
            FloatVector x8 = x0.add(8), x9 = x0.add(9), x10 = x0.add(10), x11 = x0.add(11);
            for (long i = 0; i < iterations; i++) {
                x0 = x0.fma(m, c); x1 = x1.fma(m, c); x2 = x2.fma(m, c); x3 = x3.fma(m, c);
                x4 = x4.fma(m, c); x5 = x5.fma(m, c); x6 = x6.fma(m, c); x7 = x7.fma(m, c);
                x8 = x8.fma(m, c); x9 = x9.fma(m, c); x10 = x10.fma(m, c); x11 = x11.fma(m, c);
            }
            return x0.add(x1).add(x2).add(x3).add(x4).add(x5).add(x6).add(x7).add(x8).add(x9).add(x10).add(x11)
                    .reduceLanes(VectorOperators.ADD);
        }
    }
}
