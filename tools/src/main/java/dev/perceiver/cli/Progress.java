package dev.perceiver.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A progress line for long jobs (items done, rate, time left), redrawn in place when stderr is a terminal, whatever
 * stdin and stdout are, and silent when stderr is redirected or --quiet is given.
 */
final class Progress {
    private final PrintStream err;
    private final String what;
    private long total;
    private final boolean live;
    private final long start = System.nanoTime();
    private long done;

    Progress(PrintStream err, String what, long total, boolean quiet) {
        this.err = err;
        this.what = what;
        this.total = total;
        this.live = !quiet && err == System.err && stderrIsTerminal();
    }

    /** Whether file descriptor 2 is a terminal (Linux's /proc; elsewhere no progress line). */
    private static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** Erases the progress line, so that what is printed next (a result on the same terminal) starts clean. */
    void clear() {
        if (!live || done == 0) return;
        err.print("\r\033[K");
        err.flush();
    }

    /** One more item done. */
    void step(String note) {
        update(done + 1, total, note);
    }

    /** doneSoFar of newTotal items done, for work reported in bulk whose size is learnt as it runs. */
    void update(long doneSoFar, long newTotal, String note) {
        done = doneSoFar;
        total = newTotal;
        if (!live) return;
        double elapsed = (System.nanoTime() - start) / 1e9;
        double rate = done / Math.max(elapsed, 1e-9);
        String left = done < total ? String.format(", %s left", duration((total - done) / rate)) : "";
        err.printf("\r%s: %d/%d (%.2f/s%s) %s\033[K", what, done, total, rate, left, note);
        if (done >= total) err.println();
        err.flush();
    }

    static String duration(double seconds) {
        if (seconds < 60) return String.format("%.0f s", seconds);
        if (seconds < 3600) return String.format("%d min %02d s", (int) seconds / 60, (int) seconds % 60);
        return String.format("%d h %02d min", (int) seconds / 3600, (int) seconds % 3600 / 60);
    }
}
