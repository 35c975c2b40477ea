package dev.perceiver.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One short line per log record on stderr ("perceiver: warning: ..."): warnings by default and with --quiet, also
 * notes (kernels chosen, why not the GPU) with --verbose.
 */
final class Logging {
    private Logging() {}

    static void configure(boolean quiet, boolean verbose) {
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) root.removeHandler(h);
        ConsoleHandler h = new ConsoleHandler();
        h.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String level = r.getLevel().intValue() >= Level.WARNING.intValue() ? "warning: " : "";
                return "perceiver: " + level + formatMessage(r) + System.lineSeparator();
            }
        });
        Level level = verbose && !quiet ? Level.INFO : Level.WARNING;
        h.setLevel(level);
        root.setLevel(level);
        root.addHandler(h);
    }
}
