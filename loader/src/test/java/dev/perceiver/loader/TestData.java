package dev.perceiver.loader;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared golden files through the perceiver.testdata property the build sets. */
final class TestData {
    private TestData() {
    }

    static Path golden(String folder) {
        String root = System.getProperty("perceiver.testdata");
        if (root == null) throw new IllegalStateException("system property perceiver.testdata is not set");
        Path dir = Path.of(root, "golden", folder);
        if (!Files.isDirectory(dir)) throw new IllegalStateException("missing golden folder " + dir);
        return dir;
    }
}
