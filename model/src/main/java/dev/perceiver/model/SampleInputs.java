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
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A batch of random inputs of the size a head is normally run at: 224x224 images (image_size² for learned
 * positions), flow tiles of train_size, text of max_position_embeddings tokens, and for the multimodal model a
 * num_frames video with its audio, decoding one 1/128 chunk of the outputs as the reference's example does.
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

    /** The reference's multimodal example decodes the video in this many chunks. */
    public static final int MULTIMODAL_CHUNKS = 128;

    private SampleInputs() {}

    public static PerceiverInputs of(Head head, PerceiverConfig c, int batch, SegmentAllocator alloc, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return switch (head) {
            case MASKED_LM, SEQUENCE_CLASSIFICATION -> {
                int n = c.maxPositionEmbeddings();
                long[] ids = new long[batch * n];
                for (int i = 0; i < ids.length; i++) ids[i] = 6 + rnd.nextInt(256);
                float[] mask = new float[ids.length];
                java.util.Arrays.fill(mask, 1f);
                yield PerceiverInputs.ofTokens(LongTensor.of(ids, batch, n)).attentionMask(Tensor.of(alloc, mask, batch, n));
            }
            case IMAGE_CLASSIFICATION_LEARNED -> PerceiverInputs.of(normal(alloc, rnd, batch, 3, c.imageSize(), c.imageSize()));
            case IMAGE_CLASSIFICATION_FOURIER, IMAGE_CLASSIFICATION_CONV -> PerceiverInputs.of(normal(alloc, rnd, batch, 3, 224, 224));
            case OPTICAL_FLOW -> PerceiverInputs.of(normal(alloc, rnd, batch, 2, 27, c.trainSize().get(0), c.trainSize().get(1)));
            case MULTIMODAL_AUTOENCODING -> {
                Map<String, Tensor> m = new TreeMap<>();
                int side = 4 * c.imageSize();
                m.put("image", normal(alloc, rnd, batch, c.numFrames(), 3, side, side));
                m.put("audio", normal(alloc, rnd, batch, c.numFrames() * c.audioSamplesPerFrame(), 1));
                m.put("label", Tensor.zeros(alloc, batch, c.numLabels()));
                int imagePoints = c.outputShape().get(1) * c.outputShape().get(2) * c.outputShape().get(3);
                int audioPoints = c.numFrames() * c.audioSamplesPerFrame() / c.samplesPerPatch();
                yield PerceiverInputs.ofModalities(m)
                        .subsample("image", range(Math.max(1, imagePoints / MULTIMODAL_CHUNKS)))
                        .subsample("audio", range(Math.max(1, audioPoints / MULTIMODAL_CHUNKS)));
            }
        };
    }

    private static long[] range(int n) {
        long[] r = new long[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static Tensor normal(SegmentAllocator alloc, SplittableRandom rnd, int... shape) {
        Tensor t = Tensor.zeros(alloc, shape);
        var m = t.reshape(1, Math.toIntExact(t.size())).matrix();
        for (int i = 0; i < m.cols(); i++) m.set(0, i, (float) gaussian(rnd));
        return t;
    }

    private static double gaussian(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }
}
