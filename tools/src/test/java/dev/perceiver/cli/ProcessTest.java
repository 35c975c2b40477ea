package dev.perceiver.cli;

import dev.perceiver.runtime.Backends;
import dev.perceiver.runtime.GpuOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
        assumeFalse(Backends.probeGpu(GpuOptions.defaults()).available(), "this machine has a usable GPU");
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

    /**
     * A streamed 24-bit WAV (data length 0xFFFFFFFF) holding the same samples as a finished 16-bit one: the same
     * reconstruction, and one warning line from the log on stderr, no stack trace.
     */
    @Test
    void aStreamedWavIsReadWithOneWarningLine(@TempDir Path tmp) throws Exception {
        Path video = tmp.resolve("video"), wav16 = tmp.resolve("a16.wav");
        AutoencodeCommandTest.writeClip(video, 8, wav16, 16);
        byte[] w16 = Files.readAllBytes(wav16);
        ByteBuffer in = ByteBuffer.wrap(w16).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer w24 = ByteBuffer.allocate(44 + 16 * 3).order(ByteOrder.LITTLE_ENDIAN);
        w24.put(w16, 0, 44).putInt(4, -1).putInt(28, 8000 * 3).putShort(32, (short) 3).putShort(34, (short) 24).putInt(40, -1);
        for (int i = 0; i < 16; i++) {
            int v = in.getShort(44 + 2 * i) << 8; // the 16-bit sample as 24 bits: the same value after scaling
            w24.put(44 + 3 * i, (byte) v).put(45 + 3 * i, (byte) (v >> 8)).put(46 + 3 * i, (byte) (v >> 16));
        }
        Path wav24 = Files.write(tmp.resolve("streamed24.wav"), w24.array());
        String[] outputs = new String[2];
        for (int k = 0; k < 2; k++) {
            Process p = start("autoencode", "--json", "--model", Cli.golden("multimodal"), "--video", video.toString(),
                    "--audio", (k == 0 ? wav16 : wav24).toString(), "--out", tmp.resolve("out" + k).toString());
            outputs[k] = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(err).isZero();
            // besides the JVM's incubator warning and autoencode's closing line ("1 chunks in 0.2 s ...")
            List<String> lines = err.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                    .filter(l -> !l.matches("1 chunks in .* 0 errors")).toList();
            if (k == 0) assertThat(lines).as(err).isEmpty();
            else assertThat(lines).as(err).singleElement().asString().isEqualTo("perceiver: warning: " + wav24
                    + ": data chunk length is unset (4294967295); reading the 16 whole frames present");
        }
        assertThat(outputs[1]).isEqualTo(outputs[0].replace(tmp.resolve("out0").toString(), tmp.resolve("out1").toString()));
        assertThat(Files.readAllBytes(tmp.resolve("out1").resolve(AutoencodeCommand.AUDIO_FILE)))
                .isEqualTo(Files.readAllBytes(tmp.resolve("out0").resolve(AutoencodeCommand.AUDIO_FILE)));
    }
}
