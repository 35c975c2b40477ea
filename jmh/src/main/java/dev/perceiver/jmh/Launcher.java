package dev.perceiver.jmh;

/**
 * The benchmarks jar's entry point, compiled for Java 8 so that any java can run it: on a JDK older than 25 it stops
 * with a message saying which JDK is needed (JMH itself would start, fork JVMs that cannot load the benchmarks, and
 * end with an empty table and exit code 0); on 25 or later it hands over to JMH's own main.
 */
public final class Launcher {
    static final int REQUIRED = 25;

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        String version = System.getProperty("java.specification.version", "0");
        int feature = Integer.parseInt(version.startsWith("1.") ? version.substring(2) : version.split("\\.")[0]);
        if (feature < REQUIRED) {
            System.err.println("perceiver jmh: the benchmarks need JDK " + REQUIRED + " or later; this is Java " + version
                    + " (" + System.getProperty("java.home") + "). Run the jar with JDK " + REQUIRED + "'s java, e.g. "
                    + "$JAVA_HOME/bin/java -jar jmh/target/benchmarks.jar (see the README's JMH section).");
            System.exit(2);
        }
        Class.forName("org.openjdk.jmh.Main").getMethod("main", String[].class).invoke(null, (Object) args);
    }
}
