package dev.perceiver.loader.json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * RFC 8259 JSON to and from plain Java values. Parsing gives unmodifiable {@code Map<String, Object>} (keys in
 * document order) for objects, unmodifiable {@code List<Object>} for arrays, {@code String}, {@code Long} for
 * integers that fit, {@code Double} for every other number, {@code Boolean}, and {@code null}. Writing accepts
 * those plus other boxed numbers, any {@code Map} with string keys, any {@code Iterable} and Java arrays.
 */
public final class Json {
    /** How deeply objects and arrays may nest before parsing or writing gives up. */
    public static final int DEFAULT_MAX_DEPTH = 512;

    private Json() {
    }

    /**
     * Parses one JSON text: a single value with optional surrounding whitespace. Duplicate keys in an object are
     * rejected (RFC 8259 leaves their meaning open, and safetensors forbids them).
     *
     * @throws JsonException naming the character offset and what was expected there
     */
    public static Object parse(String text) {
        return parse(text, DEFAULT_MAX_DEPTH);
    }

    /** Like {@link #parse(String)}, with maxDepth as the nesting limit. */
    public static Object parse(String text, int maxDepth) {
        return new JsonParser(text, maxDepth).document();
    }

    /** value as compact JSON (no whitespace). */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb, false);
        return sb.toString();
    }

    /** value as JSON indented by two spaces per level, one member or element per line. */
    public static String writePretty(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb, true);
        return sb.toString();
    }

    /**
     * Appends value as JSON to out.
     *
     * @throws IllegalArgumentException for a value JSON cannot hold (a non-finite number, a non-string map key,
     *                                  an unsupported class) or nesting deeper than {@link #DEFAULT_MAX_DEPTH}
     */
    public static void write(Object value, Appendable out, boolean pretty) {
        try {
            new JsonWriter(out, pretty).value(value, 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A short description of a parsed value for error messages, e.g. {@code string "gelu"} or {@code array}. */
    public static String describe(Object value) {
        return switch (value) {
            case null -> "null";
            case String s -> "string " + JsonWriter.quote(s.length() > 40 ? s.substring(0, 40) + "..." : s);
            case Long l -> "integer " + l;
            case Number n -> "number " + n;
            case Boolean b -> b.toString();
            case Map<?, ?> _ -> "object";
            case List<?> _ -> "array";
            default -> value.getClass().getSimpleName();
        };
    }
}
