package dev.perceiver.cli;

import java.io.IOException;

/**
 * The command-line tool's wording of I/O failures, for the Spark jobs, so that a Spark row and the perceiver command
 * word an error alike. (Everything else they share is library API, in dev.perceiver.task.)
 */
public final class SparkBridge {
    private SparkBridge() {}

    /** An I/O failure as the perceiver command words it: the file and the reason. */
    public static String describe(IOException e) {
        return PathChecks.describe(e);
    }
}
