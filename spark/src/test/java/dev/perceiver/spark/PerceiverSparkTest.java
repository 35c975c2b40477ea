package dev.perceiver.spark;

import dev.perceiver.task.Prediction;
import dev.perceiver.loader.json.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The jobs ./perceiver-spark and spark-submit run, in this JVM's local[2] session. */
class PerceiverSparkTest {
    @TempDir
    static Path dir;
    static Path images;
    static List<Path> files;

    @BeforeAll
    static void setUp() throws IOException {
        SparkTests.spark();
        images = Files.createDirectory(dir.resolve("images"));
        files = new ArrayList<>(SparkTests.images(images, 6));
        // Extensions match in any case, as perceiver classify matches them.
        files.add(Files.copy(files.getFirst(), images.resolve("UPPER.PNG")));
        SparkTests.corrupt(images, files.getFirst());
        Files.writeString(images.resolve("notes.txt"), "not an image; the job skips it");
    }

    record Result(int code, String out, String err) {}

    static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = PerceiverSpark.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Every JSON line of the part files under out. */
    static List<Map<?, ?>> lines(Path out) throws IOException {
        assertThat(out.resolve("_SUCCESS")).exists();
        List<Map<?, ?>> lines = new ArrayList<>();
        try (Stream<Path> parts = Files.list(out)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-")).toList())
                for (String line : Files.readAllLines(part)) lines.add((Map<?, ?>) Json.parse(line));
        }
        return lines;
    }

    /** A JSON object's keys, in the order of the line. */
    static List<String> keys(Map<?, ?> object) {
        return object.keySet().stream().map(String::valueOf).toList();
    }

    @Test
    void classifyWritesOneJsonLinePerImage() throws IOException {
        Path out = dir.resolve("classified");
        Result r = run("classify", "--master", "local[2]", "--model", SparkTests.IMAGE_MODEL.toString(),
                "--out", out.toString(), "--top-k", "3", "--batch", "4", images.toString());

        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("perceiver-spark classify: 8 inputs, 1 errors");
        Map<String, Map<?, ?>> byFile = new HashMap<>();
        for (Map<?, ?> line : lines(out)) byFile.put((String) line.get("file"), line);
        assertThat(byFile).hasSize(8);
        Map<?, ?> bad = byFile.get(images.resolve("corrupt.png").toString());
        assertThat(keys(bad)).containsExactly("file", "error");
        assertThat((String) bad.get("error")).startsWith(images.resolve("corrupt.png") + ": cannot decode png");
        for (Path image : files) {
            Map<?, ?> line = byFile.get(image.toString());
            assertThat(keys(line)).containsExactly("file", "top");
            List<?> top = (List<?>) line.get("top");
            List<Prediction> want = SparkTests.expected(image, 3);
            assertThat(top).hasSize(3);
            for (int i = 0; i < 3; i++) {
                Map<?, ?> c = (Map<?, ?>) top.get(i);
                assertThat(keys(c)).containsExactly("index", "label", "logit", "score");
                assertThat(((Number) c.get("index")).intValue()).isEqualTo(want.get(i).index());
                assertThat(c.get("label")).isEqualTo(want.get(i).label());
                assertThat(((Number) c.get("logit")).doubleValue()).isCloseTo(want.get(i).logit(), within(1e-6));
                assertThat(((Number) c.get("score")).doubleValue()).isCloseTo(want.get(i).probability(), within(1e-6));
            }
        }
    }

    @Test
    void fillMaskReadsOneTextPerLine() throws IOException {
        Path text = Files.writeString(dir.resolve("texts.txt"), "hello [MASK][MASK]rld\nno mask here\n");
        Path out = dir.resolve("filled");
        Result r = run("fill-mask", "--model", SparkTests.GOLDEN.resolve("masked_lm").toString(), "--out",
                out.toString(), "--partitions", "2", text.toString());

        assertThat(r.code()).as(r.err()).isZero();
        Map<String, Map<?, ?>> byText = new HashMap<>();
        for (Map<?, ?> line : lines(out)) byText.put((String) line.get("text"), line);
        assertThat(byText.get("no mask here").get("error")).isEqualTo("the text has no [MASK] to fill in");
        Map<?, ?> good = byText.get("hello [MASK][MASK]rld");
        assertThat(keys(good)).containsExactly("text", "filled", "masks");
        List<?> masks = (List<?>) good.get("masks");
        assertThat(masks).extracting(m -> ((Number) ((Map<?, ?>) m).get("position")).intValue()).containsExactly(7, 8);
        assertThat((String) good.get("filled")).startsWith("hello ").endsWith("rld").hasSize("hello ..rld".length());
    }

    @Test
    void aMissingModelIsOneLineAndExitCode3() {
        Result r = run("classify", "--model", "/no/such/model", "--out", dir.resolve("never").toString(),
                images.toString());
        assertThat(r.code()).isEqualTo(PerceiverSpark.BAD_MODEL);
        assertThat(r.err().lines().toList()).singleElement().asString()
                .startsWith("perceiver-spark classify: model folder /no/such/model not found on ");
    }

    @Test
    void badUsageNamesTheProblem() {
        Result r = run("classify", "--model", "m", "--out", "o", "--top-k", "0", "in");
        assertThat(r.code()).isEqualTo(PerceiverSpark.USAGE);
        assertThat(r.err()).isEqualTo("perceiver-spark classify: --top-k must be at least 1, got 0 "
                + "(see 'perceiver-spark --help')\n");
        // The perceiver command's parser: its wording, and the options this command takes.
        assertThat(run("classify", "--overlap", "3", "in").err()).startsWith("perceiver-spark classify: unknown option "
                + "--overlap (this command takes --batch, --device, --master, --model, --out, --partitions, --top-k)");
        assertThat(run("flow", "--top-k", "3", "in").err()).startsWith("perceiver-spark flow: unknown option --top-k "
                + "(this command takes --batch, --device, --master, --model, --out, --overlap, --partitions)");
        assertThat(run("--help").out()).contains("Usage: perceiver-spark COMMAND");
    }
}
