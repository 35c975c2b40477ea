package dev.perceiver.loader.json;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTest {

    @Test
    void parsesEveryKindOfValue() {
        Object v = Json.parse(" {\"a\": [1, -2.5, 3e2, true, false, null], \"b\": {}, \"c\": [], \"d\": \"x\"}\r\n\t");
        assertThat(v).isInstanceOf(Map.class);
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) v;
        assertThat(m.keySet()).containsExactly("a", "b", "c", "d");
        assertThat(m.get("a")).isEqualTo(Arrays.asList(1L, -2.5, 300.0, true, false, null));
        assertThat((Map<?, ?>) m.get("b")).isEmpty();
        assertThat((List<?>) m.get("c")).isEmpty();
        assertThat(m.get("d")).isEqualTo("x");
    }

    @Test
    void scalarsAtTopLevel() {
        assertThat(Json.parse("42")).isEqualTo(42L);
        assertThat(Json.parse("-0")).isEqualTo(0L);
        assertThat(Json.parse("\"s\"")).isEqualTo("s");
        assertThat(Json.parse("null")).isNull();
        assertThat(Json.parse("true")).isEqualTo(true);
    }

    @Test
    void numbersAreLongWhenIntegralAndInRangeElseDouble() {
        assertThat(Json.parse("9223372036854775807")).isEqualTo(Long.MAX_VALUE);
        assertThat(Json.parse("-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(Json.parse("9223372036854775808")).isEqualTo(9.223372036854775808e18);
        assertThat(Json.parse("1.0")).isEqualTo(1.0);
        assertThat(Json.parse("1E-5")).isEqualTo(1e-5);
        assertThat(Json.parse("-0.25e+1")).isEqualTo(-2.5);
        assertThat(Json.parse("1e-12")).isEqualTo(1e-12);
    }

    @Test
    void stringEscapesIncludingSurrogatePairs() {
        assertThat(Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"")).isEqualTo("\"\\/\b\f\n\r\t");
        assertThat(Json.parse("\"\\u00e9\\u20AC\"")).isEqualTo("é€");
        String emoji = (String) Json.parse("\"\\uD83D\\uDE00\"");
        assertThat(emoji.codePointAt(0)).isEqualTo(0x1F600);
        assertThat(emoji).hasSize(2);
        assertThat(Json.parse("\"h\u00e9llo \u2713 \uD83D\uDE00\"")).isEqualTo("h\u00e9llo \u2713 \uD83D\uDE00");
    }

    @Test
    void errorsGiveTheOffsetAndWhatWasExpected() {
        assertError("{\"a\": 1} x", 9, "expected end of input after the JSON value, found 'x'");
        assertError("{\"a\" 1}", 5, "expected ':' after the key \"a\", found '1'");
        assertError("{\"a\": 1,}", 8, "expected a string key in an object, found '}'");
        assertError("[1 2]", 3, "expected ',' or ']' in an array, found '2'");
        assertError("[1,]", 3, "expected a value (object, array, string, number, true, false or null), found ']'");
        assertError("{\"a\": 1", 7, "expected ',' or '}' in an object, found end of input");
        assertError("", 0, "expected a value, found end of input");
        assertError("  ", 2, "expected a value, found end of input");
        assertError("\"abc", 0, "unterminated string");
        assertError("\"a\\x\"", 3, "expected an escape");
        assertError("\"a\\u12g4\"", 6, "expected 4 hex digits after \\u, found 'g'");
        assertError("\"a\nb\"", 2, "control character U+000A must be escaped");
        assertError("01", 1, "expected end of input");
        assertError("-", 1, "expected a digit, found end of input");
        assertError("1.", 2, "expected a digit after the decimal point");
        assertError("1e+", 3, "expected a digit in the exponent");
        assertError("+1", 0, "expected a value");
        assertError("tru", 0, "expected a value");
        assertError("NaN", 0, "expected a value");
        assertError("{\"k\": 1, \"k\": 2}", 9, "duplicate key \"k\"");
        assertError("\uFEFF{}", 0, "found U+FEFF");
        assertError("[1, -2E400]", 4, "number -2E400 is beyond the range of a 64-bit float");
    }

    @Test
    void deepNestingStopsAtTheLimitWithoutStackOverflow() {
        String deep = "[".repeat(1_000_000);
        assertError(deep, Json.DEFAULT_MAX_DEPTH, "nest deeper than the limit of " + Json.DEFAULT_MAX_DEPTH);
        assertThat(Json.parse("[[[1]]]", 3)).isEqualTo(List.of(List.of(List.of(1L))));
        assertThatThrownBy(() -> Json.parse("[[[1]]]", 2)).isInstanceOf(JsonException.class)
                .hasMessageContaining("limit of 2");
        String ok = "[".repeat(Json.DEFAULT_MAX_DEPTH) + "]".repeat(Json.DEFAULT_MAX_DEPTH);
        assertThat(Json.parse(ok)).isInstanceOf(List.class);
    }

    @Test
    void parsedContainersAreUnmodifiable() {
        Map<?, ?> m = (Map<?, ?>) Json.parse("{\"a\":[1]}");
        assertThatThrownBy(() -> m.clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> ((List<?>) m.get("a")).clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void writesCompactAndPretty() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "perceiver");
        m.put("shape", new int[]{2, 3});
        m.put("logits", List.of(1.5f, -0.25));
        m.put("empty", Map.of());
        m.put("none", null);
        m.put("ok", true);
        m.put("big", 1L << 40);
        assertThat(Json.write(m)).isEqualTo(
                "{\"name\":\"perceiver\",\"shape\":[2,3],\"logits\":[1.5,-0.25],\"empty\":{},\"none\":null,\"ok\":true,"
                        + "\"big\":1099511627776}");
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("a", List.of(1, List.of()));
        nested.put("b", Map.of("c", "d"));
        assertThat(Json.writePretty(nested))
                .isEqualTo("{\n  \"a\": [\n    1,\n    []\n  ],\n  \"b\": {\n    \"c\": \"d\"\n  }\n}");
        assertThat(Json.writePretty(List.of())).isEqualTo("[]");
    }

    @Test
    void writerEscapesAndRoundTrips() {
        String nasty = "q\" b\\ nl\n tab\t ctl\u0001 del\u007f é € \uD83D\uDE00 lone\uD800 end";
        String written = Json.write(nasty);
        assertThat(written).contains("\\\"", "\\\\", "\\n", "\\t", "\\u0001", "\\ud800", "\uD83D\uDE00");
        // The lone surrogate survives the round trip through its escape.
        assertThat(Json.parse(written)).isEqualTo(nasty);

        Map<String, Object> m = new LinkedHashMap<>();
        m.put("x", List.of(1L, 2.5, "s", false));
        m.put("y", Map.of("z", 1e-12));
        assertThat(Json.parse(Json.write(m))).isEqualTo(m);
        assertThat(Json.parse(Json.writePretty(m))).isEqualTo(m);
        assertThat(Json.parse(Json.write(0.1f))).isEqualTo(0.1);
    }

    @Test
    void nonFiniteNumbersAreWrittenAsNull() {
        assertThat(Json.write(Double.NaN)).isEqualTo("null");
        assertThat(Json.write(List.of(Float.POSITIVE_INFINITY, 1.5f, Double.NEGATIVE_INFINITY))).isEqualTo("[null,1.5,null]");
    }

    @Test
    void writerRejectsWhatJsonCannotHold() {
        assertThatThrownBy(() -> Json.write(Map.of(1, "a"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keys must be strings");
        assertThatThrownBy(() -> Json.write(new Object())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.lang.Object");
        List<Object> cycle = new ArrayList<>();
        cycle.add(cycle);
        assertThatThrownBy(() -> Json.write(cycle)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a cycle?");
    }

    @Test
    void describeNamesTypeAndValue() {
        assertThat(Json.describe("gelu")).isEqualTo("string \"gelu\"");
        assertThat(Json.describe(3L)).isEqualTo("integer 3");
        assertThat(Json.describe(1.5)).isEqualTo("number 1.5");
        assertThat(Json.describe(null)).isEqualTo("null");
        assertThat(Json.describe(Json.parse("{}"))).isEqualTo("object");
        assertThat(Json.describe(Json.parse("[]"))).isEqualTo("array");
    }

    private static void assertError(String text, int offset, String message) {
        assertThatThrownBy(() -> Json.parse(text))
                .isInstanceOfSatisfying(JsonException.class, e -> assertThat(e.offset()).isEqualTo(offset))
                .hasMessageContaining("at character " + offset + ": ")
                .hasMessageContaining(message);
    }
}
