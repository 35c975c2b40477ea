package dev.perceiver.cli;

import dev.perceiver.loader.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Many inputs in one run: a bad one costs only its own result; the closing line; --fail-fast; stdin and folders. */
class BatchRunsTest {
    private static final String CLOSING = "[0-9]+ images in [0-9.]+ s \\([0-9.]+/s\\), ";

    @TempDir
    Path tmp;

    /** A folder of 5 images, the third unreadable, in batches of 4: the bad one shares its batch with 3 good ones. */
    private Path folderWithOneBadImage() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("images"));
        String[] good = {"image4_48x64.png", "image2_224x224.png", "image1_300x500.png", "image3_999x257.png"};
        Files.copy(Cli.INPUTS.resolve(good[0]), dir.resolve("a.png"));
        Files.copy(Cli.INPUTS.resolve(good[1]), dir.resolve("b.png"));
        Files.writeString(dir.resolve("c.png"), "not an image");
        Files.copy(Cli.INPUTS.resolve(good[2]), dir.resolve("d.png"));
        Files.copy(Cli.INPUTS.resolve(good[3]), dir.resolve("e.png"));
        return dir;
    }

    @Test
    void aBadImageCostsOnlyItsOwnResult() throws IOException {
        Path dir = folderWithOneBadImage();
        Cli.Result r = Cli.run("classify", "--model", Cli.golden("image_learned"), "--json", "--batch", "4", "--top-k", "2",
                dir.toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        List<Map<?, ?>> lines = r.outLines().stream().<Map<?, ?>>map(l -> (Map<?, ?>) Json.parse(l)).toList();
        assertThat(lines.stream().<Object>map(l -> l.get("file")).toList()).containsExactly(dir.resolve("a.png").toString(),
                dir.resolve("b.png").toString(), dir.resolve("c.png").toString(), dir.resolve("d.png").toString(),
                dir.resolve("e.png").toString());
        assertThat(List.<Object>copyOf(lines.get(2).keySet())).containsExactly("file", "error");
        assertThat((String) lines.get(2).get("error")).contains("not a PNG, JPEG, BMP or GIF image");
        for (int i : new int[] {0, 1, 3, 4}) assertThat((List<?>) lines.get(i).get("top")).hasSize(2);
        assertThat(r.errLines()).singleElement().asString().matches(CLOSING + "1 error");
        assertThat(r.err()).startsWith("5 images in ");

        // Each good image's result is the one it gets alone.
        Cli.Result alone = Cli.run("classify", "--model", Cli.golden("image_learned"), "--json", "--top-k", "2",
                dir.resolve("d.png").toString());
        assertThat(alone.code()).isZero();
        assertThat(alone.errLines()).singleElement().asString().matches(CLOSING + "0 errors");
        Map<?, ?> d = (Map<?, ?>) Json.parse(alone.outLines().getFirst());
        List<?> want = (List<?>) d.get("top"), got = (List<?>) lines.get(3).get("top");
        for (int k = 0; k < 2; k++) {
            assertThat(((Map<?, ?>) got.get(k)).get("index")).isEqualTo(((Map<?, ?>) want.get(k)).get("index"));
            assertThat((Double) ((Map<?, ?>) got.get(k)).get("logit"))
                    .isCloseTo((Double) ((Map<?, ?>) want.get(k)).get("logit"), org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void textModeWritesTheErrorOnStderrAndFailFastStopsAtTheFirst() throws IOException {
        Path dir = folderWithOneBadImage();
        Cli.Result text = Cli.run("classify", "--model", Cli.golden("image_learned"), "--top-k", "1", dir.toString());
        assertThat(text.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(text.outLines()).hasSize(8).doesNotContain(dir.resolve("c.png").toString());
        assertThat(text.errLines()).hasSize(2);
        assertThat(text.errLines().getFirst()).startsWith("perceiver classify: " + dir.resolve("c.png") + ": ")
                .contains("not a PNG, JPEG, BMP or GIF image");
        assertThat(text.errLines().getLast()).matches(CLOSING + "1 error");

        Cli.Result fast = Cli.run("classify", "--model", Cli.golden("image_learned"), "--batch", "1", "--fail-fast",
                dir.toString());
        assertThat(fast.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(fast.out()).contains(dir.resolve("b.png").toString()).doesNotContain(dir.resolve("d.png").toString());
        assertThat(fast.errLines()).singleElement().asString().startsWith("perceiver classify: " + dir.resolve("c.png") + ": ")
                .endsWith("(--fail-fast)");
    }

    @Test
    void pathsFromStdinAndFoldersRecursively() throws IOException {
        Path dir = folderWithOneBadImage();
        Files.delete(dir.resolve("c.png"));
        Path sub = Files.createDirectories(dir.resolve("sub"));
        Files.copy(Cli.INPUTS.resolve("image4_48x64.png"), sub.resolve("f.png"));
        String missing = tmp.resolve("missing.png").toString();
        byte[] stdin = (dir.resolve("a.png") + "\n\n" + missing + "\r\n" + sub.resolve("f.png") + "\n").getBytes(StandardCharsets.UTF_8);
        Cli.Result r = Cli.runWithStdin(stdin, "classify", "--model", Cli.golden("image_learned"), "--json", "-");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.outLines().stream().<Object>map(l -> ((Map<?, ?>) Json.parse(l)).get("file")).toList())
                .containsExactly(dir.resolve("a.png").toString(), missing, sub.resolve("f.png").toString());
        assertThat(r.outLines().get(1)).isEqualTo("{\"file\":" + Json.write(missing) + ",\"error\":\"no such file\"}");

        Cli.Result flat = Cli.run("classify", "--model", Cli.golden("image_learned"), "--json", dir.toString());
        assertThat(flat.outLines()).hasSize(4);
        Cli.Result deep = Cli.run("classify", "--model", Cli.golden("image_learned"), "--json", "--recursive", dir.toString());
        assertThat(deep.code()).isZero();
        assertThat(deep.outLines()).hasSize(5);
        assertThat(deep.outLines().getLast()).contains(sub.resolve("f.png").toString());
        Cli.Result empty = Cli.run("classify", "--model", Cli.golden("image_learned"), Files.createDirectories(tmp.resolve("e")).toString());
        assertThat(empty.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(empty.errLines().getFirst()).endsWith("no PNG, JPEG, BMP or GIF images in this folder (--recursive also reads its subfolders)");
    }

    /** A reader that goes away after the first line (as | head -1 does) ends the run instead of running to the end. */
    @Test
    void aClosedStdoutStopsTheRun() {
        String image = Cli.input("image4_48x64.png");
        String[] argv = new String[] {"classify", "--model", Cli.golden("image_learned"), "--json", "--batch", "1",
                image, image, image, image, image, image};
        int[] lines = {0};
        OutputStream closedAfterOneLine = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                if (lines[0] >= 1) throw new IOException("Broken pipe");
                if (b == '\n') lines[0]++;
            }
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, System.in, new PrintStream(closedAfterOneLine, false, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).isEqualTo(Main.FAILED);
        assertThat(err.toString(StandardCharsets.UTF_8).strip())
                .isEqualTo("perceiver classify: stopped after 2 of 6 images: standard output was closed");
    }
}
