package dev.perceiver.cli;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** The perceiver command, run in this JVM: the single-JVM results the Spark jobs must equal. */
public final class PerceiverCli {
    private PerceiverCli() {}

    /** Runs a command line; a non-zero exit code fails the test with its stderr. */
    public static void run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, InputStream.nullInputStream(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        if (code != Main.OK)
            throw new AssertionError("perceiver exited with " + code + ": " + err.toString(StandardCharsets.UTF_8));
    }
}
