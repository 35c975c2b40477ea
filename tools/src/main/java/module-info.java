/**
 * The {@code perceiver} command-line tool ({@code dev.perceiver.cli.Main}). It exports nothing; the GPU backend
 * module, when present, is found by the runtime as a service.
 */
module dev.perceiver.cli {
    requires dev.perceiver.ops;
    requires dev.perceiver.runtime;
    requires dev.perceiver.loader;
    requires dev.perceiver.model;
    requires java.logging;    // the log format and --verbose
    requires java.management; // bench --repeat starts JVMs with this one's arguments
    requires jdk.incubator.vector; // the machine report names the preferred vector width
}
