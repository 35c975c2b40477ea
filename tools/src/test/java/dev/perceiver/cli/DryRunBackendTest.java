package dev.perceiver.cli;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.model.Perceiver;
import dev.perceiver.model.PerceiverOutput;
import dev.perceiver.model.SampleInputs;
import dev.perceiver.ops.Activation;
import dev.perceiver.ops.Epilogue;
import dev.perceiver.ops.Kernels;
import dev.perceiver.ops.Matrix;
import dev.perceiver.ops.Parallel;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.Scratch;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;

import static org.assertj.core.api.Assertions.assertThat;

/** What perceiver info runs: a pass that counts what a real one does and computes none of it. */
class DryRunBackendTest {

    @ParameterizedTest
    @ValueSource(strings = {"image_conv", "optical_flow", "masked_lm", "multimodal", "image_fourier"})
    void countsARealPassWithoutComputingIt(String name) {
        ModelSource source = new ModelSource(name, Cli.GOLDEN.resolve(name));
        PerceiverConfig config = source.config();
        DryRunBackend dryRun = new DryRunBackend(Kernels.scalar());
        try (Arena arena = Arena.ofConfined();
             Perceiver dry = source.open(dryRun);
             Perceiver real = source.open(new CpuBackend(Kernels.scalar(), new ThreadPool(1)))) {
            PerceiverOutput d = dry.forward(SampleInputs.of(dry.head(), config, 1, arena, 0));
            PerceiverOutput r = real.forward(SampleInputs.of(real.head(), config, 1, arena, 0));
            assertThat(d.flops()).isPositive().isEqualTo(r.flops());
            assertThat(dry.scratchBytes()).isPositive().isLessThanOrEqualTo(real.scratchBytes());
            assertThat(dryRun.packedBytes()).isPositive();
        }
    }

    /** The kernels the model calls directly leave their outputs as they are. */
    @Test
    void kernelsLeaveTheirOutputsAlone() {
        Kernels dry = new DryRunBackend(Kernels.scalar()).kernels();
        try (Arena arena = Arena.ofConfined(); Scratch scratch = new Scratch()) {
            Matrix image = Matrix.of(arena.allocate(3 * 36 * Float.BYTES, 64), 0, 3, 36);
            for (int c = 0; c < 3; c++) for (int i = 0; i < 36; i++) image.set(c, i, c + i);
            Matrix weight = Matrix.of(arena.allocate(4 * 27 * Float.BYTES, 64), 0, 4, 27);
            for (int o = 0; o < 4; o++) for (int i = 0; i < 27; i++) weight.set(o, i, 1);
            Matrix out = Matrix.of(arena.allocate(4 * 4 * Float.BYTES, 64), 0, 4, 4);
            for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) out.set(r, c, -7);

            dry.conv2d(Parallel.SERIAL, image, 6, 6, dry.packTransposed(weight), 3, 3, 2, 0, 0, 0, 0, Epilogue.NONE, out, scratch);
            dry.layerNorm(Parallel.SERIAL, out, null, null, 1e-5f, out);
            dry.softmaxRows(Parallel.SERIAL, out, null);
            dry.activation(Parallel.SERIAL, out, Activation.GELU);
            for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) assertThat(out.get(r, c)).isEqualTo(-7);
        }
    }
}
