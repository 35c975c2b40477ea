package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The factored encoder cross-attention gives what the direct computation gives, on models large enough for
 * rounding to matter (thousands of input tokens, hundreds of channels), for every head that uses it.
 */
class FactoredCrossAttentionTest {
    private static final String COMMON = "\"num_latents\": 24, \"num_blocks\": 1,"
            + " \"num_self_attends_per_block\": 1, \"num_self_attention_heads\": 4, \"num_labels\": 5, ";

    private static PerceiverConfig config(String head) {
        return config(head, head.equals("fourier") || head.equals("multimodal") ? 1 : 2);
    }

    private static PerceiverConfig config(String head, int crossAttentionHeads) {
        // d_latents is divided among the heads too.
        int dLatents = crossAttentionHeads <= 2 ? 64 : 8 * crossAttentionHeads;
        String common = COMMON + "\"d_latents\": " + dLatents + ", \"num_cross_attention_heads\": " + crossAttentionHeads
                + ", ";
        return PerceiverConfig.fromJson(switch (head) {
            case "fourier" -> "{\"architectures\": [\"PerceiverForImageClassificationFourier\"], " + common + "\"d_model\": 261}";
            case "learned" -> "{\"architectures\": [\"PerceiverForImageClassificationLearned\"], " + common
                    + "\"image_size\": 32}";
            case "conv" -> "{\"architectures\": [\"PerceiverForImageClassificationConvProcessing\"], " + common + "\"d_model\": 322}";
            default -> "{\"architectures\": [\"PerceiverForMultimodalAutoencoding\"], " + common
                    + "\"num_frames\": 4, \"image_size\": 16, \"audio_samples_per_frame\": 64, \"samples_per_patch\": 8,"
                    + " \"output_shape\": [1, 4, 16, 16], \"output_num_channels\": 32, \"_label_trainable_num_channels\": 16}";
        });
    }

    /** One pass, factored or not; factored, its probabilities weigh the inputs or not, as weighsInputs says. */
    private static PerceiverOutput run(PerceiverConfig c, boolean factored, boolean weighsInputs, Arena arena) {
        Perceiver.Options options = Perceiver.Options.DEFAULT.withFactoredCrossAttention(factored);
        try (Perceiver m = Perceiver.random(c, new CpuBackend(Kernels.best(), new ThreadPool(2)), true, options)) {
            long weighed = m.factoredPassesWeighingInputs();
            PerceiverOutput out = m.forward(inputs(m.head(), c, arena), Perceiver.Extra.ATTENTIONS);
            // the one pass ran the path the option asked for
            assertThat(m.factoredCrossAttentionPasses()).isEqualTo(factored ? 1 : 0);
            assertThat(m.factoredPassesWeighingInputs() - weighed).as("items whose probabilities weighed the inputs")
                    .isEqualTo(factored && weighsInputs ? 2 : 0);
            return out;
        }
    }

