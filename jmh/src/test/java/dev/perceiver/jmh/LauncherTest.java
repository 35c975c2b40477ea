package dev.perceiver.jmh;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The benchmarks' entry point as its own process: JMH on JDK 25, a clear refusal on an older java. */
class LauncherTest {
    private static final String CLASS_PATH = System.getProperty("java.class.path");

    private record Result(int code, String out, String err) {}

    private static Result run(String java, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java, "-cp", CLASS_PATH, Launcher.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out, err);
    }

    /** A java older than 25 on this machine (the system one, or another JDK beside this one), or null. */
    private static String olderJava() throws IOException, InterruptedException {
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/bin/java")));
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms))
            try (Stream<Path> dirs = Files.list(jvms)) {
                dirs.sorted().forEach(d -> candidates.add(d.resolve("bin/java")));
            }
        for (Path java : candidates) {
            if (!Files.isExecutable(java)) continue;
            try {
                Process p = new ProcessBuilder(java.toString(), "-XshowSettings:properties", "-version").start();
                String settings = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(30, TimeUnit.SECONDS);
                for (String line : settings.lines().toList())
                    if (line.strip().startsWith("java.specification.version = ")) {
                        String v = line.strip().substring("java.specification.version = ".length());
                        int feature = Integer.parseInt(v.startsWith("1.") ? v.substring(2) : v);
                        if (feature < Launcher.REQUIRED) return java.toString();
                    }
            } catch (IOException | NumberFormatException e) {
                // not a usable java
            }
        }
        return null;
    }

    @Test
    void anOlderJavaIsToldWhichJdkTheBenchmarksNeed() throws Exception {
        String java = olderJava();
        assumeTrue(java != null, "no java older than 25 on this machine");
        Result r = run(java, "ModelBenchmark");
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().toList()).singleElement().asString()
                .startsWith("perceiver jmh: the benchmarks need JDK 25 or later; this is Java ")
                .contains("README");
    }

    @Test
    void onJdk25ItIsJmhWithTheModelAndKernelBenchmarks() throws Exception {
        Result r = run(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-l");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines().map(String::strip).toList()).contains("dev.perceiver.jmh.ModelBenchmark.forward",
                "dev.perceiver.jmh.GemmBenchmark.gemm");
    }
}
