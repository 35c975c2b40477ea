package dev.perceiver.model;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.Checkpoints;
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
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One-head cross-attentions with projections folded away where that costs less: a decoder with many queries (optical
 * flow's, one query per pixel) folds its query and output projections into the keys and values
 * ({@link PerceiverLayer#foldingPays}); an encoder whose queries are constant over a long input folds its key
 * projection into the queries and runs its value projection after the attention ({@link PerceiverLayer#keyFoldingPays}).
 * Each must agree with the reference and with the direct computation; the trace shows which form ran by the
 * attention's widths (the folded side's channels instead of the reference's qk_channels).
 */
class FoldedProjectionsTest {
    private static final String DECODER = "perceiver.decoder.decoder.decoding_cross_attention",
            ENCODER = "perceiver.encoder.cross_attention";

    /** The key widths of the attention kernel spans inside a layer's span, from a traced pass. */
    private static List<Object> attentionWidths(PerceiverOutput traced, String layer) {
        List<TraceEvent> events = traced.trace();
        TraceEvent span = events.stream().filter(e -> e.name().equals(layer)).findFirst().orElseThrow();
        return events.stream().filter(e -> e.name().equals("attention")
                        && e.startNanos() >= span.startNanos()
                        && e.startNanos() + e.durationNanos() <= span.startNanos() + span.durationNanos())
                .map(e -> e.args().get("qk_channels")).distinct().toList();
    }

    @Test
    void theFlowDecoderFoldedAgreesWithTheReference() {
        GoldenCase golden = GoldenCase.of("optical_flow");
        PerceiverConfig c = golden.config();
        try (Perceiver model = Perceiver.create(c, Checkpoints.open(golden.dir()),
                new CpuBackend(Kernels.best(), new ThreadPool(2)), true); Checkpoint want = golden.golden();
             Arena arena = Arena.ofConfined()) {
            PerceiverOutput out = model.forward(golden.inputs(0, arena), Perceiver.Extra.TRACE);
            GoldenCase.Agreement a = GoldenCase.compare("logits", out.logitsTensor(), want.floats("logits", arena));
            System.out.println("optical_flow folded decoder: " + a);
            assertThat(a.ok()).as(a.toString()).isTrue();
            assertThat(attentionWidths(out, DECODER)).as("folded: keys as wide as the queries").containsExactly(322);
        }
    }

    /** 12 latents of 32: folding pays from about 18 queries an item on; 4 x 4 has 16, 16 x 24 has 384. */
    @ParameterizedTest
    @CsvSource({"16, 24, 322", "4, 4, 32"})
    void foldedOrDirectAsTheCostSaysAndTheSameFlowEitherWay(int height, int width, int decoderKeyWidth) {
        PerceiverConfig config = PerceiverConfig.fromJson("{\"architectures\": [\"PerceiverForOpticalFlow\"],"
                + " \"num_latents\": 12, \"d_latents\": 32, \"num_blocks\": 1, \"num_self_attends_per_block\": 1,"
                + " \"num_self_attention_heads\": 2, \"num_cross_attention_heads\": 1,"
                + " \"train_size\": [" + height + ", " + width + "]}");
        assertFoldedGivesTheDirectLogits(config, Head.OPTICAL_FLOW, DECODER, decoderKeyWidth, 32,
                Perceiver.Options.DEFAULT_KEY_BLOCK_FLOATS);
    }

    /**
     * The sequence-classification golden's encoder (16 latents over 24 tokens of 48 channels, qk and v 48: folding pays
     * from 17 tokens on), in key blocks of 480 floats: 5 tokens a block either way (folded, LN(x) as keys and as
     * values), 2 items.
     */
    @ParameterizedTest
    @CsvSource({"true, 10", "false, 10"})
    void theTextEncoderInKeyBlocksFoldedOrDirectAgreesWithTheReference(boolean factored, int blocks) {
        GoldenCase golden = GoldenCase.of("sequence_classification");
        try (Perceiver model = Perceiver.create(golden.config(), Checkpoints.open(golden.dir()),
                new CpuBackend(Kernels.best(), new ThreadPool(2)), true,
                Perceiver.Options.DEFAULT.withFactoredCrossAttention(factored).withKeyBlockFloats(480));
             Checkpoint want = golden.golden(); Arena arena = Arena.ofConfined()) {
            PerceiverOutput out = model.forward(golden.inputs(0, arena));
            GoldenCase.Agreement a = GoldenCase.compare("logits", out.logitsTensor(), want.floats("logits", arena));
            System.out.println("sequence_classification encoder in key blocks, factored " + factored + ": " + a);
            assertThat(a.ok()).as(a.toString()).isTrue();
            assertThat(model.encoderKeyBlocks()).as("key blocks").isEqualTo(blocks);
        }
    }

    /**
     * A masked LM over 128 tokens of 48 channels with qk 16 and v 32, in one piece and in key blocks of 1,000 floats:
     * folded, the encoder's keys are 48 wide, direct 16.
     */
    @ParameterizedTest
    @ValueSource(longs = {Perceiver.Options.DEFAULT_KEY_BLOCK_FLOATS, 1000})
    void theTextEncoderFoldedGivesTheLogitsOfTheDirectOne(long keyBlockFloats) {
        PerceiverConfig config = PerceiverConfig.fromJson("{\"architectures\": [\"PerceiverForMaskedLM\"],"
                + " \"num_latents\": 16, \"d_latents\": 32, \"d_model\": 48, \"qk_channels\": 16, \"v_channels\": 32,"
                + " \"num_blocks\": 1, \"num_self_attends_per_block\": 1, \"num_self_attention_heads\": 2,"
                + " \"num_cross_attention_heads\": 1, \"max_position_embeddings\": 128}");
        assertFoldedGivesTheDirectLogits(config, Head.MASKED_LM, ENCODER, 48, 16, keyBlockFloats);
    }

    /**
     * The same random model and inputs with factoredCrossAttention on and off: layer's attention kernels as wide as
     * foldedWidth and directWidth, and the same logits.
     */
    private static void assertFoldedGivesTheDirectLogits(PerceiverConfig config, Head head, String layer,
                                                         int foldedWidth, int directWidth, long keyBlockFloats) {
        try (Arena arena = Arena.ofShared()) {
            PerceiverInputs in = SampleInputs.of(head, config, 2, arena, 5);
            Tensor[] logits = new Tensor[2];
            for (boolean factored : new boolean[] {true, false}) {
                Perceiver.Options options = Perceiver.Options.DEFAULT.withFactoredCrossAttention(factored)
                        .withKeyBlockFloats(keyBlockFloats);
                try (Perceiver m = Perceiver.random(config, new CpuBackend(Kernels.best(), new ThreadPool(2)), true,
                        options)) {
                    PerceiverOutput out = m.forward(in, Perceiver.Extra.TRACE);
                    assertThat(attentionWidths(out, layer)).as("factored %s", factored)
                            .containsExactly(factored ? foldedWidth : directWidth);
                    logits[factored ? 0 : 1] = out.logitsTensor();
                }
            }
            GoldenCase.Agreement a = GoldenCase.compare("logits", logits[0], logits[1]);
            // The project's bar: the 4 x 4 flow's logits are ~2e-4, of which float rounding alone makes ~1e-5.
            assertThat(a.relative()).as(a.toString()).isLessThan(1e-4);
            assertThat(a.maxWant()).as("logits not all zero").isGreaterThan(0);
        }
    }
}
