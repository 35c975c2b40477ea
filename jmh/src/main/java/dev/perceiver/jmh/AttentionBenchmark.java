package dev.perceiver.jmh;

import dev.perceiver.ops.Matrix;
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
 * Multi-head attention without stored probabilities (the streaming path); shape "NQxNKxHEADSxD" with dqk = dv = D.
 * {@code gflop} is GFLOP/s counting the two products, 2·NQ·NK·(dqk + dv)·HEADS (the softmax is not counted).
 * Shapes: latent self-attention (512 latents, 8 heads of 128) and the Fourier image model's cross-attention
 * (512 latents over 50176 pixels, one 261-wide head), with half the keys masked or none.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
public class AttentionBenchmark extends KernelBenchmark {
    @Param({"512x512x8x128", "512x50176x1x261"})
    public String shape;
    /** half: every other key masked, as a padded input's; none: no mask, as latent self-attention's. */
    @Param({"half", "none"})
    public String mask;

    private Matrix q, kk, v, maskBias, out;
    private int heads;
    private double gflopPerOp;

    @Setup
    public void setUp() {
        int[] d = BenchData.dims(shape);
        int nq = d[0], nk = d[1], dim = d[3];
        heads = d[2];
        open();
        q = BenchData.random(arena, nq, heads * dim, 1);
        kk = BenchData.random(arena, nk, heads * dim, 2);
        v = BenchData.random(arena, nk, heads * dim, 3);
        out = BenchData.random(arena, nq, heads * dim, 4);
        maskBias = switch (mask) {
            case "half" -> BenchData.random(arena, 1, nk, 5);
            case "none" -> null;
            default -> throw new IllegalArgumentException("mask: half or none, not " + mask);
        };
        for (int j = 0; maskBias != null && j < nk; j++) maskBias.set(0, j, j % 2 == 0 ? 0f : -3.4028235e38f);
        gflopPerOp = 2.0 * nq * nk * 2 * dim * heads / 1e9;
    }

    @Benchmark
    public void attention(Rate rate) {
        k.attention(pool, q, kk, v, heads, maskBias, out, null, arena);
        rate.gflop += gflopPerOp;
    }
}
