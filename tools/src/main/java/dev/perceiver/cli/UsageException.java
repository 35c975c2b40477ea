package dev.perceiver.cli;

/** The command line itself is wrong: exit code 2 and a pointer to --help. */
public final class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
