package dev.perceiver.runtime;

import dev.perceiver.ops.KernelChoice;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.gpu.DeviceMode;
import dev.perceiver.runtime.gpu.GpuOptions;
import dev.perceiver.runtime.gpu.GpuUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every argument of {@link Backends#create} shows in the backend it makes. */
class BackendsTest {

    @Test
    void kernelsAndThreadsAreTheOnesAskedFor() {
        try (Backend scalar = Backends.create(DeviceMode.CPU, 1, KernelChoice.SCALAR, GpuOptions.defaults());
             Backend vector = Backends.create(DeviceMode.CPU, 2, KernelChoice.VECTOR, GpuOptions.defaults())) {
            assertThat(scalar.name()).isEqualTo("cpu, 1 thread, scalar kernels");
            assertThat(scalar.kernels()).isSameAs(Kernels.scalar());
            assertThat(vector.name()).startsWith("cpu, 2 threads, vector (");
        }
    }

    @Test
    void gpuOptionsAreUsedForDetection(@TempDir Path empty) {
        assertThatThrownBy(() -> Backends.create(DeviceMode.GPU, 1, KernelChoice.AUTO, GpuOptions.onlyIn(empty)))
                .isInstanceOf(GpuUnavailableException.class)
                .hasMessageStartingWith("no GPU can be used: libcudart not found; tried " + empty.resolve("libcudart.so.13"));
        try (Backend auto = Backends.create(DeviceMode.AUTO, 1, KernelChoice.SCALAR, GpuOptions.onlyIn(empty))) {
            assertThat(auto.name()).startsWith("cpu, ");
        }
    }
}
