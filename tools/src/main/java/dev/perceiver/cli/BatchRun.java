package dev.perceiver.cli;

import dev.perceiver.loader.json.Json;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A run over many inputs: each input's result, or its error line, in input order; a progress line when stderr is a
 * terminal; a closing line on stderr ({@code 300 images in 21.8 s (13.8/s), 0 errors}); exit code 4 when any input
 * failed. A bad input costs only its own result; --fail-fast ends the run at the first one. A closed stdout (the
 * reader went away, as {@code | head -1} does) ends the run.
 */
final class BatchRun {
    static final Set<String> FLAGS = Set.of("fail-fast");

    /** A batch command's flags: --fail-fast and its own. */
    static Set<String> flagsWith(String... own) {
        Set<String> flags = new java.util.TreeSet<>(FLAGS);
        flags.addAll(Set.of(own));
        return flags;
    }
    static final String FLAGS_HELP = """
              --fail-fast       stop at the first input that fails (by default its error is reported, the
                                other inputs still run, and the exit code is 4 with the count at the end)
            """;

    private final String command, unit;
    private final int total;
    private final boolean json, quiet, failFast;
    private final PrintStream out, err;
    private final Progress progress;
    private final long start = System.nanoTime();
    private int done, errors;
    private boolean closed;

    /** total inputs of unit (plural: "images"), for command's args (--json, --quiet, --fail-fast). */
    BatchRun(String command, String unit, int total, Args args, PrintStream out, PrintStream err) {
        this.command = command;
        this.unit = unit;
        this.total = total;
        this.json = args.has("json");
        this.quiet = args.has("quiet");
        this.failFast = args.has("fail-fast");
        this.out = out;
        this.err = err;
        this.progress = new Progress(err, command, total, quiet);
    }

    /** Whether the run has ended early (stdout closed); the caller then stops. */
    boolean stopped() {
        return closed;
    }

    /** Redraws the progress line with a note on the input under way (a long input's own progress). */
    void working(String note) {
        progress.update(done, total, note);
    }

    /** One input's result: text mode's lines, or the JSON object of one line. */
    void result(String textLines, Map<String, Object> jsonLine, String note) {
        progress.clear();
        if (json) out.println(Json.write(jsonLine));
        else out.print(textLines);
        closed = out.checkError(); // flushes; true once writing failed, as it does when the reader closed the pipe
        done++;
        progress.step(note);
    }

    /**
     * One input failed: an error line, {@code {key: id, "error": message}} with --json, else on stderr. Under
     * --fail-fast the run ends here with that message.
     */
    void error(String key, Object id, String message) {
        String why = message.startsWith(id + ": ") ? message.substring((id + ": ").length()) : message;
        if (failFast) throw new Failure(Main.BAD_INPUT, id + ": " + why + " (--fail-fast)");
        errors++;
        progress.clear();
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put(key, id);
            line.put("error", why);
            out.println(Json.write(line));
            closed = out.checkError();
        } else {
            err.println("perceiver " + command + ": " + id + ": " + why);
        }
        done++;
        progress.step("");
    }

    /** The closing line, and the run's exit code. */
    int finish() {
        progress.clear();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (closed) {
            err.printf(Locale.ROOT, "perceiver %s: stopped after %d of %d %s: standard output was closed%n", command,
                    done, total, unit);
            return Main.FAILED;
        }
        if (!quiet || errors > 0) {
            double rate = done / Math.max(seconds, 1e-9);
            // Three significant digits below one a second (optical flow at full size), where %.1f would say 0.0.
            err.printf(Locale.ROOT, "%d %s in %.1f s (%s/s), %d error%s%n", done, unit, seconds,
                    String.format(Locale.ROOT, rate >= 1 ? "%.1f" : "%.3g", rate), errors, errors == 1 ? "" : "s");
        }
        return errors == 0 ? Main.OK : Main.BAD_INPUT;
    }
}
