package dev.perceiver.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each kernel choice gives the kernels it names (the test JVM has the Vector API module and C2). */
class KernelSelectionTest {

    @Test
    void eachChoiceSelectsItsKernels() {
        assertThat(Kernels.select(KernelChoice.SCALAR).name()).isEqualTo("scalar");
        assertThat(Kernels.select(KernelChoice.VECTOR).name()).startsWith("vector (");
        assertThat(Kernels.select(KernelChoice.AUTO)).isSameAs(Kernels.best()).isSameAs(VectorKernels.INSTANCE);
    }

    @Test
    void parsesTheOptionAndNamesItWhenWrong() {
        assertThat(KernelChoice.parse(" Vector")).isEqualTo(KernelChoice.VECTOR);
        assertThat(KernelChoice.parse("scalar")).isEqualTo(KernelChoice.SCALAR);
        assertThat(KernelChoice.SCALAR.toString()).isEqualTo("scalar");
        assertThatThrownBy(() -> KernelChoice.parse("simd")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("kernels must be auto, vector or scalar, not 'simd'");
    }
}
