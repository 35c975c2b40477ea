package dev.perceiver.cli;

import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.json.JsonException;
import dev.perceiver.model.InvalidInputException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The perceiver command-line tool. Errors print one line and exit with a code by kind: 2 usage, 3 model or
 * checkpoint, 4 input, 1 anything else ({@code PERCEIVER_DEBUG=1} adds the stack trace).
 */
public final class Main {
    static final int OK = 0, FAILED = 1, USAGE = 2, BAD_MODEL = 3, BAD_INPUT = 4;

    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        for (Command c : List.of(new DemoCommand(), new ClassifyCommand(), new FillMaskCommand(), new FlowCommand(),
                new AutoencodeCommand(), new ConvertCommand(), new RunCommand(), new InfoCommand(), new BenchCommand()))
            COMMANDS.put(c.name(), c);
    }

    private Main() {}

    public static void main(String[] argv) {
        Logging.configure(Arrays.asList(argv).contains("--quiet"));
        System.exit(run(argv, System.out, System.err));
    }

    /** Runs a command line in this JVM and returns its exit code (the tests call this). */
    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            out.print(overview());
            return argv.length == 0 ? USAGE : OK;
        }
        if (argv[0].equals("--version")) {
            out.println("perceiver " + version());
            return OK;
        }
        Command cmd = COMMANDS.get(argv[0]);
        if (cmd == null) {
            err.println("perceiver: unknown command '" + argv[0] + "'. Commands: " + String.join(", ", COMMANDS.keySet()));
            return USAGE;
        }
        List<String> rest = Arrays.asList(argv).subList(1, argv.length);
        if (rest.contains("--help") || rest.contains("-h")) {
            out.print(cmd.help());
            return OK;
        }
        try {
            return cmd.run(Args.parse(rest, withCommon(cmd.flags()), cmd.valued()), out, err);
        } catch (UsageException e) {
            err.println("perceiver " + cmd.name() + ": " + e.getMessage() + " (see 'perceiver " + cmd.name() + " --help')");
            return USAGE;
        } catch (InvalidInputException | NoSuchFileException | JsonException e) {
            return fail(err, cmd, e, BAD_INPUT);
        } catch (CheckpointException e) {
            return fail(err, cmd, e, BAD_MODEL);
        } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
            return fail(err, cmd, e, FAILED);
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            return fail(err, cmd, e, FAILED);
        }
    }

    private static int fail(PrintStream err, Command cmd, Throwable e, int code) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof NoSuchFileException) msg = "no such file: " + msg;
        else if (e instanceof OutOfMemoryError) msg = "out of memory (" + msg + "); try a smaller --batch or more -Xmx";
        else if (!(e instanceof InvalidInputException || e instanceof CheckpointException || e instanceof IOException
                || e instanceof IllegalArgumentException || e instanceof UncheckedIOException || e instanceof JsonException))
            msg = e.getClass().getSimpleName() + ": " + msg;
        err.println("perceiver " + cmd.name() + ": " + msg.lines().findFirst().orElse(msg));
        if ("1".equals(System.getenv("PERCEIVER_DEBUG"))) e.printStackTrace(err);
        return code;
    }

    private static java.util.Set<String> withCommon(java.util.Set<String> flags) {
        java.util.Set<String> all = new java.util.TreeSet<>(flags);
        all.add("quiet");
        return all;
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private static String overview() {
        StringBuilder s = new StringBuilder("""
                perceiver - run DeepMind's Perceiver and Perceiver IO models (transformers checkpoints) on the JVM

                Usage: perceiver <command> [options]    (perceiver <command> --help for its options)

                Commands:
                """);
        COMMANDS.values().forEach(c -> s.append(String.format("  %-12s %s%n", c.name(), c.summary())));
        s.append("""

                Common options: --model DIR (config.json + model.safetensors or pytorch_model.bin), --threads N
                (default: all processors), --device cpu|gpu|auto, --quiet (warnings only).
                Exit codes: 0 ok, 1 failure, 2 usage error, 3 bad model or checkpoint, 4 bad input.
                """);
        return s.toString();
    }
}
