package dev.perceiver.cli;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.DType;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.loader.SafeTensorsWriter;
import dev.perceiver.loader.TestFiles;
import dev.perceiver.runtime.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * perceiver run on hostile files: a defined result (NaN inputs give their item NaN outputs), or one line naming the
 * problem with the exit code of its kind, 4 for the inputs file, 3 for the model, without trying to allocate what
 * a header or shape claims.
 */
class RunHostileInputsTest {
    private static final String MODEL = Cli.golden("image_fourier");

    @TempDir
    Path tmp;

    private String run(Path inputs) {
        return Cli.failsWith(Main.BAD_INPUT, "run", "--model", MODEL, "--inputs", inputs.toString(),
                "--output", tmp.resolve("out.safetensors").toString(), "--threads", "2");
    }

    @Test
    void aNanPixelGivesItsItemNanLogitsAndTheOtherItemNumbers() throws IOException {
        Path in = tmp.resolve("nan.safetensors"), out = tmp.resolve("out.safetensors");
        try (Checkpoint golden = SafeTensorsFile.open(Cli.GOLDEN.resolve("image_fourier/golden.safetensors"));
             Arena arena = Arena.ofConfined()) {
            Tensor x = golden.floats("inputs", arena).copy(arena);
            x.set(Float.NaN, 0, 2, 5, 5);
            new SafeTensorsWriter().putFloats("inputs", x).write(in);
        }
        Cli.Result r = Cli.run("run", "--model", MODEL, "--inputs", in.toString(), "--output", out.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isEqualTo(Main.OK);
        try (Checkpoint written = SafeTensorsFile.open(out); Arena arena = Arena.ofConfined()) {
            Tensor logits = written.floats("logits", arena);
            assertThat(logits.slice(0, 0, 1).toArray()).containsOnly(Float.NaN);
            for (float v : logits.slice(0, 1, 2).toArray()) assertThat(v).isFinite();
        }
    }

    @Test
    void anEmptyBatchIsABadInput() throws IOException {
        Path in = tmp.resolve("empty.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            new SafeTensorsWriter().putFloats("inputs", Tensor.zeros(arena, 0, 3, 16, 16)).write(in);
        }
        assertThat(run(in)).contains("inputs has shape [0, 3, 16, 16]: an empty batch or a dimension of size 0");
    }

    @Test
    void anAbsurdInputShapeIsRefusedBeforeAnyWork() throws IOException {
        Path in = TestFiles.sparseSafeTensors(tmp.resolve("huge.safetensors"), "inputs", DType.F32, 1, 3, 30_000, 30_000);
        long start = System.nanoTime();
        assertThat(run(in)).contains("inputs has shape [1, 3, 30000, 30000]: more than 2147483647 elements");
        assertThat((System.nanoTime() - start) / 1e9).as("seconds to refuse").isLessThan(30);
    }

    @Test
    void aDimensionBeyondIntInAnEmptyTensorIsABadInput() throws IOException {
        // Zero elements, so a valid file of a few bytes; its shape still cannot become a tensor.
        for (DType type : new DType[] {DType.F32, DType.I64}) {
            Path in = TestFiles.sparseSafeTensors(tmp.resolve(type + ".safetensors"), "inputs", type, 1L << 32, 0);
            assertThat(run(in)).as(type.toString()).contains("inputs").contains("4294967296");
        }
    }

    @Test
    void aHeaderClaimingATerabyteIsABadInputOrABadModel() throws IOException {
        Path in = TestFiles.truncatedSafeTensors(tmp.resolve("tera.safetensors"), "inputs", DType.F32, 1L << 38);
        assertThat(run(in)).contains("tera.safetensors").contains("(truncated?)");

        Path model = Cli.copyModel("image_fourier", tmp.resolve("tera-model"));
        TestFiles.truncatedSafeTensors(model.resolve(Checkpoints.SAFETENSORS), "perceiver.embeddings.latents", DType.F32,
                1L << 38);
        Path inputs = Cli.GOLDEN.resolve("image_fourier/golden.safetensors");
        assertThat(Cli.failsWith(Main.BAD_MODEL, "run", "--model", model.toString(), "--inputs", inputs.toString(),
                "--output", tmp.resolve("o.safetensors").toString())).contains(Checkpoints.SAFETENSORS).contains("(truncated?)");
    }

    @Test
    void aConfigWithAbsurdSizesIsABadModel() throws IOException {
        Path inputs = Cli.GOLDEN.resolve("image_fourier/golden.safetensors");
        String config = Files.readString(Cli.GOLDEN.resolve("image_fourier/config.json"));
        for (String[] edit : new String[][] {{"\"num_latents\": 16", "\"num_latents\": 2147483647", "[2147483647, 32]"},
                {"\"d_latents\": 32", "\"d_latents\": 1e400", "beyond the range"}}) {
            assertThat(config).contains(edit[0]);
            Path model = Cli.copyModel("image_fourier", tmp.resolve("m" + Arrays.hashCode(edit)), Checkpoints.SAFETENSORS);
            Files.writeString(model.resolve("config.json"), config.replace(edit[0], edit[1]));
            assertThat(Cli.failsWith(Main.BAD_MODEL, "run", "--model", model.toString(), "--inputs", inputs.toString(),
                    "--output", tmp.resolve("o.safetensors").toString())).as(edit[1]).contains(edit[2]);
        }
    }
}
