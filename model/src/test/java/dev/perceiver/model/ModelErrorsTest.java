package dev.perceiver.model;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.loader.SafeTensorsWriter;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.LongTensor;
import dev.perceiver.runtime.Tensor;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad checkpoints and bad inputs fail before any compute, with messages that name what is wrong. */
class ModelErrorsTest {
    @TempDir
    Path tmp;

    /** Rewrites a golden model's weights, dropping or replacing tensors. */
    private Path rewritten(String caseName, Predicate<String> keep, String extraName, Tensor extra) {
        Path out = tmp.resolve(caseName + ".safetensors");
        try (var src = SafeTensorsFile.open(GoldenCase.of(caseName).dir().resolve("model.safetensors"));
             Arena arena = Arena.ofConfined()) {
            SafeTensorsWriter w = new SafeTensorsWriter();
            for (String n : src.names()) {
                if (!keep.test(n)) continue;
                if (src.info(n).dtype().isFloatingPoint()) w.putFloats(n, src.floats(n, arena));
                else w.putLongs(n, src.integers(n), src.info(n).shape());
            }
            if (extraName != null) w.putFloats(extraName, extra);
            w.write(out);
        }
        return out;
    }

    private static Perceiver load(PerceiverConfig config, Path weights) {
        return Perceiver.create(config, SafeTensorsFile.open(weights), new CpuBackend(Kernels.best(), new ThreadPool(1)), true);
    }

    @Test
    void aMissingTensorIsNamedWithItsExpectedShape() {
        String gone = "perceiver.encoder.self_attends.1.mlp.dense1.weight";
        Path w = rewritten("image_conv", n -> !n.equals(gone), null, null);
        assertThatThrownBy(() -> load(GoldenCase.of("image_conv").config(), w))
                .isInstanceOf(CheckpointException.class).hasMessageContaining(gone).hasMessageContaining("[32, 32]");
    }

    @Test
    void anUnexpectedTensorIsNamed() {
        try (Arena arena = Arena.ofConfined()) {
            Path w = rewritten("image_conv", n -> true, "perceiver.encoder.self_attends.7.layernorm.weight",
                    Tensor.zeros(arena, 32));
            assertThatThrownBy(() -> load(GoldenCase.of("image_conv").config(), w))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("self_attends.7.layernorm.weight");
        }
    }

    @Test
    void aShapeThatDisagreesWithTheConfigIsNamed() {
        String name = "perceiver.embeddings.latents";
        try (Arena arena = Arena.ofConfined()) {
            Path w = rewritten("image_fourier", n -> !n.equals(name), name, Tensor.zeros(arena, 17, 32));
            assertThatThrownBy(() -> load(GoldenCase.of("image_fourier").config(), w))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining(name)
                    .hasMessageContaining("[17, 32]").hasMessageContaining("[16, 32]");
        }
    }

    @Test
    void inputsOfTheWrongShapeAreRejectedWithTheExpectedShape() {
        try (Perceiver flow = GoldenCase.of("optical_flow").load(Kernels.best(), 1);
             Perceiver learned = GoldenCase.of("image_learned").load(Kernels.best(), 1);
             Perceiver lm = GoldenCase.of("masked_lm").load(Kernels.best(), 1);
             Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> flow.forward(PerceiverInputs.of(Tensor.zeros(arena, 1, 2, 27, 16, 12))))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("[batch, 2, 27, 12, 16]");
            assertThatThrownBy(() -> learned.forward(PerceiverInputs.of(Tensor.zeros(arena, 1, 3, 13, 12))))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("144");
            assertThatThrownBy(() -> learned.forward(PerceiverInputs.of(Tensor.zeros(arena, 1, 4, 12, 12))))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("4 channels");
            assertThatThrownBy(() -> learned.forward(PerceiverInputs.ofTokens(LongTensor.of(new long[] {1}, 1, 1))))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("float");
            assertThatThrownBy(() -> lm.forward(PerceiverInputs.ofTokens(LongTensor.of(new long[25], 1, 25))))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("at most 24");
            assertThatThrownBy(() -> lm.forward(PerceiverInputs.ofTokens(LongTensor.of(new long[] {4, 262}, 1, 2))))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("262");
            assertThatThrownBy(() -> lm.forward(PerceiverInputs.ofTokens(LongTensor.of(new long[] {4, 5}, 1, 2))
                    .attentionMask(Tensor.zeros(arena, 1, 3))))
                    .isInstanceOf(InvalidInputException.class).hasMessageContaining("attention_mask must be [1, 2]");
        }
    }

    @Test
    void aConfigForAnotherHeadIsRefusedByTheUnusedTensors() {
        PerceiverConfig conv = GoldenCase.of("image_conv").config();
        PerceiverConfig asFourier = PerceiverConfig.fromJson(
                "{\"architectures\": [\"PerceiverForImageClassificationFourier\"], \"d_latents\": 32, \"num_latents\": 16,"
                        + " \"num_blocks\": 2, \"num_self_attends_per_block\": 2, \"num_self_attention_heads\": 4,"
                        + " \"num_cross_attention_heads\": 1, \"id2label\": " + labels(conv.numLabels()) + "}");
        assertThatThrownBy(() -> load(asFourier, GoldenCase.of("image_conv").dir().resolve("model.safetensors")))
                .isInstanceOf(CheckpointException.class);
    }

    private static String labels(int n) {
        StringBuilder s = new StringBuilder("{");
        for (int i = 0; i < n; i++) s.append(i == 0 ? "" : ",").append('"').append(i).append("\": \"c").append(i).append('"');
        return s.append('}').toString();
    }
}
