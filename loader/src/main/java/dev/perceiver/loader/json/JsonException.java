package dev.perceiver.loader.json;

/** Text that is not the JSON the parser accepts; the message gives the character offset and what was expected. */
public final class JsonException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int offset;

    JsonException(int offset, String message) {
        super("at character " + offset + ": " + message);
        this.offset = offset;
    }

    /** Index of the offending character in the parsed text. */
    public int offset() {
        return offset;
    }
}
