package dev.perceiver.cli;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Without the Vector API module (a JVM started without --add-modules jdk.incubator.vector) the tool still runs, on
 * the scalar kernels, and says so once, with the fix.
 */
class ScalarFallbackTest {

    @Test
    void runsOnTheScalarKernelsAndWarnsOnceWithoutTheVectorModule() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path model = Path.of(System.getProperty("perceiver.testdata", "../testdata"), "golden", "image_learned");
        Process p = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                "dev.perceiver.cli.Main", "info", "--model", model.toString()))
                .redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(err).isZero();
        assertThat(out).contains("PerceiverForImageClassificationLearned").contains("GFLOP");
        assertThat(err.lines().filter(l -> l.contains("scalar fallback")).toList()).as(err).singleElement()
                .asString().contains("--add-modules jdk.incubator.vector");
    }
}
