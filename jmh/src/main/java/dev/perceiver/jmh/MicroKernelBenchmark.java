package dev.perceiver.jmh;

import dev.perceiver.ops.MicroKernelNest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The product's micro-kernel in its loop nest, one thread, no packing or epilogue ({@link MicroKernelNest}): with one
 * slice of B its operands stay in cache and the rate is the micro-kernel's own; 16 slices are a 1,024-column unit's
 * pass, 128 put B beyond L2. Set beside {@code GemmBenchmark -p threads=1}, the three show where a product loses.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MicroKernelBenchmark extends ForkedJvm {
    /** A tiles per slice: 24 are a unit's 96 rows. */
    @Param({"24"})
    public int tiles;

    @Param({"1", "16", "128"})
    public int slices;

    private MicroKernelNest nest;

    @Setup
    public void setUp() {
        nest = new MicroKernelNest(tiles, slices);
    }

    @Benchmark
    public void nest(Rate rate) {
        nest.run();
        rate.gflop += nest.flop() / 1e9;
    }
}
