package dev.perceiver.cli;

import dev.perceiver.runtime.gpu.GpuDevice;
import dev.perceiver.runtime.gpu.GpuOptions;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The tool as its own process, where the behaviour is the process's: pipes, stderr noise. */
class ProcessTest {

    private static Process start(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "dev.perceiver.cli.Main"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).start();
    }

    /** As {@code perceiver classify ... | head -1}: the reader goes away and the run stops instead of running on. */
    @Test
    void aClosedPipeStopsTheRun() throws Exception {
        List<String> args = new ArrayList<>(List.of("classify", "--json", "--batch", "1", "--model", Cli.golden("image_learned")));
        for (int i = 0; i < 2000; i++) args.add(Cli.input("image4_48x64.png"));
        Process p = start(args.toArray(String[]::new));
        String first = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine();
        assertThat(first).startsWith("{\"file\":");
        p.getInputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the run ended").isTrue();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(err).isEqualTo(Main.FAILED);
        assertThat(err).containsPattern("perceiver classify: stopped after [0-9]+ of 2000 images: standard output was closed");
    }

    /** Under --device auto a machine without CUDA hears nothing about it unless --verbose asks, then one line. */
    @Test
    void noCudaNoiseUnlessVerbose() throws Exception {
        assumeFalse(GpuDevice.detect(GpuOptions.defaults()).available(), "this machine has a usable GPU");
        for (boolean verbose : new boolean[] {false, true}) {
            List<String> args = new ArrayList<>(List.of("classify-text", "--model", Cli.golden("sequence_classification"), "hi"));
            if (verbose) args.add("--verbose");
            Process p = start(args.toArray(String[]::new));
            p.getInputStream().readAllBytes();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(err).isZero();
            List<String> cpu = err.lines().filter(l -> l.contains("running on the CPU")).toList();
            assertThat(cpu).as(err).hasSize(verbose ? 1 : 0);
            if (!verbose)
                assertThat(err.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList()).as(err)
                        .singleElement().asString().matches("1 texts in [0-9.]+ s \\([0-9.]+/s\\), 0 errors");
        }
    }
}
