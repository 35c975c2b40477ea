package dev.perceiver.gpu;

import dev.perceiver.runtime.DeviceMode;
import dev.perceiver.runtime.GpuOptions;
import dev.perceiver.runtime.GpuUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** Detection and device selection where there is no CUDA: no GPU and no compiler needed. */
class GpuDetectionTest {

    @Test
    void detectionOnThisMachineNeverThrowsAndIsQuick() {
        long start = System.nanoTime();
        GpuDetection detection = GpuDevice.detect(GpuOptions.defaults());
        long millis = (System.nanoTime() - start) / 1_000_000;

        assumeFalse(detection.available(), () -> "this machine has a GPU: " + detection);
        assertThat(detection.device()).isEmpty();
        assertThat(detection.reason()).containsAnyOf("libcudart", "libcublas", "cuda");
        assertThat(millis).as("detection time in ms").isLessThan(5_000);
    }

    @Test
    void missingRuntimeIsNamedWithEveryPlaceTried(@TempDir Path empty) {
        GpuDetection detection = GpuDevice.detect(GpuOptions.onlyIn(empty));

        assertThat(detection.available()).isFalse();
        assertThat(detection.reason()).isEqualTo("libcudart not found; tried " + empty.resolve("libcudart.so.13") + ", "
                + empty.resolve("libcudart.so.12") + ", " + empty.resolve("libcudart.so.11") + ", "
                + empty.resolve("libcudart.so") + "; give the folder with the CUDA libraries in the GPU options "
                + "(--cuda-lib-dir) or CUDA_HOME");
        assertThat(detection).hasToString("no GPU: " + detection.reason());
    }

    @Test
    void runtimeWithoutCublasNamesCublas(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("libcudart.so.12"), "");

        assertThat(GpuDevice.detect(GpuOptions.onlyIn(dir)).reason())
                .startsWith("libcublas not found (only " + dir.resolve("libcudart.so.12") + "); tried "
                        + dir.resolve("libcublas.so.12") + ";");
    }

    @Test
    void forcedGpuWithoutOneIsAClearError(@TempDir Path empty) {
        assertThatThrownBy(() -> GpuDevice.select(DeviceMode.GPU, GpuOptions.onlyIn(empty)))
                .isInstanceOf(GpuUnavailableException.class)
                .hasMessageStartingWith("device gpu, but no GPU can be used: libcudart not found")
                .hasMessageEndingWith("Use device auto to fall back to the CPU.");
    }

    @Test
    void autoFallsBackAndCpuDoesNotLook(@TempDir Path dir) throws IOException {
        assertThat(GpuDevice.select(DeviceMode.AUTO, GpuOptions.onlyIn(dir)).reason()).startsWith("libcudart not found");

        Files.writeString(dir.resolve("libcudart.so.12"), "would fail to load if anything looked");
        Files.writeString(dir.resolve("libcublas.so.12"), "");
        assertThat(GpuDevice.select(DeviceMode.CPU, GpuOptions.onlyIn(dir)).reason())
                .isEqualTo("the CPU was chosen with device cpu");
    }

    @Test
    void orElseThrowCarriesTheReason(@TempDir Path empty) {
        assertThatThrownBy(() -> GpuDevice.detect(GpuOptions.onlyIn(empty)).orElseThrow())
                .isInstanceOf(GpuUnavailableException.class)
                .hasMessageStartingWith("no usable GPU: libcudart not found");
    }

    @Test
    void deviceModeParsing() {
        assertThat(DeviceMode.parse("cpu")).isEqualTo(DeviceMode.CPU);
        assertThat(DeviceMode.parse(" GPU ")).isEqualTo(DeviceMode.GPU);
        assertThat(DeviceMode.parse("auto")).isEqualTo(DeviceMode.AUTO);
        assertThatThrownBy(() -> DeviceMode.parse("cuda"))
                .hasMessage("device must be cpu, gpu or auto, not 'cuda'");
    }

    @Test
    void searchOrderIsLibraryDirThenCudaHomeThenCudaPath() {
        Map<String, String> env = Map.of("CUDA_HOME", "/opt/cuda", "CUDA_PATH", "/usr/local/cuda-12");
        GpuOptions options = new GpuOptions(Path.of("/libs"), true, 0, false);

        assertThat(CudaLibraries.folders(options, env::get)).containsExactly(Path.of("/libs"), Path.of("/opt/cuda/lib64"),
                Path.of("/opt/cuda/lib"), Path.of("/usr/local/cuda-12/lib64"), Path.of("/usr/local/cuda-12/lib"));
        assertThat(CudaLibraries.folders(GpuOptions.onlyIn(Path.of("/libs")), env::get)).containsExactly(Path.of("/libs"));
        assertThat(CudaLibraries.folders(GpuOptions.defaults(), name -> null)).isEmpty();
        assertThat(CudaLibraries.VERSIONS).isEqualTo(List.of(".so.13", ".so.12", ".so.11", ".so"));
    }

    @Test
    void aNegativeDeviceIsRefusedNamingTheOption() {
        assertThatThrownBy(() -> GpuOptions.defaults().withDevice(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("CUDA device must be >= 0, not -1");
    }

    @Test
    void defaultsAreExactFp32OnDeviceZeroAndEachOptionChangesOnlyItself() {
        GpuOptions options = GpuOptions.defaults();
        assertThat(options).isEqualTo(new GpuOptions(null, true, 0, false));
        assertThat(options.withLibraryDir(Path.of("/libs"))).isEqualTo(new GpuOptions(Path.of("/libs"), true, 0, false));
        assertThat(options.withDevice(2).withTf32(true)).isEqualTo(new GpuOptions(null, true, 2, true));
    }
}
