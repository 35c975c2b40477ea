package dev.perceiver.loader;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of the safetensors reader: any bytes either open, and then every tensor reads, or end in a
 * CheckpointException naming the file. Seeds are small files cut from the golden checkpoints.
 */
class SafeTensorsFuzzTest {
    private static final Path FILE = TestFiles.scratchFile(".safetensors");

    @MethodSource("seeds")
    @FuzzTest
    void safetensors(byte[] bytes) {
        if (bytes == null) return;
        TestFiles.write(FILE, bytes);
        try (SafeTensorsFile f = SafeTensorsFile.open(FILE)) {
            Fuzzing.readEveryTensor(f);
        } catch (CheckpointException e) {
            if (!FILE.equals(e.file())) throw new AssertionError("refusal does not name the file: " + e.getMessage(), e);
        }
    }

    /** The first tensors of golden weights and inputs (integer, float, metadata), rewritten small. */
    static List<byte[]> seeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        Path tmp = Files.createTempDirectory("perceiver-seeds");
        for (String file : List.of("sequence_classification/model.safetensors", "masked_lm/golden.safetensors")) {
            try (SafeTensorsFile src = SafeTensorsFile.open(TestData.golden(file.split("/")[0]).resolve(file.split("/")[1]));
                 Arena arena = Arena.ofConfined()) {
                SafeTensorsWriter w = new SafeTensorsWriter();
                src.metadata().forEach(w::putMetadata);
                for (String name : src.names()) {
                    TensorInfo info = src.info(name);
                    if (info.byteLength() > 512) continue;
                    if (info.dtype().isFloatingPoint()) w.putFloats(name, src.floats(name, arena));
                    else w.putLongs(name, src.integers(name), info.shape());
                }
                Path out = tmp.resolve(seeds.size() + ".safetensors");
                w.write(out);
                seeds.add(Files.readAllBytes(out));
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            Path out = tmp.resolve("shapes.safetensors");
            new SafeTensorsWriter().putFloats("scalar", Tensor.of(arena, new float[] {1.5f}))
                    .putFloats("empty", Tensor.zeros(arena, 0, 3)).putLongs("ids", new long[] {4, 5}, 1, 2).write(out);
            seeds.add(Files.readAllBytes(out));
        }
        return seeds;
    }
}
