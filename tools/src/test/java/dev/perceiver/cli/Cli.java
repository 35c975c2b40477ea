package dev.perceiver.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs the tool in-process, as the tests do, and the test data they run it on. */
final class Cli {
    static final Path TESTDATA = Path.of(System.getProperty("perceiver.testdata", "../testdata"));
    static final Path GOLDEN = TESTDATA.resolve("golden");
    static final Path INPUTS = GOLDEN.resolve("inputs");

    /** What one command line gave: exit code, stdout and stderr. */
    record Result(int code, String out, String err) {
        List<String> outLines() {
            return out.lines().toList();
        }

        List<String> errLines() {
            return err.lines().toList();
        }
    }

    static {
        Logging.configure(true, false); // as --quiet: no "running on the CPU" line per model loaded
    }

    private Cli() {}

    static Result run(String... argv) {
        return runWithStdin(new byte[0], argv);
    }

    /** Runs argv with stdin as its standard input. */
    static Result runWithStdin(byte[] stdin, String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(argv, new ByteArrayInputStream(stdin), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs argv, expecting the one-line failure of its kind: exit code, nothing on stdout, one line on stderr. */
    static String failsWith(int code, String... argv) {
        Result r = run(argv);
        assertThat(r.code()).as(r.err()).isEqualTo(code);
        assertThat(r.out()).isEmpty();
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.err()).startsWith("perceiver " + argv[0] + ": ");
        return r.err();
    }

    static String golden(String model) {
        return GOLDEN.resolve(model).toString();
    }

    static String input(String file) {
        return INPUTS.resolve(file).toString();
    }

    /** A copy of a golden model's config.json and the given weight files in dir, to add or change files there. */
    static Path copyModel(String model, Path dir, String... files) throws IOException {
        Files.createDirectories(dir);
        Files.copy(GOLDEN.resolve(model).resolve("config.json"), dir.resolve("config.json"));
        for (String f : files) Files.copy(GOLDEN.resolve(model).resolve(f), dir.resolve(f));
        return dir;
    }
}
