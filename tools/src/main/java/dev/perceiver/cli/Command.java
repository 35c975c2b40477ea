package dev.perceiver.cli;

import java.io.PrintStream;
import java.util.Set;

/** One subcommand of the perceiver tool. */
interface Command {
    String name();

    /** One line for the command list. */
    String summary();

    /** The full --help text. */
    String help();

    /** Options that take no value; none by default. */
    default Set<String> flags() {
        return Set.of();
    }

    Set<String> valued();

    /** Runs with parsed arguments; returns the exit code. */
    int run(Args args, PrintStream out, PrintStream err) throws Exception;
}