    /** Two items of a size that gives a few thousand input tokens, with a random image on the image heads. */
    private static PerceiverInputs inputs(Head head, PerceiverConfig c, Arena arena) {
        if (head == Head.MULTIMODAL_AUTOENCODING) return SampleInputs.of(head, c, 2, arena, 7);
        int side = head == Head.IMAGE_CLASSIFICATION_LEARNED ? c.imageSize() : 40;
        float[] pixels = new float[2 * 3 * side * side];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) (rnd.nextDouble() * 4 - 2);
        return PerceiverInputs.of(Tensor.of(arena, pixels, 2, 3, side, side));
    }

    /**
     * Both forms of the values (value channels = input channels C here): weighing values costs C·(varying channels +
     * queries) multiply-adds a token, weighing the inputs heads·queries·C, or, for a grid segment, heads·queries·
     * (varying channels + 4) (its design rows' dense columns and the grid sums), plus w·C a query, w its design rows'
     * width (varying channels + 2 + the grid's coordinates) or C. The Fourier model's 1,600 tokens of 3 varying
     * channels (w = 85), the learned model's 1,024 of 256 (w = C), the conv model's 81 of 64 (w = 84) and the
     * multimodal model's 1,057 of 8-48 take the second; the conv model with 14 heads the first.
     */
    @ParameterizedTest
    @CsvSource({"fourier, 1, true", "learned, 2, true", "conv, 2, true", "conv, 14, false", "multimodal, 1, true"})
    void factoredAndDirectAgree(String head, int crossAttentionHeads, boolean weighsInputs) {
        PerceiverConfig c = config(head, crossAttentionHeads);
        try (Arena arena = Arena.ofShared()) {
            PerceiverOutput factored = run(c, true, weighsInputs, arena), direct = run(c, false, false, arena);
            assertClose("cross-attention", factored.crossAttentions().getFirst(), direct.crossAttentions().getFirst());
            assertClose("latents", factored.lastHiddenState(), direct.lastHiddenState());
            for (Map.Entry<String, Tensor> e : direct.logits().entrySet())
                assertClose("logits " + e.getKey(), factored.logits().get(e.getKey()), e.getValue());
        }
    }

    /**
     * Without attention probabilities to return, a pass takes the tokens a block at a time; blocks of 20 tokens,
     * which cut across the multimodal input's three segments, give what the direct computation gives.
     */
    @ParameterizedTest
    @ValueSource(strings = {"fourier", "learned", "conv", "multimodal"})
    void blocksOfTokensGiveWhatTheDirectComputationGives(String head) {
        PerceiverConfig c = config(head);
        try (Arena arena = Arena.ofShared()) {
            PerceiverOutput blocks, direct;
            Perceiver.Options small = Perceiver.Options.DEFAULT.withKeyBlockFloats(20L * (24 + 64));
            try (Perceiver m = Perceiver.random(c, new CpuBackend(Kernels.best(), new ThreadPool(2)), true, small)) {
                PerceiverInputs in = inputs(m.head(), c, arena);
                blocks = m.forward(in);
                assertThat(m.factoredCrossAttentionPasses()).isEqualTo(1);
                assertThat(m.encoderKeyBlocks()).as("token blocks of 2 items of 97 to 1600 tokens").isGreaterThanOrEqualTo(2L * 5);
                direct = run(c, false, false, arena);
            }
            assertClose("latents", blocks.lastHiddenState(), direct.lastHiddenState());
            for (Map.Entry<String, Tensor> e : direct.logits().entrySet())
                assertClose("logits " + e.getKey(), blocks.logits().get(e.getKey()), e.getValue());
        }
    }

    /**
     * The tables of the head's sample layout (224x224 images for the Fourier model) are built at load: a pass of that
     * size builds none, a pass of another size builds its own.
     */
    @Test
    void theSampleLayoutsTablesAreBuiltAtLoad() {
        PerceiverConfig c = config("fourier");
        try (Arena arena = Arena.ofShared();
             Perceiver m = Perceiver.random(c, new CpuBackend(Kernels.best(), new ThreadPool(2)), true)) {
            assertThat(m.factoredTableBuilds()).isEqualTo(1);
            m.forward(SampleInputs.of(m.head(), c, 1, arena, 3));
            assertThat(m.factoredCrossAttentionPasses()).isEqualTo(1);
            assertThat(m.factoredTableBuilds()).isEqualTo(1);
            m.forward(inputs(m.head(), c, arena));
            assertThat(m.factoredCrossAttentionPasses()).isEqualTo(2);
            assertThat(m.factoredTableBuilds()).isEqualTo(2);
        }
    }

    /**
     * An optical-flow model of 1,024 latents over a full 368 x 496 frame pair: heads·queries·tokens is 187M, past the
     * precomputed-score budget, but the tokens lie on a Fourier grid whose fixed scores are per-axis tables, so the
     * cross-attention runs factored (in blocks that cut the grid's lines) and gives the direct logits.
     */
    @Test
    void aGridPastTheTableBudgetRunsFactored() {
        PerceiverConfig c = PerceiverConfig.fromJson("{\"architectures\": [\"PerceiverForOpticalFlow\"],"
                + " \"num_latents\": 1024, \"d_latents\": 32, \"num_blocks\": 1, \"num_self_attends_per_block\": 1,"
                + " \"num_self_attention_heads\": 2, \"num_cross_attention_heads\": 1, \"train_size\": [368, 496]}");
        assertThat((long) c.numLatents() * 368 * 496).isGreaterThan(FactoredCrossAttention.MAX_PRECOMPUTED_SCORES);
        try (Arena arena = Arena.ofShared()) {
            PerceiverOutput[] out = new PerceiverOutput[2];
            for (boolean factored : new boolean[] {true, false}) {
                Perceiver.Options options = Perceiver.Options.DEFAULT.withFactoredCrossAttention(factored);
                try (Perceiver m = Perceiver.random(c, new CpuBackend(Kernels.best(), new ThreadPool(2)), true,
                        options)) {
                    out[factored ? 0 : 1] = m.forward(SampleInputs.of(m.head(), c, 1, arena, 9));
                    assertThat(m.factoredCrossAttentionPasses()).isEqualTo(factored ? 1 : 0);
                    assertThat(m.encoderKeyBlocks()).as("token blocks").isGreaterThan(1);
                }
            }
            assertClose("latents", out[0].lastHiddenState(), out[1].lastHiddenState());
            // The project's bar for the flow: a random model's flow is ~3e-4, of which rounding alone makes ~1e-5.
            GoldenCase.Agreement flow = GoldenCase.compare("logits", out[0].logitsTensor(), out[1].logitsTensor());
            assertThat(flow.relative()).as(flow.toString()).isLessThan(1e-4);
            assertThat(flow.maxWant()).as("flow not all zero").isGreaterThan(0);
        }
    }

    private static void assertClose(String what, Tensor got, Tensor want) {
        GoldenCase.Agreement a = GoldenCase.compare(what, got, want);
        assertThat(a.relative()).as(a.toString()).isLessThan(2e-6);
    }
}
