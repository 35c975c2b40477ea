package dev.perceiver.loader.json;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses one JSON text. Open objects and arrays live on an explicit stack rather than the call stack, so hostile
 * nesting ends in a JsonException at the depth limit, never a StackOverflowError.
 */
final class JsonParser {
    private final String text;
    private final int maxDepth;
    private int pos;

    /** An object or array still being filled. */
    private static final class Open {
        final Map<String, Object> members;
        final List<Object> elements;
        final char close;
        String key;

        Open(boolean object) {
            members = object ? new LinkedHashMap<>() : null;
            elements = object ? null : new ArrayList<>();
            close = object ? '}' : ']';
        }

        void add(Object value) {
            if (members != null) members.put(key, value);
            else elements.add(value);
        }

        Object done() {
            return members != null ? Collections.unmodifiableMap(members) : Collections.unmodifiableList(elements);
        }

        String kind() {
            return members != null ? "object" : "array";
        }
    }

    JsonParser(String text, int maxDepth) {
        if (maxDepth < 1) throw new IllegalArgumentException("maxDepth must be positive, got " + maxDepth);
        this.text = text;
        this.maxDepth = maxDepth;
    }

    Object document() {
        Object value = value();
        skipWhitespace();
        if (pos < text.length())
            throw error(pos, "expected end of input after the JSON value, found " + found(pos));
        return value;
    }

    private Object value() {
        ArrayDeque<Open> stack = new ArrayDeque<>();
        while (true) {
            skipWhitespace();
            Object value;
            char c = pos < text.length() ? text.charAt(pos) : 0;
            if (c == '{' || c == '[') {
                if (stack.size() == maxDepth)
                    throw error(pos, "objects and arrays nest deeper than the limit of " + maxDepth);
                pos++;
                Open open = new Open(c == '{');
                skipWhitespace();
                if (pos < text.length() && text.charAt(pos) == open.close) {
                    pos++;
                    value = open.done();
                } else {
                    stack.push(open);
                    if (open.members != null) open.key = key(open);
                    continue;
                }
            } else {
                value = scalar();
            }
            // Hand the finished value to its container; each container this closes is in turn a finished value.
            while (true) {
                Open top = stack.peek();
                if (top == null) return value;
                top.add(value);
                skipWhitespace();
                char next = pos < text.length() ? text.charAt(pos) : 0;
                if (next == ',') {
                    pos++;
                    if (top.members != null) top.key = key(top);
                    break;
                }
                if (next != top.close)
                    throw error(pos, "expected ',' or '" + top.close + "' in an " + top.kind() + ", found " + found(pos));
                pos++;
                stack.pop();
                value = top.done();
            }
        }
    }

    /** A member name and its colon. */
    private String key(Open object) {
        skipWhitespace();
        int start = pos;
        if (pos >= text.length() || text.charAt(pos) != '"')
            throw error(pos, "expected a string key in an object, found " + found(pos));
        String key = string();
        if (object.members.containsKey(key)) throw error(start, "duplicate key " + JsonWriter.quote(key));
        skipWhitespace();
        if (pos >= text.length() || text.charAt(pos) != ':')
            throw error(pos, "expected ':' after the key " + JsonWriter.quote(key) + ", found " + found(pos));
        pos++;
        return key;
    }

    private Object scalar() {
        if (pos >= text.length()) throw error(pos, "expected a value, found end of input");
        char c = text.charAt(pos);
        if (c == '"') return string();
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        if (text.startsWith("true", pos)) return literal(4, Boolean.TRUE);
        if (text.startsWith("false", pos)) return literal(5, Boolean.FALSE);
        if (text.startsWith("null", pos)) return literal(4, null);
        throw error(pos, "expected a value (object, array, string, number, true, false or null), found " + found(pos));
    }

    private Object literal(int length, Object value) {
        pos += length;
        return value;
    }

    private String string() {
        int start = pos++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            int run = pos;
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c == '"' || c == '\\' || c < 0x20) break;
                pos++;
            }
            sb.append(text, run, pos);
            if (pos >= text.length()) throw error(start, "unterminated string");
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) throw error(pos, "control character " + found(pos) + " must be escaped in a string");
            pos++;
            if (pos >= text.length()) throw error(start, "unterminated string");
            char e = text.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                // A surrogate pair arrives as two \\u escapes; appending both UTF-16 units rebuilds the code point.
                case 'u' -> sb.append(hex4());
                default -> throw error(pos - 1, "expected an escape (one of \"\\/bfnrtu) after '\\', found " + found(pos - 1));
            }
        }
    }

    private char hex4() {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            char c = pos < text.length() ? text.charAt(pos) : 0;
            int digit = c >= '0' && c <= '9' ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (digit < 0)
                throw error(pos, "expected 4 hex digits after \\u, found " + found(pos));
            value = value * 16 + digit;
            pos++;
        }
        return (char) value;
    }

    private Object number() {
        int start = pos;
        if (text.charAt(pos) == '-') pos++;
        if (pos < text.length() && text.charAt(pos) == '0') pos++;
        else if (digits() == 0) throw error(pos, "expected a digit, found " + found(pos));
        boolean integral = true;
        if (pos < text.length() && text.charAt(pos) == '.') {
            pos++;
            integral = false;
            if (digits() == 0) throw error(pos, "expected a digit after the decimal point, found " + found(pos));
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            pos++;
            integral = false;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
            if (digits() == 0) throw error(pos, "expected a digit in the exponent, found " + found(pos));
        }
        String literal = text.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(literal);
            } catch (NumberFormatException tooBig) {
                // Outside the long range: keep the magnitude as a double, as the class contract says.
            }
        }
        double value = Double.parseDouble(literal);
        // Writing refuses non-finite numbers, so reading must not make them.
        if (Double.isInfinite(value))
            throw error(start, "number " + (literal.length() > 40 ? literal.substring(0, 40) + "..." : literal)
                    + " is beyond the range of a 64-bit float");
        return value;
    }

    private int digits() {
        int start = pos;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') pos++;
        return pos - start;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    private String found(int at) {
        if (at >= text.length()) return "end of input";
        char c = text.charAt(at);
        return c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'";
    }

    private static JsonException error(int offset, String message) {
        return new JsonException(offset, message);
    }
}
