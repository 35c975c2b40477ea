package dev.perceiver.cli;

import dev.perceiver.model.Perceiver;
import dev.perceiver.ops.KernelChoice;
import dev.perceiver.runtime.GpuOptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model options on the command line become the library's {@link Perceiver.Options}, field by field. */
class ModelArgsTest {

    private static Perceiver.Options options(String... argv) {
        Args args = Args.parse(List.of(argv), Set.of(), ModelArgs.VALUED, new ByteArrayInputStream(new byte[0]),
                new PrintStream(OutputStream.nullOutputStream()));
        return ModelArgs.options(args);
    }

    @Test
    void defaultsAreTheLibrarysDefaults() {
        assertThat(options()).isEqualTo(Perceiver.Options.DEFAULT);
    }

    @Test
    void everyFlagSetsItsOption() {
        assertThat(options("--threads", "1", "--device", "cpu", "--kernels", "scalar", "--cuda-lib-dir", "/opt/cuda/lib",
                "--cuda-device", "1", "--cuda-tf32", "true"))
                .isEqualTo(new Perceiver.Options(1, "cpu").withKernels(KernelChoice.SCALAR)
                        .withGpu(new GpuOptions(Path.of("/opt/cuda/lib"), true, 1, true)));
        assertThat(options("--kernels", "vector").kernels()).isEqualTo(KernelChoice.VECTOR);
    }

    @Test
    void badValuesNameTheFlag() {
        assertThatThrownBy(() -> options("--kernels", "simd")).isInstanceOf(UsageException.class)
                .hasMessage("--kernels takes auto, vector or scalar, got 'simd'");
        assertThatThrownBy(() -> options("--cuda-tf32", "yes")).isInstanceOf(UsageException.class)
                .hasMessage("--cuda-tf32 takes true or false, got 'yes'");
        assertThatThrownBy(() -> options("--cuda-device", "-1")).isInstanceOf(UsageException.class)
                .hasMessage("--cuda-device must be at least 0, got -1");
    }
}
