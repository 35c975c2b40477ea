package dev.perceiver.cli;

/** The command line itself is wrong: exit code 2 and a pointer to --help. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
