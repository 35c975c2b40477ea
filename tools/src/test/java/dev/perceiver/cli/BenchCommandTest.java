package dev.perceiver.cli;

import dev.perceiver.loader.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BenchCommandTest {

    private static Map<?, ?> json(Cli.Result r) {
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.outLines();
        assertThat(lines).hasSize(1);
        return (Map<?, ?>) Json.parse(lines.get(0));
    }

    private static double number(Map<?, ?> o, String key) {
        assertThat(o.containsKey(key)).as(key).isTrue();
        return ((Number) o.get(key)).doubleValue();
    }

    @Test
    void reportsTimesFlopsStagesAndTheFractionOfTheMeasuredPeak() {
        String model = Cli.golden("masked_lm");
        double gflopPerForward = number(json(Cli.run("info", "--model", model, "--json")), "gflop_per_forward");

        Map<?, ?> o = json(Cli.run("bench", "--model", model, "--runs", "3", "--warmup", "1", "--batch", "2",
                "--threads", "2", "--peak", "--json"));
        assertThat(o.get("head")).isEqualTo("PerceiverForMaskedLM");
        assertThat(number(o, "runs")).isEqualTo(3);
        assertThat(number(o, "threads")).isEqualTo(2);
        double median = number(o, "median_s");
        assertThat(median).isPositive().isLessThanOrEqualTo(number(o, "p90_s"));
        assertThat(number(o, "min_s")).isLessThanOrEqualTo(median);
        assertThat(number(o, "gflop")).isCloseTo(2 * gflopPerForward, within(2e-4 * gflopPerForward + 1e-4));
        // the report rounds seconds to 1e-4: a tiny model's median carries that much relative error into the rates
        double rounding = 0.01 + 1e-4 / median;
        assertThat(number(o, "gflops")).isCloseTo(number(o, "gflop") / median, within(rounding * number(o, "gflops") + 1e-3));
        assertThat(number(o, "items_per_s")).isCloseTo(2 / median, within(rounding * number(o, "items_per_s") + 1e-3));
        assertThat(number(o, "peak_rss_mb")).isGreaterThan(10);
        assertThat(((Map<?, ?>) o.get("stages_s")).keySet().stream().map(Object::toString).toList()).containsExactlyInAnyOrder("preprocess", "encoder_cross_attention",
                "latent_blocks", "decoder", "postprocess");
        // The first pass's stages, apart: what a fresh JVM's first pass spends more on.
        Map<?, ?> firstStages = (Map<?, ?>) o.get("first_stages_s");
        assertThat(firstStages.keySet()).isEqualTo(((Map<?, ?>) o.get("stages_s")).keySet());
        assertThat(firstStages.values().stream().mapToDouble(v -> ((Number) v).doubleValue()).sum())
                .isPositive().isLessThanOrEqualTo(number(o, "first_s") + 5e-4);

        // Each timed pass's seconds (to the microsecond): the summary figures are theirs.
        List<Double> runs = ((List<?>) o.get("runs_s")).stream().map(v -> ((Number) v).doubleValue()).toList();
        assertThat(runs).hasSize(3);
        assertThat(runs.stream().mapToDouble(Double::doubleValue).min().orElseThrow()).isCloseTo(number(o, "min_s"), within(1e-4));
        assertThat(runs.stream().sorted().toList().get(1)).isCloseTo(median, within(1e-4));
        // What the figures depend on.
        assertThat((String) o.get("jdk")).startsWith(Runtime.version().toString());
        assertThat((String) o.get("cpu")).isNotBlank();
        String kernels = (String) o.get("kernels");
        int bits = (int) number(o, "vector_bits");
        assertThat(bits).isIn(64, 128, 256, 512, 1024, 2048);
        assertThat(kernels).isIn("scalar", "vector (" + bits + "-bit FloatVector, " + bits / 32 + " lanes, aligned)");
        assertThat(o.get("backend").toString()).contains(kernels);
        String commit = gitHead();
        if (commit != null) assertThat((String) o.get("git_commit")).matches(commit + "(-dirty)?");

        double peak = number(o, "fma_peak_gflops"), sgemm = number(o, "sgemm_1024_gflops");
        assertThat(peak).isGreaterThan(1);
        assertThat(sgemm).isPositive();
        // the report rounds each figure to 1e-4: relative error in the quotients
        assertThat(number(o, "sgemm_fraction_of_peak")).isCloseTo(sgemm / peak, within(1e-3 * (1 + sgemm / peak)));
        assertThat(number(o, "fraction_of_peak")).isCloseTo(number(o, "gflops") / peak,
                within(1e-3 * (1 + number(o, "gflops") / peak)));
    }

    /** The checkout's commit as git tells it, or null where the tests do not run in one. */
    private static String gitHead() {
        try {
            Process p = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 && out.matches("[0-9a-f]{40}") ? out : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    /** Text mode: "key  value" lines of plain numbers, stages indented under their heading, runs space-separated. */
    @Test
    void textModePrintsPlainNumbers() {
        Cli.Result r = Cli.run("bench", "--model", Cli.golden("masked_lm"), "--runs", "2", "--warmup", "0", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, String> lines = new java.util.LinkedHashMap<>();
        for (String line : r.outLines()) {
            String[] kv = line.strip().split("\\s+", 2);
            lines.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        assertThat(r.out()).doesNotContain("E-").doesNotContain("E+").doesNotContain("{").doesNotContain("[");
        assertThat(lines.get("stages_s")).isEmpty();
        assertThat(r.outLines()).contains("  preprocess               " + lines.get("preprocess"));
        for (String key : List.of("median_s", "p90_s", "min_s", "gflop", "gflops", "preprocess", "latent_blocks"))
            assertThat(lines.get(key)).as(key).matches("[0-9]+(\\.[0-9]+)?");
        String[] runs = lines.get("runs_s").split(" ");
        assertThat(runs).hasSize(2).allMatch(v -> v.matches("[0-9]+\\.[0-9]+"));
        assertThat(lines.get("kernels")).isNotBlank();
    }

    /**
     * --trace: a Chrome trace-event file of one more pass, as Perfetto reads it: complete events with microsecond
     * times, the stages inside the pass, each layer inside its stage (or latent block) on the same thread.
     */
    @Test
    void traceWritesAChromeTraceOfOnePass(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("pass.json");
        Map<?, ?> o = json(Cli.run("bench", "--model", Cli.golden("masked_lm"), "--runs", "1", "--warmup", "1",
                "--threads", "2", "--trace", file.toString(), "--json"));
        assertThat(o.get("trace")).isEqualTo(file.toString());
        Map<?, ?> trace = (Map<?, ?>) Json.parse(Files.readString(file));
        assertThat(((Map<?, ?>) trace.get("otherData")).get("head")).isEqualTo("PerceiverForMaskedLM");
        List<Map<?, ?>> events = ((List<?>) trace.get("traceEvents")).stream().<Map<?, ?>>map(e -> (Map<?, ?>) e).toList();
        List<Map<?, ?>> spans = events.stream().filter(e -> e.get("ph").equals("X")).toList();
        for (Map<?, ?> e : spans) {
            assertThat(e.keySet().stream().map(Object::toString).toList()).contains("name", "cat", "ts", "dur", "pid", "tid");
            assertThat(time(e, "ts")).as(e.toString()).isNotNegative();
            assertThat(time(e, "dur")).as(e.toString()).isNotNegative();
            assertThat(((Number) e.get("pid")).longValue()).isEqualTo(ProcessHandle.current().pid());
        }
        assertThat(events).anySatisfy(e -> {
            assertThat(e.get("ph")).isEqualTo("M");
            assertThat(e.get("name")).isEqualTo("thread_name");
        });
        Map<?, ?> pass = spans.stream().filter(e -> e.get("cat").equals("pass")).findFirst().orElseThrow();
        assertThat(time(pass, "ts")).isZero();
        List<String> stages = spans.stream().filter(e -> e.get("cat").equals("stage")).map(e -> (String) e.get("name")).toList();
        assertThat(stages).containsExactly("preprocess", "encoder_cross_attention", "latent_blocks", "decoder", "postprocess");
        for (Map<?, ?> stage : spans.stream().filter(e -> e.get("cat").equals("stage")).toList())
            assertThat(inside(stage, pass)).as(stage.toString()).isTrue();
        // masked_lm: 2 blocks of 2 self-attention layers, the cross-attention and the decoder's.
        List<Map<?, ?>> layers = spans.stream().filter(e -> e.get("cat").equals("layer")).toList();
        assertThat(layers.stream().map(e -> (String) e.get("name")).toList()).containsExactly("perceiver.encoder.cross_attention",
                "perceiver.encoder.self_attends.0", "perceiver.encoder.self_attends.1", "perceiver.encoder.self_attends.0",
                "perceiver.encoder.self_attends.1", "perceiver.decoder.decoding_cross_attention");
        Map<String, Map<?, ?>> stageByName = new java.util.HashMap<>();
        spans.stream().filter(e -> e.get("cat").equals("stage")).forEach(e -> stageByName.put((String) e.get("name"), e));
        assertThat(inside(layers.get(0), stageByName.get("encoder_cross_attention"))).isTrue();
        for (int i = 1; i <= 4; i++) assertThat(inside(layers.get(i), stageByName.get("latent_blocks"))).isTrue();
        assertThat(inside(layers.get(5), stageByName.get("decoder"))).isTrue();
        List<Map<?, ?>> kernels = spans.stream().filter(e -> e.get("cat").equals("kernel")).toList();
        assertThat(kernels.stream().map(e -> (String) e.get("name")).toList()).contains("linear", "layer_norm", "attention");
        for (Map<?, ?> k : kernels) assertThat(spans.stream().anyMatch(l -> l.get("cat").equals("layer") && inside(k, l))
                || spans.stream().anyMatch(s -> s.get("cat").equals("stage") && inside(k, s))).as(k.toString()).isTrue();
    }

    private static double time(Map<?, ?> event, String key) {
        return ((Number) event.get(key)).doubleValue();
    }

    /** inner's span lies within outer's, on the same thread. */
    private static boolean inside(Map<?, ?> inner, Map<?, ?> outer) {
        return inner.get("tid").equals(outer.get("tid")) && time(outer, "ts") <= time(inner, "ts")
                && time(inner, "ts") + time(inner, "dur") <= time(outer, "ts") + time(outer, "dur") + 1e-3;
    }

    @Test
    void traceFileErrorsComeBeforeAnyPass(@TempDir Path tmp) {
        assertThat(Cli.failsWith(Main.BAD_OUTPUT, "bench", "--model", Cli.golden("masked_lm"), "--trace",
                tmp.resolve("missing/t.json").toString())).contains("--trace " + tmp.resolve("missing/t.json") + ": parent folder does not exist");
        assertThat(Cli.failsWith(Main.USAGE, "bench", "--model", Cli.golden("masked_lm"), "--repeat", "2", "--trace",
                tmp.resolve("t.json").toString())).contains("--trace").contains("--repeat");
    }

    @Test
    void polluteRunsEveryGoldenModelFirstAndReportsItsTime() {
        String model = Cli.golden("masked_lm");
        String testdata = java.nio.file.Path.of(model).getParent().getParent().toString();
        Cli.Result r = Cli.run("bench", "--model", model, "--runs", "1", "--warmup", "0", "--threads", "1",
                "--pollute", "1", "--testdata", testdata, "--json");
        Map<?, ?> o = json(r);
        assertThat(number(o, "pollute_s")).isPositive();
        assertThat(number(o, "median_s")).isPositive();
        long goldenModels;
        try (var dirs = java.nio.file.Files.list(java.nio.file.Path.of(testdata, "golden"))) {
            goldenModels = dirs.filter(d -> java.nio.file.Files.exists(d.resolve("config.json"))).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(goldenModels).isGreaterThanOrEqualTo(7);
        assertThat(r.err()).contains("running the tiny models 1 times each first");
    }

    @Test
    void anOfficialNameBuildsThatConfigWithoutAFolder() {
        Cli.Result r = Cli.run("bench", "--model", "nonexistent-model", "--runs", "1");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("nonexistent-model").contains("language-mlm");
    }

    /**
     * --batch 1,3: the sizes take turns pass by pass; the top-level figures are the first size's, by_batch has each
     * size's, and the ratio is the last size's items per second over the first's.
     */
    @Test
    void severalBatchSizesAlternateAndReportEachAndTheirRatio() {
        Map<?, ?> o = json(Cli.run("bench", "--model", Cli.golden("masked_lm"), "--runs", "3", "--warmup", "1",
                "--batch", "1,3", "--threads", "2", "--json"));
        assertThat(number(o, "batch")).isEqualTo(1);
        Map<?, ?> byBatch = (Map<?, ?>) o.get("by_batch");
        assertThat(byBatch.keySet().stream().map(Object::toString).toList()).containsExactly("1", "3");
        Map<?, ?> one = (Map<?, ?>) byBatch.get("1"), three = (Map<?, ?>) byBatch.get("3");
        for (String key : List.of("median_s", "p90_s", "min_s", "gflop", "gflops", "items_per_s", "runs_s"))
            assertThat(one.get(key)).as(key).isEqualTo(o.get(key));
        assertThat((List<?>) three.get("runs_s")).hasSize(3);
        assertThat(number(three, "gflop")).isCloseTo(3 * number(one, "gflop"), within(3e-4 + 1e-4 * number(three, "gflop")));
        double median3 = number(three, "median_s");
        assertThat(number(three, "items_per_s")).isCloseTo(3 / median3, within((0.01 + 1e-4 / median3) * 3 / median3));
        double ratio = number(three, "items_per_s") / number(one, "items_per_s");
        assertThat(number(o, "items_per_s_ratio")).isCloseTo(ratio, within(0.02 * ratio + 2e-4));
    }

    @Test
    void refusesABatchListThatIsNotDistinctCountsOfAtLeastOne() {
        String model = Cli.golden("masked_lm");
        assertThat(Cli.failsWith(Main.USAGE, "bench", "--model", model, "--batch", "1,x"))
                .contains("--batch takes item counts separated by commas, got '1,x'");
        assertThat(Cli.failsWith(Main.USAGE, "bench", "--model", model, "--batch", "2,0")).contains("--batch sizes must be at least 1, got 0");
        assertThat(Cli.failsWith(Main.USAGE, "bench", "--model", model, "--batch", "8,8")).contains("--batch lists 8 twice");
    }

    /** --repeat: each fresh JVM's figures in run order, the spread between them, and each JVM's batch ratio. */
    @Test
    void repeatRunsFreshJvmsAndReportsTheirSpread() {
        Cli.Result r = Cli.run("bench", "--model", Cli.golden("masked_lm"), "--runs", "2", "--warmup", "1",
                "--threads", "1", "--batch", "1,2", "--repeat", "2", "--json");
        Map<?, ?> o = json(r);
        assertThat(r.err()).contains("fresh JVM 1 of 2").contains("fresh JVM 2 of 2");
        assertThat(number(o, "jvms")).isEqualTo(2);
        List<Double> medians = numbers(o, "median_s");
        assertThat(medians).hasSize(2).allMatch(v -> v > 0);
        assertThat(number(o, "best_median_s")).isEqualTo(medians.stream().mapToDouble(Double::doubleValue).min().orElseThrow());
        assertThat(number(o, "worst_median_s")).isEqualTo(medians.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
        assertThat(number(o, "spread")).isCloseTo(number(o, "worst_median_s") / number(o, "best_median_s"), within(1e-3));
        assertThat(numbers(o, "first_s")).hasSize(2).allMatch(v -> v > 0);
        assertThat(numbers(o, "items_per_s_ratio")).hasSize(2).allMatch(v -> v > 0);
        assertThat(numbers(o, "peak_rss_mb")).hasSize(2).allMatch(v -> v > 10);
    }

    private static List<Double> numbers(Map<?, ?> o, String key) {
        return ((List<?>) o.get(key)).stream().map(v -> ((Number) v).doubleValue()).toList();
    }

    @Test
    void refusesAZeroRunCount() {
        assertThat(Cli.failsWith(Main.USAGE, "bench", "--model", Cli.golden("masked_lm"), "--runs", "0"))
                .contains("--runs");
    }
}
