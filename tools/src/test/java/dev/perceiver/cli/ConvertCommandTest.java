package dev.perceiver.cli;

import dev.perceiver.loader.Checkpoint;
import dev.perceiver.loader.Checkpoints;
import dev.perceiver.loader.SafeTensorsFile;
import dev.perceiver.loader.TensorInfo;
import dev.perceiver.loader.TorchCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ConvertCommandTest {
    @TempDir
    Path tmp;

    /** Every tensor of the .bin comes out under its name, dtype, shape and values; the file loads as a model. */
    @ParameterizedTest
    @ValueSource(strings = {"image_learned", "masked_lm"})
    void roundTripsEveryTensor(String model) throws Exception {
        Path dir = Cli.copyModel(model, tmp.resolve(model), Checkpoints.PYTORCH);
        Cli.Result r = Cli.run("convert", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Path written = dir.resolve(Checkpoints.SAFETENSORS);
        assertThat(r.out()).startsWith("wrote " + written + ": ");
        try (Checkpoint bin = TorchCheckpoint.open(dir.resolve(Checkpoints.PYTORCH)); Checkpoint st = SafeTensorsFile.open(written);
             Arena arena = Arena.ofConfined()) {
            assertThat(st.names()).containsExactlyInAnyOrderElementsOf(bin.names());
            assertThat(st.metadata()).containsEntry("format", "pt");
            for (String name : bin.names()) {
                TensorInfo want = bin.info(name), got = st.info(name);
                assertThat(got.dtype()).as(name).isEqualTo(want.dtype());
                assertThat(got.shape()).as(name).containsExactly(want.shape());
                if (want.dtype().isFloatingPoint())
                    assertThat(st.floats(name, arena).toArray()).as(name).isEqualTo(bin.floats(name, arena).toArray());
                else assertThat(st.integers(name)).as(name).isEqualTo(bin.integers(name));
            }
        }
        assertThat(Cli.run("info", "--model", dir.toString()).out()).contains("weights      model.safetensors");
    }

    @Test
    void keepsAnExistingSafetensorsUnlessForced() throws Exception {
        Path dir = Cli.copyModel("masked_lm", tmp.resolve("m"), Checkpoints.PYTORCH);
        Files.writeString(dir.resolve(Checkpoints.SAFETENSORS), "keep me");
        Cli.Result refused = Cli.run("convert", dir.toString());
        assertThat(refused.code()).isEqualTo(Main.USAGE);
        assertThat(refused.errLines()).singleElement().asString().contains("model.safetensors already exists").contains("--force");
        assertThat(Files.readString(dir.resolve(Checkpoints.SAFETENSORS))).isEqualTo("keep me");
        assertThat(Cli.run("convert", "--force", dir.toString()).code()).isZero();
        assertThat(Files.size(dir.resolve(Checkpoints.SAFETENSORS))).isGreaterThan(250_000);
    }
}
