package dev.perceiver.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line arguments: {@code --name value}, {@code --name=value}, boolean {@code --flag}s and positionals; and the
 * standard input that "-" reads and the stream warnings go to. Public for the perceiver-spark jobs, which parse their
 * command lines with it.
 */
public final class Args {
    private final List<String> positional = new ArrayList<>();
    private final Map<String, String> options = new LinkedHashMap<>();
    private final InputStream stdin;
    private final PrintStream err;

    private Args(InputStream stdin, PrintStream err) {
        this.stdin = stdin;
        this.err = err;
    }

    /**
     * flags take no value; valued options do; anything else starting with -- is a usage error. stdin is what an
     * argument or option value "-" reads.
     */
    public static Args parse(List<String> argv, Set<String> flags, Set<String> valued, InputStream stdin, PrintStream err) {
        Args a = new Args(stdin, err);
        for (int i = 0; i < argv.size(); i++) {
            String s = argv.get(i);
            if (s.equals("--")) {
                a.positional.addAll(argv.subList(i + 1, argv.size()));
                break;
            }
            if (!s.startsWith("--") || s.length() == 2) {
                a.positional.add(s);
                continue;
            }
            String name = s.substring(2), value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) throw new UsageException("--" + name + " takes no value");
                a.options.put(name, "true");
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.size()) throw new UsageException("--" + name + " needs a value");
                    value = argv.get(++i);
                }
                a.options.put(name, value);
            } else {
                Set<String> known = new TreeSet<>(flags);
                known.addAll(valued);
                throw new UsageException("unknown option --" + name + (known.isEmpty() ? "" : " (this command takes --"
                        + String.join(", --", known) + ")"));
            }
        }
        return a;
    }

    InputStream stdin() {
        return stdin;
    }

    /** A warning on stderr, in the form the log's warnings take; --quiet keeps warnings. */
    void warn(String message) {
        err.println("perceiver: warning: " + message);
    }

    public List<String> positional() {
        return positional;
    }

    public boolean has(String name) {
        return options.containsKey(name);
    }

    public String get(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    public String require(String name) {
        String v = options.get(name);
        if (v == null) throw new UsageException("missing --" + name);
        return v;
    }

    public int getInt(String name, int fallback, int min) {
        String v = options.get(name);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v);
            if (n < min) throw new UsageException("--" + name + " must be at least " + min + ", got " + n);
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " takes a whole number, got '" + v + "'");
        }
    }
}
