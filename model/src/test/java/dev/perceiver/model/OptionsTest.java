package dev.perceiver.model;

import dev.perceiver.ops.KernelChoice;
import dev.perceiver.runtime.GpuOptions;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Perceiver.Options: its defaults, its checks, and the kernels choice reaching the model's backend. */
class OptionsTest {

    @Test
    void defaults() {
        Perceiver.Options o = Perceiver.Options.DEFAULT;
        assertThat(o).isEqualTo(new Perceiver.Options(0, "auto", KernelChoice.AUTO, GpuOptions.defaults(), true, 4L << 20));
        assertThat(o.withThreads(3).withDevice("cpu").threads()).isEqualTo(3);
    }

    @Test
    void badValuesNameTheOption() {
        assertThatThrownBy(() -> Perceiver.Options.DEFAULT.withDevice("cuda")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("device must be cpu, gpu or auto, not 'cuda'");
        assertThatThrownBy(() -> Perceiver.Options.DEFAULT.withKeyBlockFloats(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("keyBlockFloats must be >= 1, not 0");
    }

    @Test
    void scalarKernelsAreWhatTheLoadedModelRunsOn() {
        Perceiver.Options scalar = new Perceiver.Options(1, "cpu").withKernels(KernelChoice.SCALAR);
        try (Perceiver m = Perceiver.load(GoldenCase.of("image_learned").dir(), scalar)) {
            assertThat(m.backend().name()).isEqualTo("cpu, 1 thread, scalar kernels");
        }
        try (Perceiver m = Perceiver.load(GoldenCase.of("image_learned").dir(), scalar.withKernels(KernelChoice.VECTOR))) {
            assertThat(m.backend().name()).startsWith("cpu, 1 thread, vector (");
        }
    }
}
