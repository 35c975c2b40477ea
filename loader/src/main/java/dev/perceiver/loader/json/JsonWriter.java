package dev.perceiver.loader.json;

import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.IntStream;

/** Writes Java values as JSON text, compact or indented by two spaces. */
final class JsonWriter {
    private final Appendable out;
    private final boolean pretty;

    JsonWriter(Appendable out, boolean pretty) {
        this.out = out;
        this.pretty = pretty;
    }

    void value(Object value, int depth) throws IOException {
        switch (value) {
            case null -> out.append("null");
            case CharSequence s -> string(s);
            case Boolean b -> out.append(b.toString());
            case Double d -> out.append(finite(d, d.toString()));
            case Float f -> out.append(finite(f, f.toString()));
            case Long _, Integer _, Short _, Byte _, BigInteger _ -> out.append(value.toString());
            case BigDecimal d -> out.append(d.toString());
            case Map<?, ?> map -> object(map, depth);
            case Iterable<?> items -> array(items.iterator(), depth);
            default -> {
                if (!value.getClass().isArray())
                    throw new IllegalArgumentException("cannot write a " + value.getClass().getName() + " as JSON");
                array(IntStream.range(0, Array.getLength(value)).mapToObj(i -> Array.get(value, i)).iterator(), depth);
            }
        }
    }

    /** JSON has no NaN or infinity: null, as JavaScript's JSON.stringify writes them, so one bad value costs only itself. */
    private static String finite(double d, String text) {
        return Double.isFinite(d) ? text : "null";
    }

    private void object(Map<?, ?> map, int depth) throws IOException {
        enter(depth);
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key))
                throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
            separate(first, depth + 1);
            first = false;
            string(key);
            out.append(pretty ? ": " : ":");
            value(e.getValue(), depth + 1);
        }
        close(first, depth, '}');
    }

    private void array(Iterator<?> items, int depth) throws IOException {
        enter(depth);
        out.append('[');
        boolean first = true;
        while (items.hasNext()) {
            separate(first, depth + 1);
            first = false;
            value(items.next(), depth + 1);
        }
        close(first, depth, ']');
    }

    private static void enter(int depth) {
        // A self-containing collection would otherwise recurse until the stack overflows.
        if (depth >= Json.DEFAULT_MAX_DEPTH)
            throw new IllegalArgumentException("value nests deeper than " + Json.DEFAULT_MAX_DEPTH + " levels (a cycle?)");
    }

    private void separate(boolean first, int depth) throws IOException {
        if (!first) out.append(',');
        newline(depth);
    }

    private void close(boolean empty, int depth, char bracket) throws IOException {
        if (!empty) newline(depth);
        out.append(bracket);
    }

    private void newline(int depth) throws IOException {
        if (!pretty) return;
        out.append('\n');
        for (int i = 0; i < depth; i++) out.append("  ");
    }

    private void string(CharSequence s) throws IOException {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    // Lone surrogates are escaped so the text stays encodable as UTF-8.
                    boolean lone = Character.isHighSurrogate(c)
                            ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                            : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
                    if (c < 0x20 || lone) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    /** s as a JSON string literal, for messages. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        try {
            new JsonWriter(sb, false).string(s);
        } catch (IOException e) {
            throw new AssertionError("StringBuilder does not throw", e);
        }
        return sb.toString();
    }
}
