package dev.perceiver.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The file the io fuzz tests hand to the readers: one per JVM, rewritten with each input. */
final class FuzzFiles {
    private FuzzFiles() {
    }

    static Path scratchFile(String suffix) {
        try {
            Path file = Files.createTempFile("perceiver-fuzz-", suffix);
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A refusal must say which file it refused. */
    static void requireNamed(IOException refusal, Path file) {
        if (refusal.getMessage() == null || !refusal.getMessage().contains(file.toString()))
            throw new AssertionError("refusal does not name the file: " + refusal, refusal);
    }
}
