package dev.perceiver.cli;

import dev.perceiver.loader.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Each failure is one line on stderr that names what is wrong, with the exit code of its kind. */
class CommandErrorsTest {
    @TempDir
    Path tmp;

    @Test
    void missingImage() {
        String missing = tmp.resolve("nope.png").toString();
        Cli.Result r = Cli.run("classify", "--model", Cli.golden("image_learned"), missing);
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.out()).isEmpty();
        assertThat(r.errLines().getFirst()).isEqualTo("perceiver classify: " + missing + ": no such file");
        assertThat(r.errLines().getLast()).matches("1 images in [0-9.]+ s \\([0-9.]+/s\\), 1 error");
    }

    @Test
    void unreadableImage() throws Exception {
        Path bad = tmp.resolve("broken.png");
        Files.writeString(bad, "this is not a picture");
        assertThat(Cli.failsWith(Main.BAD_INPUT, "classify", "--fail-fast", "--model", Cli.golden("image_learned"),
                bad.toString())).contains(bad.toString()).contains("not a PNG, JPEG, BMP or GIF image");
    }

    @Test
    void wrongModelForTheTask() {
        assertThat(Cli.failsWith(Main.BAD_MODEL, "classify", "--model", Cli.golden("optical_flow"), Cli.input("image4_48x64.png")))
                .contains("is a PerceiverForOpticalFlow").contains("classify runs PerceiverForImageClassificationLearned")
                .contains("PerceiverForImageClassificationConvProcessing").contains("perceiver flow");
        assertThat(Cli.failsWith(Main.BAD_MODEL, "fill-mask", "--model", Cli.golden("image_conv"), "a[MASK]"))
                .contains("is a PerceiverForImageClassificationConvProcessing").contains("fill-mask runs PerceiverForMaskedLM");
    }

    @Test
    void malformedPytorchCheckpoint() throws Exception {
        Path dir = Cli.copyModel("masked_lm", tmp.resolve("m"));
        Files.write(dir.resolve(Checkpoints.PYTORCH), new byte[] {'P', 'K', 3, 4, 1, 2, 3});
        assertThat(Cli.failsWith(Main.BAD_MODEL, "convert", dir.toString())).contains(Checkpoints.PYTORCH);
        assertThat(Cli.failsWith(Main.BAD_MODEL, "fill-mask", "--model", dir.toString(), "a[MASK]")).contains(Checkpoints.PYTORCH);
    }

    @Test
    void badOptions() {
        assertThat(Cli.failsWith(Main.USAGE, "classify", "--model", Cli.golden("image_conv"), "--colour", "x.png"))
                .contains("unknown option --colour").contains("--top-k");
        assertThat(Cli.failsWith(Main.USAGE, "classify", "--model", Cli.golden("image_conv"), "--top-k", "many", "x.png"))
                .contains("--top-k takes a whole number, got 'many'");
        assertThat(Cli.failsWith(Main.USAGE, "flow", "--model", Cli.golden("optical_flow"), Cli.input("frame0_16x12.png"),
                Cli.input("frame1_16x12.png"), "--out", tmp.resolve("f.flo").toString(), "--overlap", "12"))
                .contains("--overlap must be less than the tile's shorter side, 12");
        assertThat(Cli.failsWith(Main.USAGE, "convert")).contains("give one model folder");
        assertThat(Cli.failsWith(Main.USAGE, "demo", "--testdata", tmp.toString())).contains(tmp + " has no golden/ folder");
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"demo", "classify", "fill-mask", "flow", "autoencode", "convert"}) {
            Cli.Result r = Cli.run(command, "--help");
            assertThat(r.code()).isZero();
            assertThat(r.out()).startsWith("Usage: perceiver " + command).contains("Options:");
            assertThat(Cli.run("--help").out()).contains("  " + command + " ");
        }
    }
}
