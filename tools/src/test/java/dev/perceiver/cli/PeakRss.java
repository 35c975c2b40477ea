package dev.perceiver.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

/**
 * Peak memory of a command, measured in a JVM of its own (Linux): {@link #main} runs command lines one after another,
 * separated by {@code ---}; the ones before the last warm the JVM up (the JIT's compilations come and go with memory
 * of their own), then the peak resident set is reset ({@code /proc/self/clear_refs}) and the last one is measured.
 * Also reported: the peak of the JVM's native allocations outside its own workings (Native Memory Tracking's
 * "Other", where the engine's tensors, scratch and patches live), over the whole process: exact to the byte.
 */
final class PeakRss {
    static final String NEXT = "---";

    /** What the measured command gave: its exit code, its peak resident set and the native peak, in bytes. */
    record Result(int code, long peakBytes, long nativePeakBytes, String err) {
    }

    private PeakRss() {}

    public static void main(String[] argv) throws IOException {
        List<List<String>> commands = new ArrayList<>(List.of(new ArrayList<>()));
        for (String a : argv) {
            if (a.equals(NEXT)) commands.add(new ArrayList<>());
            else commands.getLast().add(a);
        }
        PrintStream quiet = new PrintStream(PrintStream.nullOutputStream());
        for (List<String> warmUp : commands.subList(0, commands.size() - 1))
            if (Main.run(warmUp.toArray(String[]::new), System.in, quiet, System.err) != Main.OK)
                throw new IllegalStateException("warm-up failed: " + warmUp);
        System.gc();
        Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // 5: reset the peak resident set size
        int code = Main.run(commands.getLast().toArray(String[]::new), System.in, quiet, System.err);
        String hwm = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmHWM:"))
                .findFirst().orElseThrow();
        System.out.println(hwm.replaceAll("[^0-9]", "") + " " + nativePeak());
        System.exit(code);
    }

    /** NMT's peak of "Other" allocations in bytes (to the KB), from the JVM's own VM.native_memory summary. */
    private static long nativePeak() {
        try {
            String summary = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()});
            Matcher m = Pattern.compile("-\\s+Other \\(.*\\n.*\\(peak=(\\d+)").matcher(summary);
            if (!m.find()) throw new IllegalStateException("no peak of Other in the NMT summary:\n" + summary);
            return Long.parseLong(m.group(1)) * 1024;
        } catch (JMException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs main in a new JVM with a fixed, pre-touched heap, so that only memory beyond the heap can grow. */
    static Result measure(String... argv) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC", "-XX:NativeMemoryTracking=summary",
                "-cp", System.getProperty("java.class.path"), PeakRss.class.getName()));
        command.addAll(Arrays.asList(argv));
        Path errFile = Files.createTempFile("peak-rss", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectError(errFile.toFile()).start();
            p.getOutputStream().close();
            String[] peaks = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip().split(" ");
            if (!p.waitFor(300, TimeUnit.SECONDS)) throw new IllegalStateException("still running after 300 s");
            String err = Files.readString(errFile);
            if (peaks.length != 2) return new Result(p.exitValue(), -1, -1, err);
            return new Result(p.exitValue(), Long.parseLong(peaks[0]) * 1024, Long.parseLong(peaks[1]), err);
        } finally {
            Files.delete(errFile);
        }
    }
}
