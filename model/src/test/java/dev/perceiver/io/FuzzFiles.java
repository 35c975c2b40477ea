package dev.perceiver.io;

import java.io.IOException;
import java.nio.file.Path;

/** What the io fuzz tests check of a refusal. */
final class FuzzFiles {
    private FuzzFiles() {
    }

    /** A refusal must say which file it refused. */
    static void requireNamed(IOException refusal, Path file) {
        if (refusal.getMessage() == null || !refusal.getMessage().contains(file.toString()))
            throw new AssertionError("refusal does not name the file: " + refusal, refusal);
    }
}
