package dev.perceiver.model;

import dev.perceiver.loader.PerceiverConfig;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.ops.Kernels;
import dev.perceiver.runtime.CpuBackend;
import dev.perceiver.runtime.ThreadPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Closing a model, idle after use, gives back what it held and ends its use with a clear error. */
class ModelLifecycleTest {
    private static final Path MAPS = Path.of("/proc/self/maps");

    @TempDir
    Path dir;

    @Test
    void closingAnIdleModelUnmapsItsWeightsAndLaterPassesFailClearly() throws IOException {
        assumeTrue(Files.isReadable(MAPS), "needs Linux's /proc/self/maps to see the mapping");
        GoldenCase c = GoldenCase.of("image_fourier");
        // A private copy, so no other model's mapping of the golden file can be counted.
        Path weights = Files.copy(c.dir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        try (Arena arena = Arena.ofConfined()) {
            PerceiverInputs in = c.inputs(0, arena);
            Perceiver model = Perceiver.create(PerceiverConfig.load(c.dir().resolve("config.json")),
                    SafeTensorsFile.open(weights), new CpuBackend(Kernels.best(), new ThreadPool(2)), true);
            model.forward(in);
            assertThat(mappings(weights)).as("mappings of the weights while the model is open").isPositive();
            assertThat(model.scratchBytes()).as("scratch kept for the next pass").isPositive();

            model.close();
            assertThat(mappings(weights)).as("mappings of the weights after close").isZero();
            assertThat(model.scratchBytes()).as("scratch after close").isZero();
            model.close();
            assertThatThrownBy(() -> model.forward(in)).isExactlyInstanceOf(IllegalStateException.class)
                    .hasMessage("model is closed");
        }
    }

    private static long mappings(Path file) throws IOException {
        String path = file.toRealPath().toString();
        try (var lines = Files.lines(MAPS)) {
            return lines.filter(l -> l.endsWith(path)).count();
        }
    }
}
