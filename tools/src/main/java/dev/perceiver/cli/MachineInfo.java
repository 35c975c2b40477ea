package dev.perceiver.cli;

import dev.perceiver.runtime.Backend;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What a benchmark figure depends on besides the model: the JDK, the CPU, the kernels and the code's commit. */
final class MachineInfo {
    private MachineInfo() {}

    /** jdk, cpu, vector_bits (null without the Vector API module), kernels and git_commit (null outside a checkout). */
    static Map<String, Object> describe(Backend backend) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("jdk", Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ", "
                + System.getProperty("java.vm.name") + ")");
        m.put("cpu", cpuModel());
        m.put("vector_bits", ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? VectorWidth.bits() : null);
        m.put("kernels", backend.kernels().name());
        m.put("git_commit", gitCommit());
        return m;
    }

    /** /proc/cpuinfo's model name, else the architecture. */
    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("model name") && line.contains(":")) return line.substring(line.indexOf(':') + 1).strip();
        } catch (IOException | RuntimeException e) {
            // not Linux, or not readable: the architecture is what is left
        }
        return System.getProperty("os.arch");
    }

    /**
     * The commit of the checkout the tool runs from (its jar or classes lie in tools/target), with "-dirty" when
     * tracked files differ from it; null where there is no checkout or no git.
     */
    static String gitCommit() {
        Path root;
        try {
            Path code = Path.of(MachineInfo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (code.getNameCount() < 3) return null;
            root = code.getParent().getParent().getParent();
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
        String head = git(root, "rev-parse", "HEAD");
        if (head == null || head.isEmpty()) return null;
        String changes = git(root, "status", "--porcelain", "--untracked-files=no");
        return changes == null || changes.isEmpty() ? head : head + "-dirty";
    }

    private static String git(Path dir, String... args) {
        try {
            Process p = new ProcessBuilder(concat(List.of("git", "-C", dir.toString()), args)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static List<String> concat(List<String> a, String... b) {
        return java.util.stream.Stream.concat(a.stream(), java.util.Arrays.stream(b)).toList();
    }

    /** Loaded only when the Vector API module is present. */
    private static final class VectorWidth {
        static int bits() {
            return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
        }
    }
}
