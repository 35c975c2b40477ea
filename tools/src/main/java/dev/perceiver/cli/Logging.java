package dev.perceiver.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** One short line per log record on stderr ("perceiver: kernels: ..."), warnings only with --quiet. */
final class Logging {
    private Logging() {}

    static void configure(boolean quiet) {
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
        Level level = quiet ? Level.WARNING : Level.INFO;
        h.setLevel(level);
        root.setLevel(level);
        root.addHandler(h);
    }
}
