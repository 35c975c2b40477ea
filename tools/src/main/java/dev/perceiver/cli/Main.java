package dev.perceiver.cli;

import dev.perceiver.io.InvalidInputException;
import dev.perceiver.loader.CheckpointException;
import dev.perceiver.loader.json.JsonException;

import dev.perceiver.runtime.GpuUnavailableException;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The perceiver command-line tool. Errors print one line and exit with a code by kind, the same in every command:
 * 2 usage, 3 model or checkpoint, 4 input, 5 output cannot be written, 6 no usable GPU for --device gpu, 1 anything
 * else ({@code PERCEIVER_DEBUG=1} adds the stack trace).
 */
public final class Main {
    static final int OK = 0, FAILED = 1, USAGE = 2, BAD_MODEL = 3, BAD_INPUT = 4, BAD_OUTPUT = 5, NO_DEVICE = 6;
    /** Options every command takes. */
    static final Set<String> COMMON_FLAGS = Set.of("quiet", "verbose");

    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        for (Command c : List.of(new DemoCommand(), new ClassifyCommand(), new FillMaskCommand(), new ClassifyTextCommand(),
                new FlowCommand(), new AutoencodeCommand(), new ConvertCommand(), new RunCommand(), new InfoCommand(),
                new BenchCommand()))
            COMMANDS.put(c.name(), c);
    }

    private Main() {}

    public static void main(String[] argv) {
        List<String> args = Arrays.asList(argv);
        Logging.configure(args.contains("--quiet"), args.contains("--verbose"));
        System.exit(run(argv, System.in, System.out, System.err));
    }

    /** Runs a command line in this JVM and returns its exit code (the tests call this). */
    static int run(String[] argv, InputStream in, PrintStream out, PrintStream err) {
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
            Set<String> flags = new TreeSet<>(cmd.flags());
            flags.addAll(COMMON_FLAGS);
            return cmd.run(Args.parse(rest, flags, cmd.valued(), in, err), out, err);
        } catch (UsageException e) {
            err.println("perceiver " + cmd.name() + ": " + e.getMessage() + " (see 'perceiver " + cmd.name() + " --help')");
            return USAGE;
        } catch (Failure e) {
            return fail(err, cmd, e, e.getMessage(), e.code);
        } catch (InvalidInputException | JsonException e) {
            return fail(err, cmd, e, e.getMessage(), BAD_INPUT);
        } catch (CheckpointException e) {
            return fail(err, cmd, e, e.getMessage(), BAD_MODEL);
        } catch (GpuUnavailableException e) {
            return fail(err, cmd, e, deviceMessage(e), NO_DEVICE);
        } catch (NoSuchFileException e) {
            return fail(err, cmd, e, PathChecks.describe(e), BAD_INPUT);
        } catch (IOException e) {
            return fail(err, cmd, e, PathChecks.describe(e), FAILED);
        } catch (UncheckedIOException e) {
            return fail(err, cmd, e, PathChecks.describe(e.getCause()), FAILED);
        } catch (IllegalArgumentException e) {
            return fail(err, cmd, e, String.valueOf(e.getMessage()), FAILED);
        } catch (OutOfMemoryError e) {
            return fail(err, cmd, e, "out of memory; try a smaller --batch or a larger heap (PERCEIVER_JAVA_OPTS=-Xmx...)", FAILED);
        } catch (Exception | StackOverflowError e) {
            return fail(err, cmd, e, "internal error: " + (e.getMessage() == null ? "no message" : e.getMessage())
                    + " (PERCEIVER_DEBUG=1 prints where)", FAILED);
        }
    }

    /** The GPU's absence as the command line asked for it: the --device flag, and how to run anyway. */
    static String deviceMessage(GpuUnavailableException e) {
        return "--device gpu: " + e.getMessage() + "; --device auto runs on the CPU when no GPU works";
    }

    private static int fail(PrintStream err, Command cmd, Throwable e, String msg, int code) {
        err.println("perceiver " + cmd.name() + ": " + msg.lines().findFirst().orElse(msg));
        if ("1".equals(System.getenv("PERCEIVER_DEBUG"))) e.printStackTrace(err);
        return code;
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
                (default: all processors), --device cpu|gpu|auto, --kernels auto|vector|scalar (the CPU kernels;
                default auto: the Vector API where it runs well), --cuda-lib-dir DIR (searched first for libcudart
                and libcublas), --cuda-device N (default 0), --cuda-tf32 true|false (default false: exact FP32),
                --quiet (warnings only), --verbose (also which kernels and device run, and why not the GPU).
                Exit codes: 0 ok, 1 failure, 2 usage error, 3 bad model or checkpoint, 4 bad input (in a batch:
                at least one input failed), 5 output cannot be written, 6 --device gpu but no usable GPU.
                """);
        return s.toString();
    }
}
