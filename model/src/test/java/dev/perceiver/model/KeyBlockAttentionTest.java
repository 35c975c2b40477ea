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

    /** 24x32 = 768 keys of 322 + 322 floats: blocks of 10,000 / 644 = 15 keys, 52 per item, 2 items. */
    private static final long BLOCKS = 2 * 52;

    private static PerceiverOutput run(long keyBlockFloats, PerceiverInputs in, long blocks) {
        // the factored cross-attention never holds the keys, so only the direct path works in key blocks
        Perceiver.Options options = Perceiver.Options.DEFAULT.withFactoredCrossAttention(false)
                .withKeyBlockFloats(keyBlockFloats);
        try (Perceiver m = Perceiver.random(FLOW, new CpuBackend(Kernels.best(), new ThreadPool(2)), true, options)) {
            PerceiverOutput out = m.forward(in);
            assertThat(m.encoderKeyBlocks()).as("key blocks attended").isEqualTo(blocks);
            return out;
        }
    }

    @Test
    void blocksOfKeysGiveTheSameFlowAsAllKeysAtOnce() {
        try (Arena arena = Arena.ofShared()) {
            PerceiverInputs in = SampleInputs.of(Head.OPTICAL_FLOW, FLOW, 2, arena, 3);
            PerceiverOutput whole = run(Perceiver.Options.DEFAULT_KEY_BLOCK_FLOATS, in, 0), blocks = run(10_000, in, BLOCKS);
            for (Tensor[] pair : new Tensor[][] {{blocks.lastHiddenState(), whole.lastHiddenState()},
                    {blocks.logitsTensor(), whole.logitsTensor()}}) {
                GoldenCase.Agreement a = GoldenCase.compare("flow", pair[0], pair[1]);
                assertThat(a.relative()).as(a.toString()).isLessThan(1e-5);
            }
        }
    }
}
