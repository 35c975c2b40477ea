package dev.perceiver.ops;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Keeps C1 away from the largest vector kernels, through HotSpot's compiler directives (what {@code jcmd
 * Compiler.directives_add} does), so they go from the interpreter straight to C2.
 * <p>
 * Why: C1 runs out of virtual registers on them at its profiling tier (3) but not always at tier 2, and a method C1
 * compiled at tier 2 but cannot profile at tier 3 may stay in that slow C1 code for many seconds: in 5 of 8 fresh JVMs
 * a 1024³ product ran at 1 GFLOP/s for over 20 s instead of 110. With C1 excluded, C2 takes them within about half
 * a second, every time. {@code -Dperceiver.jitDirectives=false} turns this off; where the JVM has no such command it
 * does nothing.
 */
final class JitDirectives {
    private static final System.Logger LOG = System.getLogger("dev.perceiver.ops");

    private JitDirectives() {}

    /** Methods as directive patterns, {@code package/Class.method}. */
    static void excludeFromC1(String... methods) {
        if (!Boolean.parseBoolean(System.getProperty("perceiver.jitDirectives", "true"))) return;
        String match = Arrays.stream(methods).map(m -> '"' + m + '"').collect(Collectors.joining(", "));
        Path file = null;
        try {
            file = Files.createTempFile("perceiver-jit-", ".json");
            Files.writeString(file, "[{ match: [" + match + "], c1: { Exclude: true } }]");
            ManagementFactory.getPlatformMBeanServer().invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "compilerDirectivesAdd", new Object[] {new String[] {file.toString()}},
                    new String[] {String[].class.getName()});
        } catch (Exception | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "compiler directives not added, kernels may warm up slowly: " + e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (Exception ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }
}
