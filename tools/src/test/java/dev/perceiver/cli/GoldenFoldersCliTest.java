package dev.perceiver.cli;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every model folder in testdata/golden loads through each command that takes any model folder (info, run; bench on
 * sequence_classification),
 * as users load it: the weights' format told by Checkpoints. The task commands are tested per head in their own
 * tests (sequence_classification, whose header length 0x2380 begins with a pickle's 0x80, by classify-text).
 */
class GoldenFoldersCliTest {
    @TempDir
    Path tmp;

    static Stream<String> models() throws Exception {
        try (Stream<Path> dirs = Files.list(Cli.GOLDEN)) {
            List<String> names = dirs.filter(d -> Files.exists(d.resolve("config.json")))
                    .map(d -> d.getFileName().toString()).sorted().toList();
            assertThat(names).contains("sequence_classification").hasSizeGreaterThanOrEqualTo(8);
            return names.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void loadsThroughInfoRunAndBench(String model) {
        String dir = Cli.golden(model);
        Cli.Result info = Cli.run("info", "--json", "--model", dir);
        assertThat(info.code()).as(info.err()).isZero();
        assertThat(info.out()).contains("\"weights_file\":\"model.safetensors\"");
        Path out = tmp.resolve("out.safetensors");
        Cli.Result run = Cli.run("run", "--quiet", "--model", dir, "--inputs", Cli.GOLDEN.resolve(model).resolve("golden.safetensors")
                .toString(), "--output", out.toString());
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(out).isNotEmptyFile();
        if (!model.equals("sequence_classification")) return; // bench on each would only repeat run, slowly
        Cli.Result bench = Cli.run("bench", "--quiet", "--json", "--runs", "1", "--warmup", "0", "--model", dir);
        assertThat(bench.code()).as(bench.err()).isZero();
    }
}
