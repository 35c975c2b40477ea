package dev.perceiver.cli;

import dev.perceiver.loader.json.Json;
import org.junit.jupiter.api.Test;

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

        double peak = number(o, "fma_peak_gflops"), sgemm = number(o, "sgemm_1024_gflops");
        assertThat(peak).isGreaterThan(1);
        assertThat(sgemm).isPositive();
        assertThat(number(o, "sgemm_fraction_of_peak")).isCloseTo(sgemm / peak, within(1e-3));
        assertThat(number(o, "fraction_of_peak")).isCloseTo(number(o, "gflops") / peak, within(1e-3));
    }

    @Test
    void anOfficialNameBuildsThatConfigWithoutAFolder() {
        Cli.Result r = Cli.run("bench", "--model", "nonexistent-model", "--runs", "1");
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("nonexistent-model").contains("language-mlm");
    }

    @Test
    void refusesAZeroRunCount() {
        assertThat(Cli.failsWith(Main.USAGE, "bench", "--model", Cli.golden("masked_lm"), "--runs", "0"))
                .contains("--runs");
    }
}
