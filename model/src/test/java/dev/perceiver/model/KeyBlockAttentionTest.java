package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cross-attention over more keys than it holds at once (the flow encoder's 182,528 tokens) is computed a key block
 * at a time; with blocks of 15 keys it must give what the whole computation gives.
 */
class KeyBlockAttentionTest {
    private static final PerceiverConfig FLOW = PerceiverConfig.fromJson("{\"architectures\": [\"PerceiverForOpticalFlow\"],"
            + " \"num_latents\": 12, \"d_latents\": 32, \"num_blocks\": 1, \"num_self_attends_per_block\": 1,"
            + " \"num_self_attention_heads\": 2, \"num_cross_attention_heads\": 1, \"train_size\": [24, 32]}");

    private static PerceiverOutput run(String keyBlockFloats, PerceiverInputs in) {
        String before = System.getProperty("perceiver.keyBlockFloats");
        if (keyBlockFloats != null) System.setProperty("perceiver.keyBlockFloats", keyBlockFloats);
        try (Perceiver m = Perceiver.random(FLOW, new CpuBackend(Kernels.best(), new ThreadPool(2)), true)) {
            return m.forward(in);
        } finally {
            if (before == null) System.clearProperty("perceiver.keyBlockFloats");
            else System.setProperty("perceiver.keyBlockFloats", before);
        }
    }

    @Test
    void blocksOfKeysGiveTheSameFlowAsAllKeysAtOnce() {
        try (Arena arena = Arena.ofShared()) {
            PerceiverInputs in = SampleInputs.of(Head.OPTICAL_FLOW, FLOW, 2, arena, 3);
            PerceiverOutput whole = run(null, in), blocks = run("10000", in);
            for (Tensor[] pair : new Tensor[][] {{blocks.lastHiddenState(), whole.lastHiddenState()},
                    {blocks.logitsTensor(), whole.logitsTensor()}}) {
                GoldenCase.Agreement a = GoldenCase.compare("flow", pair[0], pair[1]);
                assertThat(a.relative()).as(a.toString()).isLessThan(1e-5);
            }
        }
    }
}
