package dev.perceiver.model;

import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A batch of random inputs of the size a head is normally run at, as each head family makes them
 * ({@link TaskHead.Sampler}), and a long-lived JVM's history made of them.
 */
public final class SampleInputs {
    /**
     * Runs every model folder under golden (the tiny test models) passes times on its sample inputs, on backend: the
     * history of a long-lived JVM that has seen other shapes and files, before a model is timed in it
     * ({@code bench --pollute}, the JMH model benchmark's {@code pollute}). Returns the model folders run.
     */
    public static List<Path> runEach(Path golden, Backend backend, int passes) throws IOException {
        List<Path> models;
        try (var dirs = Files.list(golden)) {
            models = dirs.filter(d -> Files.exists(d.resolve(Perceiver.CONFIG_FILE))).sorted().toList();
        }
        for (Path dir : models) {
            PerceiverConfig config = PerceiverConfig.load(dir.resolve(Perceiver.CONFIG_FILE));
            try (Perceiver m = Perceiver.create(config, Checkpoints.open(dir), backend, false);
                 Arena arena = Arena.ofConfined()) {
                PerceiverInputs inputs = of(m.head(), config, 1, arena, 7);
                for (int i = 0; i < passes; i++) m.forward(inputs);
            }
        }
        return models;
    }

    private SampleInputs() {}

    /** A batch of random inputs for head, from seed: the head family's {@link TaskHead.Sampler}. */
    public static PerceiverInputs of(Head head, PerceiverConfig c, int batch, SegmentAllocator alloc, long seed) {
        return head.sample(c, batch, alloc, new SplittableRandom(seed));
    }

    /** A batch of inputs for head of the sample's shapes, all zero (token 0): the shapes without the cost of values. */
    static PerceiverInputs zeros(Head head, PerceiverConfig c, int batch, SegmentAllocator alloc) {
        return head.sample(c, batch, alloc, null);
    }

    /** batch texts of max_position_embeddings random byte tokens (rnd null: token 0), all attended. */
    static PerceiverInputs tokens(PerceiverConfig c, int batch, SegmentAllocator alloc, SplittableRandom rnd) {
        int n = c.maxPositionEmbeddings();
        long[] ids = new long[batch * n];
        if (rnd != null) for (int i = 0; i < ids.length; i++) ids[i] = 6 + rnd.nextInt(256);
        float[] mask = new float[ids.length];
        Arrays.fill(mask, 1f);
        return PerceiverInputs.ofTokens(LongTensor.of(ids, batch, n)).attentionMask(Tensor.of(alloc, mask, batch, n));
    }

    /** 0, 1, ..., n - 1: the first n output points. */
    static long[] range(int n) {
        long[] r = new long[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    /** A tensor of shape of standard normal values (rnd null: zeros). */
    static Tensor normal(SegmentAllocator alloc, SplittableRandom rnd, int... shape) {
        Tensor t = Tensor.zeros(alloc, shape);
        if (rnd == null) return t;
        var m = t.reshape(1, Math.toIntExact(t.size())).matrix();
        for (int i = 0; i < m.cols(); i++) m.set(0, i, (float) gaussian(rnd));
        return t;
    }

    private static double gaussian(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }
}
