package dev.perceiver.cli;

/** A failure the tool has put into words: one line for stderr and the exit code of its kind (see Main). */
final class Failure extends RuntimeException {
    final int code;

    Failure(int code, String message) {
        super(message);
        this.code = code;
    }
}
