package dev.perceiver.runtime;

import dev.perceiver.ops.KernelChoice;
import dev.perceiver.ops.Kernels;
import org.junit.jupiter.api.Test;

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

    /** The GPU backend is a module of its own; without it, auto runs on the CPU and gpu names what is missing. */
    @Test
    void withoutTheGpuModuleAutoRunsOnTheCpu() {
        assertThat(Backends.probeGpu(GpuOptions.defaults()).reason())
                .isEqualTo("the GPU backend is not installed (module dev.perceiver.gpu, artifact perceiver-gpu)");
        assertThatThrownBy(() -> Backends.create(DeviceMode.GPU, 1, KernelChoice.AUTO, GpuOptions.defaults()))
                .isInstanceOf(GpuUnavailableException.class)
                .hasMessage("no GPU can be used: the GPU backend is not installed (module dev.perceiver.gpu, artifact perceiver-gpu)");
        try (Backend auto = Backends.create(DeviceMode.AUTO, 1, KernelChoice.SCALAR, GpuOptions.defaults())) {
            assertThat(auto.name()).isEqualTo("cpu, 1 thread, scalar kernels");
        }
    }
}
