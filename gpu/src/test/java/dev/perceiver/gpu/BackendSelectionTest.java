package dev.perceiver.gpu;

import dev.perceiver.ops.KernelChoice;
import dev.perceiver.runtime.Backend;
import dev.perceiver.runtime.Backends;
import dev.perceiver.runtime.DeviceMode;
import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.GpuUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The runtime's backend selection finds this module as a service and passes it the GPU options. */
class BackendSelectionTest {

    @Test
    void gpuOptionsAreUsedForDetection(@TempDir Path empty) {
        assertThatThrownBy(() -> Backends.create(DeviceMode.GPU, 1, KernelChoice.AUTO, GpuOptions.onlyIn(empty)))
                .isInstanceOf(GpuUnavailableException.class)
                .hasMessageStartingWith("no GPU can be used: libcudart not found; tried " + empty.resolve("libcudart.so.13"));
        try (Backend auto = Backends.create(DeviceMode.AUTO, 1, KernelChoice.SCALAR, GpuOptions.onlyIn(empty))) {
            assertThat(auto.name()).startsWith("cpu, ");
        }
    }

    @Test
    void aFoundGpuRunsTheProducts() {
        FakeCuda.reset();
        try (Backend gpu = Backends.create(DeviceMode.GPU, 1, KernelChoice.SCALAR, GpuOptions.onlyIn(FakeCuda.dir()))) {
            assertThat(gpu).isInstanceOf(GpuBackend.class);
            assertThat(gpu.name()).startsWith("gpu (").endsWith("host: 1 thread, scalar kernels");
        }
    }
}
