package dev.perceiver.loader;

import java.nio.file.Path;

/**
 * A checkpoint, config or tensor file that cannot be used: the message names the file, the tensor or field where
 * known, and the rule it breaks.
 */
public class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    // Path is not serializable; the message still names the file after deserialization.
    private final transient Path file;

    public CheckpointException(Path file, String message) {
        super(file == null ? message : file + ": " + message);
        this.file = file;
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file == null ? message : file + ": " + message, cause);
        this.file = file;
    }

    /** The file at fault, or null. */
    public Path file() {
        return file;
    }
}
