package dev.perceiver.cli;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A report map as aligned "key value" lines for people: numbers in plain decimal (0.0001, never 1.0E-4), lists as
 * space-separated values, nested maps as indented "key value" lines under their name.
 */
final class TextReport {
    private TextReport() {}

    static void print(Map<String, ?> report, PrintStream out) {
        print(report, out, "");
    }

    private static void print(Map<?, ?> report, PrintStream out, String indent) {
        int width = report.keySet().stream().mapToInt(k -> k.toString().length()).max().orElse(0);
        report.forEach((k, v) -> {
            if (v instanceof Map<?, ?> nested) {
                out.println(indent + k);
                print(nested, out, indent + "  ");
            } else {
                out.println(indent + pad(k.toString(), width) + "  " + plain(v));
            }
        });
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(width - s.length());
    }

    static String plain(Object v) {
        return switch (v) {
            case null -> "-";
            case Double d when Double.isFinite(d) -> BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
            case Float f when Float.isFinite(f) -> new BigDecimal(Float.toString(f)).stripTrailingZeros().toPlainString();
            case List<?> items -> items.stream().map(TextReport::plain).collect(Collectors.joining(" "));
            default -> v.toString();
        };
    }
}
