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

import java.lang.foreign.Arena;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A one-head decoder with many queries (optical flow's, one query per pixel) runs with its query and output projections
 * folded into the keys and values ({@link PerceiverLayer#foldingPays}): it must agree with the reference and with
 * the direct computation, and the trace shows which ran by the attention's widths (the queries' 322 channels folded,
 * the reference's qk_channels direct).
 */
class FoldedDecoderAttentionTest {
    private static final String DECODER = "perceiver.decoder.decoder.decoding_cross_attention";

    private static Perceiver flow(Checkpoint weights, PerceiverConfig config, boolean factored) {
        return Perceiver.create(config, weights, new CpuBackend(Kernels.best(), new ThreadPool(2)), true,
                Perceiver.Options.DEFAULT.withFactoredCrossAttention(factored));
    }

    /** The decoder's attention kernel spans' key widths, from a traced pass. */
    private static List<Object> decoderAttentionWidths(PerceiverOutput traced) {
        List<TraceEvent> events = traced.trace();
        TraceEvent decoder = events.stream().filter(e -> e.name().equals(DECODER)).findFirst().orElseThrow();
        return events.stream().filter(e -> e.name().equals("attention")
                        && e.startNanos() >= decoder.startNanos()
                        && e.startNanos() + e.durationNanos() <= decoder.startNanos() + decoder.durationNanos())
                .map(e -> e.args().get("qk_channels")).distinct().toList();
    }

    @Test
    void theFlowDecoderFoldedAgreesWithTheReference() {
        GoldenCase golden = GoldenCase.of("optical_flow");
        PerceiverConfig c = golden.config();
        try (Perceiver model = flow(Checkpoints.open(golden.dir()), c, true); Checkpoint want = golden.golden();
             Arena arena = Arena.ofConfined()) {
            PerceiverOutput out = model.forward(golden.inputs(0, arena), Perceiver.Extra.TRACE);
            GoldenCase.Agreement a = GoldenCase.compare("logits", out.logitsTensor(), want.floats("logits", arena));
            System.out.println("optical_flow folded decoder: " + a);
            assertThat(a.ok()).as(a.toString()).isTrue();
            assertThat(decoderAttentionWidths(out)).as("folded: keys as wide as the queries").containsExactly(322);
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
        try (Arena arena = Arena.ofShared()) {
            PerceiverInputs in = SampleInputs.of(Head.OPTICAL_FLOW, config, 2, arena, 5);
            Tensor[] logits = new Tensor[2];
            for (boolean factored : new boolean[] {true, false}) {
                try (Perceiver m = Perceiver.random(config, new CpuBackend(Kernels.best(), new ThreadPool(2)), true,
                        Perceiver.Options.DEFAULT.withFactoredCrossAttention(factored))) {
                    PerceiverOutput out = m.forward(in, Perceiver.Extra.TRACE);
                    assertThat(decoderAttentionWidths(out)).as("factored %s", factored)
                            .containsExactly(factored ? decoderKeyWidth : 32);
                    logits[factored ? 0 : 1] = out.logitsTensor();
                }
            }
            GoldenCase.Agreement a = GoldenCase.compare("flow", logits[0], logits[1]);
            assertThat(a.relative()).as(a.toString()).isLessThan(1e-5);
            assertThat(a.maxWant()).as("flow not all zero").isGreaterThan(0);
        }
    }
}
